/* fd_park: "park" leaves open files in a unix socket that carries itself
 * (an SCM_RIGHTS cycle, which only the kernel's unix garbage collector can
 * free), holding state the next run of a warm cell could see: an OFD lock
 * on bytes of /usr/bin/true, a flock on /usr/bin/false, a deleted 20 MB
 * file in /tmp, an IPv6 flow label (no packet, no socket left).  "look"
 * reports each, and prints "clean" when none is there. */
#include "hostile.h"
#include <arpa/inet.h>
#include <linux/in6.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/un.h>

static int park(void)
{
	int p[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, p) < 0 || hs_carry(p[0], p[1]) < 0 || hs_carry(p[1], p[0]) < 0)
		return 1;
	int t = open("/usr/bin/true", O_RDONLY);
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 1000, .l_len = 1 };
	if (t < 0 || fcntl(t, F_OFD_SETLK, &fl) < 0 || hs_carry(p[0], t) < 0)
		return 1;
	int f = open("/usr/bin/false", O_RDONLY);
	if (f < 0 || flock(f, LOCK_SH) < 0 || hs_carry(p[0], f) < 0)
		return 1;
	int d = open("/tmp/big", O_CREAT | O_RDWR, 0600);
	static char mb[1 << 20];
	memset(mb, 'x', sizeof(mb));
	for (int i = 0; i < 20; i++)
		if (write(d, mb, sizeof(mb)) != (ssize_t)sizeof(mb))
			return 1;
	if (unlink("/tmp/big") < 0 || hs_carry(p[0], d) < 0)
		return 1;
	int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	if (s6 >= 0) {
		struct in6_flowlabel_req fr;
		memset(&fr, 0, sizeof fr);
		inet_pton(AF_INET6, "::1", &fr.flr_dst);
		fr.flr_label = htonl(0xbeef);
		fr.flr_action = IPV6_FL_A_GET;
		fr.flr_flags = IPV6_FL_F_CREATE | IPV6_FL_F_EXCL;
		fr.flr_share = IPV6_FL_S_ANY;
		fr.flr_linger = 60;
		fr.flr_expires = 60;
		setsockopt(s6, IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, &fr, sizeof fr);
		close(s6);
	}
	printf("parked\n");
	return 0;
}

static int look(void)
{
	int t = open("/usr/bin/true", O_RDONLY);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1000, .l_len = 1 };
	hs_check("no OFD lock on /usr/bin/true", t >= 0 && fcntl(t, F_OFD_GETLK, &fl) == 0 &&
		 fl.l_type == F_UNLCK);
	int f = open("/usr/bin/false", O_RDONLY);
	hs_check("no flock on /usr/bin/false", f >= 0 && flock(f, LOCK_EX | LOCK_NB) == 0);
	struct statfs sf;
	hs_check("/tmp as free as the box was made",
		 statfs("/tmp", &sf) == 0 && sf.f_bfree * (uint64_t)sf.f_bsize >= (40u << 20));
	char buf[4096] = "";
	int l = open("/proc/net/ip6_flowlabel", O_RDONLY);
	ssize_t n = l >= 0 ? read(l, buf, sizeof(buf) - 1) : 0;
	buf[n > 0 ? n : 0] = '\0';
	hs_check("no IPv6 flow label", !strstr(buf, "BEEF") && !strstr(buf, "beef"));
	return hs_done();
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "park"))
		return park();
	return look();
}
