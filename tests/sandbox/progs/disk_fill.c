/* disk_fill: writes 4 MB files into /box and /tmp until the disk limit
 * stops it (ENOSPC); prints the MB written.  The driver checks the total
 * stays within --disk. */
#include "hostile.h"
int main(void)
{
	static char chunk[1 << 20];
	memset(chunk, 'd', sizeof chunk);
	signal(SIGXFSZ, SIG_IGN);
	long mb = 0;
	int err = 0;
	for (int f = 0; f < 100000 && !err; f++) {
		char path[64];
		snprintf(path, sizeof path, "%s/d%d", f % 2 ? "/tmp" : "/box", f);
		int fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0) { err = errno; break; }
		for (int i = 0; i < 4; i++) {
			if (write(fd, chunk, sizeof chunk) != (ssize_t)sizeof chunk) {
				err = errno;
				break;
			}
			mb++;
		}
		close(fd);
	}
	printf("%s %ld\n", err == ENOSPC ? "ENOSPC" : strerror(err), mb);
	return 0;
}
