/* unshare: new namespaces must be refused: unshare(CLONE_NEWUSER),
 * unshare(CLONE_NEWNS), setns, clone() with namespace flags (EPERM), and
 * clone3 (ENOSYS, so that glibc falls back to clone). */
#include "hostile.h"
#include <sched.h>
#include <linux/sched.h>
int main(void)
{
	HS_FAILS("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER), EPERM);
	HS_FAILS("unshare(CLONE_NEWNS)", unshare(CLONE_NEWNS), EPERM);
	HS_FAILS("unshare(CLONE_NEWNET)", unshare(CLONE_NEWNET), EPERM);
	HS_FAILS("unshare(CLONE_NEWPID)", unshare(CLONE_NEWPID), EPERM);
	int fd = open("/proc/self/ns/net", O_RDONLY);
	HS_FAILS("setns", setns(fd, 0), EPERM, EBADF);
	long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (r == 0) _exit(0);
	hs_fails("clone(CLONE_NEWUSER)", r, errno, EPERM, 0);
	r = syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
	if (r == 0) _exit(0);
	hs_fails("clone(CLONE_NEWNS|CLONE_NEWPID)", r, errno, EPERM, 0);
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_NEWUSER;
	ca.exit_signal = SIGCHLD;
	r = syscall(SYS_clone3, &ca, sizeof ca);
	if (r == 0) _exit(0);
	hs_fails("clone3(CLONE_NEWUSER)", r, errno, ENOSYS, 0);
	memset(&ca, 0, sizeof ca);
	ca.exit_signal = SIGCHLD;
	r = syscall(SYS_clone3, &ca, sizeof ca);
	if (r == 0) _exit(0);
	hs_fails("clone3(plain)", r, errno, ENOSYS, 0);
	/* plain fork and threads still work (glibc falls back to clone) */
	pid_t p = fork();
	if (p == 0) _exit(7);
	int st = 0;
	waitpid(p, &st, 0);
	hs_check("plain fork works", WIFEXITED(st) && WEXITSTATUS(st) == 7);
	return hs_done();
}
