/* hardlink: link() host-side files (read-only /usr, /etc) into the
 * writable box: must fail (different filesystems, EXDEV) or be refused. */
#include "hostile.h"
int main(void)
{
	HS_FAILS("link /etc/passwd", link("/etc/passwd", "/box/pw"), EXDEV, EPERM, EACCES, EROFS);
	HS_FAILS("link /usr/bin/passwd", link("/usr/bin/passwd", "/tmp/pw"), EXDEV, EPERM, EACCES, EROFS);
	HS_FAILS("link /bin/sh", link("/bin/sh", "/dev/shm/sh"), EXDEV, EPERM, EACCES, EROFS);
	HS_FAILS("rename /etc/hosts", rename("/etc/hosts", "/box/hosts"), EXDEV, EPERM, EACCES, EROFS, EBUSY);
	return hs_done();
}
