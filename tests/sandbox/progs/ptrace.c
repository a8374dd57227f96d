/* ptrace: PTRACE_ATTACH on init and on an own child, PTRACE_TRACEME,
 * process_vm_readv and process_madvise must be refused. */
#include "hostile.h"
#include <sys/ptrace.h>
#include <sys/uio.h>
int main(void)
{
	HS_FAILS("PTRACE_ATTACH pid 1", ptrace(PTRACE_ATTACH, 1, 0, 0), EPERM, ESRCH);
	pid_t c = fork();
	if (c == 0) { pause(); _exit(0); }
	HS_FAILS("PTRACE_ATTACH own child", ptrace(PTRACE_ATTACH, c, 0, 0), EPERM);
	HS_FAILS("PTRACE_SEIZE own child", ptrace(PTRACE_SEIZE, c, 0, 0), EPERM);
	char buf[16], src[16] = "secret";
	struct iovec l = { buf, sizeof buf }, r = { src, sizeof src };
	HS_FAILS("process_vm_readv child", process_vm_readv(c, &l, 1, &r, 1, 0), EPERM);
	HS_FAILS("process_vm_writev child", process_vm_writev(c, &l, 1, &r, 1, 0), EPERM);
	HS_FAILS("kcmp", syscall(SYS_kcmp, getpid(), c, 0, 0, 0), EPERM, ENOSYS);
	/* process_madvise (440) on the child's memory, through a pidfd. */
	int pfd = (int)syscall(434 /* pidfd_open */, c, 0);
	struct iovec adv = { buf, sizeof buf };
	HS_FAILS("process_madvise child", syscall(440, pfd, &adv, 1, 21 /* MADV_PAGEOUT */, 0), EPERM);
	if (pfd >= 0)
		close(pfd);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	pid_t t = fork();
	if (t == 0) {
		long rr = ptrace(PTRACE_TRACEME, 0, 0, 0);
		_exit(rr == 0 ? 1 : (errno == EPERM ? 0 : 2));
	}
	int st;
	waitpid(t, &st, 0);
	hs_check("PTRACE_TRACEME refused (EPERM)", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return hs_done();
}
