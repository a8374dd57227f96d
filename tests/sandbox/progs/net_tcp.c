/* net_tcp PORT: TCP connects must all fail without network: to the host's
 * 127.0.0.1:PORT (a listener the driver runs on the host), public and
 * metadata addresses.  With "expect-connect" as 2nd arg (for --net) the
 * host listener must instead be reached. */
#include "hostile.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
/* returns 0 on connect, -1 with errno on failure; 1 s timeout -> ETIMEDOUT */
static int try_connect(const char *ip, int port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s < 0) return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	int r = connect(s, (struct sockaddr *)&a, sizeof a);
	if (r != 0 && errno == EINPROGRESS) {
		struct pollfd p = { s, POLLOUT, 0 };
		if (poll(&p, 1, 1000) == 0) { close(s); errno = ETIMEDOUT; return -1; }
		int e = 0; socklen_t l = sizeof e;
		getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l);
		if (e) { close(s); errno = e; return -1; }
		r = 0;
	}
	if (r == 0) { write(s, "hostile\n", 8); close(s); return 0; }
	int e = errno; close(s); errno = e;
	return -1;
}
int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 80;
	if (argc > 2 && strcmp(argv[2], "expect-connect") == 0) {
		int r = try_connect("127.0.0.1", port);
		hs_check("reached host listener with --net", r == 0);
		return hs_done();
	}
	FILE *f = fopen("/proc/net/dev", "r");
	char line[512];
	int ifaces = 0, lo = 0;
	while (f && fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':');
		if (!colon) continue;
		*colon = 0;
		char *name = line + strspn(line, " ");
		ifaces++;
		if (strcmp(name, "lo") == 0) lo = 1;
		else printf("interface %s\n", name);
	}
	hs_check("only lo in the network namespace", f && ifaces == 1 && lo);
	HS_FAILS("tcp 127.0.0.1:PORT (host listener)", try_connect("127.0.0.1", port), ECONNREFUSED);
	HS_FAILS("tcp 1.1.1.1:80", try_connect("1.1.1.1", 80), ENETUNREACH, EHOSTUNREACH);
	HS_FAILS("tcp 169.254.169.254:80", try_connect("169.254.169.254", 80), ENETUNREACH, EHOSTUNREACH);
	HS_FAILS("tcp 10.0.2.2:22", try_connect("10.0.2.2", 22), ENETUNREACH, EHOSTUNREACH);
	HS_FAILS("tcp 172.17.0.1:5432", try_connect("172.17.0.1", 5432), ENETUNREACH, EHOSTUNREACH);
	HS_FAILS("tcp6 ::1", ({ int s6 = socket(AF_INET6, SOCK_STREAM, 0);
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		a6.sin6_addr = in6addr_loopback;
		int r6 = s6 < 0 ? -1 : connect(s6, (struct sockaddr *)&a6, sizeof a6); r6; }),
		ECONNREFUSED, EADDRNOTAVAIL, ENETUNREACH, EAFNOSUPPORT);
	return hs_done();
}
