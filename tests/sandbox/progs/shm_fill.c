/* shm_fill DIR MB: writes MB megabytes into DIR (e.g. /dev/shm) as 8 MB
 * files and leaves them there.  tmpfs pages are charged to the cell: this
 * must end in memory_limit, or with ENOSPC from the disk limit. */
#include "hostile.h"
int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/dev/shm";
	long mb = argc > 2 ? atol(argv[2]) : 512;
	static char chunk[1 << 20];
	memset(chunk, 'x', sizeof chunk);
	signal(SIGXFSZ, SIG_IGN);
	long done = 0;
	for (int f = 0; done < mb; f++) {
		char path[256];
		snprintf(path, sizeof path, "%s/fill%d", dir, f);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) { printf("open %s: %s\n", path, strerror(errno)); break; }
		for (int i = 0; i < 8 && done < mb; i++) {
			if (write(fd, chunk, sizeof chunk) != (ssize_t)sizeof chunk) {
				printf("write: %s after %ld MB\n", strerror(errno), done);
				printf("%s\n", errno == ENOSPC ? "ENOSPC" : "OTHER");
				return 0;
			}
			done++;
		}
		close(fd);
	}
	printf("wrote %ld MB\n", done);
	return 0;
}
