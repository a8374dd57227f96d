/*
 * http: the HTTP/1.1 transport (see http.h).
 *
 * Threads: the loop thread owns every connection.  Other threads touch
 * only the shared completion queue (struct hq) through http_respond.
 * A handle is linked to its connection (h->conn, c->pending) on the loop
 * thread only; closing a connection unlinks it, so a later completion
 * finds h->conn == NULL and is dropped.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define MAX_HEADERS 100
#define OUT_HIGH (1u << 20) /* stop parsing while this much is unsent */
#define STATIC_MAX (64u << 20)

/* ---- the completion queue, shared with other threads ---- */

struct hq {
	pthread_mutex_t mu;
	int efd;     /* eventfd: completions and stop requests */
	int refs;    /* the server + every live handle */
	bool closed; /* the loop is gone: completions are dropped */
	bool stop;
	struct http_handle *head, *tail;
};

enum { H_SUSPENDED = 1, H_RESPONDED = 2 };

struct conn;

struct http_handle {
	struct hq *q;
	struct conn *conn; /* loop thread only */
	struct http_handle *next;
	int flags;         /* under q->mu */
	bool head_only;    /* HEAD request: no body in the response */
	bool close_after;  /* the request asked for close (or HTTP/1.0) */
	char *out;         /* serialized response, without Connection */
	size_t out_head;   /* bytes of header lines in out */
	size_t out_len;
	struct http_request req;
	struct http_header hdrs[]; /* then the request bytes */
};

static void hq_unref(struct hq *q)
{
	pthread_mutex_lock(&q->mu);
	int refs = --q->refs;
	pthread_mutex_unlock(&q->mu);
	if (refs == 0) {
		close(q->efd);
		pthread_mutex_destroy(&q->mu);
		free(q);
	}
}

static void handle_free(struct http_handle *h)
{
	struct hq *q = h->q;
	free(h->out);
	free(h);
	hq_unref(q);
}

static void hq_wake(struct hq *q)
{
	uint64_t one = 1;
	ssize_t n = write(q->efd, &one, sizeof(one));
	(void)n; /* EAGAIN: the counter is already non-zero */
}

/* ---- connections and the server ---- */

enum phase { P_IDLE, P_HEAD, P_BODY, P_PENDING };

struct conn {
	int fd;
	struct conn *prev, *next;
	enum phase phase;
	char *in;
	size_t in_len, in_cap;
	/* the parsed head of the request being received (P_BODY) */
	size_t head_len, body_len;
	char *out;
	size_t out_len, out_off, out_cap;
	bool close_after_out; /* close once out is sent */
	bool lingering;       /* answered and shut down for writing: input is
			       * read and dropped until EOF or the deadline */
	bool read_eof;
	bool rdhup; /* the peer shut down its side (seen once) */
	uint64_t deadline; /* ms, 0 = none */
	uint64_t body_start; /* ms: when the body phase began */
	size_t scanned;    /* bytes of an incomplete head already looked at */
	bool method_ok;    /* the head's method token was checked whole */
	uint32_t events;
	struct http_handle *pending;
	struct http_server *srv;
};

struct http_server {
	struct http_config cfg;
	int lfd, ep;
	uint16_t port;
	struct hq *q;
	pthread_t thread;
	struct conn *conns, *dead;
	int nconns;
	size_t buffered; /* request bytes held past each connection's allowance */
	bool stopping, listen_paused;
	uint64_t drain_deadline, listen_resume;
};

static const char *reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

static bool out_reserve(struct conn *c, size_t more)
{
	if (c->out_off > 0 && c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
	}
	if (c->out_len + more <= c->out_cap)
		return true;
	size_t cap = c->out_cap ? c->out_cap : 1024;
	while (cap < c->out_len + more)
		cap *= 2;
	char *p = realloc(c->out, cap);
	if (!p)
		return false;
	c->out = p;
	c->out_cap = cap;
	return true;
}

static void out_add(struct conn *c, const void *data, size_t len)
{
	if (!len || !out_reserve(c, len)) {
		if (len)
			c->close_after_out = true; /* out of memory: give up */
		return;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

/* An error generated by the transport; always closes the connection. */
static void refused(struct http_server *s, int status, const char *why)
{
	if (s->cfg.on_refused)
		s->cfg.on_refused(s->cfg.user, status, why);
}

static void conn_error(struct conn *c, int status, const char *msg, const char *field)
{
	refused(c->srv, status, msg);
	char body[256], head[256];
	int bl;
	bl = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"field\":\"%s\"}", msg,
		      field ? field : "request");
	int hl = snprintf(head, sizeof(head),
			  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			  "X-Content-Type-Options: nosniff\r\n%s"
			  "Content-Length: %d\r\nConnection: close\r\n\r\n",
			  status, reason(status), status == 503 ? "Retry-After: 1\r\n" : "", bl);
	out_add(c, head, (size_t)hl);
	out_add(c, body, (size_t)bl);
	c->close_after_out = true;
	c->in_len = 0;
	c->scanned = 0;
	c->phase = P_IDLE;
}

/* How long a connection answered with "close" is read from (and its
 * input dropped) before it is closed. */
#define LINGER_MS 2000

/* A connection holds up to IN_ALLOWANCE bytes of input buffer freely;
 * what it holds beyond counts against max_buffered, for all together:
 * 4096 connections each half-way through a 4 MiB body would otherwise
 * hold 17 GiB. */
#define IN_ALLOWANCE (64u << 10)

static size_t in_charge(size_t cap)
{
	return cap > IN_ALLOWANCE ? cap - IN_ALLOWANCE : 0;
}

/* Sets c's input buffer to cap bytes (0 frees it).  False when that
 * would take the server past max_buffered, or memory is short. */
static bool in_resize(struct http_server *s, struct conn *c, size_t cap)
{
	size_t before = in_charge(c->in_cap), after = in_charge(cap);
	if (after > before && s->buffered + (after - before) > s->cfg.max_buffered)
		return false;
	if (cap == 0) {
		free(c->in);
		c->in = NULL;
	} else {
		char *p = realloc(c->in, cap);
		if (!p)
			return false;
		c->in = p;
	}
	c->in_cap = cap;
	s->buffered = s->buffered - before + after;
	return true;
}

/* After a request left c->in: a buffer grown for a large body goes back,
 * so that an idle keep-alive connection holds little. */
static void in_shrink(struct http_server *s, struct conn *c)
{
	if (c->in_cap <= IN_ALLOWANCE)
		return;
	if (c->in_len == 0)
		in_resize(s, c, 0);
	else if (c->in_len <= 8192)
		in_resize(s, c, 8192);
}

static void conn_close(struct http_server *s, struct conn *c)
{
	if (c->pending) {
		c->pending->conn = NULL; /* its completion becomes a no-op */
		c->pending = NULL;
	}
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	in_resize(s, c, 0);
	free(c->out);
	c->in = c->out = NULL;
	c->fd = -1;
	c->next = s->dead; /* freed after this round of events */
	s->dead = c;
}

static void free_dead(struct http_server *s)
{
	while (s->dead) {
		struct conn *c = s->dead;
		s->dead = c->next;
		free(c);
	}
}

/* ---- parsing ---- */

static bool is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return true;
	return ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

struct head {
	char *method, *target;
	int minor;
	size_t nh;
	struct { char *name, *value; } h[MAX_HEADERS];
	bool has_cl, has_te, close, expect_continue, has_host;
	const char *why, *field;  /* what a 400 refuses, for its body */
	size_t cl;
};

#define BAD_REQUEST_LINE "malformed request line (METHOD /path HTTP/1.1 expected)"

/* A 400 that says what it refuses. */
static int refuse(struct head *hd, const char *why, const char *field)
{
	hd->why = why;
	hd->field = field;
	return 400;
}

/* Parses (in place, writing NULs) the head buf[0..len) which ends with
 * "\r\n\r\n".  Returns 0, or an HTTP status on error (for a 400, with
 * hd->why and hd->field set). */
static int parse_head(char *buf, size_t len, struct head *hd, size_t max_body)
{
	memset(hd, 0, sizeof(*hd));
	char *p = buf, *end = buf + len;
	/* request line */
	char *line_end = memchr(p, '\r', (size_t)(end - p));
	if (!line_end || line_end[1] != '\n')
		return refuse(hd, "the request line must end with CRLF", "request");
	hd->method = p;
	while (p < line_end && is_tchar((unsigned char)*p))
		p++;
	if (p == hd->method || *p != ' ')
		return refuse(hd, BAD_REQUEST_LINE, "request");
	*p++ = 0;
	hd->target = p;
	while (p < line_end && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
		p++;
	if (p == line_end)
		return refuse(hd, BAD_REQUEST_LINE, "request");
	if (p == hd->target || *p != ' ' || hd->target[0] != '/')
		return refuse(hd, "malformed request target (a path starting with '/' expected)",
			      "request");
	*p++ = 0;
	if (line_end - p != 8 || memcmp(p, "HTTP/1.", 7) != 0)
		return refuse(hd, "malformed HTTP version (HTTP/1.1 or HTTP/1.0 expected)", "version");
	if (p[7] == '1')
		hd->minor = 1;
	else if (p[7] == '0')
		hd->minor = 0;
	else
		return 505;
	*line_end = 0;
	p = line_end + 2;
	/* header fields */
	while (p < end) {
		line_end = memchr(p, '\r', (size_t)(end - p));
		if (!line_end || line_end + 1 >= end || line_end[1] != '\n')
			return refuse(hd, "a header line must end with CRLF", "headers");
		if (line_end == p)
			break; /* the empty line */
		if (hd->nh == MAX_HEADERS)
			return 431;
		char *name = p;
		while (p < line_end && is_tchar((unsigned char)*p))
			p++;
		if (p == name || *p != ':')  /* also obs-fold and blanks before ':' */
			return refuse(hd, "malformed header line (NAME: value expected; folded lines "
				      "are refused)", "headers");
		*p++ = 0;
		while (p < line_end && (*p == ' ' || *p == '\t'))
			p++;
		char *value = p;
		for (char *v = p; v < line_end; v++) {
			unsigned char ch = (unsigned char)*v;
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return refuse(hd, "control character in a header value", "headers");
		}
		char *ve = line_end;
		while (ve > value && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		*ve = 0;
		/* Headers whose second copy would leave it open which one
		 * counts (the body's length or type, the credentials): 400. */
		static const struct { const char *name, *why, *field; } single[] = {
			{ "Content-Length", "Content-Length given twice", "content-length" },
			{ "Content-Type", "Content-Type given twice", "content-type" },
			{ "Authorization", "Authorization given twice", "authorization" },
			{ "X-Runcell-Key", "X-Runcell-Key given twice", "authorization" },
		};
		for (size_t k = 0; k < sizeof(single) / sizeof(single[0]); k++) {
			if (strcasecmp(name, single[k].name))
				continue;
			for (size_t j = 0; j < hd->nh; j++)
				if (!strcasecmp(hd->h[j].name, single[k].name))
					return refuse(hd, single[k].why, single[k].field);
		}
		hd->h[hd->nh].name = name;
		hd->h[hd->nh].value = value;
		hd->nh++;
		if (!strcasecmp(name, "Content-Length")) {
			/* leading zeros do not make a length larger */
			while (value[0] == '0' && value[1] >= '0' && value[1] <= '9')
				value++;
			if (!*value || strlen(value) > 18)
				return strlen(value) > 18 && strspn(value, "0123456789") == strlen(value)
					       ? 413
					       : refuse(hd, "Content-Length must be a decimal number",
							"content-length");
			size_t n = 0;
			for (char *v = value; *v; v++) {
				if (*v < '0' || *v > '9')
					return refuse(hd, "Content-Length must be a decimal number",
						      "content-length");
				n = n * 10 + (size_t)(*v - '0');
			}
			hd->has_cl = true;
			hd->cl = n;
		} else if (!strcasecmp(name, "Transfer-Encoding")) {
			hd->has_te = true;
		} else if (!strcasecmp(name, "Connection")) {
			/* a token list; "close" anywhere closes */
			for (char *t = value; *t;) {
				size_t n = strcspn(t, ", \t");
				if (n == 5 && !strncasecmp(t, "close", 5))
					hd->close = true;
				t += n;
				t += strspn(t, ", \t");
			}
		} else if (!strcasecmp(name, "Expect")) {
			/* an HTTP/1.0 client knows no 100 (RFC 9110 10.1.1):
			 * its expectation is ignored */
			if (!strcasecmp(value, "100-continue"))
				hd->expect_continue = hd->minor == 1;
			else
				return refuse(hd, "unsupported Expect (only 100-continue)", "expect");
		} else if (!strcasecmp(name, "Host")) {
			if (hd->has_host)
				return refuse(hd, "more than one Host header", "host");
			hd->has_host = true;
		}
		p = line_end + 2;
	}
	if (hd->has_te && hd->has_cl)
		return refuse(hd, "both Content-Length and Transfer-Encoding", "transfer-encoding");
	if (hd->has_te)
		return 411;
	if (hd->minor == 1 && !hd->has_host)
		return refuse(hd, "an HTTP/1.1 request needs a Host header", "host");
	if (hd->minor == 0)
		hd->close = true;
	if (hd->cl > max_body)
		return 413;
	return 0;
}

static int handle_error_status(struct conn *c, int st, const char *why, const char *field)
{
	switch (st) {
	case 413: conn_error(c, 413, "request body too large", "body"); break;
	case 431: conn_error(c, 431, "request header fields too large", "headers"); break;
	case 411: conn_error(c, 411, "chunked request bodies are not supported; send Content-Length", "body"); break;
	case 505: conn_error(c, 505, "HTTP version not supported", "version"); break;
	case 500: conn_error(c, 500, "out of memory", "request"); break;
	default: conn_error(c, 400, why ? why : "bad request", field); break;
	}
	return -1;
}

/* Builds a handle owning a copy of head+body, parsed. */
static struct http_handle *handle_new(struct http_server *s, struct conn *c)
{
	size_t total = c->head_len + c->body_len;
	struct http_handle *h = calloc(1, sizeof(*h) + MAX_HEADERS * sizeof(struct http_header) +
				       total + 1 + c->head_len + 1);
	if (!h)
		return NULL;
	char *copy = (char *)(h->hdrs + MAX_HEADERS);
	memcpy(copy, c->in, total);
	copy[total] = 0;
	struct head hd;
	if (parse_head(copy, c->head_len, &hd, s->cfg.max_body) != 0) {
		free(h); /* cannot happen: validated by conn_step */
		return NULL;
	}
	h->q = s->q;
	for (size_t i = 0; i < hd.nh; i++) {
		h->hdrs[i].name = hd.h[i].name;
		h->hdrs[i].value = hd.h[i].value;
	}
	struct http_request *r = &h->req;
	r->method = hd.method;
	r->target = hd.target;
	r->version_minor = hd.minor;
	r->headers = h->hdrs;
	r->nheaders = hd.nh;
	r->body = copy + c->head_len;
	r->body_len = c->body_len;
	/* the path is a copy of the target up to '?', after the body */
	char *path = copy + total + 1;
	size_t plen = strcspn(hd.target, "?");
	memcpy(path, hd.target, plen);
	path[plen] = 0;
	r->path = path;
	r->query = hd.target[plen] ? hd.target + plen + 1 : "";
	h->head_only = !strcmp(hd.method, "HEAD");
	h->close_after = hd.close;
	pthread_mutex_lock(&s->q->mu);
	s->q->refs++;
	pthread_mutex_unlock(&s->q->mu);
	return h;
}

static void conn_set_deadline(struct http_server *s, struct conn *c, int ms)
{
	(void)s;
	c->deadline = ms > 0 ? clock_now_ms() + (uint64_t)ms : 0;
}

/* Appends the response of h (responded) to c's output. */
static void conn_emit(struct http_server *s, struct conn *c, struct http_handle *h)
{
	/* A peer that shut down its side is answered every request it sent
	 * before; conn_progress closes once they are all out. */
	bool close = h->close_after || s->stopping;
	out_add(c, h->out, h->out_head);
	const char *cl = close ? "Connection: close\r\n\r\n" : "\r\n";
	out_add(c, cl, strlen(cl));
	if (!h->head_only)
		out_add(c, h->out + h->out_head, h->out_len - h->out_head);
	if (close)
		c->close_after_out = true;
	c->phase = P_IDLE;
	conn_set_deadline(s, c, s->cfg.idle_timeout_ms);
}

/* A body's deadline: idle_timeout_ms without a byte, and no slower than
 * body_min_rate bytes a second once header_timeout_ms have passed; a
 * body trickled a byte every few seconds held its connection for ever. */
static void body_deadline(struct http_server *s, struct conn *c)
{
	uint64_t now = clock_now_ms();
	size_t got = c->in_len > c->head_len ? c->in_len - c->head_len : 0;
	uint64_t by_rate = c->body_start + (uint64_t)s->cfg.header_timeout_ms +
			   (uint64_t)got * 1000 / s->cfg.body_min_rate;
	uint64_t by_idle = now + (uint64_t)s->cfg.idle_timeout_ms;
	c->deadline = by_rate < by_idle ? by_rate : by_idle;
}

/* Tries to take one request from c->in.  Returns 1 when one was
 * dispatched (and answered or suspended), 0 when more input is needed,
 * -1 after an error response. */
static int conn_step(struct http_server *s, struct conn *c)
{
	if (c->phase == P_IDLE || c->phase == P_HEAD) {
		/* tolerate empty lines before a request (RFC 9112 2.2) */
		size_t skip = 0;
		while (skip + 1 < c->in_len && c->in[skip] == '\r' && c->in[skip + 1] == '\n')
			skip += 2;
		if (skip) {
			memmove(c->in, c->in + skip, c->in_len - skip);
			c->in_len -= skip;
			c->scanned = 0;
			c->method_ok = false;
		}
		if (c->in_len == 0)
			return 0;
		if (c->phase == P_IDLE) {
			c->phase = P_HEAD;
			conn_set_deadline(s, c, s->cfg.header_timeout_ms);
		}
		size_t lim = c->in_len < s->cfg.max_header ? c->in_len : s->cfg.max_header;
		/* Bytes already looked at are not looked at again: a head sent
		 * a byte at a time would otherwise cost its length squared. */
		size_t from = c->scanned > 3 ? c->scanned - 3 : 0;
		char *e = lim > from ? memmem(c->in + from, lim - from, "\r\n\r\n", 4) : NULL;
		if (!e) {
			if (c->in_len >= s->cfg.max_header)
				return handle_error_status(c, 431, NULL, NULL);
			/* a leading empty line whose LF has not come yet */
			if (c->in_len == 1 && c->in[0] == '\r')
				return 0;
			/* reject obvious garbage early: NUL or non-token bytes
			 * in the method */
			for (size_t i = c->scanned; !c->method_ok && i < c->in_len; i++) {
				if (c->in[i] == ' ')
					c->method_ok = true;
				else if (!is_tchar((unsigned char)c->in[i]))
					return handle_error_status(c, 400, BAD_REQUEST_LINE, "request");
			}
			/* a line ended by a bare LF: the CRLF CRLF that ends a
			 * head would never come */
			for (const char *lf = memchr(c->in + c->scanned, '\n', lim - c->scanned); lf;
			     lf = memchr(lf + 1, '\n', lim - (size_t)(lf + 1 - c->in)))
				if (lf == c->in || lf[-1] != '\r')
					return handle_error_status(c, 400, "lines must end with CRLF, not a bare LF",
								   "request");
			c->scanned = lim;
			return 0;
		}
		size_t head_len = (size_t)(e - c->in) + 4;
		/* validate on a scratch copy: the handle parses its own */
		char *scratch = malloc(head_len);
		if (!scratch)
			return handle_error_status(c, 500, NULL, NULL);
		memcpy(scratch, c->in, head_len);
		struct head *hd = malloc(sizeof(*hd));
		int st = hd ? parse_head(scratch, head_len, hd, s->cfg.max_body) : 500;
		bool expect = hd && hd->expect_continue;
		size_t cl = hd ? hd->cl : 0;
		const char *why = hd ? hd->why : NULL, *field = hd ? hd->field : NULL;
		free(hd);
		free(scratch);
		if (st)
			return handle_error_status(c, st, why, field);
		c->head_len = head_len;
		c->body_len = cl;
		c->phase = P_BODY;
		c->scanned = 0;
		c->method_ok = false;
		c->body_start = clock_now_ms();
		body_deadline(s, c);  /* a body that never comes is held to the rate too */
		if (expect && c->in_len < head_len + cl) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
			out_add(c, cont, sizeof(cont) - 1);
		}
	}
	if (c->phase != P_BODY)
		return 0;
	size_t total = c->head_len + c->body_len;
	if (c->in_len < total)
		return 0;
	struct http_handle *h = handle_new(s, c);
	memmove(c->in, c->in + total, c->in_len - total);
	c->in_len -= total;
	in_shrink(s, c);
	if (!h)
		return handle_error_status(c, 500, NULL, NULL);
	h->conn = c;
	c->pending = h;
	c->phase = P_PENDING;
	c->deadline = 0;
	s->cfg.handler(s->cfg.user, h, &h->req);
	pthread_mutex_lock(&s->q->mu);
	int flags = h->flags;
	if (!(flags & (H_SUSPENDED | H_RESPONDED)))
		h->flags |= H_SUSPENDED; /* answered below; a late respond is refused */
	pthread_mutex_unlock(&s->q->mu);
	if (flags & H_SUSPENDED)
		return 1; /* the completion will come through the queue */
	c->pending = NULL;
	if (flags & H_RESPONDED) {
		conn_emit(s, c, h);
		handle_free(h);
	} else {
		log_warn("http: handler neither responded nor suspended: %s %s",
			 h->req.method, h->req.path);
		/* the contract forbids a later http_respond on h */
		handle_free(h);
		conn_error(c, 500, "internal error", NULL);
		return -1;
	}
	return 1;
}

static void conn_update(struct http_server *s, struct conn *c)
{
	uint32_t ev = c->rdhup || c->read_eof ? 0 : EPOLLRDHUP;
	if (c->out_off < c->out_len)
		ev |= EPOLLOUT;
	if (!c->pending && !c->close_after_out && !c->read_eof &&
	    c->in_len < s->cfg.max_header + s->cfg.max_body && !s->stopping)
		ev |= EPOLLIN;
	if (c->lingering)
		ev |= EPOLLIN;
	if (ev != c->events) {
		struct epoll_event e = { .events = ev, .data.ptr = c };
		epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &e);
		c->events = ev;
	}
}

/* Flushes output; returns false if c was closed. */
static bool conn_flush(struct http_server *s, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (!c->pending)
					conn_set_deadline(s, c, s->cfg.idle_timeout_ms);
				return true;
			}
			conn_close(s, c);
			return false;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	if (c->close_after_out) {
		/* Lingering close: a client still sending (a body refused with
		 * 413 or 503) would get a reset for the unread input if the
		 * socket were closed now, and a reset can throw away the answer
		 * before the client reads it.  So: FIN, then read and drop
		 * until the client closes too, for at most LINGER_MS. */
		if (c->lingering)
			return true;
		if (!c->read_eof && !s->stopping && shutdown(c->fd, SHUT_WR) == 0) {
			c->lingering = true;
			c->in_len = 0;
			c->deadline = clock_now_ms() + LINGER_MS;
			return true;
		}
		conn_close(s, c);
		return false;
	}
	return true;
}

/* Parses what can be parsed, flushes, updates interest.  False if closed. */
static bool conn_progress(struct http_server *s, struct conn *c)
{
	for (;;) {
		bool high = false;
		while (!c->pending && !c->close_after_out && !s->stopping) {
			if (c->out_len - c->out_off >= OUT_HIGH) {
				high = true;
				break;
			}
			if (conn_step(s, c) <= 0)
				break;
		}
		if (!conn_flush(s, c))
			return false;
		/* Stopped at OUT_HIGH and the flush took it all at once: no
		 * event will come for the requests already read, so go on
		 * (1268 of 2000 pipelined requests were answered, then none). */
		if (!high || c->out_off != c->out_len)
			break;
	}
	if (c->read_eof && !c->pending && c->out_off == c->out_len) {
		conn_close(s, c);
		return false;
	}
	if (s->stopping && !c->pending && c->out_off == c->out_len) {
		conn_close(s, c);
		return false;
	}
	conn_update(s, c);
	return true;
}


static void conn_readable(struct http_server *s, struct conn *c)
{
	if (c->lingering) {
		static char drop[16384];
		for (int rounds = 0; rounds < 64; rounds++) {
			ssize_t n = recv(c->fd, drop, sizeof(drop), 0);
			if (n > 0)
				continue;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			conn_close(s, c);  /* EOF or an error: done */
			return;
		}
		return;
	}
	size_t cap_max = s->cfg.max_header + s->cfg.max_body;
	for (int rounds = 0; rounds < 4 && c->in_len < cap_max; rounds++) {
		if (c->in_cap - c->in_len < 4096 && c->in_cap < cap_max) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
			if (cap > cap_max)
				cap = cap_max;
			if (!in_resize(s, c, cap) && c->in_cap == c->in_len) {
				/* (with room left, that is read first) */
				conn_error(c, 503, "too many request bodies are being received at once; "
					   "retry", "body");
				conn_progress(s, c);
				return;
			}
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(s, c);
			return;
		}
		if (n == 0) {
			c->read_eof = true;
			break;
		}
		c->in_len += (size_t)n;
		if (c->phase == P_BODY)
			body_deadline(s, c);
	}
	conn_progress(s, c);
}

static void server_accept(struct http_server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
				/* pause accepting for a moment instead of spinning */
				epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL);
				s->listen_paused = true;
				s->listen_resume = clock_now_ms() + 100;
				log_warn("http: accept: %s", strerror(errno));
			}
			return;
		}
		if (s->nconns >= s->cfg.max_connections) {
			static const char busy[] =
				"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
				"X-Content-Type-Options: nosniff\r\n"
				"Content-Length: 53\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
				"{\"error\":\"too many connections\",\"field\":\"connection\"}";
			ssize_t n = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
			(void)n;
			close(fd);
			refused(s, 503, "too many connections");
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->srv = s;
		c->events = EPOLLIN | EPOLLRDHUP;
		struct epoll_event e = { .events = c->events, .data.ptr = c };
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		conn_set_deadline(s, c, s->cfg.idle_timeout_ms);
	}
}

/* Completions queued by http_respond. */
static void server_drain_queue(struct http_server *s)
{
	uint64_t v;
	ssize_t n = read(s->q->efd, &v, sizeof(v));
	(void)n;
	pthread_mutex_lock(&s->q->mu);
	struct http_handle *list = s->q->head;
	s->q->head = s->q->tail = NULL;
	if (s->q->stop)
		s->stopping = true;
	pthread_mutex_unlock(&s->q->mu);
	while (list) {
		struct http_handle *h = list;
		list = h->next;
		struct conn *c = h->conn;
		if (c) {
			c->pending = NULL;
			conn_emit(s, c, h);
			handle_free(h);
			conn_progress(s, c);
		} else {
			handle_free(h);
		}
	}
}

static void server_sweep(struct http_server *s, uint64_t now)
{
	struct conn *next;
	for (struct conn *c = s->conns; c; c = next) {
		next = c->next;
		if (!c->deadline || now < c->deadline)
			continue;
		if ((c->phase == P_HEAD || c->phase == P_BODY) && c->out_off == c->out_len) {
			/* slowloris: headers too slow, or a body that stopped
			 * coming: told so, not just dropped */
			static const char to[] =
				"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
				"X-Content-Type-Options: nosniff\r\n"
				"Content-Length: 47\r\nConnection: close\r\n\r\n"
				"{\"error\":\"request timed out\",\"field\":\"request\"}";
			ssize_t n = send(c->fd, to, sizeof(to) - 1, MSG_NOSIGNAL);
			(void)n;
			refused(s, 408, "request timed out");
		}
		conn_close(s, c);
	}
}

static void *server_loop(void *arg)
{
	struct http_server *s = arg;
	struct epoll_event evs[128];
	int tick = s->cfg.header_timeout_ms / 4;
	if (s->cfg.idle_timeout_ms / 4 < tick)
		tick = s->cfg.idle_timeout_ms / 4;
	if (tick > 250)
		tick = 250;
	if (tick < 10)
		tick = 10;
	uint64_t next_sweep = clock_now_ms() + (uint64_t)tick;
	for (;;) {
		int n = epoll_wait(s->ep, evs, 128, tick);
		if (n < 0 && errno != EINTR) {
			log_error("http: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &s->lfd) {
				if (!s->stopping)
					server_accept(s);
			} else if (p == s->q) {
				server_drain_queue(s);
			}
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &s->lfd || p == s->q)
				continue;
			struct conn *c = p;
			/* closed earlier in this round: freed after it */
			uint32_t ev = evs[i].events;
			if (c->fd < 0)
				continue;
			if (ev & (EPOLLERR | EPOLLHUP)) {
				conn_close(s, c);
				continue;
			}
			if (ev & EPOLLRDHUP) {
				/* A client may shut down its sending side once its
				 * request is sent (nc -N, some scripts): the answer
				 * still goes out, then the connection closes.  One
				 * that is gone entirely shows as EPOLLHUP/ERR, or as
				 * an error when the answer is written. */
				c->rdhup = true; /* EOF is read once EPOLLIN is wanted:
						  * requests sent before it are
						  * read and answered first */
			}
			if (ev & EPOLLOUT) {
				if (!conn_progress(s, c))
					continue;
			}
			if (ev & EPOLLIN)
				conn_readable(s, c);
			else
				conn_progress(s, c);
		}
		free_dead(s);
		uint64_t now = clock_now_ms();
		if (s->listen_paused && now >= s->listen_resume && !s->stopping) {
			struct epoll_event e = { .events = EPOLLIN, .data.ptr = &s->lfd };
			if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &e) == 0)
				s->listen_paused = false;
		}
		if (now >= next_sweep) {
			server_sweep(s, now);
			next_sweep = now + (uint64_t)tick;
		}
		if (s->stopping) {
			if (!s->drain_deadline) {
				s->drain_deadline = now + (uint64_t)s->cfg.drain_timeout_ms;
				if (!s->listen_paused)
					epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL);
				close(s->lfd);
				s->lfd = -1;
				struct conn *next;
				for (struct conn *c = s->conns; c; c = next) {
					next = c->next;
					conn_progress(s, c);
				}
			}
			if (!s->conns || now >= s->drain_deadline)
				break;
		}
	}
	while (s->conns)
		conn_close(s, s->conns);
	free_dead(s);
	return NULL;
}

/* ---- the public API ---- */

const char *http_request_header(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

const struct http_request *http_handle_request(const struct http_handle *h)
{
	return &h->req;
}

static bool valid_extra_headers(const char *p)
{
	while (*p) {
		const char *name = p;
		while (is_tchar((unsigned char)*p))
			p++;
		if (p == name || *p != ':')
			return false;
		for (p++; *p && *p != '\r' && *p != '\n'; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t')
				return false;
		if (p[0] != '\r' || p[1] != '\n')
			return false;
		p += 2;
	}
	return true;
}

int http_respond(struct http_handle *h, const struct http_response *r)
{
	if (!h || !r || r->status < 200 || r->status > 599 ||
	    (r->body_len && !r->body) ||
	    (r->content_type && strpbrk(r->content_type, "\r\n")) ||
	    (r->headers && !valid_extra_headers(r->headers))) {
		errno = EINVAL;
		return -1;
	}
	bool nobody = r->status == 204 || r->status == 304;
	size_t blen = nobody ? 0 : r->body_len;
	char line[160];
	int ll = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", r->status, reason(r->status));
	size_t ctl = r->content_type ? strlen(r->content_type) : 0;
	size_t xl = r->headers ? strlen(r->headers) : 0;
	/* Every answer: what it says it is, it is (no content sniffing). */
	static const char nosniff[] = "X-Content-Type-Options: nosniff\r\n";
	size_t cap = (size_t)ll + ctl + 16 + 40 + sizeof(nosniff) + xl + blen;
	char *out = malloc(cap);
	if (!out)
		return -1;
	size_t n = 0;
	memcpy(out, line, (size_t)ll);
	n += (size_t)ll;
	if (r->content_type) {
		memcpy(out + n, "Content-Type: ", 14);
		n += 14;
		memcpy(out + n, r->content_type, ctl);
		n += ctl;
		memcpy(out + n, "\r\n", 2);
		n += 2;
	}
	if (!nobody)
		n += (size_t)snprintf(out + n, 40, "Content-Length: %zu\r\n", blen);
	memcpy(out + n, nosniff, sizeof(nosniff) - 1);
	n += sizeof(nosniff) - 1;
	if (xl) {
		memcpy(out + n, r->headers, xl);
		n += xl;
	}
	size_t head = n;
	if (blen) {
		memcpy(out + n, r->body, blen);
		n += blen;
	}

	struct hq *q = h->q;
	pthread_mutex_lock(&q->mu);
	if (h->flags & H_RESPONDED) {
		pthread_mutex_unlock(&q->mu);
		free(out);
		errno = EINVAL;
		return -1;
	}
	h->out = out;
	h->out_head = head;
	h->out_len = n;
	h->flags |= H_RESPONDED;
	bool drop = false;
	if (h->flags & H_SUSPENDED) {
		if (q->closed) {
			drop = true;
		} else {
			h->next = NULL;
			if (q->tail)
				q->tail->next = h;
			else
				q->head = h;
			q->tail = h;
			hq_wake(q);
		}
	}
	pthread_mutex_unlock(&q->mu);
	if (drop)
		handle_free(h);
	return 0;
}

int http_respond_simple(struct http_handle *h, int status, const char *content_type,
			const void *body, size_t body_len)
{
	struct http_response r = { .status = status, .content_type = content_type,
				   .body = body, .body_len = body_len };
	return http_respond(h, &r);
}

void http_suspend(struct http_handle *h)
{
	pthread_mutex_lock(&h->q->mu);
	h->flags |= H_SUSPENDED;
	pthread_mutex_unlock(&h->q->mu);
}

struct http_server *http_server_start(const struct http_config *cfg, char *err, size_t errlen)
{
#define FAILF(...) do { snprintf(err, errlen, __VA_ARGS__); goto fail; } while (0)
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->lfd = s->ep = -1;
	s->cfg = *cfg;
	if (!s->cfg.addr)
		s->cfg.addr = "127.0.0.1";
	if (!s->cfg.max_body)
		s->cfg.max_body = 1u << 20;
	if (!s->cfg.max_header)
		s->cfg.max_header = 16u << 10;
	if (s->cfg.max_connections <= 0)
		s->cfg.max_connections = 4096;
	if (s->cfg.header_timeout_ms <= 0)
		s->cfg.header_timeout_ms = 10000;
	if (s->cfg.idle_timeout_ms <= 0)
		s->cfg.idle_timeout_ms = 60000;
	if (s->cfg.drain_timeout_ms <= 0)
		s->cfg.drain_timeout_ms = 10000;
	if (!s->cfg.body_min_rate)
		s->cfg.body_min_rate = 1024;
	if (!s->cfg.max_buffered)
		s->cfg.max_buffered = 16 * (s->cfg.max_header + s->cfg.max_body);
	if (!s->cfg.handler)
		FAILF("no handler");
	if (s->cfg.max_header < 64 || s->cfg.max_body > ((size_t)1 << 40))
		FAILF("max_header below 64 or max_body above 1 TiB");

	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, s->cfg.addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(s->cfg.port);
		sl = sizeof(*a4);
	} else if (inet_pton(AF_INET6, s->cfg.addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(s->cfg.port);
		sl = sizeof(*a6);
	} else {
		FAILF("bad listen address '%s' (an IPv4 or IPv6 literal)", s->cfg.addr);
	}
	s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		FAILF("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->lfd, (struct sockaddr *)&ss, sl) < 0)
		FAILF("bind %s:%u: %s", s->cfg.addr, s->cfg.port, strerror(errno));
	if (listen(s->lfd, 4096) < 0)
		FAILF("listen: %s", strerror(errno));
	sl = sizeof(ss);
	if (getsockname(s->lfd, (struct sockaddr *)&ss, &sl) < 0)
		FAILF("getsockname: %s", strerror(errno));
	s->port = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);

	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0)
		FAILF("epoll_create1: %s", strerror(errno));
	s->q = calloc(1, sizeof(*s->q));
	if (!s->q)
		FAILF("out of memory");
	pthread_mutex_init(&s->q->mu, NULL);
	s->q->refs = 1;
	s->q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->q->efd < 0)
		FAILF("eventfd: %s", strerror(errno));
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = &s->lfd };
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &e) < 0)
		FAILF("epoll_ctl: %s", strerror(errno));
	e.data.ptr = s->q;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->q->efd, &e) < 0)
		FAILF("epoll_ctl: %s", strerror(errno));
	int rc = pthread_create(&s->thread, NULL, server_loop, s);
	if (rc)
		FAILF("pthread_create: %s", strerror(rc));
	return s;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->ep >= 0)
		close(s->ep);
	if (s->q)
		hq_unref(s->q);
	free(s);
	return NULL;
#undef FAILF
}

uint16_t http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	struct hq *q = s->q;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	hq_wake(q);
	pthread_mutex_unlock(&q->mu);
	pthread_join(s->thread, NULL);
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	struct http_handle *list = q->head;
	q->head = q->tail = NULL;
	pthread_mutex_unlock(&q->mu);
	while (list) {
		struct http_handle *h = list;
		list = h->next;
		handle_free(h);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	close(s->ep);
	hq_unref(q);
	free(s);
}

/* ---- static files ---- */

const char *http_mime_type(const char *name)
{
	static const struct { const char *ext, *type; } map[] = {
		{ "html", "text/html; charset=utf-8" },
		{ "htm", "text/html; charset=utf-8" },
		{ "js", "text/javascript; charset=utf-8" },
		{ "mjs", "text/javascript; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" },
		{ "json", "application/json" },
		{ "map", "application/json" },
		{ "wasm", "application/wasm" },
		{ "svg", "image/svg+xml" },
		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },
		{ "gif", "image/gif" },
		{ "ico", "image/x-icon" },
		{ "webp", "image/webp" },
		{ "woff2", "font/woff2" },
		{ "txt", "text/plain; charset=utf-8" },
	};
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	if (dot && dot != base) {
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (!strcasecmp(dot + 1, map[i].ext))
				return map[i].type;
	}
	return "application/octet-stream";
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

bool http_query_param(const char *query, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	for (const char *p = query; p && *p;) {
		const char *end = strchr(p, '&');
		size_t seg = end ? (size_t)(end - p) : strlen(p);
		if (seg >= nl && !strncmp(p, name, nl) && (seg == nl || p[nl] == '=')) {
			const char *v = p + nl + (seg > nl), *vend = p + seg;
			size_t o = 0;
			while (v < vend && o + 1 < len) {
				int hi, lo;
				if (*v == '%' && vend - v >= 3 && (hi = hexval(v[1])) >= 0 &&
				    (lo = hexval(v[2])) >= 0 && (hi | lo)) {
					/* %00 stays as it is: decoded, it would cut
					 * the value short ("5%00x" read as 5); as
					 * three bytes it fails every check */
					out[o++] = (char)(hi * 16 + lo);
					v += 3;
				} else {
					out[o++] = *v++;
				}
			}
			out[o] = '\0';
			return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* Opens rel below root, following no symlink (one inside web_dir could
 * name a hidden file: visible -> .env): openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, or (old kernels) a walk with O_NOFOLLOW.  O_NONBLOCK: opening a FIFO for reading would
 * otherwise wait for a writer, and with it the event loop. */
static int open_beneath(int root_fd, const char *rel)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS };
	long fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return (int)fd;
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", rel);
	int dir = dup(root_fd);
	char *save = NULL;
	for (char *comp = strtok_r(buf, "/", &save); comp; ) {
		char *nextc = strtok_r(NULL, "/", &save);
		int flags = O_CLOEXEC | O_NOFOLLOW |
			    (nextc ? O_PATH | O_DIRECTORY : O_RDONLY | O_NOCTTY | O_NONBLOCK);
		int nfd = openat(dir, comp, flags);
		int e = errno;
		close(dir);
		if (nfd < 0) {
			errno = e;
			return -1;
		}
		dir = nfd;
		comp = nextc;
	}
	return dir;
}

/* A static-file error, in the API's shape: what went wrong and the field
 * at fault (the path, or the method for 405). */
static int respond_err(struct http_handle *h, int status, const char *msg)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"field\":\"%s\"}", msg,
			 status == 405 ? "method" : "path");
	struct http_response r = { .status = status, .content_type = "application/json",
				   .body = body, .body_len = (size_t)n,
				   .headers = status == 405 ? "Allow: GET, HEAD\r\n" : NULL };
	http_respond(h, &r);
	return status;
}

int http_serve_file(struct http_handle *h, int root_fd, const char *url_path)
{
	const struct http_request *req = &h->req;
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
		return respond_err(h, 405, "method not allowed");
	char rel[PATH_MAX];
	size_t n = 0;
	const char *p = url_path;
	while (*p == '/')
		p++;
	/* decode, collapsing "//" and dropping "." segments */
	size_t seg = 0; /* start of the current segment in rel */
	for (;; p++) {
		char ch = *p;
		if (ch == '%') {
			int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
			if (lo < 0)
				return respond_err(h, 400, "bad percent-encoding");
			ch = (char)(hi * 16 + lo);
			p += 2;
			if (ch == 0 || ch == '/')
				return respond_err(h, 403, "forbidden path");
		} else if (ch == '?' || ch == '#') {
			ch = 0;
		}
		if (ch == '\\')
			return respond_err(h, 403, "forbidden path");
		if (ch == '/' || ch == 0) {
			size_t len = n - seg;
			if (len == 2 && !memcmp(rel + seg, "..", 2))
				return respond_err(h, 403, "forbidden path");
			if (len == 1 && rel[seg] == '.')
				n = seg;
			else if (len > 0 && ch == '/')
				rel[n++] = '/';
			seg = n;
			if (ch == 0)
				break;
			continue;
		}
		if (n + 12 >= sizeof(rel))
			return respond_err(h, 404, "not found");
		rel[n++] = ch;
	}
	if (n == 0 || rel[n - 1] == '/') {
		memcpy(rel + n, "index.html", 11);
		n += 10;
	}
	rel[n] = 0;
	/* Hidden files are not served: a web_dir that is a checkout would
	 * give away .git/, an editor's backups, an .env. */
	if (rel[0] == '.' || strstr(rel, "/."))
		return respond_err(h, 404, "not found");
	int fd = open_beneath(root_fd, rel);
	if (fd < 0)
		return respond_err(h, 404, "not found");
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return respond_err(h, 404, "not found");
	}
	if ((size_t)st.st_size > STATIC_MAX) {
		close(fd);
		return respond_err(h, 500, "file too large");
	}
	size_t size = (size_t)st.st_size;
	char *data = malloc(size ? size : 1);
	size_t got = 0;
	while (data && got < size) {
		ssize_t r = pread(fd, data + got, size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!data || got != size) {
		free(data);
		return respond_err(h, 500, "read error");
	}
	/* Pages are checked again on each load (they change with runcell),
	 * may run only their own scripts, and may not be framed. */
	const char *type = http_mime_type(rel);
	bool html = !strncmp(type, "text/html", 9);
	struct http_response r = { .status = 200, .content_type = type,
				   .body = data, .body_len = size,
				   .headers = html ? "Cache-Control: no-cache\r\n"
						     "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
						     "X-Frame-Options: DENY\r\n"
						   : "Cache-Control: no-cache\r\n" };
	http_respond(h, &r);
	free(data);
	return 200;
}
