/* tiocsti: no controlling terminal, and ioctl TIOCSTI / TIOCLINUX is
 * refused with EPERM on every fd, also with junk in the high 32 bits of
 * the command (0x123 << 32), which the kernel ignores (CVE-2019-10063). */
#include "hostile.h"
#include <sys/ioctl.h>
int main(void)
{
	HS_FAILS("open /dev/tty", open("/dev/tty", O_RDWR), ENXIO, ENOENT, EACCES);
	HS_FAILS("open /dev/console", open("/dev/console", O_RDWR), ENOENT, EACCES, EPERM);
	HS_FAILS("open /dev/ptmx", open("/dev/ptmx", O_RDWR), ENOENT, EACCES, EPERM);
	char c = 'x';
	for (int fd = 0; fd < 3; fd++) {
		char what[96];
		snprintf(what, sizeof what, "ioctl(%d, TIOCSTI)", fd);
		HS_FAILS(what, syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI, &c), EPERM);
		snprintf(what, sizeof what, "ioctl(%d, TIOCSTI | 0x123<<32)", fd);
		HS_FAILS(what, syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI | (0x123UL << 32), &c), EPERM);
		snprintf(what, sizeof what, "ioctl(%d, TIOCLINUX)", fd);
		char sub = 2;
		HS_FAILS(what, syscall(SYS_ioctl, fd, (unsigned long)TIOCLINUX, &sub), EPERM);
		snprintf(what, sizeof what, "ioctl(%d, TIOCLINUX | 0x123<<32)", fd);
		HS_FAILS(what, syscall(SYS_ioctl, fd, (unsigned long)TIOCLINUX | (0x123UL << 32), &sub), EPERM);
	}
	hs_check("session leader (new session, no inherited controlling tty)", getsid(0) == getpid());
	return hs_done();
}
