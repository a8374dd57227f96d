/* net_traffic: what one run does to its network namespace must not show in
 * the next run's.  First checks that its own namespace is untouched (lo's
 * counters and the protocol statistics at zero, no socket), then leaves
 * as much behind as it can: loopback TCP (refused, and one connection
 * still open when it exits), UDP to a closed port, a packet with no route,
 * a listener ("net_traffic quiet" leaves nothing).  Prints its namespace
 * as "netns net:[N]"; "net_traffic linger FILE" then also writes it to
 * FILE and sleeps, to be killed with its runcell. */
#include "hostile.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* The value of field in /proc/net/snmp's section (a header line, then a
 * value line). */
static long long snmp(const char *section, const char *field)
{
	FILE *f = fopen("/proc/net/snmp", "r");
	if (!f)
		return -1;
	char head[2048], vals[2048];
	long long v = -1;
	while (fgets(head, sizeof head, f) && fgets(vals, sizeof vals, f)) {
		if (strncmp(head, section, strlen(section)) || head[strlen(section)] != ':')
			continue;
		char *hs, *vs;
		char *h = strtok_r(head, " \n", &hs), *x = strtok_r(vals, " \n", &vs);
		while ((h = strtok_r(NULL, " \n", &hs)) && (x = strtok_r(NULL, " \n", &vs)))
			if (!strcmp(h, field))
				v = atoll(x);
	}
	fclose(f);
	return v;
}

static long long lo_bytes(void)
{
	FILE *f = fopen("/proc/net/dev", "r");
	if (!f)
		return -1;
	char line[512];
	long long v = -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long long rx, x[7], tx;
		if (sscanf(line, " lo: %llu %llu %llu %llu %llu %llu %llu %llu %llu", &rx, &x[0], &x[1],
			   &x[2], &x[3], &x[4], &x[5], &x[6], &tx) == 9)
			v = (long long)(rx + tx);
	}
	fclose(f);
	return v;
}

static int lines(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[512];
	int n = 0;
	while (fgets(line, sizeof line, f))
		n++;
	fclose(f);
	return n > 0 ? n - 1 : 0;
}

int main(int argc, char **argv)
{
	char ns[64] = "";
	if (readlink("/proc/self/ns/net", ns, sizeof ns - 1) < 0)
		snprintf(ns, sizeof ns, "unknown");
	printf("netns %s\n", ns);
	long long b = lo_bytes();
	printf("%s lo bytes at start: %lld\n", b == 0 ? "good" : "BAD", b);
	hs_bad += b != 0;
	static const struct { const char *sec, *field; } zero[] = {
		{ "Ip", "OutRequests" }, { "Ip", "OutNoRoutes" }, { "Tcp", "ActiveOpens" },
		{ "Tcp", "PassiveOpens" }, { "Udp", "OutDatagrams" }, { "Udp", "NoPorts" },
	};
	for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
		long long v = snmp(zero[i].sec, zero[i].field);
		printf("%s %s %s at start: %lld\n", v == 0 ? "good" : "BAD", zero[i].sec, zero[i].field, v);
		hs_bad += v != 0;
	}
	int socks = lines("/proc/net/tcp") + lines("/proc/net/udp") + lines("/proc/net/tcp6") +
		    lines("/proc/net/udp6");
	printf("%s sockets at start: %d\n", socks == 0 ? "good" : "BAD", socks);
	hs_bad += socks != 0;

	if (argc > 1 && !strcmp(argv[1], "quiet"))
		return hs_done();
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = htons(1);
	connect(s, (struct sockaddr *)&a, sizeof a);  /* refused */
	close(s);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons(9);
	sendto(u, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
	struct sockaddr_in far = { .sin_family = AF_INET, .sin_port = htons(9) };
	inet_pton(AF_INET, "10.1.2.3", &far.sin_addr);
	sendto(u, "x", 1, 0, (struct sockaddr *)&far, sizeof far);  /* no route */
	int l = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	socklen_t alen = sizeof a;
	if (bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 4) == 0 &&
	    getsockname(l, (struct sockaddr *)&a, &alen) == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof a) == 0) {
			int acc = accept(l, NULL, NULL);
			if (write(c, "hello", 5) != 5 || acc < 0)
				printf("note: loopback connection half made\n");
		}
	}
	b = lo_bytes();
	printf("%s lo bytes after: %lld\n", b > 0 ? "good" : "BAD", b);
	hs_bad += b <= 0;
	if (argc > 2 && !strcmp(argv[1], "linger")) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, ns, strlen(ns)) != (ssize_t)strlen(ns))
			printf("BAD cannot write %s: %s\n", argv[2], strerror(errno));
		close(fd);
		sleep(60);
	}
	return hs_done();  /* exits with the connection open and the listener bound */
}
