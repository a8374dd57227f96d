/* out_exact N [err]: writes exactly N bytes of 'b' to stdout (or stderr)
 * and exits 0, for the boundary of the output cap: N == cap is ok, cap + 1
 * is output_limit. */
#include "hostile.h"
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 65536;
	int fd = argc > 2 ? 2 : 1;
	static char b[65536];
	memset(b, 'b', sizeof b);
	while (n > 0) {
		ssize_t w = write(fd, b, n < (long)sizeof b ? n : (long)sizeof b);
		if (w <= 0) return 2;
		n -= w;
	}
	return 0;
}
