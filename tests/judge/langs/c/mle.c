#include <stdio.h>
#include <stdlib.h>
int main(void) {
	size_t n = 256u << 20;
	volatile char *p = malloc(n);  /* volatile: the stores cannot be optimized away */
	if (!p) return 4;
	for (size_t i = 0; i < n; i += 4096) p[i] = 1;
	printf("%d\n", p[n - 4096]);
	return 0;
}
