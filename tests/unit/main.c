/*
 * main.c: the unit-test runner (build/test-unit).
 *
 *   test-unit                 run every registered case
 *   test-unit NAME...         run only these cases
 *   test-unit --list          print the case names
 *   test-unit --no-fork NAME  run in this process (for a debugger)
 *
 * Each case runs in a forked child in its own process group, with a
 * timeout (TEST_TIMEOUT seconds, default 60).  A failing ASSERT writes
 * "file:line: message" into a pipe and exits; a crash, a non-zero exit or
 * a timeout is reported too.  Output: "ok NAME", "FAIL NAME: reason" or
 * "skip NAME: reason" per case, then "N skipped" when some were, then
 * "N passed, N failed"; the exit status is 1 if any case failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "test.h"

struct test_case {
	const char *name;
	test_fn fn;
	const char *file;
	int line;
};

static struct test_case *test_cases;
static size_t test_count, test_alloc;
static int test_report_fd = -1; /* child's end of the failure pipe; -1: in-process */

#define TEST_SKIP_STATUS 77 /* a child that exits so, with a reason, skipped */

enum test_outcome { TEST_PASSED, TEST_FAILED, TEST_SKIPPED };

void test_register(const char *name, test_fn fn, const char *file, int line)
{
	if (test_count == test_alloc) {
		test_alloc = test_alloc ? test_alloc * 2 : 64;
		test_cases = realloc(test_cases, test_alloc * sizeof(*test_cases));
		if (!test_cases) {
			perror("test-unit: realloc");
			exit(2);
		}
	}
	test_cases[test_count++] = (struct test_case){ name, fn, file, line };
}

/* Sends msg (made one line) to the runner and ends the child with
 * status; in-process, prints it and exits. */
static void test_report(char *msg, int status) __attribute__((noreturn));
static void test_report(char *msg, int status)
{
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fflush(stdout);
	if (test_report_fd >= 0) {
		size_t len = strlen(msg), off = 0;
		while (off < len) {
			ssize_t w = write(test_report_fd, msg + off, len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		_exit(status);
	}
	fprintf(stderr, "%s\n", msg);
	exit(status);
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "%s:%d: ", file, line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	test_report(msg, 1);
}

void test_skip(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	test_report(msg, TEST_SKIP_STATUS);
}

const char *test_quote(const void *data, size_t len, char *out, size_t outsz)
{
	const unsigned char *s = data;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char tmp[8];
		unsigned char c = s[i];
		if (c == '\n')
			strcpy(tmp, "\\n");
		else if (c == '\\')
			strcpy(tmp, "\\\\");
		else if (c == '"')
			strcpy(tmp, "\\\"");
		else if (c >= 0x20 && c < 0x7F)
			tmp[0] = (char)c, tmp[1] = '\0';
		else
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		size_t tn = strlen(tmp);
		if (o + tn + 4 >= outsz) {
			if (o + 4 <= outsz) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, tmp, tn);
		o += tn;
	}
	if (outsz)
		out[o < outsz ? o : outsz - 1] = '\0';
	return out;
}

static const struct test_case *test_find(const char *name)
{
	for (size_t i = 0; i < test_count; i++)
		if (!strcmp(test_cases[i].name, name))
			return &test_cases[i];
	return NULL;
}

static long test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Runs one case in a child. */
static enum test_outcome test_run_forked(const struct test_case *tc, int timeout_s)
{
	int fds[2];
	if (pipe(fds) < 0) {
		printf("FAIL %s: pipe: %s\n", tc->name, strerror(errno));
		return TEST_FAILED;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		printf("FAIL %s: fork: %s\n", tc->name, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return TEST_FAILED;
	}
	if (pid == 0) {
		setpgid(0, 0);
		close(fds[0]);
		test_report_fd = fds[1];
		tc->fn();
		fflush(stdout);
		fflush(stderr);
		_exit(0);
	}
	setpgid(pid, pid);
	close(fds[1]);

	char msg[1100];
	size_t mlen = 0;
	bool timed_out = false, exited = false, eof = false;
	int status = 0;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	long deadline = test_now_ms() + timeout_s * 1000L;
	while (!exited) {
		long left = deadline - test_now_ms();
		if (left <= 0) {
			timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		if (!eof) {
			struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
			poll(&pfd, 1, (int)(left > 50 ? 50 : left));
		} else {
			usleep(10000);
		}
		/* Read what is there; EOF alone does not end the case. */
		while (!eof && mlen < sizeof(msg) - 1) {
			ssize_t n = read(fds[0], msg + mlen, sizeof(msg) - 1 - mlen);
			if (n > 0)
				mlen += (size_t)n;
			else if (n == 0)
				eof = true;
			else if (errno != EINTR)
				break;
		}
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			exited = true;
	}
	if (exited) {
		/* The child's last words, written just before it exited. */
		while (mlen < sizeof(msg) - 1) {
			ssize_t n = read(fds[0], msg + mlen, sizeof(msg) - 1 - mlen);
			if (n <= 0)
				break;
			mlen += (size_t)n;
		}
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	msg[mlen] = '\0';
	close(fds[0]);
	/* Leftover grandchildren must not outlive their case. */
	kill(-pid, SIGKILL);

	if (timed_out) {
		printf("FAIL %s: timed out after %d s\n", tc->name, timeout_s);
		return TEST_FAILED;
	}
	if (mlen && WIFEXITED(status) && WEXITSTATUS(status) == TEST_SKIP_STATUS) {
		printf("skip %s: %s\n", tc->name, msg);
		return TEST_SKIPPED;
	}
	if (mlen) {
		printf("FAIL %s: %s\n", tc->name, msg);
		return TEST_FAILED;
	}
	if (WIFSIGNALED(status)) {
		printf("FAIL %s: killed by signal %d (%s)\n", tc->name, WTERMSIG(status),
		       strsignal(WTERMSIG(status)));
		return TEST_FAILED;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		printf("FAIL %s: exited with status %d\n", tc->name, WEXITSTATUS(status));
		return TEST_FAILED;
	}
	printf("ok %s\n", tc->name);
	return TEST_PASSED;
}

int main(int argc, char **argv)
{
	/* A cell opened with config.reexec runs its init as this binary. */
	if (argc > 0 && !strcmp(argv[0], SANDBOX_INIT_ARGV0))
		sandbox_init_main(argc, argv);
	bool no_fork = false;
	int first = 1;
	for (; first < argc && argv[first][0] == '-'; first++) {
		if (!strcmp(argv[first], "--list")) {
			for (size_t i = 0; i < test_count; i++)
				printf("%s\n", test_cases[i].name);
			return 0;
		} else if (!strcmp(argv[first], "--no-fork")) {
			no_fork = true;
		} else {
			fprintf(stderr, "usage: %s [--list] [--no-fork] [NAME...]\n", argv[0]);
			return 2;
		}
	}
	int timeout_s = 60;
	const char *t = getenv("TEST_TIMEOUT");
	if (t && atoi(t) > 0)
		timeout_s = atoi(t);

	const struct test_case **run = calloc(test_count + (size_t)argc, sizeof(*run));
	size_t nrun = 0;
	if (!run)
		return 2;
	if (first == argc) {
		for (size_t i = 0; i < test_count; i++)
			run[nrun++] = &test_cases[i];
	} else {
		for (int i = first; i < argc; i++) {
			const struct test_case *tc = test_find(argv[i]);
			if (!tc) {
				fprintf(stderr, "test-unit: no test named '%s' (see --list)\n", argv[i]);
				return 2;
			}
			run[nrun++] = tc;
		}
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	unsigned passed = 0, failed = 0, skipped = 0;
	for (size_t i = 0; i < nrun; i++) {
		if (no_fork) {
			run[i]->fn();
			printf("ok %s\n", run[i]->name);
			passed++;
			continue;
		}
		enum test_outcome o = test_run_forked(run[i], timeout_s);
		if (o == TEST_PASSED)
			passed++;
		else if (o == TEST_FAILED)
			failed++;
		else
			skipped++;
	}
	free(run);
	if (skipped)
		printf("%u skipped\n", skipped);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
