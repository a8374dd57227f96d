/* ro_write: writes to the read-only parts of the cell (/usr, /etc, /,
 * /lib, /bin, /dev, /proc) must fail. */
#include "hostile.h"
#include <sys/sysmacros.h>
int main(void)
{
	const char *paths[] = { "/usr/bin/x", "/usr/lib/x", "/etc/hosts", "/etc/passwd",
		"/etc/ld.so.cache", "/x", "/lib/x", "/bin/x", "/dev/x", "/proc/x", "/sbin/x" };
	for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
		char what[300];
		snprintf(what, sizeof what, "create %s", paths[i]);
		HS_FAILS(what, open(paths[i], O_WRONLY | O_CREAT | O_APPEND, 0644), EROFS, EACCES, EPERM, ENOENT);
	}
	HS_FAILS("mkdir /newdir", mkdir("/newdir", 0755), EROFS, EACCES, EPERM);
	HS_FAILS("chmod /usr/bin/env", chmod("/usr/bin/env", 04777), EROFS, EACCES, EPERM);
	HS_FAILS("unlink /etc/hosts", unlink("/etc/hosts"), EROFS, EACCES, EPERM);
	HS_FAILS("rmdir /usr", rmdir("/usr"), EROFS, EACCES, EPERM, EBUSY, ENOTEMPTY);
	HS_FAILS("truncate /usr/bin/sh", truncate("/usr/bin/sh", 0), EROFS, EACCES, EPERM, ETXTBSY);
	HS_FAILS("mknod /box/null", mknod("/box/null", S_IFCHR | 0666, makedev(1, 3)), EPERM, EACCES);
	HS_FAILS("mknod /box/sda", mknod("/box/sda", S_IFBLK | 0666, makedev(8, 0)), EPERM, EACCES);
	return hs_done();
}
