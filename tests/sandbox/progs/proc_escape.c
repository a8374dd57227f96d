/* proc_escape: CVE-2024-21626 class: try to reach the host through
 * /proc/1/cwd, /proc/self/fd/N, /proc/1/root, "/.." and open_by_handle_at. */
#include "hostile.h"
int main(void)
{
	HS_FAILS("chdir /proc/1/cwd", chdir("/proc/1/cwd"), ENOENT, EACCES, EPERM);
	HS_FAILS("chdir /proc/1/root", chdir("/proc/1/root"), ENOENT, EACCES, EPERM);
	HS_FAILS("open /proc/1/exe", open("/proc/1/exe", O_RDONLY), ENOENT, EACCES, EPERM);
	for (int fd = 3; fd < 64; fd++) {
		char p[64];
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		int r = open(p, O_RDONLY);
		if (r >= 0) { printf("BAD %s opened\n", p); hs_bad++; close(r); }
	}
	char cwd[512] = "";
	if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "?");
	printf("cwd %s\n", cwd);
	hs_check("cwd is /box", strcmp(cwd, "/box") == 0);
	struct stat root, up;
	stat("/", &root);
	stat("/../../..", &up);
	hs_check("/.. is /", root.st_ino == up.st_ino && root.st_dev == up.st_dev);
	HS_FAILS("chroot ..", chroot(".."), EPERM);
	struct { unsigned int b; int t; unsigned char h[8]; } fh = { 8, 1, { 2, 0, 0, 0, 0, 0, 0, 0 } };
	HS_FAILS("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY), EPERM, ENOSYS);
	return hs_done();
}
