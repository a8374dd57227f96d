/* mem_touch MB: allocates MB megabytes and touches every page, then sleeps
 * 100 ms so the peak is seen.  Used to calibrate memory_kb and to hit the
 * memory limit (OOM kill). */
#include "hostile.h"
int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	size_t len = mb << 20;
	char *p = malloc(len);
	if (!p) { printf("malloc failed\n"); return 2; }
	for (size_t i = 0; i < len; i += 4096)
		p[i] = (char)i;
	hs_sleep_ms(100);
	printf("touched %zu\n", mb);
	return p[len / 2] == 42 ? 4 : 0;
}
