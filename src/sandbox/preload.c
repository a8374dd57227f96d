/*
 * preload: an interpreter started once in a warm cell, from which each run
 * of a script is forked instead of executed (Python: ~10 ms of start-up
 * per run, most of it the same imports every time).
 *
 * The preloader is a binary of its own, linked against the interpreter
 * (src/preload/python.c), started by the cell's init inside the cell's
 * namespaces before init drops its capabilities.  It keeps only those a
 * run's confinement needs, is not dumpable, and runs as root: a program
 * (the cell uid) can neither signal nor trace it, and hidepid hides it.
 * It never runs a program's code itself: for a run it forks a child with
 * CLONE_PARENT, so the child is init's like any program; the child goes
 * through payload.c's confinement (cgroup, namespace, rlimits, uid,
 * no_new_privs, seccomp) and only then becomes the program.  The request
 * it forked from is wiped in the preloader right after the fork, so one
 * run's arguments never reach the next run's copy of its memory.
 *
 * init's side: a run that would kill every process of the cell
 * (kill(-1)) kills the cell uid's processes instead, from a short-lived
 * process with that uid, so the preloader survives; a run is over when
 * init has no process left but the preloader.  If the preloader fails or
 * dies, the cell goes back to executing every program.
 */
#include "sandbox/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define PRELOAD_FD 3
#define PRELOAD_READY_MS 10000  /* an interpreter's start, on a busy host */
#define PRELOAD_SPAWN_MS 2000

/* init -> preloader, once, right after its start. */
struct preload_setup_msg {
	struct cell_msg_hdr hdr;
	uint32_t uid, gid;
	uint64_t nproc_max;
	uint32_t filter_len;
	uint32_t pad;
	struct sock_filter insn[SANDBOX_BPF_MAX];
};

/* preloader -> init, once the interpreter has started. */
struct preload_ready_msg {
	struct cell_msg_hdr hdr;
	char code_option[SANDBOX_CODE_OPTION_MAX];  /* NUL-terminated; "": none */
};

/* preloader -> init, after a RUN: the child's pid, or an errno. */
struct preload_spawned_msg {
	struct cell_msg_hdr hdr;
	int32_t pid;
	int32_t err;
};

/* ---- init's side ---------------------------------------------------------- */

int sandbox__preload_start(struct init_preload *p, int exe_fd, const struct payload_ctx *ctx,
			   char *why, size_t len)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		int e = errno;
		snprintf(why, len, "socketpair: %s", strerror(e));
		return -e;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(sv[1], PRELOAD_FD) < 0)
			_exit(127);
		/* Nothing of init's but the socket survives the exec (the
		 * binary's descriptor is needed by the exec itself). */
		syscall(SYS_close_range, PRELOAD_FD + 1, ~0u, CLOSE_RANGE_CLOEXEC);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char *argv[] = { (char *)"runcell-preload", (char *)p->program, NULL };
		/* The runs' environment, and LD_BIND_NOW: every symbol bound at
		 * the start, once, rather than on first use in each run (the
		 * preloader removes it before the interpreter reads its
		 * environment). */
		char *env[CELL_PRELOAD_ENV_MAX + 2];
		size_t n = 0;
		for (; p->env[n] && n < CELL_PRELOAD_ENV_MAX; n++)
			env[n] = p->env[n];
		env[n++] = (char *)"LD_BIND_NOW=1";
		env[n] = NULL;
		syscall(SYS_execveat, exe_fd, "", argv, env, AT_EMPTY_PATH);
		_exit(127);
	}
	int e = errno;
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		snprintf(why, len, "cannot fork the preloader: %s", strerror(e));
		return -e;
	}
	p->pid = pid;
	p->sock = sv[0];
	p->ready = false;
	struct preload_setup_msg m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = CELL_MSG_CONFIG;
	m.hdr.len = sizeof(m);
	m.uid = ctx->uid;
	m.gid = ctx->gid;
	m.nproc_max = ctx->nproc_max;
	m.filter_len = ctx->filter->len;
	memcpy(m.insn, ctx->filter->insn, sizeof(m.insn[0]) * ctx->filter->len);
	int rc = sandbox__msg_send(p->sock, &m, sizeof(m), NULL, 0);
	if (rc < 0) {
		snprintf(why, len, "cannot configure the preloader: %s", strerror(-rc));
		sandbox__preload_stop(p);
		return rc;
	}
	return 0;
}

void sandbox__preload_stop(struct init_preload *p)
{
	if (p->pid > 0)
		kill(p->pid, SIGKILL);  /* reaped by init's loop like any child */
	if (p->sock >= 0)
		close(p->sock);
	p->pid = -1;
	p->sock = -1;
	p->ready = false;
}

/* One message from the preloader within ms; the length, or -errno. */
static ssize_t recv_within(struct init_preload *p, void *buf, size_t cap, int ms)
{
	struct pollfd pf = { .fd = p->sock, .events = POLLIN };
	int n;
	do
		n = poll(&pf, 1, ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	if (n < 0)
		return -errno;
	ssize_t len = sandbox__msg_recv(p->sock, buf, cap, NULL, NULL);
	return len == 0 ? -EPIPE : len;
}

bool sandbox__preload_ready(struct init_preload *p, char *why, size_t len)
{
	if (p->ready || p->pid <= 0)
		return p->ready;
	union {
		struct cell_msg_hdr hdr;
		struct preload_ready_msg ready;
		struct cell_failed_msg failed;
	} reply;
	ssize_t n = recv_within(p, &reply, sizeof(reply), PRELOAD_READY_MS);
	if (n == (ssize_t)sizeof(reply.ready) && reply.hdr.type == CELL_MSG_READY) {
		p->ready = true;
		reply.ready.code_option[sizeof(reply.ready.code_option) - 1] = '\0';
		memcpy(p->code_option, reply.ready.code_option, sizeof(p->code_option));
		return true;
	}
	if (n >= (ssize_t)sizeof(reply.failed) && reply.hdr.type == CELL_MSG_FAILED) {
		reply.failed.text[sizeof(reply.failed.text) - 1] = '\0';
		snprintf(why, len, "%s", reply.failed.text);
	} else {
		snprintf(why, len, "the preloader did not start: %s", strerror(n < 0 ? (int)-n : EPROTO));
	}
	sandbox__preload_stop(p);
	return false;
}

/* A run of the preloader's program (by its path, or by a name that the
 * environment's PATH finds there first: an interpreter tells itself by the
 * path it was started as, sys.executable) with the preloader's
 * environment. */
static bool preload_program_env(const struct init_preload *p, char *const *argv,
				char *const *env)
{
	if (!p->program || !argv[0])
		return false;
	size_t i = 0;
	for (; env[i] && p->env[i]; i++)
		if (strcmp(env[i], p->env[i]) != 0)
			return false;
	if (env[i] || p->env[i])
		return false;
	return strcmp(argv[0], p->program) == 0 || sandbox__payload_finds(argv[0], env, p->program);
}

bool sandbox__preload_serves(const struct init_preload *p, char *const *argv, char *const *env)
{
	if (!p->ready || !preload_program_env(p, argv, env) || !argv[1] || !argv[1][0])
		return false;
	/* The interpreter has started already, with no options: a script, or
	 * the code option with its code (any other option is executed). */
	return argv[1][0] != '-' ||
	       (argv[2] && p->code_option[0] && strcmp(argv[1], p->code_option) == 0);
}

bool sandbox__preload_missed(const struct init_preload *p, char *const *argv, char *const *env)
{
	return p->pid <= 0 && preload_program_env(p, argv, env);
}

pid_t sandbox__preload_spawn(struct init_preload *p, const struct cell_run_msg *run,
			     size_t run_len, const int *fds, int nfds, char *why, size_t len)
{
	struct preload_spawned_msg reply;
	ssize_t n;
	int rc = sandbox__msg_send(p->sock, run, run_len, fds, nfds);
	if (rc == 0) {
		n = recv_within(p, &reply, sizeof(reply), PRELOAD_SPAWN_MS);
		bool ok = n == (ssize_t)sizeof(reply) && reply.hdr.type == CELL_MSG_DONE;
		if (ok && reply.pid > 0)
			return reply.pid;
		rc = ok ? -reply.err : (n < 0 ? (int)n : -EPROTO);
	}
	snprintf(why, len, "the preloader could not start the program: %s", strerror(-rc));
	sandbox__preload_stop(p);
	return -1;
}

static int sweeper(void *arg)
{
	uid_t uid = *(const uid_t *)arg;
	/* As the cell uid and nothing more: kill(-1) reaches exactly the
	 * processes that uid may signal, which the preloader (root) is not
	 * one of.  Raw setresuid for the reason payload.c gives. */
	if (syscall(SYS_setresuid, uid, uid, uid) == 0)
		kill(-1, SIGKILL);
	_exit(0);
}

void sandbox__preload_kill_programs(uid_t uid)
{
	/* init goes on once the signals are sent. */
	sandbox__clone_vfork(sweeper, &uid);
}

bool sandbox__preload_alone(const struct init_preload *p)
{
	DIR *d = opendir("/proc");
	if (!d)
		return true;
	bool alone = true;
	struct dirent *e;
	while (alone && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1 || pid == p->pid)
			continue;
		alone = false;
	}
	closedir(d);
	return alone;
}

/* ---- the preloader's side ------------------------------------------------- */

static void preload_fail(int sock, int err, const char *text) __attribute__((noreturn));
static void preload_fail(int sock, int err, const char *text)
{
	sandbox__msg_send_failed(sock, err, false, text);
	_exit(1);
}

/* What a run's confinement needs before it drops to the cell uid: a
 * cgroup namespace (SYS_ADMIN), the uid and groups (SETUID, SETGID), its
 * working directory (DAC_OVERRIDE) and rlimits up to the hard ones
 * (SYS_RESOURCE).  Not DAC_READ_SEARCH: with SYS_ADMIN it would open any
 * file of a bound file system by handle. */
static int keep_capabilities(void)
{
	static const int keep[] = { CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID, CAP_DAC_OVERRIDE,
				    CAP_SYS_RESOURCE };
	uint64_t mask = 0;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		mask |= 1ull << keep[i];
	/* The bounding set goes whole, as init's: it only limits what an
	 * execve could give, and the preloader executes nothing. */
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
			break;
	/* Of those, what it has (a container may have withheld some). */
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	mask &= d[0].permitted | (uint64_t)d[1].permitted << 32;
	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = (uint32_t)mask;
	d[1].permitted = d[1].effective = (uint32_t)(mask >> 32);
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* Splits a RUN request into argv and cwd; false when malformed. */
static bool parse_run(char *msg, size_t len, char **argv, size_t maxargs, const char **cwd)
{
	const struct cell_run_msg *m = (const struct cell_run_msg *)msg;
	if (len < sizeof(*m) || m->hdr.type != CELL_MSG_RUN || m->argc < 2 || m->argc >= maxargs)
		return false;
	*cwd = "/box";
	char *p = msg + sizeof(*m), *end = msg + len;
	uint32_t nstr = m->argc + m->envc + (m->has_cwd ? 1 : 0);
	for (uint32_t i = 0; i < nstr; i++) {
		char *z = memchr(p, '\0', (size_t)(end - p));
		if (!z)
			return false;
		if (i < m->argc)
			argv[i] = p;
		else if (i >= m->argc + m->envc)
			*cwd = p;
		p = z + 1;
	}
	argv[m->argc] = NULL;
	return true;
}

int sandbox_preload_main(int argc, char **argv, const struct sandbox_preload_ops *ops)
{
	struct stat st;
	if (argc != 2 || fstat(PRELOAD_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "%s: a preloader for runcell's cells; runcell starts it\n", argv[0]);
		return 2;
	}
	int sock = PRELOAD_FD;
	fcntl(sock, F_SETFD, FD_CLOEXEC);
	unsetenv("LD_BIND_NOW");  /* init's, for the loader alone */
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	static struct preload_setup_msg setup;
	if (sandbox__msg_recv(sock, &setup, sizeof(setup), NULL, NULL) != (ssize_t)sizeof(setup) ||
	    setup.hdr.type != CELL_MSG_CONFIG || setup.filter_len > SANDBOX_BPF_MAX)
		preload_fail(sock, EPROTO, "malformed preloader setup");
	static struct sandbox_filter filter;
	memcpy(filter.insn, setup.insn, sizeof(setup.insn));
	filter.len = (unsigned short)setup.filter_len;
	struct payload_ctx ctx = { .uid = setup.uid, .gid = setup.gid, .filter = &filter,
				   .nproc_max = (rlim_t)setup.nproc_max };
	int rc = keep_capabilities();
	if (rc < 0) {
		char text[120];
		snprintf(text, sizeof(text), "the preloader cannot drop its capabilities: %s",
			 strerror(-rc));
		preload_fail(sock, -rc, text);
	}
	char why[300];
	if (ops->start(argv[1], why, sizeof(why)) < 0)
		preload_fail(sock, EIO, why);
	struct preload_ready_msg ready = { .hdr = { .type = CELL_MSG_READY, .len = sizeof(ready) } };
	if (ops->code_option && strlen(ops->code_option) < sizeof(ready.code_option))
		memcpy(ready.code_option, ops->code_option, strlen(ops->code_option));
	if (sandbox__msg_send(sock, &ready, sizeof(ready), NULL, 0) < 0)
		_exit(1);

	static char msg[CELL_MSG_MAX];
	static char *args[65536];
	for (;;) {
		int fds[CELL_MAX_FDS];
		int nfds = CELL_MAX_FDS;
		ssize_t len = sandbox__msg_recv(sock, msg, sizeof(msg), fds, &nfds);
		if (len <= 0)
			_exit(0);  /* init is gone */
		const struct cell_run_msg *run = (const struct cell_run_msg *)msg;
		const char *cwd;
		struct preload_spawned_msg reply = { .hdr = { CELL_MSG_DONE, sizeof(reply) } };
		if (!parse_run(msg, (size_t)len, args, sizeof(args) / sizeof(args[0]), &cwd) ||
		    nfds != 4 + (int)run->ncg_fds) {
			reply.err = EPROTO;
		} else {
			struct clone_args ca;
			memset(&ca, 0, sizeof(ca));
			/* init's child, reaped and accounted by init; on v2 born in
			 * the run's cgroup. */
			ca.flags = CLONE_PARENT;  /* its exit signal is the preloader's: SIGCHLD */
			if (run->cg_kind == CG_V2) {
				ca.flags |= CLONE_INTO_CGROUP;
				ca.cgroup = (uint64_t)fds[3];
			}
			/* init's CPUs, for the run to inherit: the preloader was
			 * started while init was held on one CPU (cell.c), and a
			 * run must get the caller's whole set, as an executed one
			 * does (on one CPU, two workers' runs shared it while the
			 * other idled). */
			cpu_set_t cpus;
			if (sched_getaffinity(1, sizeof(cpus), &cpus) == 0)
				sched_setaffinity(0, sizeof(cpus), &cpus);
			ops->before_fork();
			pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
			if (pid == 0) {
				int errfd = sandbox__payload_confine(&ctx, run, fds, nfds, cwd);
				/* The program's /proc files are its own, as after an
				 * execve (the uid change made it undumpable). */
				prctl(PR_SET_DUMPABLE, 1);
				close(errfd);  /* started: init reads the end of the pipe */
				ops->run(args);
			}
			int e = errno;
			ops->after_fork_parent();
			reply.pid = pid > 0 ? pid : 0;
			reply.err = pid > 0 ? 0 : e;
		}
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		explicit_bzero(msg, (size_t)len);
		if (sandbox__msg_send(sock, &reply, sizeof(reply), NULL, 0) < 0)
			_exit(1);
	}
}
