/*
 * callback: result callbacks over a minimal HTTP/1.1 client (see
 * callback.h).
 *
 * DESIGN.  Deliveries wait in a binary min-heap keyed on (due time,
 * arrival order) under one mutex; each of the sender threads sleeps on a
 * CLOCK_MONOTONIC condvar until the earliest is due, takes it out, makes
 * one attempt without the lock held, and then either finishes it or puts
 * it back with its next due time.  Several threads, so that receivers
 * that hang until the timeout hold up only as many deliveries as there
 * are threads, not every other receiver's.  So callback_send only ever takes the
 * mutex, and a receiver that is down costs the queue nothing between its
 * retries.  An attempt is non-blocking sockets plus poll against one
 * deadline (connect, send and receive together), polling an eventfd too,
 * so that callback_sender_stop can cut an attempt short at its drain
 * deadline.  For https:// the same loop drives TLS (tls_client.c): every
 * TLS call returns at once and says which way to wait.  Host names go
 * through getaddrinfo (which cannot be bounded by the deadline); IP
 * literals never do.  Everything the receiver
 * controls is bounded: only the status line is read, from at most 8 KiB
 * (interim 1xx responses included), and nothing else of the reply.
 */
#include "api/callback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/url.h"
#include "http/tls_client.h"

#define REPLY_MAX 8192     /* bytes of reply read at most */
#define DROP_LOG_MAX 10    /* dropped deliveries logged one by one at stop */

int callback_url_check(const char *url, char *why, size_t len)
{
	return url_parse_http(url, NULL, why, len);
}

/* ---- the queue ---- */

struct delivery {
	uint64_t due_ms;
	uint64_t seq;  /* arrival order: equal due times go first come first served */
	int attempts;  /* made so far */
	struct url_http t;
	char id[CALLBACK_ID_MAX + 1];
	char err[192]; /* the last attempt's error */
	char *url;
	char *shown;   /* url for the log: its query (often a token) left out */
	char *body;
	size_t len;
};

struct callback_sender {
	pthread_mutex_t mu;
	pthread_cond_t cond; /* CLOCK_MONOTONIC: new work, stop */
	pthread_t threads[CALLBACK_MAX_SENDERS];
	int nthreads;
	pthread_mutex_t tls_lock; /* the system trust store, loaded at first use */
	int wakefd;          /* eventfd: cuts an attempt short at stop */
	struct tls_client *tls; /* trust store for https:// */

	/* Settings. */
	int max_attempts, first_delay_ms, max_delay_ms, timeout_ms;
	size_t max_pending, max_pending_bytes;

	/* Under mu. */
	struct delivery **heap;
	size_t heap_len, heap_alloc;
	uint64_t seq;
	bool stopping;
	size_t pending_bytes; /* of the bodies held */
	struct callback_stats stats;

	/* Set once by stop: attempts end here; UINT64_MAX before. */
	_Atomic uint64_t abort_ms;
};

static void delivery_free(struct delivery *d)
{
	if (d) {
		free(d->url);
		free(d->shown);
		free(d->body);
		free(d);
	}
}

static bool heap_less(const struct delivery *a, const struct delivery *b)
{
	return a->due_ms != b->due_ms ? a->due_ms < b->due_ms : a->seq < b->seq;
}

/* The caller made sure heap_alloc > heap_len. */
static void heap_push(struct callback_sender *s, struct delivery *d)
{
	size_t i = s->heap_len++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!heap_less(d, s->heap[up]))
			break;
		s->heap[i] = s->heap[up];
		i = up;
	}
	s->heap[i] = d;
}

static struct delivery *heap_pop(struct callback_sender *s)
{
	struct delivery *top = s->heap[0];
	struct delivery *last = s->heap[--s->heap_len];
	size_t i = 0, n = s->heap_len;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && heap_less(s->heap[c + 1], s->heap[c]))
			c++;
		if (!heap_less(s->heap[c], last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (n)
		s->heap[i] = last;
	return top;
}

/* ---- one attempt ---- */

enum attempt { ATTEMPT_OK, ATTEMPT_FAILED, ATTEMPT_ABORTED };

static void set_err(struct delivery *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct delivery *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
}

static const char *errstr(int e, char *tmp, size_t len)
{
	return strerror_r(e, tmp, len);
}

/* Waits until fd has events, or the attempt's deadline (-ETIMEDOUT), or
 * the stop's drain deadline (-ECANCELED), whichever is first. */
static int wait_fd(struct callback_sender *s, int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t abort_at = atomic_load(&s->abort_ms);
		uint64_t now = clock_now_ms();
		if (now >= abort_at)
			return -ECANCELED;
		if (now >= deadline)
			return -ETIMEDOUT;
		uint64_t end = deadline < abort_at ? deadline : abort_at;
		/* The eventfd only says that stop set abort_ms; it is never
		 * read, so every sender sees it, and once abort_ms is set the
		 * wait ends at it anyway. */
		struct pollfd p[2] = { { .fd = fd, .events = events },
				       { .fd = s->wakefd, .events = POLLIN } };
		uint64_t wait = end - now;
		int r = poll(p, abort_at == UINT64_MAX ? 2 : 1, wait > 60000 ? 60000 : (int)wait);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (p[0].revents)
			return 0; /* ready, or an error the next call reports */
	}
}

/* Connects to one address; returns the socket or a negative errno. */
static int connect_one(struct callback_sender *s, const struct sockaddr *sa, socklen_t salen,
		       uint64_t deadline)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, sa, salen) == 0)
		return fd;
	int e = errno;
	if (e != EINPROGRESS) {
		close(fd);
		return -e;
	}
	int r = wait_fd(s, fd, POLLOUT, deadline);
	if (r < 0) {
		close(fd);
		return r;
	}
	socklen_t elen = sizeof(e);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
		e = errno;
	if (e) {
		close(fd);
		return -e;
	}
	return fd;
}

/* Connects to the target, trying each address of a name in turn. */
static int connect_target(struct callback_sender *s, struct delivery *d, uint64_t deadline)
{
	char tmp[96];
	const struct url_http *t = &d->t;
	if (t->family == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(t->port) };
		inet_pton(AF_INET, t->host, &a.sin_addr);
		int fd = connect_one(s, (struct sockaddr *)&a, sizeof(a), deadline);
		if (fd < 0 && fd != -ECANCELED)
			set_err(d, "connect: %s", errstr(-fd, tmp, sizeof(tmp)));
		return fd;
	}
	if (t->family == AF_INET6) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(t->port) };
		inet_pton(AF_INET6, t->host, &a.sin6_addr);
		int fd = connect_one(s, (struct sockaddr *)&a, sizeof(a), deadline);
		if (fd < 0 && fd != -ECANCELED)
			set_err(d, "connect: %s", errstr(-fd, tmp, sizeof(tmp)));
		return fd;
	}
	char port[8];
	snprintf(port, sizeof(port), "%u", (unsigned)t->port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int g = getaddrinfo(t->host, port, &hints, &res);
	if (g != 0) {
		set_err(d, "resolve %s: %s", t->host,
			g == EAI_SYSTEM ? errstr(errno, tmp, sizeof(tmp)) : gai_strerror(g));
		return -EHOSTUNREACH;
	}
	int fd = -EHOSTUNREACH;
	set_err(d, "resolve %s: no address", t->host);
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(s, ai->ai_addr, ai->ai_addrlen, deadline);
		if (fd >= 0 || fd == -ECANCELED || fd == -ETIMEDOUT)
			break;
		set_err(d, "connect: %s", errstr(-fd, tmp, sizeof(tmp)));
	}
	freeaddrinfo(res);
	if (fd == -ETIMEDOUT)
		set_err(d, "connect: %s", errstr(ETIMEDOUT, tmp, sizeof(tmp)));
	return fd;
}

/* One connection of an attempt: a socket, and TLS over it for https. */
struct conn {
	int fd;
	struct tls_conn *tls;
};

/* Waits for what a call wants: TLS_WANT_READ or TLS_WANT_WRITE, which
 * name the waits of a plain socket too; r < 0 passes through. */
static int conn_wait(struct callback_sender *s, struct conn *c, int r, uint64_t deadline)
{
	if (r < 0)
		return r;
	return wait_fd(s, c->fd, r == TLS_WANT_READ ? POLLIN : POLLOUT, deadline);
}

/* TLS handshake with certificate checks, within the deadline. */
static int conn_start_tls(struct callback_sender *s, struct conn *c, struct delivery *d,
			  uint64_t deadline)
{
	int r = tls_conn_new(s->tls, c->fd, d->t.host, &c->tls, d->err, sizeof(d->err));
	while (r == 0 && (r = tls_conn_handshake(c->tls, d->err, sizeof(d->err))) > 0)
		r = conn_wait(s, c, r, deadline);
	return r;
}

static void conn_close(struct conn *c)
{
	tls_conn_free(c->tls);
	if (c->fd >= 0)
		close(c->fd);
}

/* The result of a plain send or recv, n, in the TLS calls' terms: 0 with
 * *done bytes, want when the socket must become ready first, or a
 * negative errno. */
static int plain_result(ssize_t n, int want, size_t *done)
{
	*done = n > 0 ? (size_t)n : 0;
	if (n >= 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return want;
	return -errno;
}

/* Sends all of p, within the deadline.  0 or a negative errno; for TLS
 * failures the reason is in d->err already. */
static int conn_send_all(struct callback_sender *s, struct conn *c, struct delivery *d,
			 const char *p, size_t len, uint64_t deadline)
{
	while (len > 0) {
		size_t w = 0;
		int r;
		if (c->tls)
			r = tls_conn_write(c->tls, p, len, &w, d->err, sizeof(d->err));
		else
			r = plain_result(send(c->fd, p, len, MSG_NOSIGNAL), TLS_WANT_WRITE, &w);
		if (r == 0) {
			p += w;
			len -= w;
			continue;
		}
		r = conn_wait(s, c, r, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Receives what is there, waiting within the deadline: 0 with *got > 0,
 * 0 with *got == 0 at the end of the stream, or a negative errno. */
static int conn_recv(struct callback_sender *s, struct conn *c, struct delivery *d,
		     char *p, size_t cap, size_t *got, uint64_t deadline)
{
	for (;;) {
		int r;
		if (c->tls)
			r = tls_conn_read(c->tls, p, cap, got, d->err, sizeof(d->err));
		else
			r = plain_result(recv(c->fd, p, cap, 0), TLS_WANT_READ, got);
		if (r <= 0)
			return r;
		r = conn_wait(s, c, r, deadline);
		if (r < 0)
			return r;
	}
}

/* Looks for a final status line at the start of r (n bytes), skipping
 * interim 1xx responses (which it removes from r).  Returns the status,
 * 0 when more bytes are needed, -1 when the reply is malformed. */
static int parse_status(char *r, size_t *n)
{
	for (;;) {
		char *nl = memchr(r, '\n', *n);
		if (!nl)
			return 0;
		size_t line = (size_t)(nl - r);
		if (line > 0 && r[line - 1] == '\r')
			line--;
		if (line < 12 || memcmp(r, "HTTP/1.", 7) != 0 || r[7] < '0' || r[7] > '9' ||
		    r[8] != ' ' || r[9] < '1' || r[9] > '5' || r[10] < '0' || r[10] > '9' ||
		    r[11] < '0' || r[11] > '9' || (line > 12 && r[12] != ' '))
			return -1;
		int status = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
		if (status >= 200 || status == 101)
			return status;
		/* An interim response: drop it up to its empty line. */
		size_t i = (size_t)(nl - r) + 1, end = 0;
		while (i < *n) {
			char *e = memchr(r + i, '\n', *n - i);
			if (!e)
				return 0;
			size_t ll = (size_t)(e - (r + i));
			if (ll == 0 || (ll == 1 && r[i] == '\r')) {
				end = (size_t)(e - r) + 1;
				break;
			}
			i = (size_t)(e - r) + 1;
		}
		if (!end)
			return 0;
		memmove(r, r + end, *n - end);
		*n -= end;
	}
}

/* The result of an attempt that failed with r (a negative errno): the
 * reason is d->err when the TLS layer set it, else what + r. */
static enum attempt attempt_failed(struct delivery *d, int r, const char *what)
{
	char tmp[96];
	if (r == -ECANCELED)
		return ATTEMPT_ABORTED;
	if (r == -ETIMEDOUT || !d->err[0])
		set_err(d, "%s: %s", what, errstr(-r, tmp, sizeof(tmp)));
	return ATTEMPT_FAILED;
}

static enum attempt attempt(struct callback_sender *s, struct delivery *d, int *status)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)s->timeout_ms;
	*status = 0;
	d->err[0] = '\0';
	struct conn c = { .fd = connect_target(s, d, deadline), .tls = NULL };
	if (c.fd == -ECANCELED)
		return ATTEMPT_ABORTED;
	if (c.fd < 0)
		return ATTEMPT_FAILED;
	enum attempt res = ATTEMPT_FAILED;
	int r = 0;
	if (d->t.tls) {
		pthread_mutex_lock(&s->tls_lock);
		if (!s->tls && tls_client_new(NULL, &s->tls, d->err, sizeof(d->err)) < 0)
			r = -EPROTO;  /* no trust store yet; tried again at the next https attempt */
		pthread_mutex_unlock(&s->tls_lock);
		if (r == 0)
			r = conn_start_tls(s, &c, d, deadline);
	}
	if (r < 0) {
		res = attempt_failed(d, r, "TLS handshake");
		goto out;
	}

	struct buf head;
	buf_init(&head, 0);
	r = buf_printf(&head,
		       "POST %s%s HTTP/1.1\r\n"
		       "Host: %.*s\r\n"
		       "Content-Type: application/json\r\n"
		       "Content-Length: %zu\r\n"
		       "X-Runcell-Submission: %s\r\n"
		       "User-Agent: runcell\r\n"
		       "Connection: close\r\n"
		       "\r\n",
		       d->t.path[0] == '/' ? "" : "/", d->t.path, (int)d->t.authority_len,
		       d->t.authority, d->len, d->id);
	if (r == 0)
		r = conn_send_all(s, &c, d, head.data, head.len, deadline);
	buf_free(&head);
	if (r == 0)
		r = conn_send_all(s, &c, d, d->body, d->len, deadline);
	if (r < 0) {
		res = attempt_failed(d, r, "send");
		goto out;
	}

	char reply[REPLY_MAX];
	size_t n = 0;
	int st = 0;
	while ((st = parse_status(reply, &n)) == 0) {
		if (n == sizeof(reply)) {
			st = -1;
			break;
		}
		size_t got = 0;
		r = conn_recv(s, &c, d, reply + n, sizeof(reply) - n, &got, deadline);
		if (r < 0) {
			res = attempt_failed(d, r, "receive");
			goto out;
		}
		if (got == 0) {
			set_err(d, n ? "connection closed inside the status line"
				     : "connection closed without a reply");
			goto out;
		}
		n += got;
	}
	if (st < 0) {
		set_err(d, "malformed reply (no HTTP/1.x status line in the first %zu bytes)", n);
		goto out;
	}
	*status = st;
	if (st >= 200 && st <= 299) {
		res = ATTEMPT_OK;
	} else {
		set_err(d, "HTTP status %d", st);
	}
out:
	conn_close(&c);
	return res;
}

/* ---- the sender thread ---- */

static uint64_t retry_delay_ms(const struct callback_sender *s, int attempts)
{
	uint64_t delay = (uint64_t)s->first_delay_ms;
	for (int i = 1; i < attempts && delay < (uint64_t)s->max_delay_ms; i++)
		delay *= 2;
	return delay < (uint64_t)s->max_delay_ms ? delay : (uint64_t)s->max_delay_ms;
}

static void cond_wait_until(struct callback_sender *s, uint64_t until_ms)
{
	uint64_t now = clock_now_ms();
	if (until_ms <= now)
		return;
	uint64_t delta = until_ms - now;
	if (delta > 3600u * 1000u)
		delta = 3600u * 1000u;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(delta / 1000);
	ts.tv_nsec += (long)(delta % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&s->cond, &s->mu, &ts);
}

/* One "callback" event per outcome: delivered, retry, failed, dropped. */
static void log_outcome(enum log_level level, const char *outcome, const struct delivery *d,
			int status, const char *error)
{
	if (!log_enabled(level))
		return;
	struct buf b;
	struct json_writer w;
	log_event_begin(&w, &b, level, "callback");
	json_field_string(&w, "outcome", outcome);
	json_field_string(&w, "id", d->id);
	json_field_string(&w, "url", d->shown);
	json_field_int(&w, "attempts", d->attempts);
	if (status)
		json_field_int(&w, "status", status);
	if (error && *error)
		json_field_string(&w, "error", error);
	log_event_end(&w, &b);
}

static void *sender_main(void *arg)
{
	struct callback_sender *s = arg;
	size_t dropped = 0;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		uint64_t abort_at = atomic_load(&s->abort_ms);
		if (s->heap_len == 0) {
			if (s->stopping)
				break;
			pthread_cond_wait(&s->cond, &s->mu);
			continue;
		}
		uint64_t due = s->heap[0]->due_ms;
		if (s->stopping && (due >= abort_at || clock_now_ms() >= abort_at))
			break; /* nothing more can be tried before the drain deadline */
		if (due > clock_now_ms()) {
			cond_wait_until(s, due < abort_at ? due : abort_at);
			continue;
		}
		struct delivery *d = heap_pop(s);
		pthread_mutex_unlock(&s->mu);

		int status = 0;
		enum attempt res = attempt(s, d, &status);
		if (res != ATTEMPT_ABORTED)
			d->attempts++;

		pthread_mutex_lock(&s->mu);
		if (res == ATTEMPT_OK) {
			s->stats.delivered++;
			s->stats.pending--;
			s->pending_bytes -= d->len;
			log_outcome(LOG_INFO, "delivered", d, status, NULL);
			delivery_free(d);
		} else if (res == ATTEMPT_ABORTED) {
			s->stats.pending--;
			s->pending_bytes -= d->len;
			if (dropped++ < DROP_LOG_MAX)
				log_outcome(LOG_WARN, "dropped", d, 0, "attempt cut short by the stop");
			delivery_free(d);
		} else if (d->attempts >= s->max_attempts) {
			s->stats.failed++;
			s->stats.pending--;
			s->pending_bytes -= d->len;
			log_outcome(LOG_WARN, "failed", d, 0, d->err);
			delivery_free(d);
		} else {
			s->stats.retried++;
			d->due_ms = clock_now_ms() + retry_delay_ms(s, d->attempts);
			log_outcome(LOG_DEBUG, "retry", d, 0, d->err);
			heap_push(s, d); /* room: heap_alloc >= pending */
		}
	}
	while (s->heap_len > 0) {
		struct delivery *d = heap_pop(s);
		s->stats.pending--;
		s->pending_bytes -= d->len;
		if (dropped++ < DROP_LOG_MAX)
			log_outcome(LOG_WARN, "dropped", d, 0, d->err);
		delivery_free(d);
	}
	pthread_mutex_unlock(&s->mu);
	if (dropped > 0)
		log_warn("callback: %zu pending deliveries dropped at stop", dropped);
	return NULL;
}

/* ---- public ---- */

int callback_sender_start(const struct callback_config *cfg, struct callback_sender **out,
			  char *err, size_t errlen)
{
	struct callback_config c = cfg ? *cfg : (struct callback_config){ 0 };
	*out = NULL;
	if (c.max_attempts < 0 || c.first_delay_ms < 0 || c.max_delay_ms < 0 || c.timeout_ms < 0 ||
	    c.senders < 0) {
		snprintf(err, errlen, "callback: negative setting");
		return -EINVAL;
	}
	struct callback_sender *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "callback: out of memory");
		return -ENOMEM;
	}
	s->max_attempts = c.max_attempts ? c.max_attempts : 5;
	s->first_delay_ms = c.first_delay_ms ? c.first_delay_ms : 500;
	s->max_delay_ms = c.max_delay_ms ? c.max_delay_ms : 30000;
	s->timeout_ms = c.timeout_ms ? c.timeout_ms : 5000;
	s->max_pending = c.max_pending ? c.max_pending : 10000;
	s->max_pending_bytes = c.max_pending_bytes ? c.max_pending_bytes : (256u << 20);
	int nthreads = c.senders ? c.senders : 4;
	if (nthreads > CALLBACK_MAX_SENDERS)
		nthreads = CALLBACK_MAX_SENDERS;
	atomic_init(&s->abort_ms, UINT64_MAX);
	/* A CA file named in the settings is read now, so a bad one stops
	 * the start; the system's store is read at the first https
	 * delivery, so a host without one still serves http callbacks. */
	if (c.ca_file && *c.ca_file) {
		char why[400];
		int rc = tls_client_new(c.ca_file, &s->tls, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "callback: %s", why);
			free(s);
			return rc;
		}
	}

	s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wakefd < 0) {
		int e = errno;
		snprintf(err, errlen, "callback: eventfd: %s", strerror(e));
		tls_client_free(s->tls);
		free(s);
		return -e;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->tls_lock, NULL);

	/* The threads take no signals: they belong to the main thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = 0;
	for (; s->nthreads < nthreads; s->nthreads++)
		if ((e = pthread_create(&s->threads[s->nthreads], NULL, sender_main, s)) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		snprintf(err, errlen, "callback: pthread_create: %s", strerror(e));
		callback_sender_stop(s, 0);  /* joins the threads started */
		return -e;
	}
	*out = s;
	return 0;
}

static bool callback_id_ok(const char *id)
{
	if (!id)
		return false;
	size_t n = strnlen(id, CALLBACK_ID_MAX + 1);
	if (n == 0 || n > CALLBACK_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
			return false;
	return true;
}

int callback_send(struct callback_sender *s, const char *url, const char *id,
		  const void *body, size_t len)
{
	if (!callback_id_ok(id) || (len && !body) || !url ||
	    strnlen(url, CALLBACK_URL_MAX + 1) > CALLBACK_URL_MAX)
		return -EINVAL;
	struct delivery *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->url = strdup(url);
	if (!d->url) {
		free(d);
		return -ENOMEM;
	}
	/* Parse the copy: the target points into it. */
	if (url_parse_http(d->url, &d->t, NULL, 0) != 0) {
		delivery_free(d);
		return -EINVAL;
	}
	size_t before_query = strcspn(url, "?");
	d->shown = malloc(before_query + 5);
	if (!d->shown) {
		delivery_free(d);
		return -ENOMEM;
	}
	snprintf(d->shown, before_query + 5, "%.*s%s", (int)before_query, url,
		 url[before_query] ? "?..." : "");
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->body = malloc(len ? len : 1);
	if (!d->body) {
		delivery_free(d);
		return -ENOMEM;
	}
	if (len)
		memcpy(d->body, body, len);
	d->len = len;

	pthread_mutex_lock(&s->mu);
	int r = 0;
	if (s->stopping) {
		r = -ESHUTDOWN;
	} else if (s->stats.pending >= s->max_pending ||
		   s->pending_bytes + len > s->max_pending_bytes) {
		r = -EAGAIN;
	} else if (s->heap_alloc < s->stats.pending + 1) {
		/* Room for every pending one, the one in flight included, so a
		 * retry can always go back in without allocating. */
		size_t n = s->heap_alloc ? s->heap_alloc * 2 : 64;
		if (n > s->max_pending)
			n = s->max_pending;
		struct delivery **h = realloc(s->heap, n * sizeof(*h));
		if (!h) {
			r = -ENOMEM;
		} else {
			s->heap = h;
			s->heap_alloc = n;
		}
	}
	if (r == 0) {
		d->due_ms = clock_now_ms();
		d->seq = s->seq++;
		heap_push(s, d);
		s->stats.pending++;
		s->pending_bytes += len;
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&s->mu);
	if (r != 0)
		delivery_free(d);
	return r;
}

void callback_sender_stop(struct callback_sender *s, int drain_ms)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	atomic_store(&s->abort_ms, clock_now_ms() + (uint64_t)(drain_ms > 0 ? drain_ms : 0));
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
	uint64_t one = 1;
	ssize_t w = write(s->wakefd, &one, sizeof(one));
	(void)w;
	for (int i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	free(s->heap);
	pthread_mutex_destroy(&s->tls_lock);
	close(s->wakefd);
	tls_client_free(s->tls);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void callback_stats(struct callback_sender *s, struct callback_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->stats;
	pthread_mutex_unlock(&s->mu);
}
