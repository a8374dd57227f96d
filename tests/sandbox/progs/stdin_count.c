/* stdin_count: reads stdin to the end and prints the byte count. */
#include "hostile.h"
int main(void)
{
	static char b[1 << 16];
	long long n = 0;
	ssize_t r;
	while ((r = read(0, b, sizeof b)) > 0)
		n += r;
	printf("%lld\n", n);
	return r < 0;
}
