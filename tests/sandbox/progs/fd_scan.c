/* fd_scan: no descriptor other than 0, 1, 2 may be open at start
 * (leaked host fds are an escape: runc CVE-2024-21626). */
#include "hostile.h"
int main(void)
{
	int leaked = 0;
	for (int fd = 3; fd <= 65535; fd++) {
		if (fcntl(fd, F_GETFD) >= 0) {
			char p[64], t[512] = "";
			snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
			ssize_t n = readlink(p, t, sizeof t - 1);
			if (n > 0) t[n] = 0;
			printf("BAD fd %d open -> %s\n", fd, t);
			leaked++;
		}
	}
	hs_bad += leaked;
	for (int fd = 0; fd < 3; fd++) {
		char what[32];
		snprintf(what, sizeof what, "fd %d open", fd);
		hs_check(what, fcntl(fd, F_GETFD) >= 0);
	}
	return hs_done();
}
