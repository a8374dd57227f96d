/* net_udp PORT: UDP to the host's 127.0.0.1:PORT (the driver listens) must
 * not arrive, UDP to 8.8.8.8:53 must fail, name resolution must fail. */
#include "hostile.h"
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 53;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	/* sendto on loopback succeeds even when nobody listens; the driver
	 * checks its host socket received nothing */
	ssize_t r = sendto(s, "hostile-udp", 11, 0, (struct sockaddr *)&a, sizeof a);
	printf("sendto 127.0.0.1: %zd %s\n", r, r < 0 ? strerror(errno) : "");
	struct sockaddr_in g = { .sin_family = AF_INET, .sin_port = htons(53) };
	inet_pton(AF_INET, "8.8.8.8", &g.sin_addr);
	HS_FAILS("udp 8.8.8.8:53", sendto(s, "x", 1, 0, (struct sockaddr *)&g, sizeof g), ENETUNREACH, EHOSTUNREACH);
	struct addrinfo *ai = NULL;
	int e = getaddrinfo("deb.debian.org", "80", NULL, &ai);
	printf("getaddrinfo: %s\n", e ? gai_strerror(e) : "resolved");
	hs_check("getaddrinfo deb.debian.org fails", e != 0);
	return hs_done();
}
