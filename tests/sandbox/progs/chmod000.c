/* chmod000: a deep tree with files, every entry chmod 000 (and /box,
 * /tmp, /dev/shm themselves when allowed), plus files sticky/read-only.
 * The next run must still find an empty, writable /box. */
#include "hostile.h"
int main(void)
{
	const char *tops[] = { "/box", "/tmp", "/dev/shm" };
	for (int t = 0; t < 3; t++) {
		char p[256];
		snprintf(p, sizeof p, "%s/a", tops[t]);
		mkdir(p, 0755);
		for (int i = 0; i < 20; i++) {
			size_t l = strlen(p);
			snprintf(p + l, sizeof p - l, "/b");
			mkdir(p, 0755);
			char f[300];
			snprintf(f, sizeof f, "%s/f", p);
			int fd = open(f, O_WRONLY | O_CREAT, 0644);
			if (fd >= 0) { write(fd, "x", 1); close(fd); }
			chmod(f, 0);
		}
		/* lock the tree from the leaf up */
		for (size_t l = strlen(p); l > strlen(tops[t]); l--)
			if (p[l] == '/' || p[l] == 0) {
				p[l] = 0;
				chmod(p, 0);
			}
		chmod(tops[t], 0);
		chmod(tops[t], 01000);
	}
	printf("locked\n");
	return 0;
}
