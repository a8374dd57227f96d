/* cpu_children N MS: N children each burn MS ms of CPU and exit; the
 * parent never waits for them (their CPU is not in its rusage) and sleeps
 * until they are done.  cpu_ms must still count them all. */
#include "hostile.h"
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2;
	double ms = argc > 2 ? atof(argv[2]) : 300;
	signal(SIGCHLD, SIG_DFL);
	for (int i = 0; i < n; i++)
		if (fork() == 0) {
			while (hs_cpu(CLOCK_PROCESS_CPUTIME_ID) < ms / 1000.0)
				for (volatile int j = 0; j < 10000; j++)
					;
			_exit(0);
		}
	hs_sleep_ms((long)(ms * n) + 400);
	printf("done\n");
	return 0;
}
