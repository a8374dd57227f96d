/* wrong answer: divides by n + 1 */
#include <stdio.h>
#include <stdlib.h>
int main(void) {
	int n; double x, s = 0;
	if (scanf("%d", &n) != 1) return 1;
	for (int i = 0; i < n; i++) { scanf("%lf", &x); s += x; }
	
	printf("%.9f\n", s / (n + 1));
	return 0;
}
