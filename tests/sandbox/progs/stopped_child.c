/* stopped_child: a child stops itself (SIGSTOP), the parent exits 0 at
 * once.  The run is ok and the stopped child must not survive it. */
#include "hostile.h"
int main(void)
{
	pid_t c = fork();
	if (c == 0) {
		setsid();
		raise(SIGSTOP);
		sleep(1000);
		_exit(0);
	}
	hs_sleep_ms(50);
	printf("parent done\n");
	return 0;
}
