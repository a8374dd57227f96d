/* time limit: loops forever when n > 4 (test 01 passes) */
#include <stdio.h>
int main(void) {
	int n; long long x, s = 0;
	if (scanf("%d", &n) != 1) return 1;
	for (int i = 0; i < n; i++) { scanf("%lld", &x); s += x; }
	if (n > 4) for (;;) ;
	printf("%lld\n", s);
	return 0;
}
