/* sock_leave [MB]: leaves sockets alive after every process of the run is
 * gone.  A unix socket bound to the abstract name @runcell-left and
 * connected to itself carries its own descriptor and a TCP listener on
 * 127.0.0.1:4242 in its queue (SCM_RIGHTS): nothing refers to that cycle
 * from outside, and only the kernel's unix garbage collector frees it.
 * With MB, socket pairs that carry each other also hold about MB
 * megabytes of queued data, charged to the cell's memory group.  The next
 * run of a warm cell must see none of it (sock_look). */
#include "hostile.h"
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
	int u = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *name = "runcell-left";
	memcpy(sa.sun_path + 1, name, strlen(name));
	socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	int t = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in si = { .sin_family = AF_INET, .sin_port = htons(4242),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (u < 0 || bind(u, (struct sockaddr *)&sa, sl) < 0 || connect(u, (struct sockaddr *)&sa, sl) < 0 ||
	    t < 0 || bind(t, (struct sockaddr *)&si, sizeof(si)) < 0 || listen(t, 8) < 0 ||
	    hs_carry(u, t) < 0 || hs_carry(u, u) < 0) {
		printf("setup failed: %s\n", strerror(errno));
		return 2;
	}
	long mb = argc > 1 ? atol(argv[1]) : 0, queued = 0;
	static char chunk[65536];
	while (queued < mb << 20) {
		int p[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) < 0)
			break;
		int one = 4 << 20;
		setsockopt(p[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
		setsockopt(p[1], SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		if (hs_carry(p[0], p[1]) < 0 || hs_carry(p[1], p[0]) < 0)
			break;
		ssize_t n;
		while (queued < mb << 20 && (n = write(p[0], chunk, sizeof(chunk))) > 0)
			queued += n;
	}
	printf("left %ld KB queued\n", queued >> 10);
	return 0;  /* every descriptor closes here; the cycles stay */
}
