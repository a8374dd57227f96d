/* fd_exhaust: opens /dev/null until it fails and prints how many opens
 * worked; with --open-files=N exactly N-3 (0, 1, 2 are taken) and the
 * error must be EMFILE. */
#include "hostile.h"
int main(void)
{
	int n = 0, err = 0;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0) { err = errno; break; }
		if (++n > 1000000) break;
	}
	printf("opened %d %s\n", n, err == EMFILE ? "EMFILE" : strerror(err));
	return 0;
}
