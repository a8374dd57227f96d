/* reboot: reboot, kexec, modules, swap, acct, quotactl, syslog must fail
 * with EPERM (or ENOSYS); /proc/sysrq-trigger must not be writable. */
#include "hostile.h"
#include <linux/reboot.h>
#include <sys/reboot.h>
int main(void)
{
	HS_FAILS("reboot(CAD_OFF)", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, 0), EPERM, ENOSYS);
	HS_FAILS("kexec_load", syscall(SYS_kexec_load, 0, 0, 0, 0), EPERM, ENOSYS);
	HS_FAILS("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0), EPERM, ENOSYS);
	HS_FAILS("init_module", syscall(SYS_init_module, "", 0, ""), EPERM, ENOSYS);
	HS_FAILS("finit_module", syscall(SYS_finit_module, 0, "", 0), EPERM, ENOSYS);
	HS_FAILS("delete_module", syscall(SYS_delete_module, "ext4", 0), EPERM, ENOSYS);
	HS_FAILS("swapon", syscall(SYS_swapon, "/box/swap", 0), EPERM, ENOSYS);
	HS_FAILS("swapoff", syscall(SYS_swapoff, "/box/swap"), EPERM, ENOSYS);
	HS_FAILS("acct", syscall(SYS_acct, "/box/acct"), EPERM, ENOSYS);
	HS_FAILS("quotactl", syscall(SYS_quotactl, 0x800002 /* Q_GETFMT */, "/dev/vda", 0, NULL), EPERM, ENOSYS, ENOENT, ENOTBLK);
	HS_FAILS("syslog(CLEAR)", syscall(SYS_syslog, 5, NULL, 0), EPERM, ENOSYS);
	int fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd >= 0) {
		/* 'h' only prints help: harmless if it gets through */
		long r = write(fd, "h", 1);
		hs_fails("write /proc/sysrq-trigger", r, errno, 0);
	} else {
		printf("good open /proc/sysrq-trigger: %s\n", strerror(errno));
	}
	return hs_done();
}
