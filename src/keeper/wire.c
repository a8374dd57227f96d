/*
 * wire: see wire.h.  The body is a sequence of fields: u64 numbers and
 * strings as a u32 length and bytes (no NUL); a NULL string list is the
 * count UINT32_MAX.  Every read checks what is left, so a short or forged
 * body is -EPROTO, never a read past it.
 */
#include "keeper/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>


#define NO_LIST UINT32_MAX

/* ---- the socket -------------------------------------------------------- */

int wire_send_all(int sock, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(sock, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One sendmsg of iov with n descriptors; *sent (if asked) is how much of
 * iov went, else all of it must. */
static int send_with_fds(int sock, struct iovec *iov, int niov, const int *fds, size_t n,
			 size_t *sent)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_FDS_PER_PACKET)];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)niov };
	if (n > 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	ssize_t r;
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	size_t total = 0;
	for (int i = 0; i < niov; i++)
		total += iov[i].iov_len;
	if (sent)
		*sent = (size_t)r;
	else if ((size_t)r != total)
		return -EMSGSIZE;
	return 0;
}

/* Takes what SCM_RIGHTS brought: up to max into fds (counted in *got),
 * the rest closed; returns how many came in all. */
static size_t take_fds(struct msghdr *mh, int *fds, size_t max, size_t *got)
{
	size_t all = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t m = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *in = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < m; i++, all++) {
			if (*got < max)
				fds[(*got)++] = in[i];
			else
				close(in[i]);
		}
	}
	return all;
}

/* One recvmsg into buf, EINTR retried unless stop_on_eintr; what came by
 * SCM_RIGHTS as take_fds takes it, *came saying how many came in all.
 * Returns the bytes read, or -errno (-EPROTO when descriptors were cut). */
static ssize_t recv_once(int sock, void *buf, size_t len, bool stop_on_eintr, int *fds,
			 size_t max, size_t *got, size_t *came)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_FDS_PER_PACKET)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR && !stop_on_eintr);
	if (n < 0)
		return -errno;
	*came = take_fds(&mh, fds, max, got);
	return mh.msg_flags & MSG_CTRUNC ? -EPROTO : n;
}

int wire_recv_all(int sock, void *data, size_t len, bool stop_on_eintr)
{
	char *p = data;
	while (len > 0) {
		size_t none = 0, came;
		ssize_t n = recv_once(sock, p, len, stop_on_eintr, NULL, 0, &none, &came);
		if (n < 0)
			return (int)n;
		if (came)
			return -EPROTO;  /* descriptors where none belong (closed) */
		if (n == 0)
			return -ENODATA;  /* the peer closed early */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Descriptors in one-byte packets of at most WIRE_FDS_PER_PACKET. */
static int send_fd_packets(int sock, const int *fds, size_t n)
{
	while (n > 0) {
		size_t k = n < WIRE_FDS_PER_PACKET ? n : WIRE_FDS_PER_PACKET;
		char one = 'F';
		struct iovec iov = { .iov_base = &one, .iov_len = 1 };
		int rc = send_with_fds(sock, &iov, 1, fds, k, NULL);
		if (rc < 0)
			return rc;
		fds += k;
		n -= k;
	}
	return 0;
}

int wire_send_request(int sock, const struct wire_request_head *head, const void *body,
		      const int *fds, size_t nfds)
{
	size_t first = nfds < WIRE_FDS_PER_PACKET ? nfds : WIRE_FDS_PER_PACKET;
	struct iovec iov[2] = {
		{ .iov_base = (void *)head, .iov_len = sizeof(*head) },
		{ .iov_base = (void *)body, .iov_len = head->body_len },
	};
	size_t sent;
	int rc = send_with_fds(sock, iov, 2, fds, first, &sent);
	size_t total = sizeof(*head) + head->body_len;
	/* A stream socket may take part of a large body: the rest follows. */
	if (rc == 0 && sent < total) {
		size_t skip = sent - (sent >= sizeof(*head) ? sizeof(*head) : sent);
		if (sent < sizeof(*head))
			rc = wire_send_all(sock, (const char *)head + sent, sizeof(*head) - sent);
		if (rc == 0)
			rc = wire_send_all(sock, (const char *)body + skip, head->body_len - skip);
	}
	return rc == 0 ? send_fd_packets(sock, fds + first, nfds - first) : rc;
}

int wire_recv_head(int sock, struct wire_request_head *head, int *fds, size_t max,
		   size_t *nfds)
{
	char *p = (char *)head;
	size_t left = sizeof(*head);
	*nfds = 0;
	bool first = true;
	while (left > 0) {
		/* Descriptors come with the first bytes only. */
		size_t allowed = first ? max : 0, came;
		ssize_t n = recv_once(sock, p, left, false, fds, allowed, nfds, &came);
		int rc = n < 0 ? (int)n : n == 0 ? -ENODATA : came > allowed ? -EPROTO : 0;
		if (rc < 0) {
			for (size_t i = 0; i < *nfds; i++)
				close(fds[i]);
			*nfds = 0;
			return rc;
		}
		first = false;
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

int wire_recv_fds(int sock, int *fds, size_t n)
{
	size_t got = 0;
	int rc = 0;
	while (got < n && rc == 0) {
		size_t k = n - got < WIRE_FDS_PER_PACKET ? n - got : WIRE_FDS_PER_PACKET, came;
		char one;
		ssize_t r = recv_once(sock, &one, 1, false, fds, got + k, &got, &came);
		if (r <= 0)
			rc = r < 0 ? (int)r : -ENODATA;
		else if (came != k || one != 'F')
			rc = -EPROTO;
	}
	if (rc < 0)
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
	return rc;
}

/* ---- the body ------------------------------------------------------------ */

static int put_u64(struct buf *b, uint64_t v)
{
	return buf_append(b, &v, sizeof(v));
}

static int put_str(struct buf *b, const char *s)
{
	size_t len = strlen(s);
	if (len > WIRE_REQUEST_MAX)
		return -E2BIG;
	uint32_t n = (uint32_t)len;
	int rc = buf_append(b, &n, sizeof(n));
	return rc < 0 ? rc : buf_append(b, s, len);
}

static int put_list(struct buf *b, const char *const *list)
{
	uint32_t n = 0;
	if (!list)
		n = NO_LIST;
	else
		while (list[n])
			n++;
	int rc = buf_append(b, &n, sizeof(n));
	for (uint32_t i = 0; rc == 0 && list && i < n; i++)
		rc = put_str(b, list[i]);
	return rc;
}

int wire_request_encode(const struct sandbox_cell_config *shape,
			const struct sandbox_run_spec *spec, struct buf *body, int *fds,
			size_t *nfds)
{
	buf_init(body, WIRE_REQUEST_MAX);
	size_t n = 0;
	int rc = put_u64(body, shape->net);
	if (rc == 0)
		rc = put_u64(body, (uint64_t)shape->cgroup);
	if (rc == 0)
		rc = put_u64(body, shape->nbinds);
	for (size_t i = 0; rc == 0 && i < shape->nbinds; i++) {
		const struct sandbox_bind *b = &shape->binds[i];
		rc = put_str(body, b->host);
		if (rc == 0)
			rc = put_str(body, b->cell ? b->cell : "");
		if (rc == 0)
			rc = put_u64(body, b->rw);
	}
	/* The preloader the run would be forked from: which binary, for
	 * which interpreter ("" for none). */
	if (rc == 0)
		rc = put_str(body, shape->preload.server ? shape->preload.server : "");
	if (rc == 0)
		rc = put_str(body, shape->preload.program ? shape->preload.program : "");
	for (size_t i = 0; rc == 0 && i < SANDBOX_LIMIT_COUNT; i++)
		rc = put_u64(body, sandbox_limit_get(&spec->limits, i));
	if (rc == 0)
		rc = put_u64(body, spec->preload);
	if (rc == 0)
		rc = put_u64(body, spec->stdin_fd >= 0);
	if (rc == 0 && spec->stdin_fd >= 0)
		fds[n++] = spec->stdin_fd;
	if (rc == 0)
		rc = put_str(body, spec->cwd ? spec->cwd : "");
	if (rc == 0)
		rc = put_list(body, spec->argv);
	if (rc == 0)
		rc = put_list(body, spec->env);
	if (rc == 0)
		rc = put_u64(body, spec->nfiles);
	for (size_t i = 0; rc == 0 && i < spec->nfiles; i++) {
		const struct sandbox_file *f = &spec->files[i];
		bool has_fd = f->fd >= 0;
		rc = put_str(body, f->path);
		if (rc == 0)
			rc = put_u64(body, (uint64_t)f->mode | (uint64_t)f->readonly << 32 |
					   (uint64_t)has_fd << 33);
		if (rc == 0 && has_fd) {
			if (n >= WIRE_FDS_MAX)
				rc = -E2BIG;
			else
				fds[n++] = f->fd;
		} else if (rc == 0 && !S_ISDIR(f->mode)) {
			rc = put_u64(body, f->len);
			if (rc == 0)
				rc = buf_append(body, f->data, f->len);
		}
	}
	if (rc == -ENOSPC)
		rc = -E2BIG;
	if (rc < 0) {
		buf_free(body);
		return rc;
	}
	*nfds = n;
	return 0;
}

struct reader {
	char *p;
	size_t left;
};

static int get_bytes(struct reader *r, void *v, size_t n)
{
	if (r->left < n)
		return -EPROTO;
	memcpy(v, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

static int get_u64(struct reader *r, uint64_t *v)
{
	return get_bytes(r, v, sizeof(*v));
}

static int get_u32(struct reader *r, uint32_t *v)
{
	return get_bytes(r, v, sizeof(*v));
}

/* Strings are made NUL-terminated in place by moving each one back over
 * its length prefix. */
static int get_str(struct reader *r, const char **s)
{
	uint32_t n;
	if (get_u32(r, &n) < 0 || r->left < n || memchr(r->p, '\0', n))
		return -EPROTO;
	char *start = r->p - sizeof(n);
	memmove(start, r->p, n);
	start[n] = '\0';  /* within the string's old bytes, never the next field */
	r->p += n;
	r->left -= n;
	*s = start;
	return 0;
}

static int get_list(struct reader *r, const char ***list)
{
	uint32_t n;
	if (get_u32(r, &n) < 0)
		return -EPROTO;
	*list = NULL;
	if (n == NO_LIST)
		return 0;
	if (n > r->left / sizeof(uint32_t))
		return -EPROTO;
	const char **l = calloc((size_t)n + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	*list = l;
	for (uint32_t i = 0; i < n; i++)
		if (get_str(r, &l[i]) < 0)
			return -EPROTO;
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

bool wire_shape_equal(const struct sandbox_cell_config *a, const struct sandbox_cell_config *b)
{
	if (a->net != b->net || a->cgroup != b->cgroup || a->nbinds != b->nbinds)
		return false;
	for (size_t i = 0; i < a->nbinds; i++)
		if (!same_str(a->binds[i].host, b->binds[i].host) ||
		    !same_str(a->binds[i].cell, b->binds[i].cell) ||
		    a->binds[i].rw != b->binds[i].rw)
			return false;
	return true;
}

bool wire_preload_same(const struct sandbox_preload *a, const struct sandbox_preload *b)
{
	return a->server && b->server && a->program && b->program && !strcmp(a->server, b->server) &&
	       !strcmp(a->program, b->program);
}

int wire_request_decode(char *body, size_t len, int *fds, size_t nfds, struct wire_request *req)
{
	memset(req, 0, sizeof(*req));
	req->body = body;
	req->fds = fds;
	req->nfds = nfds;
	struct sandbox_run_spec *spec = &req->spec;
	struct reader r = { body, len };
	size_t used = 0;
	uint64_t v;
	if (get_u64(&r, &v) < 0 || v > 1)
		return -EPROTO;
	req->shape.net = v;
	if (get_u64(&r, &v) < 0 || v > SANDBOX_CGROUP_NONE)
		return -EPROTO;
	req->shape.cgroup = (enum sandbox_cgroup_mode)v;
	if (get_u64(&r, &v) < 0 || v > r.left / (2 * sizeof(uint32_t) + sizeof(uint64_t)))
		return -EPROTO;
	if (v) {
		req->binds = calloc(v, sizeof(*req->binds));
		if (!req->binds)
			return -ENOMEM;
	}
	req->shape.binds = req->binds;
	req->shape.nbinds = v;
	for (size_t i = 0; i < req->shape.nbinds; i++) {
		struct sandbox_bind *b = &req->binds[i];
		uint64_t rw;
		if (get_str(&r, &b->host) < 0 || get_str(&r, &b->cell) < 0 ||
		    get_u64(&r, &rw) < 0 || rw > 1)
			return -EPROTO;
		if (!b->cell[0])
			b->cell = NULL;
		b->rw = rw;
	}
	if (get_str(&r, &req->shape.preload.server) < 0 ||
	    get_str(&r, &req->shape.preload.program) < 0)
		return -EPROTO;
	if (!req->shape.preload.server[0] || !req->shape.preload.program[0])
		req->shape.preload = (struct sandbox_preload){ 0 };
	for (size_t i = 0; i < SANDBOX_LIMIT_COUNT; i++) {
		if (get_u64(&r, &v) < 0)
			return -EPROTO;
		sandbox_limit_set(&spec->limits, i, v);
	}
	if (get_u64(&r, &v) < 0 || v > 1)
		return -EPROTO;
	spec->preload = v;
	if (get_u64(&r, &v) < 0 || v > 1 || (v && used >= nfds))
		return -EPROTO;
	spec->stdin_fd = v ? fds[used++] : -1;
	if (get_str(&r, &spec->cwd) < 0)
		return -EPROTO;
	if (!spec->cwd[0])
		spec->cwd = NULL;
	int rc = get_list(&r, &req->argv);
	if (rc == 0)
		rc = get_list(&r, &req->env);
	if (rc < 0)
		return rc;
	spec->argv = req->argv;
	spec->env = req->env;
	if (get_u64(&r, &v) < 0 || v > r.left / (sizeof(uint32_t) + sizeof(uint64_t)))
		return -EPROTO;
	if (v) {
		req->files = calloc(v, sizeof(*req->files));
		if (!req->files)
			return -ENOMEM;
	}
	spec->files = req->files;
	spec->nfiles = v;
	for (size_t i = 0; i < spec->nfiles; i++) {
		struct sandbox_file *f = &req->files[i];
		uint64_t bits;
		if (get_str(&r, &f->path) < 0 || get_u64(&r, &bits) < 0)
			return -EPROTO;
		f->mode = (mode_t)(bits & 0xffffffffu);
		f->readonly = bits >> 32 & 1;
		f->fd = -1;
		if (bits >> 33 & 1) {
			if (used >= nfds)
				return -EPROTO;
			f->fd = fds[used++];
		} else if (!S_ISDIR(f->mode)) {
			if (get_u64(&r, &v) < 0 || v > r.left)
				return -EPROTO;
			f->data = r.p;
			f->len = v;
			r.p += v;
			r.left -= v;
		}
	}
	return r.left == 0 && used == nfds ? 0 : -EPROTO;
}

void wire_request_free(struct wire_request *req)
{
	for (size_t i = 0; i < req->nfds; i++)
		close(req->fds[i]);
	free(req->fds);
	free(req->argv);
	free(req->env);
	free(req->files);
	free(req->binds);
	free(req->body);
	memset(req, 0, sizeof(*req));
}
