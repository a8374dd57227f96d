/* tcp_buffers: N loopback TCP connections, written on both ends until the
 * kernel says EAGAIN, never read.  On cgroup v1 these buffers are charged
 * to memory.kmem.tcp, which counts only once it has a limit: without one,
 * a cell under --memory=16 queued 932 MB of the host-wide tcp_mem that
 * every socket of the host draws on.  Prints how much was queued. */
#include "hostile.h"
#include <netinet/in.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t al = sizeof a;
	if (l < 0 || bind(l, (void *)&a, sizeof a) < 0 || listen(l, 512) < 0 ||
	    getsockname(l, (void *)&a, &al) < 0) {
		printf("listen: %s\n", strerror(errno));
		return 1;
	}
	static char buf[1 << 16];
	long long total = 0;
	for (int i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (void *)&a, sizeof a) < 0)
			break;
		int s = accept(l, NULL, NULL);
		if (s < 0)
			break;
		fcntl(c, F_SETFL, O_NONBLOCK);
		fcntl(s, F_SETFL, O_NONBLOCK);
		for (int k = 0; k < 2; k++) {
			ssize_t w;
			while ((w = write(k ? s : c, buf, sizeof buf)) > 0)
				total += w;
		}
	}
	printf("queued %lld MB\n", total >> 20);
	return 0;
}
