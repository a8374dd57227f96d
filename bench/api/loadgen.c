/*
 * bench/api/loadgen.c: a small closed-loop HTTP/1.1 load generator for the
 * API benchmark (bench/api.sh).  libc + pthreads only.
 *
 *   loadgen --url http://HOST:PORT/PATH [--method POST|GET] [--body FILE]
 *           [--concurrency N] (--requests M | --duration SEC) [--warmup K]
 *           [--expect STR] [--header 'Name: value']... [--timeout SEC]
 *           [--save-body FILE]
 *
 * Each of N threads owns one keep-alive connection and sends its next
 * request as soon as the previous response is complete (closed loop).  A
 * connection the server closed is reopened; a request that met a closed
 * reused connection before any byte of its response is sent again once
 * (not an error, counted in reconnects).  POST sends the body of FILE with
 * Content-Type: application/json and Content-Length.  Responses are framed
 * by Content-Length (chunked and read-to-close are understood too).
 *
 * A request is ok when its status is 200 and, with --expect, its body
 * contains STR.  Latency: CLOCK_MONOTONIC from the first byte sent to the
 * last byte of the response read, per request.  --warmup K: K requests
 * first (spread over the threads, not recorded), then the measured phase
 * starts on every thread at once.  --requests M: M measured requests in
 * all; --duration SEC: every thread sends requests until SEC have passed
 * (the ones in flight at the deadline complete and count).
 *
 * Output, one line on stdout:
 *   requests=M ok=K errors=E seconds=S rps=R mean_ms=.. p50_ms=.. p90_ms=..
 *   p99_ms=.. max_ms=.. status_errors=.. expect_errors=.. io_errors=..
 *   reconnects=..
 * rps is ok / seconds (seconds: start of the measured phase to the end of
 * its last request); the latency figures are over the ok requests.  The
 * first few errors are described on stderr.  --save-body FILE writes the
 * body of the last response read (for inspection by the caller).
 * Exit status: 0 when every measured request was ok, 1 when some were not,
 * 2 on a usage or setup error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS_EXTRA 16
#define MAX_ERR_REPORTS 5

static struct {
	char host[300];
	char authority[300]; /* host[:port] as in the URL, for Host: */
	char port[16];
	char path[4096];
	const char *method;
	char *body;
	size_t body_len;
	int concurrency;
	long requests;   /* measured requests in all, or -1 */
	double duration; /* seconds, or -1 */
	long warmup;
	const char *expect;
	size_t expect_len;
	const char *headers[MAX_HEADERS_EXTRA];
	int nheaders;
	double timeout;
	const char *save_body;
} opt = {.method = NULL, .concurrency = 1, .requests = -1, .duration = -1, .timeout = 60};

static char *request_buf; /* the whole request, identical every time */
static size_t request_len;
static struct addrinfo *addrs;

static atomic_long tickets;    /* --requests: next measured request number */
static atomic_long warm_tickets;
static double deadline;        /* --duration: CLOCK_MONOTONIC seconds */
static pthread_barrier_t barrier;
static atomic_int err_reports;
static pthread_mutex_t save_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void report(const char *fmt, ...)
{
	if (atomic_fetch_add(&err_reports, 1) >= MAX_ERR_REPORTS)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "loadgen: %s\n", msg);
}

/* ---- per-thread state ---------------------------------------------------- */

struct worker {
	pthread_t tid;
	int index;
	int fd;          /* -1: not connected */
	bool reused;     /* fd has carried a complete response */
	char *buf;       /* response bytes */
	size_t len, cap; /* bytes in buf, its size */
	/* results of the measured phase */
	double *lat;     /* ms of ok requests */
	size_t nlat, caplat;
	long requests, ok, status_errors, expect_errors, io_errors, reconnects;
	double last_end;
};

static void conn_close(struct worker *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->reused = false;
	w->len = 0;
}

static int conn_open(struct worker *w)
{
	int last_errno = 0;
	for (struct addrinfo *ai = addrs; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			struct timeval tv;
			tv.tv_sec = (time_t)opt.timeout;
			tv.tv_usec = (suseconds_t)((opt.timeout - (double)tv.tv_sec) * 1e6);
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
			w->fd = fd;
			w->reused = false;
			w->len = 0;
			return 0;
		}
		last_errno = errno;
		close(fd);
	}
	errno = last_errno;
	return -1;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads more bytes into w->buf.  Returns the count, 0 on EOF, -1 on error. */
static ssize_t fill(struct worker *w)
{
	if (w->cap - w->len < 4096) {
		size_t cap = w->cap ? w->cap * 2 : 65536;
		char *nb = realloc(w->buf, cap);
		if (!nb)
			die("out of memory");
		w->buf = nb;
		w->cap = cap;
	}
	for (;;) {
		ssize_t k = recv(w->fd, w->buf + w->len, w->cap - w->len - 1, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k > 0)
			w->len += (size_t)k;
		w->buf[w->len] = '\0';
		return k;
	}
}

static const char *find_header(const char *head, size_t head_len, const char *name)
{
	size_t nl = strlen(name);
	const char *p = memchr(head, '\n', head_len); /* skip the status line */
	const char *end = head + head_len;
	while (p && p + 1 < end) {
		p++;
		if ((size_t)(end - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			return v;
		}
		p = memchr(p, '\n', (size_t)(end - p));
	}
	return NULL;
}

static bool value_has(const char *v, const char *end, const char *token)
{
	size_t tl = strlen(token);
	for (const char *p = v; p + tl <= end && *p != '\r' && *p != '\n'; p++)
		if (!strncasecmp(p, token, tl))
			return true;
	return false;
}

enum outcome { OUT_OK, OUT_STATUS, OUT_EXPECT, OUT_IO };

struct response {
	int status;
	const char *body;
	size_t body_len;
	bool close_after;
};

/* Decodes a chunked body in place starting at w->buf + off.  Returns 1 when
 * complete (body at w->buf+off, length *out_len, consumed bytes *used), 0 when
 * more input is needed, -1 when malformed. */
static int dechunk(struct worker *w, size_t off, size_t *out_len, size_t *used)
{
	/* First check that the whole chunked body is there, then compact it. */
	size_t p = off;
	for (;;) {
		char *lf = memchr(w->buf + p, '\n', w->len - p);
		if (!lf)
			return 0;
		char *endp;
		unsigned long sz = strtoul(w->buf + p, &endp, 16);
		if (endp == w->buf + p)
			return -1;
		p = (size_t)(lf - w->buf) + 1;
		if (sz == 0) {
			/* trailers up to an empty line */
			for (;;) {
				char *l2 = memchr(w->buf + p, '\n', w->len - p);
				if (!l2)
					return 0;
				size_t linelen = (size_t)(l2 - (w->buf + p));
				p = (size_t)(l2 - w->buf) + 1;
				if (linelen == 0 || (linelen == 1 && w->buf[p - 2] == '\r'))
					break;
			}
			break;
		}
		if (w->len - p < sz + 2)
			return 0;
		p += sz + 2;
	}
	*used = p - off;
	/* compact */
	size_t q = off, dst = off;
	for (;;) {
		char *lf = memchr(w->buf + q, '\n', w->len - q);
		unsigned long sz = strtoul(w->buf + q, NULL, 16);
		q = (size_t)(lf - w->buf) + 1;
		if (sz == 0)
			break;
		memmove(w->buf + dst, w->buf + q, sz);
		dst += sz;
		q += sz + 2;
	}
	*out_len = dst - off;
	return 1;
}

/* Reads one whole response into w->buf.  On success fills r and returns the
 * number of bytes it used from w->buf (to be dropped by the caller).  Returns
 * -1 on an I/O or protocol error, -2 when the connection closed before any
 * byte of the response (a stale keep-alive connection). */
static long read_response(struct worker *w, struct response *r)
{
	size_t head_end = 0;
	for (;;) {
		if (w->len > 0) {
			w->buf[w->len] = '\0';
			char *e = memmem(w->buf, w->len, "\r\n\r\n", 4);
			if (e) {
				head_end = (size_t)(e - w->buf) + 4;
				/* skip interim 1xx responses */
				if (w->len >= 12 && !strncmp(w->buf, "HTTP/1.", 7) && w->buf[9] == '1') {
					memmove(w->buf, w->buf + head_end, w->len - head_end);
					w->len -= head_end;
					continue;
				}
				break;
			}
		}
		size_t before = w->len;
		ssize_t k = fill(w);
		if (k == 0 || (k < 0 && (errno == ECONNRESET || errno == EPIPE))) {
			if (before == 0)
				return -2;
			report("connection closed in the middle of a response head");
			return -1;
		}
		if (k < 0) {
			report("recv: %s", strerror(errno));
			return -1;
		}
	}
	if (strncmp(w->buf, "HTTP/1.", 7) || w->buf[8] != ' ') {
		report("malformed status line: %.40s", w->buf);
		return -1;
	}
	r->status = atoi(w->buf + 9);
	bool http10 = w->buf[7] == '0';
	const char *hend = w->buf + head_end;
	const char *conn = find_header(w->buf, head_end, "Connection");
	r->close_after = http10 ? !(conn && value_has(conn, hend, "keep-alive"))
				: (conn && value_has(conn, hend, "close"));
	const char *te = find_header(w->buf, head_end, "Transfer-Encoding");
	const char *cl = find_header(w->buf, head_end, "Content-Length");
	bool no_body = r->status == 204 || r->status == 304 || !strcmp(opt.method, "HEAD");

	if (no_body) {
		r->body = w->buf + head_end;
		r->body_len = 0;
		return (long)head_end;
	}
	if (te && value_has(te, hend, "chunked")) {
		for (;;) {
			size_t blen, used;
			int d = dechunk(w, head_end, &blen, &used);
			if (d < 0) {
				report("malformed chunked body");
				return -1;
			}
			if (d > 0) {
				/* the decoded body is at head_end; keep any bytes after the
				 * chunked body by moving them right after the decoded one */
				size_t rest = w->len - (head_end + used);
				memmove(w->buf + head_end + blen, w->buf + head_end + used, rest);
				w->len = head_end + blen + rest;
				r->body = w->buf + head_end;
				r->body_len = blen;
				w->buf[w->len] = '\0';
				return (long)(head_end + blen);
			}
			ssize_t k = fill(w);
			if (k <= 0) {
				report("connection lost in a chunked body");
				return -1;
			}
		}
	}
	if (cl) {
		char *endp;
		unsigned long long n = strtoull(cl, &endp, 10);
		if (endp == cl) {
			report("bad Content-Length");
			return -1;
		}
		while (w->len - head_end < n) {
			ssize_t k = fill(w);
			if (k <= 0) {
				report("connection lost after %zu of %llu body bytes",
				       w->len - head_end, n);
				return -1;
			}
		}
		r->body = w->buf + head_end;
		r->body_len = (size_t)n;
		return (long)(head_end + n);
	}
	/* no framing: the body runs to the end of the connection */
	for (;;) {
		ssize_t k = fill(w);
		if (k == 0)
			break;
		if (k < 0) {
			report("recv: %s", strerror(errno));
			return -1;
		}
	}
	r->close_after = true;
	r->body = w->buf + head_end;
	r->body_len = w->len - head_end;
	return (long)w->len;
}

static void save_body(const struct response *r)
{
	if (!opt.save_body)
		return;
	pthread_mutex_lock(&save_lock);
	FILE *f = fopen(opt.save_body, "w");
	if (f) {
		fwrite(r->body, 1, r->body_len, f);
		fclose(f);
	}
	pthread_mutex_unlock(&save_lock);
}

/* One request on w's connection.  *ms gets its latency. */
static enum outcome one_request(struct worker *w, double *ms, bool *reconnected)
{
	*reconnected = false;
	double t0 = now_s();
	for (int attempt = 0;; attempt++) {
		if (w->fd < 0 && conn_open(w) < 0) {
			report("connect %s:%s: %s", opt.host, opt.port, strerror(errno));
			usleep(10000); /* do not spin on a server that is down */
			return OUT_IO;
		}
		bool reused = w->reused;
		if (send_all(w->fd, request_buf, request_len) < 0) {
			int e = errno;
			conn_close(w);
			if (reused && attempt == 0) {
				*reconnected = true;
				continue;
			}
			report("send: %s", strerror(e));
			return OUT_IO;
		}
		struct response r = {0};
		long used = read_response(w, &r);
		if (used == -2 && reused && attempt == 0) {
			conn_close(w);
			*reconnected = true;
			continue;
		}
		if (used < 0) {
			if (used == -2)
				report("connection closed before the response");
			conn_close(w);
			return OUT_IO;
		}
		*ms = (now_s() - t0) * 1000.0;
		enum outcome o = OUT_OK;
		if (r.status != 200) {
			o = OUT_STATUS;
			report("status %d: %.*s", r.status, (int)(r.body_len < 200 ? r.body_len : 200),
			       r.body);
		} else if (opt.expect && !memmem(r.body, r.body_len, opt.expect, opt.expect_len)) {
			o = OUT_EXPECT;
			report("body lacks the expected string: %.*s",
			       (int)(r.body_len < 200 ? r.body_len : 200), r.body);
		}
		save_body(&r);
		if (r.close_after) {
			conn_close(w);
		} else {
			memmove(w->buf, w->buf + used, w->len - (size_t)used);
			w->len -= (size_t)used;
			w->reused = true;
		}
		return o;
	}
}

static void record(struct worker *w, enum outcome o, double ms)
{
	w->requests++;
	switch (o) {
	case OUT_OK:
		w->ok++;
		if (w->nlat == w->caplat) {
			w->caplat = w->caplat ? w->caplat * 2 : 4096;
			w->lat = realloc(w->lat, w->caplat * sizeof *w->lat);
			if (!w->lat)
				die("out of memory");
		}
		w->lat[w->nlat++] = ms;
		break;
	case OUT_STATUS: w->status_errors++; break;
	case OUT_EXPECT: w->expect_errors++; break;
	default: w->io_errors++; break;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	double ms;
	bool rc;

	while (atomic_fetch_add(&warm_tickets, 1) < opt.warmup)
		one_request(w, &ms, &rc);
	pthread_barrier_wait(&barrier); /* warm-up done */
	pthread_barrier_wait(&barrier); /* the main thread set the clock */

	for (;;) {
		if (opt.requests >= 0) {
			if (atomic_fetch_add(&tickets, 1) >= opt.requests)
				break;
		} else if (now_s() >= deadline) {
			break;
		}
		enum outcome o = one_request(w, &ms, &rc);
		if (rc)
			w->reconnects++;
		record(w, o, ms);
	}
	w->last_end = now_s();
	conn_close(w);
	return NULL;
}

/* ---- setup ------------------------------------------------------------------ */

static void parse_url(const char *url)
{
	if (strncmp(url, "http://", 7))
		die("only http:// URLs: %s", url);
	const char *h = url + 7;
	const char *slash = strchr(h, '/');
	size_t hl = slash ? (size_t)(slash - h) : strlen(h);
	char hostport[300];
	if (hl == 0 || hl >= sizeof hostport)
		die("bad URL: %s", url);
	memcpy(hostport, h, hl);
	hostport[hl] = '\0';
	memcpy(opt.authority, hostport, hl + 1);
	snprintf(opt.path, sizeof opt.path, "%s", slash ? slash : "/");
	char *colon;
	if (hostport[0] == '[') {
		char *rb = strchr(hostport, ']');
		if (!rb)
			die("bad URL: %s", url);
		*rb = '\0';
		snprintf(opt.host, sizeof opt.host, "%s", hostport + 1);
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strrchr(hostport, ':');
		if (colon)
			*colon = '\0';
		snprintf(opt.host, sizeof opt.host, "%s", hostport);
	}
	snprintf(opt.port, sizeof opt.port, "%s", colon ? colon + 1 : "80");
}

static void read_body(const char *file)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		die("%s: %s", file, strerror(errno));
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	for (;;) {
		if (!b)
			die("out of memory");
		n += fread(b + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		b = realloc(b, cap);
	}
	if (ferror(f))
		die("%s: read error", file);
	fclose(f);
	opt.body = b;
	opt.body_len = n;
}

static void build_request(void)
{
	size_t extra = 0;
	for (int i = 0; i < opt.nheaders; i++)
		extra += strlen(opt.headers[i]) + 2;
	size_t cap = strlen(opt.path) + strlen(opt.authority) + extra + opt.body_len + 512;
	request_buf = malloc(cap);
	if (!request_buf)
		die("out of memory");
	int n = snprintf(request_buf, cap,
			 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: runcell-loadgen\r\n"
			 "Accept: */*\r\n",
			 opt.method, opt.path, opt.authority);
	for (int i = 0; i < opt.nheaders; i++)
		n += snprintf(request_buf + n, cap - (size_t)n, "%s\r\n", opt.headers[i]);
	if (opt.body)
		n += snprintf(request_buf + n, cap - (size_t)n,
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			      opt.body_len);
	n += snprintf(request_buf + n, cap - (size_t)n, "\r\n");
	request_len = (size_t)n;
	if (opt.body) {
		memcpy(request_buf + request_len, opt.body, opt.body_len);
		request_len += opt.body_len;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	if (n == 0)
		return NAN;
	/* nearest rank: the smallest k with k >= p/100 * n (no libm needed) */
	double want = p / 100.0 * (double)n;
	size_t k = (size_t)want;
	if ((double)k < want)
		k++;
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void usage(void)
{
	fputs("usage: loadgen --url http://HOST:PORT/PATH [--method POST|GET] [--body FILE]\n"
	      "               [--concurrency N] (--requests M | --duration SEC) [--warmup K]\n"
	      "               [--expect STR] [--header 'Name: value']... [--timeout SEC]\n"
	      "               [--save-body FILE]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *url = NULL, *body_file = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage();
		if (i + 1 >= argc)
			die("%s needs a value (or is unknown; see --help)", a);
		const char *v = argv[++i];
		char *end;
		if (!strcmp(a, "--url")) {
			url = v;
		} else if (!strcmp(a, "--body")) {
			body_file = v;
		} else if (!strcmp(a, "--method")) {
			opt.method = v;
		} else if (!strcmp(a, "--concurrency") || !strcmp(a, "-c")) {
			opt.concurrency = (int)strtol(v, &end, 10);
			if (*end || opt.concurrency < 1 || opt.concurrency > 4096)
				die("bad --concurrency %s", v);
		} else if (!strcmp(a, "--requests") || !strcmp(a, "-n")) {
			opt.requests = strtol(v, &end, 10);
			if (*end || opt.requests < 0)
				die("bad --requests %s", v);
		} else if (!strcmp(a, "--duration") || !strcmp(a, "-d")) {
			opt.duration = strtod(v, &end);
			if (*end || !(opt.duration > 0))
				die("bad --duration %s", v);
		} else if (!strcmp(a, "--warmup")) {
			opt.warmup = strtol(v, &end, 10);
			if (*end || opt.warmup < 0)
				die("bad --warmup %s", v);
		} else if (!strcmp(a, "--expect")) {
			opt.expect = v;
			opt.expect_len = strlen(v);
		} else if (!strcmp(a, "--header") || !strcmp(a, "-H")) {
			if (opt.nheaders == MAX_HEADERS_EXTRA)
				die("too many --header");
			if (strpbrk(v, "\r\n") || !strchr(v, ':'))
				die("bad --header %s", v);
			opt.headers[opt.nheaders++] = v;
		} else if (!strcmp(a, "--timeout")) {
			opt.timeout = strtod(v, &end);
			if (*end || !(opt.timeout > 0))
				die("bad --timeout %s", v);
		} else if (!strcmp(a, "--save-body")) {
			opt.save_body = v;
		} else {
			die("unknown option %s (see --help)", a);
		}
	}
	if (!url)
		die("--url is required");
	if ((opt.requests >= 0) == (opt.duration > 0))
		die("exactly one of --requests and --duration");
	parse_url(url);
	if (!opt.method)
		opt.method = body_file ? "POST" : "GET";
	if (body_file)
		read_body(body_file);
	build_request();

	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	int g = getaddrinfo(opt.host, opt.port, &hints, &addrs);
	if (g)
		die("%s:%s: %s", opt.host, opt.port, gai_strerror(g));
	signal(SIGPIPE, SIG_IGN);

	int n = opt.concurrency;
	struct worker *ws = calloc((size_t)n, sizeof *ws);
	if (!ws)
		die("out of memory");
	pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		ws[i].index = i;
		ws[i].fd = -1;
		int e = pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]);
		if (e)
			die("pthread_create: %s", strerror(e));
	}
	pthread_barrier_wait(&barrier);
	/* warm-up errors are not the measured phase's */
	atomic_store(&err_reports, 0);
	double start = now_s();
	if (opt.duration > 0)
		deadline = start + opt.duration;
	pthread_barrier_wait(&barrier);

	double end = start;
	long requests = 0, ok = 0, st = 0, ex = 0, io = 0, rec = 0;
	size_t nlat = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(ws[i].tid, NULL);
		if (ws[i].last_end > end)
			end = ws[i].last_end;
		requests += ws[i].requests;
		ok += ws[i].ok;
		st += ws[i].status_errors;
		ex += ws[i].expect_errors;
		io += ws[i].io_errors;
		rec += ws[i].reconnects;
		nlat += ws[i].nlat;
	}
	double *lat = malloc((nlat ? nlat : 1) * sizeof *lat);
	if (!lat)
		die("out of memory");
	size_t k = 0;
	double sum = 0;
	for (int i = 0; i < n; i++) {
		if (ws[i].nlat)
			memcpy(lat + k, ws[i].lat, ws[i].nlat * sizeof *lat);
		k += ws[i].nlat;
		free(ws[i].lat);
		free(ws[i].buf);
	}
	for (size_t i = 0; i < nlat; i++)
		sum += lat[i];
	qsort(lat, nlat, sizeof *lat, cmp_double);
	double secs = end - start;
	printf("requests=%ld ok=%ld errors=%ld seconds=%.3f rps=%.2f mean_ms=%.3f p50_ms=%.3f "
	       "p90_ms=%.3f p99_ms=%.3f max_ms=%.3f status_errors=%ld expect_errors=%ld "
	       "io_errors=%ld reconnects=%ld\n",
	       requests, ok, requests - ok, secs, secs > 0 ? (double)ok / secs : 0.0,
	       nlat ? sum / (double)nlat : NAN, pct(lat, nlat, 50), pct(lat, nlat, 90),
	       pct(lat, nlat, 99), nlat ? lat[nlat - 1] : NAN, st, ex, io, rec);
	fflush(stdout);
	free(lat);
	free(ws);
	free(request_buf);
	free(opt.body);
	freeaddrinfo(addrs);
	pthread_barrier_destroy(&barrier);
	return requests == ok ? 0 : 1;
}
