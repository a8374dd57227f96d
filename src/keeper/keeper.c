/*
 * keeper: the `runcell keep` side (see keeper.h).
 *
 * One thread per cell, each in a loop: build a cell, accept a connection,
 * read the request, run it as the cell's only run (last_run: init exits
 * as it reports), remove the cell's cgroup, answer, wait until the client
 * has gone, reap init.  The threads share the listening
 * socket; the kernel gives each connection to one of the threads waiting
 * in accept, so a connection never waits for a cell while another thread
 * holds a built one.  A cell belongs to the thread that opened it
 * (sandbox.h), which is why each thread builds its own.
 *
 * A watcher thread waits on the connections whose runs are in progress: a
 * client that hangs up (runcell run interrupted, killed) gets its cell
 * cancelled, so a program never outlives the command that asked for it
 * by more than the watcher's wake-up.  The workers add and remove their
 * connections in its epoll set themselves: a change wakes nobody (a
 * wake-up of another thread is an IPI, tens of microseconds in a VM).
 */
#include "keeper/keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

/* How long a connection may take to send its request, or to read the
 * answer, before the keeper drops it (a stuck client holds no cell). */
#define KEEPER_IO_TIMEOUT_S 10

struct worker {
	struct keeper *k;
	pthread_t thread;
	bool started;
	/* The first build's outcome, which keeper_serve waits for. */
	int first_rc;
	char first_why[512];
	bool first_done;
	/* The run in progress, for the watcher (under k->lock). */
	int client;
	struct sandbox_cell *cell;
	unsigned long run_id;  /* which run client and cell belong to */
	bool cancelled;        /* its client hung up: cancelled, not answered */
};

struct keeper {
	struct sandbox_cell_config shape;
	int listen_fd;
	unsigned ncells;
	struct worker workers[KEEPER_CELLS_MAX];
	pthread_mutex_t lock;
	pthread_cond_t first_built;
	int epfd;            /* the watcher's: connections of runs in progress */
	int wake[2];         /* wakes the watcher to stop */
	bool stopping;       /* under lock */
	unsigned long served;
	unsigned ready;      /* cells built and waiting for a run (under lock) */
	unsigned running;    /* runs in progress (under lock) */
	pthread_cond_t changed;  /* ready or running changed */
};

static int stop_pipe[2] = { -1, -1 };

void keeper_stop(void)
{
	if (stop_pipe[1] >= 0) {
		char x = 's';
		ssize_t n = write(stop_pipe[1], &x, 1);
		(void)n;
	}
}

static bool stopping(struct keeper *k)
{
	pthread_mutex_lock(&k->lock);
	bool s = k->stopping;
	pthread_mutex_unlock(&k->lock);
	return s;
}

static void poke(struct keeper *k)
{
	char x = 'w';
	ssize_t n = write(k->wake[1], &x, 1);
	(void)n;
}

/* A run in the watcher's set: its worker and which of its runs. */
#define WATCH_WAKE UINT64_MAX

static uint64_t watch_key(const struct worker *w)
{
	return (uint64_t)w->run_id << 8 | (uint64_t)(w - w->k->workers);
}

static void decline(int client, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void decline(int client, const char *fmt, ...)
{
	struct wire_reply_head h;
	memset(&h, 0, sizeof(h));
	h.magic = WIRE_MAGIC;
	h.served = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h.message, sizeof(h.message), fmt, ap);
	va_end(ap);
	wire_send_all(client, &h, sizeof(h));
}

static void answer(int client, const struct sandbox_result *r, bool preload_missing)
{
	struct wire_reply_head h;
	memset(&h, 0, sizeof(h));
	h.magic = WIRE_MAGIC;
	h.served = 1;
	h.status = (int32_t)r->status;
	h.exit_code = r->exit_code;
	h.signal = r->signal;
	h.out_truncated = r->out.truncated;
	h.err_truncated = r->err.truncated;
	h.preloaded = r->preloaded;
	h.preload_missing = preload_missing;
	h.cpu_ms = r->cpu_ms;
	h.wall_ms = r->wall_ms;
	h.memory_kb = r->memory_kb;
	h.out_len = r->out.len;
	h.err_len = r->err.len;
	snprintf(h.message, sizeof(h.message), "%s", r->message);
	if (wire_send_all(client, &h, sizeof(h)) == 0 &&
	    wire_send_all(client, r->out.data, r->out.len) == 0)
		wire_send_all(client, r->err.data, r->err.len);
}

/* Reads a request: 0 for a run (in *req), 1 for a status probe (a head
 * with no body); declines (and returns <0) what cannot be one. */
static int read_request(int client, struct wire_request *req)
{
	static __thread int fds[WIRE_FDS_MAX];
	struct wire_request_head h;
	size_t got;
	int rc = wire_recv_head(client, &h, fds, WIRE_FDS_MAX, &got);
	if (rc < 0)
		return rc;
	if (h.magic == WIRE_MAGIC && h.version == WIRE_VERSION && h.nfds == 0 && h.body_len == 0 &&
	    got == 0)
		return 1;  /* a status probe */
	if (h.magic != WIRE_MAGIC || h.version != WIRE_VERSION || h.nfds > WIRE_FDS_MAX ||
	    h.body_len > WIRE_REQUEST_MAX || got > h.nfds) {
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
		decline(client, h.magic == WIRE_MAGIC && h.version == WIRE_VERSION ?
				"request too large" : "not a runcell run of this version");
		return -EPROTO;
	}
	int *own = malloc((h.nfds ? h.nfds : 1) * sizeof(int));
	char *body = malloc(h.body_len ? h.body_len : 1);
	rc = own && body ? 0 : -ENOMEM;
	if (rc == 0)
		rc = wire_recv_all(client, body, h.body_len, false);
	if (rc == 0)
		rc = wire_recv_fds(client, fds + got, h.nfds - got);
	if (rc < 0) {
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
		free(own);
		free(body);
		if (rc == -ENOMEM)
			decline(client, "out of memory");
		return rc;
	}
	memcpy(own, fds, h.nfds * sizeof(int));
	rc = wire_request_decode(body, h.body_len, own, h.nfds, req);
	if (rc < 0) {
		wire_request_free(req);
		decline(client, "malformed request");
	}
	return rc;
}

static bool peer_allowed(int client)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = KEEPER_IO_TIMEOUT_S, .tv_usec = 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Waits (at most the I/O timeout, and not once the keeper stops) for the
 * client to close its end. */
static void await_hangup(struct keeper *k, int client)
{
	struct pollfd pf[2] = {
		{ .fd = client, .events = POLLIN | POLLRDHUP },
		{ .fd = k->wake[0], .events = POLLIN },  /* written once, to stop */
	};
	for (;;) {
		int n = poll(pf, 2, KEEPER_IO_TIMEOUT_S * 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || pf[1].revents)
			return;
		char drain[256];
		if (recv(client, drain, sizeof(drain), MSG_DONTWAIT) <= 0)
			return;  /* closed (or broken): gone */
	}
}

/* One connection.  Returns whether the cell was used (and is now closed). */
static bool serve_one(struct worker *w, struct sandbox_cell *cell, int client)
{
	struct keeper *k = w->k;
	if (!peer_allowed(client)) {
		decline(client, "this keeper serves root and its own uid only");
		return false;
	}
	sandbox_trace("keep: accepted");
	set_timeouts(client);
	struct wire_request req;
	int got = read_request(client, &req);
	if (got < 0)
		return false;
	if (got == 1) {
		pthread_mutex_lock(&k->lock);
		unsigned ready = k->ready + 1;  /* this thread's cell counts */
		pthread_mutex_unlock(&k->lock);
		decline(client, "status: %u of %u cells ready", ready, k->ncells);
		return false;
	}
	if (!wire_shape_equal(&req.shape, &k->shape)) {
		decline(client, "the run asks for another cell (--bind, --net or --cgroup differ)");
		wire_request_free(&req);
		return false;
	}
	size_t index;
	uint64_t host_max;
	if (sandbox_limits_check_host(&req.spec.limits, &index, &host_max) < 0) {
		decline(client, "%s is above what the keeper's hard rlimits allow",
			sandbox_limit_names[index]);
		wire_request_free(&req);
		return false;
	}
	/* Forked from the cell's preloader only when it is the one the run
	 * asks for; otherwise executed, and the answer says so. */
	bool preload_same = wire_preload_same(&k->shape.preload, &req.shape.preload);
	bool preload_missing = req.spec.preload && req.shape.preload.program && !preload_same;
	req.spec.preload = req.spec.preload && preload_same;
	req.spec.last_run = true;   /* used once: init exits as it reports */
	sandbox_trace("keep: request read");

	pthread_mutex_lock(&k->lock);
	bool stop = k->stopping;
	if (!stop) {
		w->client = client;
		w->cell = cell;
		w->run_id++;
		w->cancelled = false;
		k->running++;
	}
	pthread_mutex_unlock(&k->lock);
	if (stop) {
		decline(client, "the keeper is stopping");
		wire_request_free(&req);
		return false;
	}
	/* Once: a hang-up is reported until the connection leaves the set. */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT,
				  .data.u64 = watch_key(w) };
	epoll_ctl(k->epfd, EPOLL_CTL_ADD, client, &ev);

	struct sandbox_result r;
	sandbox_result_init(&r);
	int rc = sandbox_cell_run(cell, &req.spec, &r);

	epoll_ctl(k->epfd, EPOLL_CTL_DEL, client, NULL);
	pthread_mutex_lock(&k->lock);
	w->cell = NULL;
	w->client = -1;
	bool cancelled = w->cancelled;
	stop = k->stopping;
	k->running--;
	pthread_cond_broadcast(&k->changed);
	k->served++;
	unsigned long n = k->served;
	pthread_mutex_unlock(&k->lock);
	/* Nothing of the run is left when the client hears of it: every
	 * process of it is gone (init reaps them before it reports), and the
	 * cgroup is removed here; init's namespaces are torn down meanwhile. */
	sandbox_cell_end(cell);
	if (rc < 0)
		decline(client, "%s", r.message[0] ? r.message : strerror(-rc));
	else if (!cancelled) {
		if (stop && r.status == SANDBOX_INTERNAL_ERROR)
			snprintf(r.message, sizeof(r.message),
				 "runcell keep was stopped during the run; the program was ended");
		answer(client, &r, preload_missing);
		sandbox_trace("keep: answered");
	}
	/* The rest (reaping init, building the next cell) waits until the
	 * client has gone, so that it takes no CPU from the client's last
	 * steps (printing, exiting), which its user waits for too. */
	if (!cancelled)
		await_hangup(k, client);
	sandbox_cell_close(cell);
	log_info("keep: run %lu: %s%s", n, rc < 0 ? "declined: " : sandbox_status_name(r.status),
		 rc < 0 ? r.message : cancelled ? " (client gone, run ended)" : "");
	wire_request_free(&req);
	sandbox_result_free(&r);
	return true;
}

static void first_built(struct worker *w, int rc, const char *why)
{
	pthread_mutex_lock(&w->k->lock);
	if (!w->first_done) {
		w->first_rc = rc;
		snprintf(w->first_why, sizeof(w->first_why), "%s", why);
		w->first_done = true;
		pthread_cond_broadcast(&w->k->first_built);
	}
	pthread_mutex_unlock(&w->k->lock);
}

/* A build competes with the runs in progress (locks in the kernel, its
 * CPU): while a run is in progress and another cell waits ready for the
 * next one, it waits. */
static void defer_build(struct keeper *k)
{
	pthread_mutex_lock(&k->lock);
	while (!k->stopping && k->running > 0 && k->ready > 0)
		pthread_cond_wait(&k->changed, &k->lock);
	pthread_mutex_unlock(&k->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct keeper *k = w->k;
	struct sandbox_cell *cell = NULL;
	unsigned backoff_ms = 0;
	while (!stopping(k)) {
		if (!cell || !sandbox_cell_usable(cell)) {
			sandbox_cell_close(cell);
			cell = NULL;
			defer_build(k);
			char why[512];
			int rc = sandbox_cell_open(&k->shape, &cell, why, sizeof(why));
			first_built(w, rc, why);
			if (rc < 0) {
				cell = NULL;
				/* Transient (a slot, memory): wait a little, up to 1 s. */
				log_error("keep: cannot build a cell: %s", why);
				backoff_ms = backoff_ms ? (backoff_ms * 2 > 1000 ? 1000 : backoff_ms * 2) : 10;
				struct timespec ts = { 0, (long)backoff_ms * 1000000L };
				nanosleep(&ts, NULL);
				continue;
			}
			backoff_ms = 0;
		}
		pthread_mutex_lock(&k->lock);
		k->ready++;
		pthread_cond_broadcast(&k->changed);
		pthread_mutex_unlock(&k->lock);
		int client = accept4(k->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		pthread_mutex_lock(&k->lock);
		k->ready--;
		pthread_cond_broadcast(&k->changed);
		pthread_mutex_unlock(&k->lock);
		if (client < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
			    errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				if (errno != EINTR && errno != ECONNABORTED)
					nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
				continue;
			}
			break;  /* the socket was shut down: stopping */
		}
		if (serve_one(w, cell, client))
			cell = NULL;
		close(client);
	}
	sandbox_cell_close(cell);
	return NULL;
}

/* Cancels the runs whose clients hung up, and, when stopping, all. */
static void *watcher_main(void *arg)
{
	struct keeper *k = arg;
	for (;;) {
		struct epoll_event evs[KEEPER_CELLS_MAX + 1];
		int n = epoll_wait(k->epfd, evs, KEEPER_CELLS_MAX + 1, -1);
		pthread_mutex_lock(&k->lock);
		bool stop = k->stopping;
		for (int i = 0; i < n && !stop; i++) {
			if (evs[i].data.u64 == WATCH_WAKE)
				continue;
			struct worker *w = &k->workers[evs[i].data.u64 & 0xff];
			/* The client sends nothing after its request: anything
			 * readable is its hang-up.  Still the same run? */
			if (w->cell && watch_key(w) == evs[i].data.u64 && !w->cancelled) {
				w->cancelled = true;
				sandbox_cell_cancel(w->cell);
			}
		}
		for (unsigned i = 0; stop && i < k->ncells; i++)
			if (k->workers[i].cell && !k->workers[i].cancelled)
				sandbox_cell_cancel(k->workers[i].cell);  /* answered as stopped */
		pthread_mutex_unlock(&k->lock);
		if (stop)
			return NULL;
	}
}

/* The socket: refuses to take one a live keeper listens on, replaces a
 * stale one (a keeper that was killed). */
static int listen_on(const char *path, char *why, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, len, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	if (!strcmp(path, KEEPER_SOCKET_DEFAULT) && mkdir("/run/runcell", 0700) < 0 &&
	    errno != EEXIST) {
		snprintf(why, len, "cannot create /run/runcell: %s", strerror(errno));
		return -errno;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, len, "socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		snprintf(why, len, "another keeper is serving %s", path);
		return -EADDRINUSE;
	}
	if (errno == ECONNREFUSED)
		unlink(path);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, len, "socket: %s", strerror(errno));
		return -errno;
	}
	mode_t old = umask(077);  /* never a moment with the socket open to all */
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		int err = errno;
		snprintf(why, len, "cannot listen on %s: %s", path, strerror(err));
		close(fd);
		return -err;
	}
	return fd;
}

int keeper_serve(const struct keeper_config *cfg, char *why, size_t len)
{
	const char *path = cfg->socket_path ? cfg->socket_path : KEEPER_SOCKET_DEFAULT;
	if (cfg->cells < 1 || cfg->cells > KEEPER_CELLS_MAX) {
		snprintf(why, len, "cells must be 1..%d", KEEPER_CELLS_MAX);
		return -EINVAL;
	}
	static struct keeper k;
	memset(&k, 0, sizeof(k));
	k.shape = cfg->shape;
	k.shape.reexec = true;  /* several threads */
	k.shape.lazy = false;   /* built ahead: that is the point */
	k.shape.ahead = true;
	k.ncells = cfg->cells;
	pthread_mutex_init(&k.lock, NULL);
	pthread_cond_init(&k.first_built, NULL);
	pthread_cond_init(&k.changed, NULL);
	k.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (k.epfd < 0 || pipe2(k.wake, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(stop_pipe, O_CLOEXEC) < 0) {
		snprintf(why, len, "cannot set up: %s", strerror(errno));
		return -errno;
	}
	struct epoll_event wake_ev = { .events = EPOLLIN, .data.u64 = WATCH_WAKE };
	epoll_ctl(k.epfd, EPOLL_CTL_ADD, k.wake[0], &wake_ev);
	int rc = listen_on(path, why, len);
	if (rc < 0)
		goto out_pipes;
	k.listen_fd = rc;

	/* The threads take no signal: the caller's handler calls keeper_stop. */
	sigset_t all, old;
	sigemptyset(&all);
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&all, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_t watcher;
	bool watching = pthread_create(&watcher, NULL, watcher_main, &k) == 0;
	rc = watching ? 0 : -EAGAIN;
	for (unsigned i = 0; rc == 0 && i < k.ncells; i++) {
		struct worker *w = &k.workers[i];
		w->k = &k;
		w->client = -1;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			rc = -EAGAIN;
		else
			w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0)
		snprintf(why, len, "cannot start the keeper's threads");

	/* Every cell built once, or the first failure. */
	pthread_mutex_lock(&k.lock);
	for (unsigned i = 0; rc == 0 && i < k.ncells; i++) {
		while (!k.workers[i].first_done)
			pthread_cond_wait(&k.first_built, &k.lock);
		if (k.workers[i].first_rc < 0) {
			rc = k.workers[i].first_rc;
			snprintf(why, len, "cannot build a cell: %.500s", k.workers[i].first_why);
		}
	}
	pthread_mutex_unlock(&k.lock);
	if (rc == 0) {
		log_info("keep: %u cells ready on %s", k.ncells, path);
		char x;
		ssize_t n;
		do
			n = read(stop_pipe[0], &x, 1);
		while (n < 0 && errno == EINTR);
	}

	pthread_mutex_lock(&k.lock);
	k.stopping = true;
	pthread_cond_broadcast(&k.changed);
	pthread_mutex_unlock(&k.lock);
	shutdown(k.listen_fd, SHUT_RDWR);  /* wakes the threads in accept */
	poke(&k);
	if (watching)
		pthread_join(watcher, NULL);
	for (unsigned i = 0; i < k.ncells; i++)
		if (k.workers[i].started)
			pthread_join(k.workers[i].thread, NULL);
	unlink(path);
	close(k.listen_fd);
	log_info("keep: stopped after %lu runs", k.served);
out_pipes:
	close(k.wake[0]);
	close(k.wake[1]);
	close(k.epfd);
	close(stop_pipe[0]);
	int w = stop_pipe[1];
	stop_pipe[1] = -1;
	close(w);
	return rc;
}
