/* probe: run right after a hostile program in the same warm cell; nothing
 * of the previous run may be left: no process in /proc but this one, empty
 * /box, /tmp and /dev/shm, no SysV IPC objects, no unix sockets, and a
 * network namespace nobody used (no socket, lo's counters at zero). */
#include "hostile.h"
#include <dirent.h>
#include <ctype.h>
static void empty_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		printf("BAD %s: %s\n", path, strerror(errno));
		hs_bad++;
		return;
	}
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			printf("BAD %s/%s left\n", path, e->d_name);
			n++;
		}
	closedir(d);
	hs_bad += n;
	struct stat st;
	if (stat(path, &st) == 0 && access(path, W_OK | X_OK) != 0) {
		printf("BAD %s not writable (mode %o)\n", path, st.st_mode & 07777);
		hs_bad++;
	}
}
/* every line after the header is an object left behind; for unix sockets
 * only named (path or abstract) ones count */
static void no_lines(const char *path, int named_only)
{
	FILE *f = fopen(path, "r");
	if (!f) return;
	char line[512];
	int n = 0;
	while (fgets(line, sizeof line, f))
		if (n++ > 0) {
			char f[8][128];
			if (named_only && sscanf(line, "%127s %127s %127s %127s %127s %127s %127s %127s",
				f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]) < 8)
				continue;
			printf("BAD %s: %s", path, line);
			hs_bad++;
		}
	fclose(f);
}
/* Without --net the cell's only interface is lo, in a namespace made for
 * this run: no traffic yet, no socket of any kind. */
static void fresh_network(void)
{
	FILE *f = fopen("/proc/net/dev", "r");
	if (!f) {
		printf("BAD /proc/net/dev: %s\n", strerror(errno));
		hs_bad++;
		return;
	}
	char line[512];
	int n = 0, others = 0;
	unsigned long long bytes = 0;
	while (fgets(line, sizeof line, f)) {
		char name[64];
		unsigned long long rx, x[7], tx;
		if (n++ < 2)
			continue;
		if (sscanf(line, " %63[^:]: %llu %llu %llu %llu %llu %llu %llu %llu %llu", name, &rx,
			   &x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &x[6], &tx) != 10)
			continue;
		if (!strcmp(name, "lo"))
			bytes = rx + tx;
		else
			others++;
	}
	fclose(f);
	if (others)
		return;  /* --net: the host's network */
	if (bytes) {
		printf("BAD lo has counted %llu bytes: a namespace used before\n", bytes);
		hs_bad++;
	}
	no_lines("/proc/net/tcp", 0);
	no_lines("/proc/net/tcp6", 0);
	no_lines("/proc/net/udp", 0);
	no_lines("/proc/net/udp6", 0);
}
int main(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	while ((e = readdir(d)))
		if (isdigit((unsigned char)e->d_name[0]) && atoi(e->d_name) != getpid()) {
			char p[300], cmd[256] = "";
			snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
			int fd = open(p, O_RDONLY);
			if (fd >= 0) { ssize_t n = read(fd, cmd, sizeof cmd - 1); if (n > 0) cmd[n] = 0; close(fd); }
			printf("BAD process %s left: %s\n", e->d_name, cmd);
			hs_bad++;
		}
	closedir(d);
	empty_dir("/box");
	empty_dir("/tmp");
	empty_dir("/dev/shm");
	no_lines("/proc/sysvipc/shm", 0);
	no_lines("/proc/sysvipc/msg", 0);
	no_lines("/proc/sysvipc/sem", 0);
	no_lines("/proc/net/unix", 1);
	fresh_network();
	return hs_done();
}
