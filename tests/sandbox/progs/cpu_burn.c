/* cpu_burn MS SLEEPMS: burns MS ms of CPU then sleeps SLEEPMS ms
 * (calibration of cpu_ms and wall_ms). */
#include "hostile.h"
int main(int argc, char **argv)
{
	double burn = (argc > 1 ? atof(argv[1]) : 500) / 1000.0;
	long nap = argc > 2 ? atol(argv[2]) : 300;
	while (hs_cpu(CLOCK_PROCESS_CPUTIME_ID) < burn)
		for (volatile int i = 0; i < 10000; i++)
			;
	hs_sleep_ms(nap);
	printf("done\n");
	return 0;
}
