/* mountinfo WORD...: prints hostname, /proc/self/mountinfo and cgroup;
 * checks the hostname is "runcell" and no WORD (host paths) appears.
 * The suite's own bind at /t is left out: mountinfo names its host source,
 * which is wherever the checkout happens to live, and it is not runcell's. */
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
/* Drops the lines read so far whose mount point, the fifth field of a
 * mountinfo line, is /t. */
static void drop_suite_bind(void)
{
	size_t in = 0, out = 0;
	while (in < len) {
		char *nl = memchr(all + in, '\n', len - in);
		size_t end = nl ? (size_t)(nl - all) + 1 : len;
		char line[4096];
		size_t n = end - in < sizeof line - 1 ? end - in : sizeof line - 1;
		memcpy(line, all + in, n);
		line[n] = 0;
		char *save, *field = strtok_r(line, " ", &save);
		for (int i = 1; field && i < 5; i++)
			field = strtok_r(NULL, " ", &save);
		if (!field || strcmp(field, "/t") != 0) {
			memmove(all + out, all + in, end - in);
			out += end - in;
		} else {
			printf("(left out: the suite's /t bind)\n");
		}
		in = end;
	}
	len = out;
}
int main(int argc, char **argv)
{
	char host[256] = "";
	gethostname(host, sizeof host);
	printf("hostname %s\n", host);
	hs_check("hostname is runcell", strcmp(host, "runcell") == 0);
	slurp("/proc/self/mountinfo");
	drop_suite_bind();
	hs_check("mountinfo still lists / and /proc", strstr(all, " / / ") && strstr(all, " /proc "));
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
