/* mmap_untouched: reserves 4 GB it never touches and touches only 10 MB.
 * Must run fine under a 64 MB limit with peak near 10 MB (a limit on
 * address space instead of memory would fail it). */
#include "hostile.h"
#include <sys/mman.h>
int main(void)
{
	size_t big = 4UL << 30;
	char *p = mmap(NULL, big, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) { printf("mmap failed: %s\n", strerror(errno)); return 2; }
	for (size_t i = 0; i < (10UL << 20); i += 4096)
		p[i] = 1;
	char *q = malloc(1UL << 30); /* glibc reserves, does not touch */
	if (!q) { printf("malloc 1G failed\n"); return 2; }
	hs_sleep_ms(50);
	printf("ok\n");
	return 0;
}
