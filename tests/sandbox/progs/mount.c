/* mount: mount tmpfs, bind, remount, umount2("/"), pivot_root, chroot
 * escape, and the new mount API (open_tree_attr too) must all fail with
 * EPERM. */
#include "hostile.h"
#include <sys/mount.h>
int main(void)
{
	HS_FAILS("mount tmpfs /tmp", mount("none", "/tmp", "tmpfs", 0, NULL), EPERM);
	HS_FAILS("mount proc", mount("proc", "/box", "proc", 0, NULL), EPERM);
	HS_FAILS("bind / to /box", mount("/", "/box", NULL, MS_BIND | MS_REC, NULL), EPERM);
	HS_FAILS("remount /usr rw", mount(NULL, "/usr", NULL, MS_REMOUNT | MS_BIND, NULL), EPERM);
	HS_FAILS("umount2 /", umount2("/", MNT_DETACH), EPERM);
	HS_FAILS("umount2 /proc", umount2("/proc", MNT_DETACH), EPERM);
	mkdir("/box/old", 0755);
	HS_FAILS("pivot_root", syscall(SYS_pivot_root, "/box", "/box/old"), EPERM, EINVAL);
	HS_FAILS("chroot /box", chroot("/box"), EPERM);
	HS_FAILS("fsopen tmpfs", syscall(SYS_fsopen, "tmpfs", 0), EPERM, ENOSYS);
	HS_FAILS("open_tree /", syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */), EPERM, ENOSYS);
	HS_FAILS("move_mount", syscall(SYS_move_mount, AT_FDCWD, "/usr", AT_FDCWD, "/box", 0), EPERM, ENOSYS);
	HS_FAILS("mount_setattr", syscall(SYS_mount_setattr, AT_FDCWD, "/usr", 0, NULL, 0), EPERM, ENOSYS, EINVAL);
	/* open_tree_attr (Linux 6.15, number 467 on x86_64 and aarch64);
	 * without OPEN_TREE_CLONE it would return an O_PATH fd. */
	HS_FAILS("open_tree_attr /usr", syscall(467, AT_FDCWD, "/usr", 0, NULL, 0), EPERM);
	return hs_done();
}
