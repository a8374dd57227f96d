/* mountinfo WORD...: prints hostname, /proc/self/mountinfo and cgroup;
 * checks the hostname is "runcell" and no WORD (host paths) appears. */
#include "hostile.h"
static char all[1 << 17];
static size_t len;
static void slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) { printf("%s: %s\n", path, strerror(errno)); return; }
	ssize_t n;
	while (len < sizeof all - 1 && (n = read(fd, all + len, sizeof all - 1 - len)) > 0)
		len += n;
	close(fd);
}
int main(int argc, char **argv)
{
	char host[256] = "";
	gethostname(host, sizeof host);
	printf("hostname %s\n", host);
	hs_check("hostname is runcell", strcmp(host, "runcell") == 0);
	slurp("/proc/self/mountinfo");
	slurp("/proc/self/cgroup");
	slurp("/proc/self/mounts");
	all[len] = 0;
	fputs(all, stdout);
	for (int i = 1; i < argc; i++) {
		char what[300];
		snprintf(what, sizeof what, "no '%s' in mountinfo/cgroup", argv[i]);
		hs_check(what, strstr(all, argv[i]) == NULL);
	}
	return hs_done();
}
