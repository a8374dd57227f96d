/* wrong answer: a 32-bit sum overflows on test 03 */
#include <stdio.h>
int main(void) {
	int n, x, s = 0;
	if (scanf("%d", &n) != 1) return 1;
	for (int i = 0; i < n; i++) { long long v; scanf("%lld", &v); x = (int)v; s = (int)((unsigned)s + (unsigned)x); }
	printf("%d\n", s);
	return 0;
}
