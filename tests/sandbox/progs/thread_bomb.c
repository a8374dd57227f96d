/* thread_bomb: pthread_create until it fails; threads count against the
 * processes limit.  Prints the count and exits 3 (a runtime error). */
#include "hostile.h"
#include <pthread.h>
static void *idle(void *arg) { (void)arg; for (;;) pause(); return NULL; }
int main(void)
{
	int n = 0;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, &attr, idle, NULL) != 0)
			break;
		if (++n > 100000)
			break;
	}
	printf("threads %d\n", n);
	fflush(stdout);
	_exit(3);
}
