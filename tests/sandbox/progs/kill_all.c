/* kill_all: kill(-1, SIGKILL) and kill(1, SIGKILL) from inside.  Only the
 * cell's own processes may be hit (a child here); the program survives
 * (kill(-1) spares the caller) and exits 0. */
#include "hostile.h"
int main(void)
{
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	HS_FAILS("kill(1, SIGKILL)", kill(1, SIGKILL), EPERM, ESRCH);
	HS_FAILS("kill(1, 0)", kill(1, 0), EPERM, ESRCH);
	errno = 0;
	int r = kill(-1, SIGKILL);
	printf("kill(-1) = %d %s\n", r, strerror(errno));
	int st = 0;
	waitpid(c, &st, 0);
	hs_check("own child killed by kill(-1)", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	return hs_done();
}
