/* exec_suid: runs setuid-root binaries of the host's /usr (su, passwd,
 * mount, and the driver's setuid helper given as argv[1]); none may run
 * with euid 0. */
#include "hostile.h"
static int run(char *const argv[])
{
	int pfd[2];
	pipe(pfd);
	pid_t p = fork();
	if (p == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		execv(argv[0], argv);
		printf("exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	char b[4096];
	ssize_t n = read(pfd[0], b, sizeof b - 1);
	b[n > 0 ? n : 0] = 0;
	int st;
	waitpid(p, &st, 0);
	close(pfd[0]);
	printf("%s -> status %d: %s\n", argv[0], st, b);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
int main(int argc, char **argv)
{
	if (argc > 1) {
		char *a[] = { argv[1], NULL };
		hs_check("setuid helper does not run as root", run(a) != 1);
	}
	char *mnt[] = { "/usr/bin/mount", "-t", "tmpfs", "none", "/tmp", NULL };
	int r = run(mnt);
	hs_check("setuid mount fails", r != 0);
	char *su[] = { "/usr/bin/su", "-c", "id", "root", NULL };
	hs_check("su fails", run(su) != 0);
	char *pw[] = { "/usr/bin/passwd", "-S", "root", NULL };
	hs_check("passwd -S root fails (needs root)", run(pw) != 0);
	return hs_done();
}
