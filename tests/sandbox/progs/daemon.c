/* daemon: double fork + setsid + SIGHUP/SIGTERM ignored + every fd closed;
 * the daemon keeps writing a file in /tmp.  The parent exits 0 at once:
 * the verdict must come back promptly and the daemon must be killed. */
#include "hostile.h"
int main(void)
{
	pid_t p = fork();
	if (p == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		for (int fd = 0; fd < 1024; fd++)
			close(fd);
		for (int i = 0;; i++) {
			int fd = open("/tmp/daemon-alive", O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0) { dprintf(fd, "%d\n", i); close(fd); }
			hs_sleep_ms(50);
		}
	}
	waitpid(p, NULL, 0);
	printf("parent done\n");
	return 0;
}
