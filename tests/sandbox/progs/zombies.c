/* zombies N: leaves N zombie children (never reaped) and exits 0. */
#include "hostile.h"
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000, made = 0;
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		if (p < 0)
			break;
		made++;
	}
	hs_sleep_ms(20);
	printf("zombies %d\n", made);
	return 0;
}
