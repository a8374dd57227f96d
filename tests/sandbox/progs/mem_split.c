/* mem_split N MB: N children each touch MB megabytes and wait; together they
 * exceed the cell's memory although each alone fits.  The limit is on the
 * whole cell: some are OOM-killed, the rest exit after 1 s, the parent
 * exits 0, and the run must end as memory_limit. */
#include "hostile.h"
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	size_t len = (argc > 2 ? strtoul(argv[2], NULL, 10) : 32) << 20;
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			char *m = malloc(len);
			if (!m) _exit(2);
			for (size_t j = 0; j < len; j += 4096)
				m[j] = 1;
			hs_sleep_ms(1000);
			_exit(0);
		}
	}
	int st, killed = 0;
	while (wait(&st) > 0)
		if (WIFSIGNALED(st))
			killed++;
	printf("children killed %d\n", killed);
	return 0;
}
