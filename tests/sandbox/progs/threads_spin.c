/* threads_spin N SEC: N threads each burn SEC seconds of their own CPU
 * (SEC <= 0: forever).  Calibrates that CPU of all threads is summed. */
#include "hostile.h"
#include <pthread.h>
static double limit;
static void *burn(void *arg)
{
	(void)arg;
	while (limit <= 0 || hs_cpu(CLOCK_THREAD_CPUTIME_ID) < limit)
		for (volatile int i = 0; i < 10000; i++)
			;
	return NULL;
}
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	limit = argc > 2 ? atof(argv[2]) : 0.5;
	pthread_t t[256];
	for (int i = 0; i < n && i < 256; i++)
		pthread_create(&t[i], NULL, burn, NULL);
	for (int i = 0; i < n && i < 256; i++)
		pthread_join(t[i], NULL);
	printf("cpu %.3f\n", hs_cpu(CLOCK_PROCESS_CPUTIME_ID));
	return 0;
}
