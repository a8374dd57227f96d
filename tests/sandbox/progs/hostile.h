/*
 * hostile.h: small helpers shared by the hostile programs of the sandbox
 * suite.  Each check prints one line ("good ..." or "BAD ...") and counts
 * the bad ones, so a program ends with hs_done() and exits 1 when the cell
 * let something through; the driver shows the lines on failure.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int hs_bad;

/* The call must fail; with errno one of the listed values when any given
 * (a list ends with 0). */
static void __attribute__((unused))
hs_fails(const char *what, long ret, int err, ...)
{
	if (ret >= 0) {
		printf("BAD %s: succeeded (%ld)\n", what, ret);
		hs_bad++;
		return;
	}
	va_list ap;
	va_start(ap, err);
	int want = va_arg(ap, int);
	int any = want == 0, ok = any;
	while (want != 0) {
		if (want == err)
			ok = 1;
		want = va_arg(ap, int);
	}
	va_end(ap);
	if (ok) {
		printf("good %s: %s\n", what, strerror(err));
	} else {
		printf("BAD %s: unexpected errno %d (%s)\n", what, err, strerror(err));
		hs_bad++;
	}
}

static void __attribute__((unused))
hs_check(const char *what, int cond)
{
	printf("%s %s\n", cond ? "good" : "BAD", what);
	if (!cond)
		hs_bad++;
}

static int __attribute__((unused))
hs_done(void)
{
	printf("%s\n", hs_bad ? "bad" : "clean");
	fflush(stdout);
	return hs_bad ? 1 : 0;
}

/* Seconds of CPU used by this process (all threads) or thread. */
static double __attribute__((unused))
hs_cpu(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void __attribute__((unused))
hs_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Queues fd on unix socket s (SCM_RIGHTS), with one byte: a socket that
 * carries itself this way is freed only by the kernel's unix collector. */
static int __attribute__((unused))
hs_carry(int s, int fd)
{
	char byte = 'x', ctl[CMSG_SPACE(sizeof(int))];
	memset(ctl, 0, sizeof(ctl));
	struct iovec io = { &byte, 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	return sendmsg(s, &m, 0) == 1 ? 0 : -1;
}

#define HS_FAILS(what, call, ...) do { errno = 0; long hs_r_ = (long)(call); \
	hs_fails(what, hs_r_, errno, __VA_ARGS__, 0); } while (0)

#endif
