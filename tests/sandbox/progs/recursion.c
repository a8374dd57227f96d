/* recursion: unbounded recursion until the stack limit; must end as
 * signaled with SIGSEGV, not as an internal error. */
#include <stdio.h>
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int deep(volatile char *prev, int n)
{
	volatile char buf[1024];
	buf[0] = (char)n;
	buf[1023] = prev ? prev[0] : 0;
	return deep(buf, n + 1) + buf[5];
}
int main(void)
{
	return deep(NULL, 0);
}
