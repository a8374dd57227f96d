/*
 * payload: the program's side of a run, in its own process between clone
 * and the program's first instruction.  Two callers: the cell's init,
 * which then execs the program, and a preloaded interpreter (preload.c),
 * which then runs a script in the interpreter it forked from.  Both get
 * the same confinement, in this order: join the cgroup (v1), new cgroup
 * namespace, setsid, stdio and close every other descriptor, rlimits,
 * working directory, drop to the cell uid with no groups (which clears
 * every capability), no_new_privs, seccomp.  A failure before the program
 * starts travels back on a close-on-exec pipe as a struct payload_report.
 *
 * Everything here only makes syscalls and writes nothing but its own
 * stack: init starts the process with a vfork-style clone that shares
 * init's memory until execve.
 */
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

pid_t sandbox__clone_vfork(int (*fn)(void *), void *arg)
{
	enum { STACK = 256 << 10, GUARD = 4096 };
	static char *stack;
	if (!stack) {
		char *m = mmap(NULL, STACK + GUARD, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (m == MAP_FAILED)
			return -1;
		/* An overflow faults instead of writing over init's memory. */
		if (mprotect(m, GUARD, PROT_NONE) < 0) {
			munmap(m, STACK + GUARD);
			return -1;
		}
		stack = m;
	}
#if defined(__SANITIZE_ADDRESS__)
	/* Frames of the last child that ended in execve never returned, so
	 * their redzones are still marked in the shadow init shares with the
	 * next child: ASan would report that child's own locals. */
	__asan_unpoison_memory_region(stack + GUARD, STACK);
#endif
	return clone(fn, stack + GUARD + STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
}

void sandbox__payload_fail(int fd, int stage, int err, const char *what)
{
	struct payload_report r;
	memset(&r, 0, sizeof(r));
	r.stage = stage;
	r.err = err;
	snprintf(r.what, sizeof(r.what), "%s", what);
	ssize_t w = write(fd, &r, sizeof(r));
	(void)w;
	_exit(127);
}

static const char *env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);
	for (; env && *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/* The next place PATH's search tries for file (an empty entry: file
 * itself, in the working directory), into full; false after the last.
 * *cursor starts at PATH. */
static bool path_next(const char **cursor, const char *file, char *full, size_t len)
{
	while (*cursor) {
		const char *p = *cursor, *colon = strchr(p, ':');
		size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
		*cursor = colon ? colon + 1 : NULL;
		if (dlen + strlen(file) + 2 > len)
			continue;
		if (dlen == 0)
			snprintf(full, len, "%s", file);
		else
			snprintf(full, len, "%.*s/%s", (int)dlen, p, file);
		return true;
	}
	return false;
}

static const char *env_path(char *const *env)
{
	const char *path = env_get(env, "PATH");
	return path ? path : SANDBOX_DEFAULT_PATH;
}

/* execve with a PATH search in the cell's own PATH (execvpe would use
 * init's environment).  Returns the errno to report. */
static int exec_search(char *const *argv, char *const *env)
{
	const char *file = argv[0];
	if (!*file)
		return ENOENT;
	if (strchr(file, '/')) {
		execve(file, argv, env);
		return errno;
	}
	const char *cursor = env_path(env);
	char full[4096];
	int saw_eacces = 0, last = ENOENT;
	while (path_next(&cursor, file, full, sizeof(full))) {
		execve(full, argv, env);
		last = errno;
		if (last == EACCES)
			saw_eacces = 1;
		else if (last != ENOENT && last != ENOTDIR)
			return last;
	}
	return saw_eacces ? EACCES : last;
}

bool sandbox__payload_finds(const char *file, char *const *env, const char *path)
{
	if (!*file || strchr(file, '/'))
		return false;
	const char *cursor = env_path(env);
	char full[4096];
	struct stat st;
	while (path_next(&cursor, file, full, sizeof(full))) {
		if (full[0] != '/')
			return false;  /* the run's working directory, not init's */
		if (stat(full, &st) == 0)
			return strcmp(full, path) == 0;
	}
	return false;
}

static void set_limit(int fd, int res, rlim_t soft, rlim_t hard, const char *name)
{
	struct rlimit rl = { soft, hard };
	if (setrlimit(res, &rl) < 0)
		sandbox__payload_fail(fd, 1, errno, name);
}

int sandbox__payload_confine(const struct payload_ctx *ctx, const struct cell_run_msg *run,
			     const int *fds, int nfds, const char *cwd)
{
	int errfd = fds[nfds - 1];
	/* v1: join the run's cgroup by moving this (only) thread; see
	 * cgroup_v1.c for why "0" and not a pid. */
	if (run->cg_kind == CG_V1) {
		for (uint32_t i = 0; i < run->ncg_fds; i++)
			if (write(fds[3 + i], "0", 1) != 1)
				sandbox__payload_fail(errfd, 1, errno, "join cgroup");
	}
	/* The program sees its own cgroup as the root of the hierarchy. */
	if (run->cg_kind != CG_NONE && unshare(CLONE_NEWCGROUP) < 0)
		sandbox__payload_fail(errfd, 1, errno, "cgroup namespace");
	/* A new session: no controlling terminal to push input into. */
	if (setsid() < 0)
		sandbox__payload_fail(errfd, 1, errno, "setsid");
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);

	/* stdio at 0-2, the report pipe at 3 (close-on-exec), nothing else. */
	int hi[4];
	int want[4] = { fds[0], fds[1], fds[2], errfd };
	for (int i = 0; i < 4; i++) {
		hi[i] = fcntl(want[i], F_DUPFD_CLOEXEC, 4);  /* above 0-3, whatever RLIMIT_NOFILE */
		if (hi[i] < 0)
			sandbox__payload_fail(errfd, 1, errno, "dup");
	}
	errfd = hi[3];
	for (int i = 0; i < 3; i++)
		if (dup2(hi[i], i) < 0)
			sandbox__payload_fail(errfd, 1, errno, "dup2");
	if (dup3(hi[3], 3, O_CLOEXEC) < 0)
		sandbox__payload_fail(errfd, 1, errno, "dup3");
	errfd = 3;
	if (syscall(SYS_close_range, 4u, ~0u, 0) < 0) {
		for (int fd = 4; fd < 65536; fd++)
			close(fd);
	}

	const struct sandbox_limits *l = &run->limits;
	set_limit(errfd, RLIMIT_CORE, 0, 0, "RLIMIT_CORE");
	set_limit(errfd, RLIMIT_FSIZE, l->file_size_kb * 1024, l->file_size_kb * 1024, "RLIMIT_FSIZE");
	set_limit(errfd, RLIMIT_NOFILE, l->open_files, l->open_files, "RLIMIT_NOFILE");
	set_limit(errfd, RLIMIT_STACK, l->stack_kb * 1024, l->stack_kb * 1024, "RLIMIT_STACK");
	set_limit(errfd, RLIMIT_MEMLOCK, 0, 0, "RLIMIT_MEMLOCK");
	set_limit(errfd, RLIMIT_MSGQUEUE, 0, 0, "RLIMIT_MSGQUEUE");
	/* A per-process backstop; the cell-wide limit is the supervisor's. */
	rlim_t cpu_s = (rlim_t)(l->cpu_ms + 999) / 1000 + 1;
	set_limit(errfd, RLIMIT_CPU, cpu_s, cpu_s + 1, "RLIMIT_CPU");
	/* The uid is this cell's alone, so NPROC counts only the cell.  It
	 * cannot rise above the hard limit runcell was started with (ulimit
	 * -Hu); the pids cgroup, which has no such ceiling, is the cell's
	 * limit, this one a backstop. */
	rlim_t nproc = l->processes;
	/* One more than pids.max where there is a cgroup: the rlimit is
	 * checked first, and a fork refused there leaves no trace in
	 * pids.events, which tells the result that the limit was hit. */
	if (run->cg_kind != CG_NONE)
		nproc++;
	if (nproc > ctx->nproc_max)
		nproc = ctx->nproc_max;
	set_limit(errfd, RLIMIT_NPROC, nproc, nproc, "RLIMIT_NPROC");
	if (run->cg_kind == CG_NONE) {
		/* No cgroup: per-process memory by RLIMIT_DATA, which counts
		 * what is written, not reserved (RLIMIT_AS would fail a JVM). */
		set_limit(errfd, RLIMIT_DATA, l->memory_kb * 1024, l->memory_kb * 1024, "RLIMIT_DATA");
	}

	/* init works with umask 0 to place files with their exact modes; the
	 * program gets the usual 022, so what it creates in a :rw bind is not
	 * writable by every uid on the host. */
	umask(022);
	if (chdir(cwd) < 0)
		sandbox__payload_fail(errfd, 2, errno, cwd);
	/* Groups first (needs root), then gid, then uid: leaving uid 0 for a
	 * non-zero uid clears the permitted, effective and ambient sets. */
	/* Raw syscalls: the libc wrappers of setgroups and the set*id calls
	 * stop every thread the libc thinks the process has, under a lock a
	 * thread of the cloned-from process may have held. */
	if (syscall(SYS_setgroups, 0, NULL) < 0 ||
	    syscall(SYS_setresgid, ctx->gid, ctx->gid, ctx->gid) < 0 ||
	    syscall(SYS_setresuid, ctx->uid, ctx->uid, ctx->uid) < 0)
		sandbox__payload_fail(errfd, 1, errno, "drop privileges");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		sandbox__payload_fail(errfd, 1, errno, "no_new_privs");
	struct sock_fprog prog = { .len = ctx->filter->len, .filter = (struct sock_filter *)ctx->filter->insn };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		sandbox__payload_fail(errfd, 1, errno, "seccomp");
	return errfd;
}

int sandbox__payload_exec(char *const *argv, char *const *env)
{
	return exec_search(argv, env);
}
