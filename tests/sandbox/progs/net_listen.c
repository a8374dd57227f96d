/* net_listen PORT MS: listens on 0.0.0.0:PORT for MS ms; the driver tries
 * to connect from the host meanwhile (must be refused).  Prints how many
 * connections it accepted (must be 0). */
#include "hostile.h"
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 8080;
	int ms = argc > 2 ? atoi(argv[2]) : 1500;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0) {
		printf("listen: %s\n", strerror(errno));
		return 2;
	}
	int got = 0;
	struct pollfd p = { s, POLLIN, 0 };
	while (poll(&p, 1, ms) > 0) {
		int c = accept(s, NULL, NULL);
		if (c >= 0) { got++; close(c); }
	}
	printf("accepted %d\n", got);
	return got ? 1 : 0;
}
