/* secrets PATH...: every path given (host secrets, the driver's canary,
 * other cells' places) must be absent or unreadable from the cell. */
#include "hostile.h"
#include <dirent.h>
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char what[512];
		snprintf(what, sizeof what, "open %s", argv[i]);
		int fd = open(argv[i], O_RDONLY);
		if (fd >= 0) {
			char b[64];
			ssize_t n = read(fd, b, sizeof b);
			DIR *d = fdopendir(fd);
			int entries = 0;
			if (d) {
				struct dirent *e;
				while ((e = readdir(d)))
					if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
						entries++;
			}
			/* an empty directory (e.g. a mount point) shows nothing */
			if (n <= 0 && entries == 0) {
				printf("good %s: empty\n", what);
				continue;
			}
			printf("BAD %s: readable (%zd bytes, %d entries)\n", what, n, entries);
			hs_bad++;
			continue;
		}
		hs_fails(what, -1, errno, ENOENT, EACCES, EPERM, 0);
	}
	return hs_done();
}
