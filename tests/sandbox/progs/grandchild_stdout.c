/* grandchild_stdout: a grandchild keeps stdout and stderr open and sleeps
 * 100 s while the main process exits 0: runcell must not wait for EOF. */
#include "hostile.h"
int main(void)
{
	if (fork() == 0) {
		if (fork() == 0) {
			setsid();
			signal(SIGHUP, SIG_IGN);
			sleep(100);
			_exit(0);
		}
		_exit(0);
	}
	wait(NULL);
	printf("main done\n");
	return 0;
}
