/* session_hog N SECONDS: N processes, each in a session of its own, spin
 * for SECONDS.  With the scheduler's autogroups and no cpu cgroup per cell,
 * each session weighed as much as another cell's whole run. */
#include "hostile.h"
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 64;
	double secs = argc > 2 ? atof(argv[2]) : 3;
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			setsid();
			double t0 = hs_cpu(CLOCK_MONOTONIC);
			while (hs_cpu(CLOCK_MONOTONIC) - t0 < secs)
				for (volatile int k = 0; k < 10000; k++)
					;
			_exit(0);
		}
		if (p < 0)
			break;
	}
	while (wait(NULL) > 0)
		;
	printf("done\n");
	return 0;
}
