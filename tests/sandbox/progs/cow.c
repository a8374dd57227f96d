/* cow MB: touches MB megabytes, forks, the child only reads them.  Pages
 * are shared copy-on-write, so the cell's peak must be about MB, not 2*MB. */
#include "hostile.h"
int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 10) : 50) << 20;
	char *p = malloc(len);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	pid_t c = fork();
	if (c == 0) {
		long sum = 0;
		for (size_t i = 0; i < len; i += 4096)
			sum += p[i];
		hs_sleep_ms(100);
		_exit(sum == (long)(len / 4096) ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child %d\n", WEXITSTATUS(st));
	return WEXITSTATUS(st);
}
