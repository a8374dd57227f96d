/*
 * Unit tests for callback: URL checks (valid and invalid forms), and
 * deliveries to a plain-socket receiver run in a thread of the test:
 * the exact request (method, path, headers, body), IPv6 and host-name
 * targets, interim 1xx replies, retries with backoff, permanent failure,
 * malformed, oversized and randomly mutated replies, a receiver that
 * never answers, refused connections, -EAGAIN past max_pending, due
 * order, and stop (draining, and returning within drain_ms).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/callback.h"
#include "core/clock.h"
#include "core/log.h"
#include "test.h"

/* ---- a receiver: one reply per connection, in order ---- */

#define RX_REPLIES 8
#define RX_SAVED 4
#define RX_CONNS 64

struct rx {
	int lfd;
	uint16_t port;
	pthread_t thread;
	atomic_bool stop;
	/* replies[i] answers connection i (the last one repeats); NULL:
	 * read the request, then hold the connection open, never answering. */
	const char *replies[RX_REPLIES];
	int nreplies;
	atomic_int conns;
	uint64_t conn_ms[RX_CONNS]; /* when each connection was accepted */
	char req[RX_SAVED][8192];   /* the first requests, as received */
	size_t req_len[RX_SAVED];
	int held[RX_CONNS];
	int nheld;
};

/* Reads one request: head, then Content-Length bytes of body. */
static size_t rx_read_request(int fd, char *out, size_t cap)
{
	size_t n = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (n < cap - 1 && poll(&p, 1, 2000) > 0) {
		ssize_t r = read(fd, out + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		out[n] = '\0';
		char *end = strstr(out, "\r\n\r\n");
		if (!end)
			continue;
		const char *cl = strstr(out, "Content-Length: ");
		size_t want = cl ? strtoul(cl + 16, NULL, 10) : 0;
		if (n >= (size_t)(end + 4 - out) + want)
			break;
	}
	out[n] = '\0';
	return n;
}

static void *rx_main(void *arg)
{
	struct rx *x = arg;
	while (!atomic_load(&x->stop)) {
		struct pollfd p = { .fd = x->lfd, .events = POLLIN };
		if (poll(&p, 1, 20) <= 0)
			continue;
		int fd = accept(x->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		int i = atomic_load(&x->conns);
		if (i < RX_CONNS)
			x->conn_ms[i] = clock_now_ms();
		char tmp[8192];
		char *dst = i < RX_SAVED ? x->req[i] : tmp;
		size_t n = rx_read_request(fd, dst, sizeof(tmp));
		if (i < RX_SAVED)
			x->req_len[i] = n;
		const char *reply = x->replies[i < x->nreplies ? i : x->nreplies - 1];
		atomic_fetch_add(&x->conns, 1);
		if (!reply && x->nheld < RX_CONNS) {
			x->held[x->nheld++] = fd;
			continue;
		}
		if (reply) {
			ssize_t w = write(fd, reply, strlen(reply));
			(void)w;
		}
		close(fd);
	}
	return NULL;
}

/* Starts a receiver on 127.0.0.1 (or ::1 with v6); false if it cannot bind. */
static bool rx_start_on(struct rx *x, bool v6, const char *const *replies, int n)
{
	memset(x, 0, sizeof(*x));
	for (int i = 0; i < n && i < RX_REPLIES; i++)
		x->replies[i] = replies[i];
	x->nreplies = n;
	x->lfd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (x->lfd < 0)
		return false;
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*a);
	}
	if (bind(x->lfd, (struct sockaddr *)&ss, sl) < 0 || listen(x->lfd, 64) < 0) {
		close(x->lfd);
		return false;
	}
	getsockname(x->lfd, (struct sockaddr *)&ss, &sl);
	x->port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			   : ((struct sockaddr_in *)&ss)->sin_port);
	ASSERT_EQ(pthread_create(&x->thread, NULL, rx_main, x), 0);
	return true;
}

static void rx_start(struct rx *x, const char *const *replies, int n)
{
	ASSERT_TRUE(rx_start_on(x, false, replies, n));
}

static void rx_stop(struct rx *x)
{
	atomic_store(&x->stop, true);
	pthread_join(x->thread, NULL);
	for (int i = 0; i < x->nheld; i++)
		close(x->held[i]);
	close(x->lfd);
}

static const char *OK200 = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char *E500 = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";

/* ---- helpers ---- */

static struct callback_sender *sender(int attempts, int first_delay, int timeout, size_t max_pending)
{
	log_set_level(LOG_ERROR); /* the outcomes are logged; keep the test output short */
	/* One sender: these tests read the receiver's requests in order.
	 * Several at once: callback_stop_cuts_every_sender and the API's
	 * callback/hanging_receivers. */
	struct callback_config c = { .max_attempts = attempts, .first_delay_ms = first_delay,
				     .timeout_ms = timeout, .max_pending = max_pending,
				     .senders = 1 };
	struct callback_sender *s = NULL;
	char err[128];
	int r = callback_sender_start(&c, &s, err, sizeof(err));
	if (r != 0)
		FAIL("callback_sender_start: %d %s", r, err);
	return s;
}

/* Waits until delivered + failed reaches n (at most 10 s); the stats. */
static struct callback_stats wait_finished(struct callback_sender *s, uint64_t n)
{
	struct callback_stats st;
	uint64_t end = clock_now_ms() + 10000;
	for (;;) {
		callback_stats(s, &st);
		if (st.delivered + st.failed >= n || clock_now_ms() > end)
			return st;
		struct timespec ts = { 0, 5 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static void url_of(char *out, size_t len, const char *host, uint16_t port, const char *path)
{
	snprintf(out, len, "http://%s:%u%s", host, (unsigned)port, path);
}

/* A port on 127.0.0.1 where nothing listens. */
static uint16_t dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(a);
	bind(fd, (struct sockaddr *)&a, sl);
	getsockname(fd, (struct sockaddr *)&a, &sl);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- URLs ---- */

TEST(callback_url_valid)
{
	static const char *const ok[] = {
		"http://127.0.0.1:9000/done",
		"http://127.0.0.1",
		"http://localhost/",
		"HTTP://Example.COM:8080/a/b?c=d&e=%20f",
		"http://[::1]:9000/x",
		"http://[2001:db8::1]/",
		"http://[::ffff:10.0.0.1]:1",
		"http://my-host_1.internal:65535/cb",
		"http://example.com?only=query",
		"http://10.0.0.1:80/path/with/~tilde-and.dots",
		"https://example.com/",
		"HTTPS://localhost:8443/hook?x=1",
	};
	char why[128];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		why[0] = '\0';
		if (callback_url_check(ok[i], why, sizeof(why)) != 0)
			FAIL("%s refused: %s", ok[i], why);
	}
	char longu[CALLBACK_URL_MAX + 1];
	memcpy(longu, "http://h/", 9);
	memset(longu + 9, 'a', CALLBACK_URL_MAX - 9);
	longu[CALLBACK_URL_MAX] = '\0';
	ASSERT_EQ(callback_url_check(longu, NULL, 0), 0);
}

TEST(callback_url_invalid)
{
	static const char *const bad[] = {
		"",
		"https://",
		"https://user@example.com/",
		"https://127.0.0.1/",
		"https://[::1]:8443/",
		"httpss://example.com/",
		"ftp://example.com/",
		"http:/example.com",
		"http://",
		"http:///path",
		"http://user:pw@example.com/",
		"http://example.com:0/",
		"http://example.com:65536/",
		"http://example.com:/",
		"http://example.com:80a/",
		"http://example.com:123456/",
		"http://exa mple.com/",
		"http://example.com/a b",
		"http://example.com/\x01",
		"http://example.com/\t",
		"http://example.com/caf\xc3\xa9",
		"http://[::1/",
		"http://[::g]/",
		"http://[]/",
		"http://[::1]x/",
		"http://999.1.1.1/",
		"http://1.2.3/",
		"http://a..b/",
		"http://-bad$.com/",
		"http://example.com/#frag",
		"example.com/path",
	};
	char why[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (callback_url_check(bad[i], why, sizeof(why)) != -EINVAL)
			FAIL("accepted: \"%s\"", bad[i]);
		if (!why[0])
			FAIL("no reason for \"%s\"", bad[i]);
	}
	ASSERT_EQ(callback_url_check(NULL, NULL, 0), -EINVAL);
	char longu[CALLBACK_URL_MAX + 2];
	memcpy(longu, "http://h/", 9);
	memset(longu + 9, 'a', CALLBACK_URL_MAX + 1 - 9);
	longu[CALLBACK_URL_MAX + 1] = '\0';
	ASSERT_EQ(callback_url_check(longu, why, sizeof(why)), -EINVAL);
}

TEST(url_scheme_and_default_port)
{
	struct url_http t;
	ASSERT_EQ(url_parse_http("http://example.com/a", &t, NULL, 0), 0);
	ASSERT_FALSE(t.tls);
	ASSERT_EQ(t.port, 80);
	ASSERT_EQ(url_parse_http("HTTPS://example.com/a", &t, NULL, 0), 0);
	ASSERT_TRUE(t.tls);
	ASSERT_EQ(t.port, 443);
	ASSERT_STR(t.host, "example.com");
	ASSERT_STR(t.path, "/a");
	ASSERT_EQ(url_parse_http("https://localhost:8443", &t, NULL, 0), 0);
	ASSERT_TRUE(t.tls);
	ASSERT_EQ(t.port, 8443);
	ASSERT_STR(t.host, "localhost");
}

TEST(callback_bad_arguments)
{
	struct callback_config c = { .timeout_ms = -1 };
	struct callback_sender *s = (void *)1;
	char err[128];
	ASSERT_EQ(callback_sender_start(&c, &s, err, sizeof(err)), -EINVAL);
	ASSERT_NULL(s);
	s = sender(0, 0, 0, 0);
	ASSERT_EQ(callback_send(s, "ftp://x/", "id", "{}", 2), -EINVAL);
	ASSERT_EQ(callback_send(s, NULL, "id", "{}", 2), -EINVAL);
	ASSERT_EQ(callback_send(s, "http://127.0.0.1:1/", "", "{}", 2), -EINVAL);
	ASSERT_EQ(callback_send(s, "http://127.0.0.1:1/", "a\r\nX: y", "{}", 2), -EINVAL);
	ASSERT_EQ(callback_send(s, "http://127.0.0.1:1/", NULL, "{}", 2), -EINVAL);
	char longid[CALLBACK_ID_MAX + 2];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ASSERT_EQ(callback_send(s, "http://127.0.0.1:1/", longid, "{}", 2), -EINVAL);
	struct callback_stats st;
	callback_stats(s, &st);
	ASSERT_EQ(st.pending, 0);
	callback_sender_stop(s, 0);
	callback_sender_stop(NULL, 0);
}

/* ---- deliveries ---- */

TEST(callback_delivery_request)
{
	struct rx x;
	rx_start(&x, &OK200, 1);
	struct callback_sender *s = sender(0, 0, 2000, 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/hook/done?x=1");
	const char *body = "{\"id\": \"5f0c\", \"status\": \"done\", \"nul\": \"\\u0000\"}";
	ASSERT_EQ(callback_send(s, url, "5f0c2b8e9a7d4c1e8b3a6f2d0e9c7b15", body, strlen(body)), 0);
	struct callback_stats st = wait_finished(s, 1);
	ASSERT_EQ(st.delivered, 1);
	ASSERT_EQ(st.retried, 0);
	ASSERT_EQ(st.failed, 0);
	ASSERT_EQ(st.pending, 0);
	ASSERT_EQ(atomic_load(&x.conns), 1);
	char want[1024];
	snprintf(want, sizeof(want),
		 "POST /hook/done?x=1 HTTP/1.1\r\n"
		 "Host: 127.0.0.1:%u\r\n"
		 "Content-Type: application/json\r\n"
		 "Content-Length: %zu\r\n"
		 "X-Runcell-Submission: 5f0c2b8e9a7d4c1e8b3a6f2d0e9c7b15\r\n"
		 "User-Agent: runcell\r\n"
		 "Connection: close\r\n"
		 "\r\n%s",
		 (unsigned)x.port, strlen(body), body);
	ASSERT_MEM(x.req[0], x.req_len[0], want, strlen(want));
	callback_sender_stop(s, 1000);
	rx_stop(&x);
}

TEST(callback_delivery_binary_body_and_root_path)
{
	struct rx x;
	static const char *const r204[] = { "HTTP/1.0 204 No Content\r\n\r\n" };
	rx_start(&x, r204, 1);
	struct callback_sender *s = sender(0, 0, 2000, 0);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u?q", (unsigned)x.port);
	static const char body[4] = { 'a', 0, 'b', 0 };
	ASSERT_EQ(callback_send(s, url, "id1", body, sizeof(body)), 0);
	ASSERT_EQ(callback_send(s, url, "id2", NULL, 0), 0);
	struct callback_stats st = wait_finished(s, 2);
	ASSERT_EQ(st.delivered, 2);
	const char *line = "POST /?q HTTP/1.1\r\n";
	ASSERT_MEM(x.req[0], strlen(line), line, strlen(line));
	ASSERT_MEM(x.req[0] + x.req_len[0] - 4, 4, body, 4);
	ASSERT_TRUE(strstr(x.req[1], "Content-Length: 0\r\n") != NULL);
	callback_sender_stop(s, 1000);
	rx_stop(&x);
}

TEST(callback_delivery_ipv6)
{
	struct rx x;
	if (!rx_start_on(&x, true, &OK200, 1))
		test_skip("no IPv6 loopback (::1) on this host");
	struct callback_sender *s = sender(0, 0, 2000, 0);
	char url[128];
	url_of(url, sizeof(url), "[::1]", x.port, "/v6");
	ASSERT_EQ(callback_send(s, url, "id6", "{}", 2), 0);
	struct callback_stats st = wait_finished(s, 1);
	ASSERT_EQ(st.delivered, 1);
	char host[64];
	snprintf(host, sizeof(host), "Host: [::1]:%u\r\n", (unsigned)x.port);
	ASSERT_TRUE(strstr(x.req[0], host) != NULL);
	callback_sender_stop(s, 1000);
	rx_stop(&x);
}

TEST(callback_delivery_host_name)
{
	/* "localhost" goes through getaddrinfo; it may give ::1 first, where
	 * nothing listens, and then 127.0.0.1. */
	struct rx x;
	rx_start(&x, &OK200, 1);
	struct callback_sender *s = sender(1, 0, 2000, 0);
	char url[128];
	url_of(url, sizeof(url), "localhost", x.port, "/named");
	ASSERT_EQ(callback_send(s, url, "idn", "{}", 2), 0);
	struct callback_stats st = wait_finished(s, 1);
	ASSERT_EQ(st.delivered, 1);
	char host[64];
	snprintf(host, sizeof(host), "Host: localhost:%u\r\n", (unsigned)x.port);
	ASSERT_TRUE(strstr(x.req[0], host) != NULL);
	callback_sender_stop(s, 1000);
	rx_stop(&x);
}

TEST(callback_interim_1xx)
{
	struct rx x;
	static const char *const r[] = {
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
		"HTTP/1.1 202 Accepted\r\n\r\n",
	};
	rx_start(&x, r, 1);
	struct callback_sender *s = sender(1, 0, 2000, 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/");
	ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
	struct callback_stats st = wait_finished(s, 1);
	ASSERT_EQ(st.delivered, 1);
	callback_sender_stop(s, 1000);
	rx_stop(&x);
}

TEST(callback_retry_then_delivered)
{
	struct rx x;
	const char *const r[] = { E500, E500, OK200 };
	rx_start(&x, r, 3);
	struct callback_sender *s = sender(5, 50, 2000, 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/r");
	ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
	struct callback_stats st = wait_finished(s, 1);
	ASSERT_EQ(st.delivered, 1);
	ASSERT_EQ(st.retried, 2);
	ASSERT_EQ(st.failed, 0);
	ASSERT_EQ(st.pending, 0);
	ASSERT_EQ(atomic_load(&x.conns), 3);
	/* Backoff: 50 ms, then 100 ms. */
	ASSERT_GE(x.conn_ms[1] - x.conn_ms[0], 45);
	ASSERT_GE(x.conn_ms[2] - x.conn_ms[1], 95);
	ASSERT_LT(x.conn_ms[2] - x.conn_ms[0], 1000);
	callback_sender_stop(s, 1000);
	rx_stop(&x);
}

TEST(callback_permanent_failure)
{
	struct rx x;
	rx_start(&x, &E500, 1);
	struct callback_sender *s = sender(3, 10, 2000, 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/fail");
	ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
	struct callback_stats st = wait_finished(s, 1);
	ASSERT_EQ(st.delivered, 0);
	ASSERT_EQ(st.failed, 1);
	ASSERT_EQ(st.retried, 2);
	ASSERT_EQ(st.pending, 0);
	ASSERT_EQ(atomic_load(&x.conns), 3);
	callback_sender_stop(s, 1000);
	rx_stop(&x);
}

TEST(callback_malformed_replies)
{
	static char big[20000];
	memset(big, 'x', sizeof(big) - 1); /* 20 KB without a newline */
	const char *const r[] = {
		"garbage\r\n\r\n",
		big,
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 20\r\n\r\n",
		"HTTP/1.1 200", /* then closed inside the status line */
		"",             /* closed without a reply */
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
	};
	struct rx x;
	rx_start(&x, r, 7);
	struct callback_sender *s = sender(7, 1, 2000, 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/m");
	ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
	struct callback_stats st = wait_finished(s, 1);
	ASSERT_EQ(st.delivered, 0);
	ASSERT_EQ(st.failed, 1);
	ASSERT_EQ(st.retried, 6);
	ASSERT_EQ(atomic_load(&x.conns), 7);
	callback_sender_stop(s, 1000);
	rx_stop(&x);
}

/* A hostile receiver: eight mutated replies per round, one callback with
 * eight attempts.  Whatever the bytes, the sender ends (delivered or
 * failed), and it calls a reply a delivery only when that reply's status
 * line is HTTP/1.x 2xx; a failure used every attempt. */
TEST(callback_mutated_replies)
{
	static const char *const seeds[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 201 Created\r\nContent-Length: 4\r\n\r\nbody",
	};
	static const char *const tokens[] = { "\r\n", "\r\n\r\n", " ", "1", "2", "0", "HTTP/1.1 ",
					      "Content-Length: 9999\r\n", "\n", "" };
	struct callback_sender *s = sender(RX_REPLIES, 1, 2000, 0);
	int delivered = 0, failed = 0;
	srand(5);
	for (int round = 0; round < 12; round++) {
		static char bufs[RX_REPLIES][512];
		const char *r[RX_REPLIES];
		for (int i = 0; i < RX_REPLIES; i++) {
			const char *seed = seeds[(size_t)rand() % (sizeof(seeds) / sizeof(seeds[0]))];
			size_t n = test_mutate(bufs[i], sizeof(bufs[i]), seed, tokens,
					       sizeof(tokens) / sizeof(tokens[0]), false);
			bufs[i][n] = '\0';
			r[i] = bufs[i];
		}
		struct rx x;
		rx_start(&x, r, RX_REPLIES);
		char url[128];
		url_of(url, sizeof(url), "127.0.0.1", x.port, "/fuzz");
		struct callback_stats before, st;
		callback_stats(s, &before);
		ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
		uint64_t end = clock_now_ms() + 10000;
		do {
			struct timespec ts = { 0, 5 * 1000000L };
			nanosleep(&ts, NULL);
			callback_stats(s, &st);
		} while (st.delivered + st.failed == before.delivered + before.failed &&
			 clock_now_ms() < end);
		int conns = atomic_load(&x.conns);
		rx_stop(&x);
		if (st.delivered + st.failed != before.delivered + before.failed + 1)
			FAIL("round %d: the callback did not end within 10 s", round);
		if (st.failed > before.failed) {
			failed++;
			if (conns != RX_REPLIES)
				FAIL("round %d: failed after %d of %d attempts", round, conns,
				     RX_REPLIES);
			continue;
		}
		delivered++;
		const char *ok = bufs[conns - 1];
		bool status2xx = !strncmp(ok, "HTTP/1.", 7) && ok[7] >= '0' && ok[7] <= '9' &&
				 ok[8] == ' ' && ok[9] == '2' && ok[10] >= '0' && ok[10] <= '9' &&
				 ok[11] >= '0' && ok[11] <= '9';
		bool interim = !strncmp(ok, "HTTP/1.", 7) && ok[9] == '1';
		if (!status2xx && !interim) {
			char q[200];
			FAIL("round %d: delivered on reply %d, which is not 2xx: \"%s\"", round,
			     conns, test_quote(ok, strlen(ok), q, sizeof(q)));
		}
	}
	callback_sender_stop(s, 1000);
	if (delivered == 0 || failed == 0)
		FAIL("%d rounds delivered and %d failed: the mutations should give both", delivered,
		     failed);
}

TEST(callback_receiver_never_answers)
{
	struct rx x;
	static const char *const hold[] = { NULL };
	rx_start(&x, hold, 1);
	struct callback_sender *s = sender(2, 10, 200, 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/slow");
	uint64_t t0 = clock_now_ms();
	ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
	struct callback_stats st = wait_finished(s, 1);
	uint64_t took = clock_now_ms() - t0;
	ASSERT_EQ(st.failed, 1);
	ASSERT_EQ(st.retried, 1);
	ASSERT_EQ(atomic_load(&x.conns), 2);
	ASSERT_GE(took, 400);   /* two attempts of 200 ms */
	ASSERT_LT(took, 2000);
	callback_sender_stop(s, 1000);
	rx_stop(&x);
}

TEST(callback_connection_refused)
{
	struct callback_sender *s = sender(2, 10, 2000, 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", dead_port(), "/");
	uint64_t t0 = clock_now_ms();
	ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
	struct callback_stats st = wait_finished(s, 1);
	ASSERT_EQ(st.failed, 1);
	ASSERT_EQ(st.retried, 1);
	ASSERT_EQ(st.delivered, 0);
	ASSERT_LT(clock_now_ms() - t0, 1000);
	callback_sender_stop(s, 1000);
}

TEST(callback_unresolvable_name)
{
	struct callback_sender *s = sender(1, 10, 2000, 0);
	ASSERT_EQ(callback_send(s, "http://no-such-host.invalid/", "id", "{}", 2), 0);
	struct callback_stats st = wait_finished(s, 1);
	ASSERT_EQ(st.failed, 1);
	callback_sender_stop(s, 1000);
}

TEST(callback_due_order)
{
	/* A fails at once and waits 500 ms for its retry; B, sent after A,
	 * is delivered meanwhile. */
	struct rx bad, good;
	rx_start(&bad, &E500, 1);
	rx_start(&good, &OK200, 1);
	struct callback_sender *s = sender(2, 500, 2000, 0);
	char ua[128], ub[128];
	url_of(ua, sizeof(ua), "127.0.0.1", bad.port, "/a");
	url_of(ub, sizeof(ub), "127.0.0.1", good.port, "/b");
	uint64_t t0 = clock_now_ms();
	ASSERT_EQ(callback_send(s, ua, "a", "{}", 2), 0);
	ASSERT_EQ(callback_send(s, ub, "b", "{}", 2), 0);
	struct callback_stats st = wait_finished(s, 1);
	ASSERT_EQ(st.delivered, 1);
	ASSERT_EQ(st.retried, 1);
	ASSERT_EQ(st.pending, 1);
	ASSERT_EQ(atomic_load(&bad.conns), 1); /* A's retry has not happened yet */
	ASSERT_LT(clock_now_ms() - t0, 490);
	st = wait_finished(s, 2);
	ASSERT_EQ(st.failed, 1);
	ASSERT_GE(bad.conn_ms[1] - bad.conn_ms[0], 490);
	callback_sender_stop(s, 1000);
	rx_stop(&bad);
	rx_stop(&good);
}

TEST(callback_eagain_past_max_pending)
{
	struct rx x;
	static const char *const hold[] = { NULL };
	rx_start(&x, hold, 1);
	struct callback_sender *s = sender(5, 0, 5000, 3);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/");
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
	ASSERT_EQ(callback_send(s, url, "id", "{}", 2), -EAGAIN);
	struct callback_stats st;
	callback_stats(s, &st);
	ASSERT_EQ(st.pending, 3);
	uint64_t t0 = clock_now_ms();
	callback_sender_stop(s, 0);
	ASSERT_LT(clock_now_ms() - t0, 500);
	rx_stop(&x);
}

/* Stops s with a 300 ms drain: it returns then, not at an attempt's end. */
static void stop_within_drain(struct callback_sender *s)
{
	uint64_t t0 = clock_now_ms();
	callback_sender_stop(s, 300);
	uint64_t took = clock_now_ms() - t0;
	ASSERT_GE(took, 250);
	ASSERT_LT(took, 1000);
}

TEST(callback_stop_cuts_every_sender)
{
	/* Four senders, each in an attempt that waits for a status line that
	 * never comes (10 s timeout): stop's drain deadline ends them all,
	 * not only the one that happens to notice first. */
	struct rx x;
	static const char *const hold[] = { NULL };
	rx_start(&x, hold, 1);
	log_set_level(LOG_ERROR);
	struct callback_config c = { .max_attempts = 1, .timeout_ms = 10000, .senders = 4 };
	struct callback_sender *s = NULL;
	char err[128];
	ASSERT_EQ(callback_sender_start(&c, &s, err, sizeof(err)), 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/");
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
	usleep(200 * 1000);  /* all four in flight */
	stop_within_drain(s);
	rx_stop(&x);
}

TEST(callback_stop_returns_within_drain)
{
	struct rx x;
	static const char *const hold[] = { NULL };
	rx_start(&x, hold, 1);
	struct callback_sender *s = sender(5, 100, 10000, 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/");
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
	/* Also one waiting for its retry far in the future. */
	char dead[128];
	url_of(dead, sizeof(dead), "127.0.0.1", dead_port(), "/");
	ASSERT_EQ(callback_send(s, dead, "id", "{}", 2), 0);
	stop_within_drain(s);
	rx_stop(&x);
}

TEST(callback_stop_drains_pending)
{
	struct rx x;
	rx_start(&x, &OK200, 1);
	struct callback_sender *s = sender(1, 0, 2000, 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/");
	for (int i = 0; i < 20; i++)
		ASSERT_EQ(callback_send(s, url, "id", "{}", 2), 0);
	callback_sender_stop(s, 10000);
	ASSERT_EQ(atomic_load(&x.conns), 20);
	rx_stop(&x);
}

struct sends {
	struct callback_sender *s;
	const char *url;
	atomic_int ok;
};

static void *send_thread(void *arg)
{
	struct sends *a = arg;
	for (int i = 0; i < 50; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t%d", i);
		if (callback_send(a->s, a->url, id, "{\"k\": 1}", 8) == 0)
			atomic_fetch_add(&a->ok, 1);
	}
	return NULL;
}

TEST(callback_concurrent_senders)
{
	struct rx x;
	rx_start(&x, &OK200, 1);
	struct callback_sender *s = sender(3, 10, 2000, 0);
	char url[128];
	url_of(url, sizeof(url), "127.0.0.1", x.port, "/many");
	struct sends a = { .s = s, .url = url };
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(pthread_create(&t[i], NULL, send_thread, &a), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ASSERT_EQ(atomic_load(&a.ok), 200);
	struct callback_stats st = wait_finished(s, 200);
	ASSERT_EQ(st.delivered, 200);
	ASSERT_EQ(st.pending, 0);
	ASSERT_EQ(atomic_load(&x.conns), 200);
	callback_sender_stop(s, 1000);
	rx_stop(&x);
}
