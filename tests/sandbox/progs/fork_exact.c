/* fork_exact: forks children that pause() until fork fails, prints how many
 * succeeded, then kills them.  With --processes=N exactly N-1 forks must
 * succeed (the program itself is the Nth process). */
#include "hostile.h"
int main(void)
{
	pid_t kids[4096];
	int n = 0;
	while (n < 4096) {
		pid_t p = fork();
		if (p < 0)
			break;
		if (p == 0) {
			pause();
			_exit(0);
		}
		kids[n++] = p;
	}
	printf("forked %d\n", n);
	fflush(stdout);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}
