/* wrong answer: sorts in descending order */
#include <stdio.h>
#include <stdlib.h>
static int cmp(const void *a, const void *b) {
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x < y) - (x > y);
}
int main(void) {
	int n;
	if (scanf("%d", &n) != 1) return 1;
	long long *a = malloc(sizeof *a * (n + 1));
	for (int i = 0; i < n; i++) scanf("%lld", &a[i]);
	qsort(a, n, sizeof *a, cmp);
	for (int i = 0; i < n; i++) printf(i ? " %lld" : "%lld", a[i]);
	printf("\n");
	return 0;
}
