/* host_shared: reaches for what the host shares with every cell and no
 * cgroup counts.  POSIX ACLs (kernel memory charged to nobody: 16384
 * files inheriting a 64 KiB default ACL held 2 GB), the host-wide AIO
 * pool (io_setup(65536) took all of fs.aio-max-nr), inotify on the shared
 * /usr (what the host and other cells open), the kernel's uevents, MPTCP.
 * With a file argument, also drops that file from the page cache with
 * POSIX_FADV_DONTNEED: the call must "succeed" and the driver checks from
 * the host that the file's pages stayed cached. */
#include "hostile.h"
#include <linux/aio_abi.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/xattr.h>

int main(int argc, char **argv)
{
	/* a default ACL: USER_OBJ rwx, GROUP_OBJ r-x, OTHER r-x (v2 format) */
	static const unsigned char acl[] = {
		2, 0, 0, 0,
		1, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,
		4, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
		32, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
	};
	mkdir("/tmp/d", 0755);
	HS_FAILS("setxattr(default ACL)", setxattr("/tmp/d", "system.posix_acl_default", acl,
						   sizeof acl, 0), EOPNOTSUPP);
	HS_FAILS("lsetxattr(access ACL)", lsetxattr("/tmp/d", "system.posix_acl_access", acl,
						    sizeof acl, 0), EOPNOTSUPP);
	int fd = open("/tmp/f", O_CREAT | O_WRONLY, 0644);
	HS_FAILS("fsetxattr(user.x)", fsetxattr(fd, "user.x", "1", 1, 0), EOPNOTSUPP);
	close(fd);
	aio_context_t ctx = 0;
	HS_FAILS("io_setup(65536)", syscall(SYS_io_setup, 65536, &ctx), ENOSYS);
	HS_FAILS("inotify_init1", inotify_init1(IN_CLOEXEC), ENOSYS);
	HS_FAILS("socket(netlink uevent)", socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT),
		 EPROTONOSUPPORT);
	HS_FAILS("socket(inet, mptcp)", socket(AF_INET, SOCK_STREAM, 262), EPROTONOSUPPORT);
	int ok = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	hs_check("socket(netlink route) still works", ok >= 0);
	ok = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	hs_check("socket(inet, tcp) still works", ok >= 0);
	if (argc > 1) {
		int f = open(argv[1], O_RDONLY);
		hs_check("open the file to evict", f >= 0);
		int rc = posix_fadvise(f, 0, 0, POSIX_FADV_DONTNEED);
		hs_check("posix_fadvise(DONTNEED) answers 0", rc == 0);
	}
	return hs_done();
}
