/*
 * msg: one message over the SOCK_SEQPACKET socket between the supervisor
 * and a cell's init, with descriptors attached by SCM_RIGHTS.  Seqpacket
 * keeps message boundaries, so a message is never read half.
 */
#include "sandbox/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int sandbox__msg_send(int sock, const void *msg, size_t len, const int *fds, int nfds)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int) * CELL_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		if (nfds > CELL_MAX_FDS)
			return -EINVAL;
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n >= 0)
			return (size_t)n == len ? 0 : -EMSGSIZE;
		if (errno != EINTR)
			return -errno;
	}
}

ssize_t sandbox__msg_recv(int sock, void *msg, size_t cap, int *fds, int *nfds)
{
	struct iovec iov = { .iov_base = msg, .iov_len = cap };
	union {
		char buf[CMSG_SPACE(sizeof(int) * CELL_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	/* ECONNRESET means the peer closed with a message of ours unread (a
	 * one-shot init exits right after DONE, perhaps before it read a
	 * KILL).  The kernel says so once, ahead of what the peer sent,
	 * which is still queued: read on. */
	ssize_t n;
	int resets = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && (errno == EINTR || (errno == ECONNRESET && resets++ == 0)));
	int want = nfds ? *nfds : 0, got = 0;
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *in = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < k; i++) {
			if (got < want)
				fds[got++] = in[i];
			else
				close(in[i]);
		}
	}
	if (nfds)
		*nfds = got;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (int i = 0; i < got; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		return -EMSGSIZE;
	}
	if (n > 0 && (size_t)n < sizeof(struct cell_msg_hdr)) {
		for (int i = 0; i < got; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		return -EPROTO;
	}
	return n;
}

void sandbox__msg_send_failed(int sock, int err, bool bind_fault, const char *text)
{
	struct cell_failed_msg m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = CELL_MSG_FAILED;
	m.hdr.len = sizeof(m);
	m.err = err;
	m.bind_fault = bind_fault;
	snprintf(m.text, sizeof(m.text), "%s", text);
	sandbox__msg_send(sock, &m, sizeof(m), NULL, 0);
}
