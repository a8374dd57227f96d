/* time limit: permutation sort, n! steps on the 14 numbers of test 05 */
#include <stdio.h>
#include <stdlib.h>
static int next_perm(int *p, int n) {
	int i = n - 2;
	while (i >= 0 && p[i] >= p[i + 1]) i--;
	if (i < 0) return 0;
	int j = n - 1;
	while (p[j] <= p[i]) j--;
	int t = p[i]; p[i] = p[j]; p[j] = t;
	for (int l = i + 1, r = n - 1; l < r; l++, r--) { t = p[l]; p[l] = p[r]; p[r] = t; }
	return 1;
}
int main(void) {
	int n;
	if (scanf("%d", &n) != 1) return 1;
	long long *a = malloc(sizeof *a * (n + 1));
	int *p = malloc(sizeof *p * (n + 1));
	for (int i = 0; i < n; i++) { scanf("%lld", &a[i]); p[i] = i; }
	do {
		int ok = 1;
		for (int i = 0; i + 1 < n; i++) if (a[p[i]] > a[p[i + 1]]) { ok = 0; break; }
		if (ok) break;
	} while (next_perm(p, n));
	for (int i = 0; i < n; i++) printf(i ? " %lld" : "%lld", a[p[i]]);
	printf("\n");
	return 0;
}
