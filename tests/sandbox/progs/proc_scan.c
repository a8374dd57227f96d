/* proc_scan HOSTPATH...: lists the pids visible in /proc (must be only this
 * process), and for every one reads environ and cmdline (printed) and checks
 * that /proc/PID/root does not lead to the host (HOSTPATH must not exist
 * under it), including /proc/1. */
#include "hostile.h"
#include <dirent.h>
#include <ctype.h>
static void dump(const char *path)
{
	char b[8192];
	int fd = open(path, O_RDONLY);
	if (fd < 0) { printf("%s: %s\n", path, strerror(errno)); return; }
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n < 0) n = 0;
	for (ssize_t i = 0; i < n; i++)
		if (b[i] == 0) b[i] = '\n';
	b[n] = 0;
	printf("%s:\n%s\n", path, b);
}
int main(int argc, char **argv)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int others = 0;
	char pids[4096] = "";
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		int pid = atoi(e->d_name);
		if (pid != getpid()) others++;
		strcat(pids, e->d_name);
		strcat(pids, " ");
		char p[300];
		snprintf(p, sizeof p, "/proc/%d/environ", pid);
		dump(p);
		snprintf(p, sizeof p, "/proc/%d/cmdline", pid);
		dump(p);
	}
	printf("pids: %s(self %d)\n", pids, getpid());
	hs_check("no other pid visible in /proc", others == 0);
	if (getenv("FIRST_IN_CELL"))
		hs_check("program is pid 2", getpid() == 2);
	const char *roots[] = { "/proc/1/root", "/proc/self/root", "/proc/2/root", "/proc/thread-self/root" };
	for (unsigned r = 0; r < sizeof roots / sizeof *roots; r++)
		for (int i = 1; i < argc; i++) {
			char p[600], what[700];
			snprintf(p, sizeof p, "%s%s", roots[r], argv[i]);
			snprintf(what, sizeof what, "stat %s", p);
			struct stat st;
			HS_FAILS(what, stat(p, &st), ENOENT, EACCES, EPERM);
		}
	struct stat st;
	HS_FAILS("stat /proc/1 (init hidden)", stat("/proc/1/status", &st), ENOENT);
	return hs_done();
}
