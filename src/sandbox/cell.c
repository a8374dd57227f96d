/*
 * cell: the supervisor's side of a cell.
 *
 * sandbox_cell_open() claims a slot (uid), clones the cell's init into
 * fresh pid, mount, ipc, uts and (unless --net) network namespaces and
 * sends it the configuration; init builds the file system (fsroot.c) and
 * answers READY.  sandbox_cell_run() creates the run's cgroup, sends RUN
 * with the program's stdio and cgroup descriptors attached, then waits in
 * one poll loop on the program's stdout and stderr (drained concurrently
 * into capped buffers, so neither a flood nor a full pipe can block us),
 * on init's socket, and on two deadlines: wall time, and the next moment
 * the cell's CPU time could reach its limit.  That moment is computed
 * from the CPU left and the number of CPUs, so the cgroup is read rarely
 * for a program that sleeps and often only when one is about to run out.
 *
 * Over a limit, the supervisor asks init to kill the run (and kills the
 * cgroup's tasks itself too); init answers DONE only when every process of
 * the run is reaped, after which the cgroup's figures are final and the
 * cgroup is removed.
 */
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"

struct sandbox_cell {
	int sock;
	pid_t init_pid;
	unsigned slot;
	int slot_fd;
	enum cg_kind cg_kind;
	char cg_why[400];
	uint64_t seq;
	struct cg_run cg;     /* kept from run to run where the backend allows */
	bool ready;
	bool pinned;          /* init is held on one CPU while the cell is built */
	cpu_set_t home_cpus;  /* the caller's CPUs, given back to init after */
	bool broken;
	char broken_why[400];
	bool net;             /* the host's network (--net) */
	struct sandbox__netns_maker netns;  /* the slot's next cell's namespace */
	bool netns_made;      /* tried once: a failed start is not retried */
	/* The buffer of the run and file messages, kept from run to run
	 * and grown to what they carry: a CELL_MSG_MAX buffer for each run
	 * cost a 2 MB mmap and munmap, ~0.2 ms of every warm run on the test
	 * VM. */
	char *msg;
	size_t msg_cap;
	/* init's pid for sandbox_cell_cancel from another thread, cleared
	 * under the lock before init is waited for (its pid then freed). */
	pthread_mutex_t cancel_lock;
	pid_t cancel_pid;
};

enum kill_reason { KILL_NONE, KILL_CPU, KILL_WALL, KILL_OUTPUT };

/* init ends a run at its wall limit, counted from the program's start
 * (init.c).  The supervisor cannot see that start, so its own deadline,
 * counted from the request, is a backstop this much later: it acts only
 * if init itself does not. */
#define WALL_BACKSTOP_MS 500

/* RUNCELL_TRACE=1 prints the time of each step of a cell's life (us). */
static uint64_t trace_t0;  /* the first trace line's time; atomic: threads trace at once */

static bool trace_enabled(void)
{
	/* Worker threads ask at once: the same answer, stored atomically. */
	static int on = -1;
	int v = __atomic_load_n(&on, __ATOMIC_RELAXED);
	if (v < 0) {
		const char *e = getenv("RUNCELL_TRACE");
		v = e && *e && strcmp(e, "0") != 0;
		__atomic_store_n(&on, v, __ATOMIC_RELAXED);
	}
	return v;
}

/* A trace line for what happened at ns (0: not known, no line). */
static void trace_at(uint64_t ns, const char *what)
{
	if (!trace_enabled() || !ns)
		return;
	uint64_t zero = 0;
	__atomic_compare_exchange_n(&trace_t0, &zero, ns, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	uint64_t t0 = __atomic_load_n(&trace_t0, __ATOMIC_RELAXED);
	fprintf(stderr, "runcell: trace: %8.1f us %s\n", (double)(ns - t0) / 1000.0, what);
}

static void trace(const char *what)
{
	if (trace_enabled())
		trace_at(clock_now_ns(), what);
}

void sandbox_trace(const char *what)
{
	trace(what);
}

static void trace_marks(const struct cell_ready_msg *m, size_t len)
{
	if (!trace_enabled() || len < sizeof(*m))
		return;
	for (uint32_t i = 0; i < m->nmarks && i < CELL_MARKS_MAX; i++)
		fprintf(stderr, "runcell: trace: %8.1f us %.40s\n",
			(double)(m->marks[i].ns - __atomic_load_n(&trace_t0, __ATOMIC_RELAXED)) / 1000.0,
			m->marks[i].what);
}

static long cell_ncpus(void)
{
	static long n;
	long v = __atomic_load_n(&n, __ATOMIC_RELAXED);
	if (!v) {
		v = sysconf(_SC_NPROCESSORS_ONLN);
		if (v < 1)
			v = 1;
		__atomic_store_n(&n, v, __ATOMIC_RELAXED);
	}
	return v;
}

/*
 * The inits of this process's open cells, for sandbox_interrupt(), which a
 * signal handler calls: a fixed table of pids written with atomics, since
 * a handler may take no lock.  A full table only means a cell that an
 * interrupt does not end early (it still ends with its runcell).
 */
#define LIVE_INITS_MAX 256
static pid_t live_inits[LIVE_INITS_MAX];
/* Set from a signal handler (runcell run) or from another thread (serve's
 * second signal): sequentially consistent, as the table is, so an init
 * added after the scan sees the flag (cell_open checks it after adding). */
static int interrupt_signal;

static void live_init_add(pid_t pid)
{
	for (int i = 0; i < LIVE_INITS_MAX; i++) {
		pid_t none = 0;
		if (__atomic_compare_exchange_n(&live_inits[i], &none, pid, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
	}
}

static void live_init_remove(pid_t pid)
{
	for (int i = 0; i < LIVE_INITS_MAX; i++) {
		pid_t want = pid;
		if (__atomic_compare_exchange_n(&live_inits[i], &want, 0, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
	}
}

void sandbox_interrupt(int sig)
{
	__atomic_store_n(&interrupt_signal, sig, __ATOMIC_SEQ_CST);
	for (int i = 0; i < LIVE_INITS_MAX; i++) {
		pid_t pid = __atomic_load_n(&live_inits[i], __ATOMIC_SEQ_CST);
		if (pid > 0)
			kill(pid, SIGKILL);
	}
}

int sandbox_interrupted(void)
{
	return __atomic_load_n(&interrupt_signal, __ATOMIC_SEQ_CST);
}

/* Before init is waited for: out of the interrupt's table and out of
 * sandbox_cell_cancel's reach while its pid is still ours (until reaped,
 * even as a zombie), so neither ever kills a reused pid. */
static void init_forget(struct sandbox_cell *c)
{
	live_init_remove(c->init_pid);
	pthread_mutex_lock(&c->cancel_lock);
	c->cancel_pid = 0;
	pthread_mutex_unlock(&c->cancel_lock);
}

void sandbox_cell_cancel(struct sandbox_cell *c)
{
	pthread_mutex_lock(&c->cancel_lock);
	if (c->cancel_pid > 0)
		kill(c->cancel_pid, SIGKILL);
	pthread_mutex_unlock(&c->cancel_lock);
}

/* Kills (unless it is gone already) and reaps the cell's init. */
static void reap_init(struct sandbox_cell *c, bool kill_it)
{
	if (c->init_pid <= 0)
		return;
	init_forget(c);
	if (kill_it)
		kill(c->init_pid, SIGKILL);
	waitpid(c->init_pid, NULL, __WALL);
	c->init_pid = -1;
}

static void cell_break(struct sandbox_cell *c, const char *why)
{
	if (!c->broken)
		snprintf(c->broken_why, sizeof(c->broken_why), "%.399s", why);
	c->broken = true;
	reap_init(c, true);
}

/*
 * A new task starts on its parent's CPU and moves to an idle one only at a
 * later load balance (1-2 ms later on the 2-vCPU machines we measure on):
 * init building the root and the supervisor making the run's cgroup would
 * take turns on one CPU.  Holding init on another CPU of the caller's set
 * until the cell is built lets both run at once (bench/sandbox: about
 * 0.15 ms less per one-shot cell); unpin gives init, and every program it
 * starts later, the caller's whole set back.
 */
static void cell_pin_elsewhere(struct sandbox_cell *c)
{
	if (sched_getaffinity(0, sizeof(c->home_cpus), &c->home_cpus) < 0 ||
	    CPU_COUNT(&c->home_cpus) < 2)
		return;
	int here = sched_getcpu();
	if (here < 0)
		return;
	for (int i = 1; i < CPU_SETSIZE; i++) {
		int cpu = (here + i) % CPU_SETSIZE;
		if (!CPU_ISSET(cpu, &c->home_cpus))
			continue;
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		c->pinned = sched_setaffinity(c->init_pid, sizeof(one), &one) == 0;
		return;
	}
}

static void cell_unpin(struct sandbox_cell *c)
{
	if (c->pinned && c->init_pid > 0)
		sched_setaffinity(c->init_pid, sizeof(c->home_cpus), &c->home_cpus);
	c->pinned = false;
}

const char *const sandbox_default_env[] = { "PATH=" SANDBOX_DEFAULT_PATH, "HOME=/box",
					    "LANG=C.UTF-8", NULL };

static int put_str(char *buf, size_t cap, size_t *off, const char *s)
{
	size_t n = strlen(s) + 1;
	if (*off + n > cap)
		return -E2BIG;
	memcpy(buf + *off, s, n);
	*off += n;
	return 0;
}

/* The buffers of the messages below are the caller's own: worker threads
 * build cells and send files at the same time (a static buffer gave one
 * submission another's source). */
enum { CONFIG_MSG_MAX = 65536, LIST_REPLY_MAX = sizeof(struct cell_fetch_msg) + 65536 };

/* Sends the cell's configuration; on failure says why. */
static int send_config(struct sandbox_cell *c, const struct sandbox_cell_config *cfg, uid_t uid,
		       bool oneshot, char *why, size_t len)
{
	/* Sized for this config: the header, per bind two paths and a flag,
	 * and the preloader's program and environment. */
	size_t need = sizeof(struct cell_config_msg);
	for (size_t i = 0; i < cfg->nbinds; i++) {
		const struct sandbox_bind *b = &cfg->binds[i];
		need += strlen(b->host) + 1 + strlen(b->cell ? b->cell : b->host) + 1 + 1;
	}
	const struct sandbox_preload *pre = &cfg->preload;
	const char *const *penv = pre->env ? pre->env : sandbox_default_env;
	size_t penvc = 0;
	if (pre->server) {
		need += strlen(pre->program) + 1;
		for (; penv[penvc]; penvc++)
			need += strlen(penv[penvc]) + 1;
	}
	int rc = penvc > CELL_PRELOAD_ENV_MAX || need > CONFIG_MSG_MAX ? -E2BIG : 0;
	char *msg = rc == 0 ? calloc(1, need) : NULL;
	if (rc == 0 && !msg)
		rc = -ENOMEM;
	if (rc < 0) {
		snprintf(why, len, "cannot configure the cell: %s", strerror(-rc));
		return rc;
	}
	struct cell_config_msg *m = (struct cell_config_msg *)msg;
	memset(m, 0, sizeof(*m));
	m->hdr.type = CELL_MSG_CONFIG;
	m->uid = uid;
	m->gid = uid;
	m->net = cfg->net;
	m->oneshot = oneshot;
	m->nbinds = (uint32_t)cfg->nbinds;
	struct sandbox_limits l;
	sandbox_limits_default(&l);
	m->disk_kb = l.disk_kb;
	size_t off = sizeof(*m);
	for (size_t i = 0; i < cfg->nbinds && rc == 0; i++) {
		const struct sandbox_bind *b = &cfg->binds[i];
		if (put_str(msg, need, &off, b->host) < 0 ||
		    put_str(msg, need, &off, b->cell ? b->cell : b->host) < 0 || off + 1 > need)
			rc = -E2BIG;
		else
			msg[off++] = b->rw ? 1 : 0;
	}
	int exe = -1;
	if (pre->server && rc == 0) {
		m->preload = 1;
		m->preload_envc = (uint32_t)penvc;
		rc = put_str(msg, need, &off, pre->program);
		for (size_t i = 0; i < penvc && rc == 0; i++)
			rc = put_str(msg, need, &off, penv[i]);
		/* Opened here, where the host's paths are: init execs it from
		 * inside the cell. */
		exe = rc == 0 ? open(pre->server, O_RDONLY | O_CLOEXEC) : -1;
		if (rc == 0 && exe < 0) {
			int e = errno;
			free(msg);
			snprintf(why, len, "cannot open the preloader %s: %s", pre->server, strerror(e));
			return -e;
		}
	}
	if (rc == 0) {
		m->hdr.len = (uint32_t)off;
		rc = sandbox__msg_send(c->sock, msg, off, exe >= 0 ? &exe : NULL, exe >= 0 ? 1 : 0);
	}
	if (rc < 0)
		snprintf(why, len, "cannot configure the cell: %s", strerror(-rc));
	if (exe >= 0)
		close(exe);
	free(msg);
	return rc;
}

/* An absolute path in its one plain spelling (path.c).  A cell path is
 * compared with the paths the cell manages by its text, so /./proc or
 * //dev must not get past. */
static bool path_plain(const char *p)
{
	return p[0] == '/' && (p[1] == '\0' || sandbox__path_parts_ok(p + 1));
}

static int check_binds(const struct sandbox_cell_config *cfg, char *why, size_t len)
{
	if (cfg->nbinds > 64) {
		snprintf(why, len, "too many binds (at most 64)");
		return -E2BIG;
	}
	for (size_t i = 0; i < cfg->nbinds; i++) {
		const struct sandbox_bind *b = &cfg->binds[i];
		const char *cell = b->cell ? b->cell : b->host;
		if (!b->host || b->host[0] != '/' || strlen(b->host) > 400 || strlen(cell) > 400) {
			snprintf(why, len, "bind %s: paths must be absolute (at most 400 bytes)",
				 b->host ? b->host : "");
			return -EINVAL;
		}
		if (!path_plain(cell)) {
			snprintf(why, len, "bind %s: the cell path %s must be absolute and plain "
				 "(no //, /./ or /../, no trailing /)", b->host, cell);
			return -EINVAL;
		}
		static const char *const managed[] = { "/proc", "/dev", "/box", "/tmp", "/.runcell" };
		bool clash = !strcmp(cell, "/");
		for (size_t k = 0; k < sizeof(managed) / sizeof(managed[0]); k++) {
			size_t n = strlen(managed[k]);
			if (!strncmp(cell, managed[k], n) && (cell[n] == '\0' || cell[n] == '/'))
				clash = true;
		}
		if (clash) {
			snprintf(why, len, "bind %s: %s is managed by the cell (/, /proc, /dev, /box, /tmp)",
				 b->host, cell);
			return -EINVAL;
		}
		struct stat st;
		if (stat(b->host, &st) < 0) {
			snprintf(why, len, "bind %s: %s", b->host, strerror(errno));
			return -EINVAL;  /* the caller's to fix, whatever the cause */
		}
	}
	return 0;
}

/* The reason given for a cell init could not build. */
static void build_failed(const struct cell_failed_msg *f, char *why, size_t len)
{
	snprintf(why, len, "cannot build the cell: %.*s", (int)sizeof(f->text), f->text);
}

static void start_netns_maker(struct sandbox_cell *c);

/* A cell built ahead, once built, makes what its first run would: the
 * network namespace for the slot's next cell, and its group (v1 or v2),
 * with the default limits, which the run changes to its own where they
 * differ (cgroup.c). */
static int cell_ahead_ready(struct sandbox_cell *c, char *why, size_t len)
{
	start_netns_maker(c);
	if (c->cg_kind == CG_NONE)
		return 0;
	struct sandbox_limits d;
	sandbox_limits_default(&d);
	int rc = sandbox__cg_begin(&c->cg, c->cg_kind, c->slot, c->seq++, &d, why, len);
	c->cg.unused = rc == 0;
	trace("cgroup created ahead");
	return rc;
}

/* wait_ready: return only once the cell is built (else the first run's
 * request waits in line behind the build).  oneshot: sandbox_run's cell,
 * whose init exits as soon as it has reported its one run. */
static int cell_open(const struct sandbox_cell_config *cfg, struct sandbox_cell **out,
		     bool wait_ready, bool oneshot, char *why, size_t len)
{
	*out = NULL;
	if (geteuid() != 0) {
		snprintf(why, len, "runcell needs root to build cells (namespaces, mounts, cgroups)");
		return -EPERM;
	}
	int rc = check_binds(cfg, why, len);
	if (rc < 0)
		return rc;
	if (cfg->preload.server && (oneshot || !wait_ready || !cfg->preload.program ||
				    cfg->preload.program[0] != '/')) {
		snprintf(why, len, "a preloader needs a cell opened and waited for, and its program "
			 "by absolute path");
		return -EINVAL;
	}
	trace("open");
	struct sandbox_cell *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	c->sock = c->slot_fd = -1;
	c->init_pid = -1;
	pthread_mutex_init(&c->cancel_lock, NULL);
	sandbox__cg_clear(&c->cg, CG_NONE);
	c->cg_kind = sandbox__cg_detect(cfg->cgroup, c->cg_why, sizeof(c->cg_why));
	if (cfg->cgroup != SANDBOX_CGROUP_AUTO && cfg->cgroup != SANDBOX_CGROUP_NONE &&
	    c->cg_kind == CG_NONE) {
		snprintf(why, len, "%s", c->cg_why);
		free(c);
		return -ENOTSUP;
	}
	rc = sandbox__slot_claim(&c->slot, &c->slot_fd);
	if (rc < 0) {
		snprintf(why, len, "no free cell slot: %s", strerror(-rc));
		free(c);
		return rc;
	}
	sandbox__cg_sweep_slot(c->cg_kind, c->slot);
	trace("slot claimed, cgroup detected");

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		snprintf(why, len, "socketpair: %s", strerror(errno));
		goto fail;
	}
	int bufsz = (int)CELL_MSG_MAX * 2;
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	}
	/* The cgroup namespace is entered by the program itself, after it
	 * joined its run's group. */
	unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
	/* Without --net: the namespace the slot's last cell made ahead
	 * (netns.c), else a new one. */
	c->net = cfg->net;
	int netns_fd = cfg->net ? -1 : sandbox__netns_take(c->slot);
	if (!cfg->net)
		trace(netns_fd >= 0 ? "network namespace made ahead, taken" : "network namespace: new");
	if (!cfg->net && netns_fd < 0)
		flags |= CLONE_NEWNET;
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid == 0) {
		close(sv[0]);
		/* Root joining a checked, empty namespace cannot fail short of
		 * a broken kernel; if it does, init dies and the open fails. */
		if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
			_exit(1);
		if (cfg->reexec) {
			if (sv[1] == 3)
				fcntl(3, F_SETFD, 0);
			else if (dup2(sv[1], 3) < 0)
				_exit(1);
			char *argv[] = { (char *)SANDBOX_INIT_ARGV0, NULL };
			char *envp[] = { NULL };
			execve("/proc/self/exe", argv, envp);
			_exit(1);
		}
		sandbox__init_run(sv[1]);
	}
	int clone_errno = errno;
	close(sv[1]);
	c->sock = sv[0];
	if (netns_fd >= 0)
		close(netns_fd);
	if (pid < 0) {
		rc = -clone_errno;
		snprintf(why, len, "cannot create the cell's namespaces: %s", strerror(clone_errno));
		goto fail;
	}
	c->init_pid = pid;
	live_init_add(pid);
	pthread_mutex_lock(&c->cancel_lock);
	c->cancel_pid = pid;
	pthread_mutex_unlock(&c->cancel_lock);
	if (sandbox_interrupted()) {
		snprintf(why, len, "interrupted by signal %d", sandbox_interrupted());
		rc = -EINTR;
		goto fail;
	}
	cell_pin_elsewhere(c);
	trace("cloned init");
	rc = send_config(c, cfg, SANDBOX_UID_BASE + c->slot, oneshot, why, len);
	if (rc < 0)
		goto fail;
	if (wait_ready) {
		char msg[sizeof(struct cell_failed_msg) + sizeof(struct cell_ready_msg)];
		ssize_t n = sandbox__msg_recv(c->sock, msg, sizeof(msg), NULL, NULL);
		if (n > 0 && ((struct cell_msg_hdr *)msg)->type == CELL_MSG_READY)
			trace_marks((const struct cell_ready_msg *)msg, (size_t)n);
		const struct cell_msg_hdr *h = (const struct cell_msg_hdr *)msg;
		if (n <= 0 || h->type != CELL_MSG_READY) {
			if (n > 0 && h->type == CELL_MSG_FAILED) {
				const struct cell_failed_msg *f = (const struct cell_failed_msg *)msg;
				build_failed(f, why, len);
				rc = f->bind_fault ? -EINVAL : -(f->err ? f->err : EIO);
			} else if (sandbox_interrupted()) {
				snprintf(why, len, "interrupted by signal %d", sandbox_interrupted());
				rc = -EINTR;
			} else {
				snprintf(why, len, "the cell's init died while building the cell");
				rc = -EIO;
			}
			goto fail;
		}
		c->ready = true;
		cell_unpin(c);
		if (cfg->ahead) {
			rc = cell_ahead_ready(c, why, len);
			if (rc < 0)
				goto fail;
		}
	}
	*out = c;
	return 0;
fail:
	if (c->sock >= 0)
		close(c->sock);
	reap_init(c, true);
	if (c->slot_fd >= 0)
		close(c->slot_fd);
	free(c);
	return rc;
}

int sandbox_cell_open(const struct sandbox_cell_config *cfg, struct sandbox_cell **cell,
		      char *why, size_t len)
{
	return cell_open(cfg, cell, !cfg->lazy, false, why, len);
}

bool sandbox_cell_usable(struct sandbox_cell *c)
{
	if (!c)
		return false;
	/* An init that died while the cell sat idle (killed from outside:
	 * nothing in the cell can kill it) is found here, before a run
	 * would find it and end as internal_error. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (!c->broken && c->init_pid > 0 &&
	    waitid(P_PID, (id_t)c->init_pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 &&
	    si.si_pid == c->init_pid) {
		init_forget(c);
		waitpid(c->init_pid, NULL, __WALL);
		c->init_pid = -1;
		cell_break(c, "the cell's init died");
	}
	return !c->broken;
}

void sandbox_cell_end(struct sandbox_cell *c)
{
	if (c->sock >= 0) {
		close(c->sock);  /* init exits, if it has not yet */
		c->sock = -1;
	}
	if (c->cg.live)
		sandbox__cg_destroy(&c->cg);
	trace("cell ended");
}

void sandbox_cell_close(struct sandbox_cell *c)
{
	if (!c)
		return;
	if (c->sock >= 0)
		close(c->sock);  /* init exits; the kernel kills the rest */
	sandbox__netns_make_wait(&c->netns);
	/* The run's group holds no task of a finished run (init is never in
	 * it): removed while init's namespaces are torn down. */
	if (c->cg.live)
		sandbox__cg_destroy(&c->cg);
	reap_init(c, false);
	trace("cell closed, init reaped");
	if (c->slot_fd >= 0)
		close(c->slot_fd);
	free(c->msg);
	pthread_mutex_destroy(&c->cancel_lock);
	free(c);
}

/* ---- one run ----------------------------------------------------------- */

static int spec_check(const struct sandbox_run_spec *spec, char *why, size_t len)
{
	const char *field;
	if (!spec->argv || !spec->argv[0] || !spec->argv[0][0]) {
		snprintf(why, len, "no program to run");
		return -EINVAL;
	}
	if (sandbox_limits_check(&spec->limits, &field) < 0) {
		snprintf(why, len, "limit out of range: %s", field);
		return -EINVAL;
	}
	if (spec->cwd && spec->cwd[0] != '/') {
		snprintf(why, len, "working directory must be absolute");
		return -EINVAL;
	}
	for (size_t i = 0; i < spec->nfiles; i++) {
		const char *p = spec->files[i].path;
		if (!p || !sandbox__path_parts_ok(p)) {  /* "..c" is a name, "../c" is not */
			snprintf(why, len, "invalid file name for /box: %s", p ? p : "");
			return -EINVAL;
		}
	}
	return 0;
}

/* The cell's message buffer, at least need bytes long; NULL when out of
 * memory.  Its contents are not kept. */
static char *cell_msg_buf(struct sandbox_cell *c, size_t need)
{
	if (need > c->msg_cap) {
		char *bigger = realloc(c->msg, need);
		if (!bigger)
			return NULL;
		c->msg = bigger;
		c->msg_cap = need;
	}
	return c->msg;
}

static int build_run_msg(struct sandbox_cell *c, const struct sandbox_run_spec *spec,
			 enum cg_kind kind, uint32_t ncg, uint32_t nmem, size_t *out_len)
{
	const char *const *env = spec->env ? spec->env : sandbox_default_env;
	size_t cap = sizeof(struct cell_run_msg);
	for (const char *const *a = spec->argv; *a && cap <= CELL_MSG_MAX; a++)
		cap += strlen(*a) + 1;
	for (const char *const *e = env; *e && cap <= CELL_MSG_MAX; e++)
		cap += strlen(*e) + 1;
	if (spec->cwd)
		cap += strlen(spec->cwd) + 1;
	if (cap > CELL_MSG_MAX)
		return -E2BIG;
	char *msg = cell_msg_buf(c, cap);
	if (!msg)
		return -ENOMEM;
	struct cell_run_msg *m = (struct cell_run_msg *)msg;
	memset(m, 0, sizeof(*m));
	m->hdr.type = CELL_MSG_RUN;
	m->limits = spec->limits;
	m->cg_kind = kind;
	m->ncg_fds = ncg;
	m->nmem_fds = nmem;
	m->nfiles = (uint32_t)spec->nfiles;
	m->last_run = spec->last_run;
	m->preload = spec->preload;
	m->keep_box = spec->keep_box;
	size_t off = sizeof(*m);
	int rc = 0;
	for (const char *const *a = spec->argv; *a && rc == 0; a++, m->argc++)
		rc = put_str(msg, cap, &off, *a);
	for (const char *const *e = env; *e && rc == 0; e++, m->envc++)
		rc = put_str(msg, cap, &off, *e);
	if (spec->cwd && rc == 0) {
		m->has_cwd = 1;
		rc = put_str(msg, cap, &off, spec->cwd);
	}
	if (rc < 0)
		return rc;
	m->hdr.len = (uint32_t)off;
	*out_len = off;
	return 0;
}

static int send_files(struct sandbox_cell *c, const struct sandbox_run_spec *spec)
{
	for (size_t i = 0; i < spec->nfiles; i++) {
		const struct sandbox_file *f = &spec->files[i];
		/* Sized for this file: its name, and its bytes unless a
		 * descriptor carries them (large files travel that way). */
		size_t need = sizeof(struct cell_file_msg) + strlen(f->path) + 1 + (f->fd >= 0 ? 0 : f->len);
		if (need > CELL_MSG_MAX)
			return -E2BIG;
		char *msg = cell_msg_buf(c, need);
		if (!msg)
			return -ENOMEM;
		struct cell_file_msg *m = (struct cell_file_msg *)msg;
		memset(m, 0, sizeof(*m));
		m->hdr.type = CELL_MSG_FILE;
		/* 0 is "the usual 0644"; S_IFREG | 0 asks for mode 000. */
		m->mode = f->mode ? f->mode & (S_IFDIR | 0777) : 0644;
		m->has_fd = f->fd >= 0;
		m->readonly = f->readonly;
		size_t off = sizeof(*m);
		int rc = put_str(msg, need, &off, f->path);
		if (rc == 0 && !m->has_fd) {
			if (f->len)
				memcpy(msg + off, f->data, f->len);
			off += f->len;
			m->len = f->len;
		}
		if (rc == 0) {
			m->hdr.len = (uint32_t)off;
			rc = sandbox__msg_send(c->sock, msg, off, m->has_fd ? &f->fd : NULL, m->has_fd ? 1 : 0);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Reads what a stream has; returns false at end of stream. */
static bool drain(int fd, struct buf *b, bool *over)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (buf_append(b, chunk, (size_t)n) == -ENOSPC)
				*over = true;
			continue;
		}
		if (n == 0)
			return false;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN;
	}
}

static const char *signal_text(int sig)
{
	const char *s = strsignal(sig);
	return s ? s : "signal";
}

static void finish_result(struct sandbox_result *r, const struct sandbox_run_spec *spec,
			  const struct cell_done_msg *d, enum kill_reason why_killed,
			  bool kill_sent, const struct cg_stats *st, bool have_stats,
			  enum cg_kind kind, const char *cg_why, bool out_over)
{
	const struct sandbox_limits *l = &spec->limits;
	r->wall_ms = (d->end_ns - d->start_ns) / 1000000;
	if (have_stats) {
		r->cpu_ms = st->cpu_ns / 1000000;
		r->memory_kb = st->peak_known ? st->peak_bytes / 1024 : d->rusage_maxrss_kb;
	} else {
		r->cpu_ms = d->rusage_cpu_ns / 1000000;
		r->memory_kb = d->rusage_maxrss_kb;
	}
	int ws = d->wait_status;
	bool exited = WIFEXITED(ws), signaled = WIFSIGNALED(ws);
	r->exit_code = exited ? WEXITSTATUS(ws) : -1;
	r->signal = signaled ? WTERMSIG(ws) : 0;
	/* RLIMIT_CPU is only a per-process backstop, a second past the
	 * limit: a SIGXCPU with less CPU used was raised by the program. */
	bool over_cpu = r->cpu_ms > l->cpu_ms ||
			(signaled && WTERMSIG(ws) == SIGXCPU && r->cpu_ms >= l->cpu_ms);
	char *m = r->message;
	size_t ml = sizeof(r->message);

	if (d->exec_errno < 0) {
		r->status = SANDBOX_INTERNAL_ERROR;
		r->exit_code = -1;
		r->signal = 0;
		snprintf(m, ml, "%s", d->error);
	} else if (why_killed == KILL_CPU || over_cpu) {
		r->status = SANDBOX_TIME_LIMIT;
		snprintf(m, ml, "CPU time limit of %" PRIu64 " ms exceeded", l->cpu_ms);
	} else if (why_killed == KILL_WALL || d->wall_killed) {
		r->status = SANDBOX_WALL_TIME_LIMIT;
		snprintf(m, ml, "wall time limit of %" PRIu64 " ms exceeded", l->wall_ms);
	} else if (have_stats && st->oom_kills > 0) {
		r->status = SANDBOX_MEMORY_LIMIT;
		if (st->oom_above)
			snprintf(m, ml, "out-of-memory kill below the cell's memory limit of %" PRIu64
				 " KB: a limit above the cell ran out (the memory.max or limit of a "
				 "group runcell runs in, or the host's memory)", l->memory_kb);
		else
			snprintf(m, ml, "memory limit of %" PRIu64 " KB exceeded (out-of-memory kill)",
				 l->memory_kb);
	} else if (why_killed == KILL_OUTPUT || (signaled && WTERMSIG(ws) == SIGXFSZ)) {
		r->status = SANDBOX_OUTPUT_LIMIT;
		if (why_killed == KILL_OUTPUT)
			snprintf(m, ml, "output limit of %" PRIu64 " KB exceeded on %s", l->output_kb,
				 out_over ? "stdout" : "stderr");
		else
			snprintf(m, ml, "file size limit of %" PRIu64 " KB exceeded", l->file_size_kb);
	} else if (d->exec_errno > 0) {
		r->status = SANDBOX_RUNTIME_ERROR;
		r->exit_code = d->exec_errno == ENOENT ? 127 : 126;
		r->signal = 0;
		snprintf(m, ml, "%s", d->error);
	} else if (signaled) {
		r->status = SANDBOX_SIGNALED;
		snprintf(m, ml, "killed by signal %d (%s)", r->signal, signal_text(r->signal));
	} else if (r->exit_code != 0) {
		r->status = SANDBOX_RUNTIME_ERROR;
		snprintf(m, ml, "exited with code %d", r->exit_code);
	} else {
		r->status = SANDBOX_OK;
		snprintf(m, ml, "exited normally");
	}
	if (kill_sent && r->status != SANDBOX_INTERNAL_ERROR) {
		r->signal = SIGKILL;
		r->exit_code = -1;
	}
	if (have_stats && st->forks_refused > 0 &&
	    (r->status == SANDBOX_RUNTIME_ERROR || r->status == SANDBOX_SIGNALED)) {
		/* What the program saw was a failed fork or thread (EAGAIN): it
		 * may have died of that without saying why. */
		size_t used = strlen(m);
		snprintf(m + used, ml - used, "; the process limit of %u was reached (%" PRIu64
			 " process or thread creation%s refused)", l->processes, st->forks_refused,
			 st->forks_refused == 1 ? "" : "s");
	}
	if (kind == CG_NONE) {
		size_t used = strlen(m);
		snprintf(m + used, ml - used, "; %s", cg_why);
	} else if (have_stats && !st->peak_known) {
		size_t used = strlen(m);
		snprintf(m + used, ml - used, "; memory is the largest process's peak (no memory.peak)");
	}
	r->preloaded = d->preloaded;
	if (d->preload_error[0]) {
		size_t used = strlen(m);
		snprintf(m + used, ml - used, "; executed, not preloaded: %.*s",
			 (int)sizeof(d->preload_error), d->preload_error);
	}
}

static void internal_error(struct sandbox_result *r, const char *fmt, const char *detail)
{
	r->status = SANDBOX_INTERNAL_ERROR;
	r->exit_code = -1;
	r->signal = 0;
	snprintf(r->message, sizeof(r->message), fmt, detail);
}

/* A cell makes the network namespace for its slot's next cell while its
 * first program runs.  Not before the cell is built: its unshare() slows
 * init's mounts down (both wait on the same RCU grace periods). */
static void start_netns_maker(struct sandbox_cell *c)
{
	if (!c->net && !c->netns_made) {
		sandbox__netns_make_start(&c->netns, c->slot);
		c->netns_made = true;
	}
}

static int cell_run(struct sandbox_cell *c, const struct sandbox_run_spec *spec,
		    struct sandbox_result *r)
{
	char why[480];
	int rc = spec_check(spec, why, sizeof(why));
	if (rc < 0) {
		snprintf(r->message, sizeof(r->message), "%s", why);
		return rc;
	}
	buf_init(&r->out, spec->limits.output_kb * 1024);
	buf_init(&r->err, spec->limits.output_kb * 1024);
	if (c->broken) {
		internal_error(r, "cell unusable: %s", c->broken_why);
		return 0;
	}

	struct cg_run *cg = &c->cg;  /* kept between runs where the backend allows */
	bool regrouped = false;  /* asked for a new group once already */
	bool retry;
again:
	retry = false;
	if (c->cg_kind != CG_NONE &&
	    sandbox__cg_begin(cg, c->cg_kind, c->slot, c->seq++, &spec->limits, why, sizeof(why)) < 0) {
		internal_error(r, "%s", why);
		return 0;
	}
	trace("cgroup created");

	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int stdin_fd = spec->stdin_fd, own_stdin = -1;
	size_t msg_len = 0;
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		internal_error(r, "pipe: %s", strerror(errno));
		goto out;
	}
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	if (stdin_fd < 0) {
		own_stdin = open("/dev/null", O_RDONLY | O_CLOEXEC);
		stdin_fd = own_stdin;
	}
	int fds[CELL_MAX_FDS] = { stdin_fd, outp[1], errp[1] };
	int nfds = 3;
	uint32_t nmem = 0;
	if (cg->kind == CG_V1)
		for (int i = 0; i < cg->ndirs; i++)
			fds[nfds++] = cg->task_fds[i];
	else if (cg->kind == CG_V2)
		fds[nfds++] = cg->dir_fd;
	uint32_t ncg = (uint32_t)(nfds - 3);
	if (cg->kind == CG_V1 && cg->reused) {
		/* init resets the peak and reads what is charged after it has
		 * wiped the box: a warm cell's last run may have left files
		 * there that are charged to this group until then.  (A new
		 * group starts at 0: nothing to do, no time spent.) */
		fds[nfds++] = cg->peak_fd;
		fds[nfds++] = cg->usage_fd;
		nmem = 2;
	}
	rc = build_run_msg(c, spec, cg->kind, ncg, nmem, &msg_len);
	if (rc < 0) {
		snprintf(r->message, sizeof(r->message), "argument list too long (%s)", strerror(-rc));
		r->status = SANDBOX_INTERNAL_ERROR;
		goto out_rc;
	}
	cell_unpin(c);  /* before the program is forked: it inherits init's CPUs */
	uint64_t t0 = clock_now_ns();
	if ((sandbox__msg_send(c->sock, c->msg, msg_len, fds, nfds) < 0 || send_files(c, spec) < 0) &&
	    c->ready) {
		cell_break(c, "cannot talk to the cell's init");
		internal_error(r, "%s", c->broken_why);
		goto out;
	}
	/* Not built yet: an init whose build failed may have left before the
	 * request reached it; its FAILED report is still queued, and the loop
	 * below reads it as it would any other. */
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	trace("run sent");
	if (c->ready)
		start_netns_maker(c);

	const struct sandbox_limits *l = &spec->limits;
	uint64_t wall_deadline = t0 + (l->wall_ms + WALL_BACKSTOP_MS) * 1000000ull;
	uint64_t cpu_limit = l->cpu_ms * 1000000ull;
	uint64_t next_cpu = t0 + 1000000ull;
	uint64_t kill_deadline = 0;
	enum kill_reason killed = KILL_NONE;
	bool out_open = true, err_open = true, out_over = false, err_over = false, done = false;
	struct cell_done_msg dmsg;
	memset(&dmsg, 0, sizeof(dmsg));

	while (!done) {
		uint64_t now = clock_now_ns();
		uint64_t wake = killed ? kill_deadline : wall_deadline;
		if (!killed && cg->kind != CG_NONE && next_cpu < wake)
			wake = next_cpu;
		int timeout = wake <= now ? 0 : (int)((wake - now + 999999) / 1000000);
		struct pollfd pf[3] = {
			{ .fd = c->sock, .events = POLLIN },
			{ .fd = out_open ? outp[0] : -1, .events = POLLIN },
			{ .fd = err_open ? errp[0] : -1, .events = POLLIN },
		};
		int n = poll(pf, 3, timeout);
		if (n < 0 && errno != EINTR) {
			internal_error(r, "poll: %s", strerror(errno));
			cell_break(c, "poll failed");
			goto out;
		}
		if (pf[1].revents)
			out_open = drain(outp[0], &r->out, &out_over);
		if (pf[2].revents)
			err_open = drain(errp[0], &r->err, &err_over);
		if ((out_over || err_over) && !killed)
			killed = KILL_OUTPUT;
		if (pf[0].revents) {
			union {
				struct cell_done_msg done;
				struct cell_failed_msg failed;
				struct cell_ready_msg ready;
				struct cell_msg_hdr hdr;
			} u;
			ssize_t len = sandbox__msg_recv(c->sock, &u, sizeof(u), NULL, NULL);
			if (len <= 0) {
				cell_break(c, sandbox_interrupted() ? "interrupted" : "the cell's init died");
				internal_error(r, "%s", c->broken_why);
				goto out;
			}
			if (u.hdr.type == CELL_MSG_READY) {
				/* A one-shot cell's build does not count as the
				 * program's wall time. */
				c->ready = true;
				wall_deadline = clock_now_ns() + (l->wall_ms + WALL_BACKSTOP_MS) * 1000000ull;
				trace_marks(&u.ready, (size_t)len);
				trace("cell ready");
				start_netns_maker(c);
			} else if (u.hdr.type == CELL_MSG_FAILED) {
				u.failed.text[sizeof(u.failed.text) - 1] = '\0';
				if (!c->ready) {
					build_failed(&u.failed, why, sizeof(why));
					cell_break(c, why);
					if (u.failed.bind_fault) {
						/* The caller's bind, not runcell: an error
						 * to return, not a result. */
						snprintf(r->message, sizeof(r->message), "%s", why);
						rc = -EINVAL;
						goto out_rc;
					}
					internal_error(r, "%s", why);
				} else {
					internal_error(r, "%s", u.failed.text);
				}
				goto out;
			} else if (u.hdr.type == CELL_MSG_REGROUP) {
				/* The last run left sockets, charged to this kept
				 * group: nothing ran; again, with a new group. */
				if (regrouped || !cg->live) {
					cell_break(c, "the cell's init refused a new cgroup");
					internal_error(r, "%s", c->broken_why);
					goto out;
				}
				regrouped = retry = true;
				goto out;
			} else if (u.hdr.type == CELL_MSG_DONE && (size_t)len == sizeof(dmsg)) {
				dmsg = u.done;
				done = true;
				trace_at(dmsg.start_ns, "init: program started");
				trace_at(dmsg.end_ns, "init: program reaped");
				trace("run done");
			}
		}
		now = clock_now_ns();
		if (killed == KILL_NONE && now >= wall_deadline)
			killed = KILL_WALL;
		if (killed == KILL_NONE && cg->kind != CG_NONE && now >= next_cpu) {
			uint64_t used = 0;
			if (sandbox__cg_cpu_ns(cg, &used) == 0 && used >= cpu_limit) {
				killed = KILL_CPU;
			} else {
				/* Not before the CPU left could be used up by
				 * every CPU at once; at least 1 ms apart. */
				uint64_t left = cpu_limit > used ? cpu_limit - used : 0;
				uint64_t gap = left / (uint64_t)cell_ncpus();
				if (gap < 1000000ull)
					gap = 1000000ull;
				next_cpu = now + gap;
			}
		}
		if (killed && !kill_deadline && !done) {
			struct cell_msg_hdr k = { CELL_MSG_KILL, sizeof(k) };
			sandbox__msg_send(c->sock, &k, sizeof(k), NULL, 0);
			sandbox__cg_kill(cg);
			kill_deadline = now + 5000000000ull;
		} else if (killed && kill_deadline && now >= kill_deadline && !done) {
			cell_break(c, "the cell's init did not end the run in time");
			internal_error(r, "%s", c->broken_why);
			goto out;
		}
	}
	/* Every writer is gone; what is left in the pipes is the end. */
	for (int spins = 0; (out_open || err_open) && spins < 1000; spins++) {
		struct pollfd pf[2] = {
			{ .fd = out_open ? outp[0] : -1, .events = POLLIN },
			{ .fd = err_open ? errp[0] : -1, .events = POLLIN },
		};
		if (poll(pf, 2, 10) <= 0)
			break;
		if (pf[0].revents)
			out_open = drain(outp[0], &r->out, &out_over);
		if (pf[1].revents)
			err_open = drain(errp[0], &r->err, &err_over);
	}
	if ((out_over || err_over) && !killed)
		killed = KILL_OUTPUT;
	struct cg_stats st;
	memset(&st, 0, sizeof(st));
	if (cg->kind == CG_V1)
		cg->base_usage = dmsg.mem_base_known ? dmsg.mem_base_bytes : 0;  /* 0: a new group */
	bool have_stats = cg->kind != CG_NONE && sandbox__cg_stats(cg, &st) == 0;
	trace("output drained, stats read");
	finish_result(r, spec, &dmsg, killed, kill_deadline != 0, &st, have_stats, c->cg_kind,
		      c->cg_why, out_over);
out:
	rc = 0;
out_rc:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (own_stdin >= 0)
		close(own_stdin);
	if (cg->kind != CG_NONE && sandbox__cg_end(cg) < 0 && r->status != SANDBOX_INTERNAL_ERROR) {
		r->status = SANDBOX_INTERNAL_ERROR;
		snprintf(r->message, sizeof(r->message), "cannot remove the run's cgroup %s", cg->name);
	}
	trace("cgroup removed");
	if (retry) {
		sandbox__cg_destroy(cg);
		goto again;
	}
	return rc;
}

int sandbox_cell_run(struct sandbox_cell *c, const struct sandbox_run_spec *spec,
		     struct sandbox_result *r)
{
	int rc = cell_run(c, spec, r);
	/* Its init has gone, or is going, without waiting for more. */
	if (rc == 0 && spec->last_run && !c->broken) {
		c->broken = true;
		snprintf(c->broken_why, sizeof(c->broken_why), "the cell has had its last run");
	}
	return rc;
}

int sandbox_run(const struct sandbox_cell_config *cfg, const struct sandbox_run_spec *spec,
		struct sandbox_result *r)
{
	char why[400];
	int rc = spec_check(spec, why, sizeof(why));
	if (rc < 0) {
		snprintf(r->message, sizeof(r->message), "%s", why);
		return rc;
	}
	struct sandbox_cell *c;
	rc = cell_open(cfg, &c, false, true, why, sizeof(why));
	if (rc < 0) {
		if (rc == -EINVAL || rc == -E2BIG || rc == -ENOENT || rc == -ENOTSUP) {
			snprintf(r->message, sizeof(r->message), "%s", why);
			return rc;
		}
		buf_init(&r->out, spec->limits.output_kb * 1024);
		buf_init(&r->err, spec->limits.output_kb * 1024);
		internal_error(r, "%s", why);
		return 0;
	}
	rc = cell_run(c, spec, r);
	sandbox_cell_close(c);
	return rc;
}

int sandbox_cell_list(struct sandbox_cell *c, const char *dir, struct buf *names)
{
	if (c->broken)
		return -EIO;
	char msg[sizeof(struct cell_fetch_msg) + 1100];
	struct cell_fetch_msg *m = (struct cell_fetch_msg *)msg;
	memset(m, 0, sizeof(*m));
	m->hdr.type = CELL_MSG_LIST;
	size_t off = sizeof(*m);
	if (put_str(msg, sizeof(msg), &off, dir) < 0)
		return -ENAMETOOLONG;
	m->hdr.len = (uint32_t)off;
	if (sandbox__msg_send(c->sock, msg, off, NULL, 0) < 0)
		return -EIO;
	char *reply = malloc(LIST_REPLY_MAX);
	if (!reply) {
		cell_break(c, "out of memory for the answer to a list");
		return -ENOMEM;
	}
	ssize_t n = sandbox__msg_recv(c->sock, reply, LIST_REPLY_MAX, NULL, NULL);
	const struct cell_fetch_msg *r = (const struct cell_fetch_msg *)reply;
	int rc = 0;
	if (n < (ssize_t)sizeof(*r) || r->hdr.type != CELL_MSG_LISTED) {
		cell_break(c, "unexpected answer to a list");
		rc = -EIO;
	} else if (r->err) {
		rc = -r->err;
	} else {
		buf_init(names, 0);
		rc = buf_append(names, reply + sizeof(*r), (size_t)n - sizeof(*r)) < 0 ? -ENOMEM : 0;
	}
	free(reply);
	return rc;
}

int sandbox_cell_fetch(struct sandbox_cell *c, const char *path, size_t cap, struct buf *content)
{
	if (c->broken)
		return -EIO;
	char msg[sizeof(struct cell_fetch_msg) + 1100];
	struct cell_fetch_msg *m = (struct cell_fetch_msg *)msg;
	memset(m, 0, sizeof(*m));
	m->hdr.type = CELL_MSG_FETCH;
	size_t off = sizeof(*m);
	if (put_str(msg, sizeof(msg), &off, path) < 0)
		return -ENAMETOOLONG;
	m->hdr.len = (uint32_t)off;
	if (sandbox__msg_send(c->sock, msg, off, NULL, 0) < 0)
		return -EIO;
	struct cell_fetch_msg reply;
	int fd = -1, nfd = 1;
	ssize_t n = sandbox__msg_recv(c->sock, &reply, sizeof(reply), &fd, &nfd);
	if (n != (ssize_t)sizeof(reply) || reply.hdr.type != CELL_MSG_FETCHED) {
		if (nfd)
			close(fd);
		cell_break(c, "unexpected answer to a fetch");
		return -EIO;
	}
	if (reply.err || nfd != 1)
		return -(reply.err ? reply.err : EIO);
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		rc = -EPERM;
	else if ((uint64_t)st.st_size > cap)
		rc = -EFBIG;
	buf_init(content, cap);
	char chunk[65536];
	while (rc == 0) {
		ssize_t k = read(fd, chunk, sizeof(chunk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			rc = -errno;
		if (k <= 0)
			break;
		if (buf_append(content, chunk, (size_t)k) < 0)
			rc = -EFBIG;
	}
	close(fd);
	if (rc < 0)
		buf_free(content);
	return rc;
}
