/*
 * client: see client.h.
 *
 * Everything before the keeper answers is cheap to undo: no keeper, a
 * request too large for one, a keeper that declines, and runcell run
 * builds its own cell as if there were none.  Once the request is sent
 * the keeper may be running it, so from then on a failure is the run's
 * internal_error, never a second run.
 */
#include "keeper/client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>


/* After an interrupt: how long to wait for the keeper to end the run and
 * remove its cell (it closes the connection then). */
#define KEEPER_CANCEL_WAIT_MS 5000

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc;
	do
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int recv_stream(int fd, struct buf *b, uint64_t len, size_t cap)
{
	if (len > cap)
		return -EPROTO;
	buf_init(b, cap);
	char chunk[65536];
	while (len > 0) {
		size_t k = len < sizeof(chunk) ? (size_t)len : sizeof(chunk);
		int rc = wire_recv_all(fd, chunk, k, false);
		if (rc < 0)
			return rc;
		if (buf_append(b, chunk, k) < 0)
			return -ENOMEM;
		len -= k;
	}
	return 0;
}

/* An interrupted wait: tell the keeper (half-close), and wait until it has
 * ended the run and removed the cell (it closes the connection). */
static void cancel_run(int fd)
{
	shutdown(fd, SHUT_WR);
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	for (int waited = 0; waited < KEEPER_CANCEL_WAIT_MS; waited += 100) {
		if (poll(&pf, 1, 100) <= 0)
			continue;
		char drain[4096];
		ssize_t n = recv(fd, drain, sizeof(drain), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return;
	}
}

static int broke(struct sandbox_result *r, int rc, const char *what)
{
	r->status = SANDBOX_INTERNAL_ERROR;
	r->exit_code = -1;
	r->signal = 0;
	snprintf(r->message, sizeof(r->message), "runcell keep: %s (%s)", what,
		 rc == -ENODATA ? "connection closed" : strerror(-rc));
	return rc < 0 ? rc : -EIO;
}

int keeper_run(const char *socket_path, const struct sandbox_cell_config *shape,
	       const struct sandbox_run_spec *spec, struct sandbox_result *r, char *why,
	       size_t len)
{
	const char *path = socket_path ? socket_path : KEEPER_SOCKET_DEFAULT;
	/* Encoded before the connect, so that the request follows it at once:
	 * the connect wakes a keeper thread, which would otherwise wait for
	 * the request and be woken a second time. */
	static int fds[WIRE_FDS_MAX];
	struct buf body;
	size_t nfds;
	int rc = wire_request_encode(shape, spec, &body, fds, &nfds);
	if (rc < 0) {
		snprintf(why, len, "the run is too large for a keeper: %s", strerror(-rc));
		return 0;
	}
	int fd = connect_to(path);
	if (fd < 0) {
		buf_free(&body);
		snprintf(why, len, "no keeper at %s: %s", path, strerror(-fd));
		return 0;
	}
	struct wire_request_head head = {
		.magic = WIRE_MAGIC,
		.version = WIRE_VERSION,
		.nfds = (uint32_t)nfds,
		.body_len = (uint32_t)body.len,
	};
	rc = wire_send_request(fd, &head, body.data, fds, nfds);
	buf_free(&body);
	if (rc < 0) {
		/* Not taken: the keeper reads a whole request before it runs it. */
		snprintf(why, len, "the keeper at %s did not take the run: %s", path,
			 strerror(-rc));
		close(fd);
		return 0;
	}
	struct wire_reply_head h;
	rc = wire_recv_all(fd, &h, sizeof(h), true);
	if (rc == -EINTR) {
		cancel_run(fd);
		close(fd);
		return broke(r, rc, "interrupted while the keeper ran the program");
	}
	if (rc == -ECONNRESET) {
		/* Closed with our request unread (a keeper stopping with this
		 * connection still queued): it took nothing, so nothing ran. */
		snprintf(why, len, "the keeper at %s closed without taking the run", path);
		close(fd);
		return 0;
	}
	if (rc == 0 && h.magic != WIRE_MAGIC)
		rc = -EPROTO;
	if (rc < 0) {
		close(fd);
		return broke(r, rc, "the keeper broke off during the run");
	}
	h.message[sizeof(h.message) - 1] = '\0';
	if (!h.served) {
		snprintf(why, len, "the keeper at %s declined: %s", path, h.message);
		close(fd);
		return 0;
	}
	size_t cap = (size_t)spec->limits.output_kb * 1024;
	buf_free(&r->out);
	buf_free(&r->err);
	rc = recv_stream(fd, &r->out, h.out_len, cap);
	if (rc == 0)
		rc = recv_stream(fd, &r->err, h.err_len, cap);
	if (rc < 0) {
		close(fd);
		return broke(r, rc, "the keeper broke off while sending the output");
	}
	/* Left open: the keeper removes the rest of the cell and builds the
	 * next one when this process has exited (its exit closes it). */
	r->out.truncated = h.out_truncated;
	r->err.truncated = h.err_truncated;
	r->status = (enum sandbox_status)h.status;
	r->exit_code = h.exit_code;
	r->signal = h.signal;
	r->cpu_ms = h.cpu_ms;
	r->wall_ms = h.wall_ms;
	r->memory_kb = h.memory_kb;
	r->preloaded = h.preloaded;
	snprintf(r->message, sizeof(r->message), "%s", h.message);
	why[0] = '\0';
	if (h.preload_missing)
		snprintf(why, len, "the keeper's cells have no preloader for %s",
			 shape->preload.program ? shape->preload.program : "it");
	if (h.status < 0 || h.status > SANDBOX_INTERNAL_ERROR)
		return broke(r, -EPROTO, "the keeper's answer is not a result");
	return 1;
}
