/*
 * init: pid 1 of a cell.  It builds the cell's file system (fsroot.c),
 * then serves the supervisor over a seqpacket socket: for each RUN it wipes
 * the box, places the given files, forks the program, and once the program
 * has exited kills every other process of the cell (kill(-1, SIGKILL) from
 * a pid namespace's init reaches exactly the cell) and reaps them all
 * before it answers DONE.  So a run's end means nothing of it is alive.
 *
 * init itself stays outside the run's cgroup (its CPU and memory are not
 * the program's), runs as root inside the cell's namespaces but is hidden
 * from the program by hidepid=2 and a different uid, is not dumpable, and
 * dies with the supervisor (PR_SET_PDEATHSIG, or end of its socket); when
 * it dies the kernel kills everything in the pid namespace.
 *
 * The program's side, from fork to execve, is payload.c; a failure before
 * execve travels back on a close-on-exec pipe.  With a preloader
 * (preload.c) a run may be forked from it instead, and every process of a
 * run is then killed by the cell uid rather than by kill(-1) from here.
 */
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/xattr.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define INIT_SOCK_FD 3

struct init_run {
	bool active;
	pid_t pid;
	int errpipe;            /* read end; -1 once the outcome is known */
	int exec_errno;
	char setup_error[200];
	bool exited;
	bool wall_killed;       /* ended by the wall timer below */
	int wait_status;
	uint64_t start_ns, end_ns;
	uint64_t maxrss_kb;
	struct rusage before;
	bool mem_base_known;    /* v1: the peak was reset after the wipe */
	uint64_t mem_base;      /* v1: what was charged then */
	bool preloaded;         /* forked from the preloader */
	bool preload_missed;    /* asked for it, and it was not there */
	bool keep_box;          /* the caller reads files back after DONE */
};

struct init_state {
	int sock;
	int sigfd;
	int timerfd;            /* the running program's wall deadline */
	struct init_config cfg;
	struct sandbox_filter filter;
	struct payload_ctx payload;  /* uid, gid, filter and nproc_max for payload.c */
	struct init_preload preload;
	char preload_why[160];       /* why the preloader is not there */
	bool dirty;             /* the box holds a finished run's files */
	bool net_used;          /* a run changed the current network namespace */
	bool regroup;           /* the last run left sockets: its kept memory
				 * group holds their charge (REGROUP) */
	struct init_run run;
	char msg[CELL_MSG_MAX];
};

static void send_failed(int sock, int err, const char *text)
{
	sandbox__msg_send_failed(sock, err, false, text);
}

static void init_die(int sock, int err, const char *text) __attribute__((noreturn));
static void init_die(int sock, int err, const char *text)
{
	send_failed(sock, err, text);
	_exit(1);
}

/* ---- init's side ------------------------------------------------------- */

/* Writes all of buf: a full box shows as ENOSPC, not as a short write. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes one file (or makes one directory) in /box as the cell uid.  The
 * box was just wiped and nothing of the program has run, so there is no
 * link to follow; O_EXCL and O_NOFOLLOW say so anyway. */
static int place_file(struct init_state *s, const struct cell_file_msg *m,
		      size_t mlen, int fd, char *why, size_t wlen)
{
	const char *path = (const char *)(m + 1);
	size_t plen = strnlen(path, mlen - sizeof(*m));
	if (plen == mlen - sizeof(*m) || !sandbox__path_parts_ok(path)) {
		snprintf(why, wlen, "invalid file name in /box");
		return -EINVAL;
	}
	const char *data = path + plen + 1;
	if (!m->has_fd && m->len > mlen - sizeof(*m) - plen - 1) {
		snprintf(why, wlen, "truncated file message");
		return -EPROTO;
	}
	int dirfd = open("/box", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		snprintf(why, wlen, "cannot open /box: %s", strerror(errno));
		return -errno;
	}
	setfsgid(s->cfg.gid);
	setfsuid(s->cfg.uid);
	int rc = 0;
	mode_t mode = m->mode & (S_ISDIR(m->mode) ? 0777 : 07777);
	char tmp[1100];
	snprintf(tmp, sizeof(tmp), "%.1024s", path);
	for (char *c = strchr(tmp, '/'); c && !rc; c = strchr(c + 1, '/')) {
		*c = '\0';
		if (mkdirat(dirfd, tmp, 0755) < 0 && errno != EEXIST)
			rc = -errno;
		*c = '/';
	}
	if (m->readonly) {
		/* Created by root in the (just wiped) box: the program may
		 * read or run it, not change it. */
		setfsuid(0);
		setfsgid(0);
		mode &= 0555;
	}
	int out = -1;
	if (!rc && S_ISDIR(m->mode)) {
		/* After what it holds (its parents were made above): set its
		 * bits now, which may forbid writing into it. */
		if (mkdirat(dirfd, path, mode) < 0 &&
		    (errno != EEXIST || fchmodat(dirfd, path, mode, 0) < 0))
			rc = -errno;
	} else if (!rc) {
		out = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (out < 0)
			rc = -errno;
	}
	static char copybuf[65536];
	if (out >= 0 && m->has_fd) {
		for (;;) {
			ssize_t n = read(fd, copybuf, sizeof(copybuf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n < 0)
					rc = -errno;
				break;
			}
			if ((rc = write_all(out, copybuf, (size_t)n)) < 0)
				break;
		}
	} else if (out >= 0 && m->len) {
		rc = write_all(out, data, m->len);
	}
	if (out >= 0)
		close(out);
	setfsuid(0);
	setfsgid(0);
	close(dirfd);
	if (rc < 0)
		snprintf(why, wlen, "cannot place %.200s in /box: %s", path, strerror(-rc));
	return rc;
}

static void run_reset(struct init_run *r)
{
	memset(r, 0, sizeof(*r));
	r->pid = -1;
	r->errpipe = -1;
}

/*
 * What a program can leave in its network namespace after every process of
 * it is gone shows in counters: lo's bytes and packets (/proc/net/dev) for
 * anything it sent, IP and IPv6 statistics (/proc/net/snmp, snmp6) for
 * what it tried without a route.  A warm cell takes a copy of the three
 * files when it enters a namespace; a run that leaves them as they were
 * leaves the namespace to the next run (a new one costs ~0.5 ms of CPU to
 * make and tear down); after any difference init makes a new one, right
 * after DONE.  The check costs ~30 us, also after DONE.
 */
/* ip6_flowlabel: a flow label is made without a packet and lingers after
 * its socket is closed (up to 150 s), 20 bits each, thousands a run. */
static const char *const net_state_files[] = { "/proc/net/dev", "/proc/net/snmp", "/proc/net/snmp6",
					       "/proc/net/ip6_flowlabel" };
static char net_snapshot[16384];
static ssize_t net_snapshot_len = -1;

static ssize_t read_network_state(char *buf, size_t cap)
{
	size_t len = 0;
	for (size_t i = 0; i < sizeof(net_state_files) / sizeof(net_state_files[0]); i++) {
		int fd = open(net_state_files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue;  /* no IPv6 on this host: no snmp6 */
		if (fd < 0)
			return -1;
		ssize_t n;
		while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
			len += (size_t)n;
		close(fd);
		if (len == cap)
			return -1;
	}
	return (ssize_t)len;
}

/*
 * Sockets can outlive every process of a run: one that holds its own
 * descriptor in its queue (SCM_RIGHTS) is freed only when the kernel's
 * unix garbage collector runs, and until then it keeps its abstract name,
 * a TCP listener passed the same way keeps its port, and their buffers
 * stay charged to the cell's memory group.  Binding and listening send no
 * packet, so the counters above do not show them; the per-namespace
 * socket counts of /proc/net/protocols (its third column) do.  Read right
 * after DONE (~10 us): a run that leaves sockets gets its namespace
 * replaced and its memory group too (REGROUP, cell.c), so the next run
 * neither sees them nor carries their charge.
 */
static char socket_snapshot[2048];
static ssize_t socket_snapshot_len = -1;

/* "NAME COUNT\n" for each protocol, from /proc/net/protocols. */
static ssize_t read_socket_counts(char *out, size_t cap)
{
	static char buf[8192];
	int fd = open("/proc/net/protocols", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	size_t o = 0;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[32];
		long size, sockets;
		if (sscanf(line, "%31s %ld %ld", name, &size, &sockets) != 3)
			continue;  /* the header */
		int w = snprintf(out + o, cap - o, "%s %ld\n", name, sockets);
		if (w < 0 || (size_t)w >= cap - o)
			return -1;
		o += (size_t)w;
	}
	return (ssize_t)o;
}

/* Whether the run left sockets in the namespace (an unreadable table
 * counts as yes: a new namespace is the safe answer). */
static bool sockets_left(struct init_state *s)
{
	if (s->cfg.net || s->cfg.oneshot || socket_snapshot_len < 0)
		return false;
	char now[sizeof(socket_snapshot)];
	ssize_t n = read_socket_counts(now, sizeof(now));
	return n < 0 || n != socket_snapshot_len || memcmp(now, socket_snapshot, (size_t)n) != 0;
}

/*
 * Sockets left by a run are unreachable cycles (every process is gone), and
 * what they hold is more than network state: the descriptors parked in
 * them keep their file descriptions open, with their OFD and flock locks
 * on files under /usr (a message of any length for the next run), deleted
 * files that fill the box, pipe buffers charged to the cell uid.  The
 * kernel frees such cycles when its unix garbage collector runs, which the
 * close of any unix socket schedules while any are in flight: init closes
 * a pair and looks again, for up to COLLECT_MS, before it takes the next
 * request.
 */
#define COLLECT_MS 500

static bool collect_left_sockets(struct init_state *s)
{
	uint64_t until = clock_now_ns() + (uint64_t)COLLECT_MS * 1000000;
	do {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0) {
			close(sv[0]);
			close(sv[1]);
		}
		struct timespec ts = { 0, 1000000 };  /* 1 ms: the collector runs on a work queue */
		nanosleep(&ts, NULL);
		if (!sockets_left(s))
			return true;
	} while (clock_now_ns() < until);
	return false;
}

static void snapshot_network(struct init_state *s)
{
	if (!s->cfg.net && !s->cfg.oneshot && net_snapshot_len < 0)
		net_snapshot_len = read_network_state(net_snapshot, sizeof(net_snapshot));
	if (!s->cfg.net && !s->cfg.oneshot && socket_snapshot_len < 0)
		socket_snapshot_len = read_socket_counts(socket_snapshot, sizeof(socket_snapshot));
}

static bool network_touched(struct init_state *s)
{
	if (s->cfg.net || s->cfg.oneshot)
		return false;
	static char now[sizeof(net_snapshot)];
	ssize_t n = read_network_state(now, sizeof(now));
	bool touched = n < 0 || n != net_snapshot_len || memcmp(now, net_snapshot, (size_t)n) != 0;
	if (touched)
		s->net_used = true;
	return touched;
}

static int renew_network(struct init_state *s, char *why, size_t len);
static int wipe_if_dirty(struct init_state *s, uint64_t disk_kb, char *why, size_t len);

static void send_done(struct init_state *s)
{
	struct init_run *r = &s->run;
	struct cell_done_msg d;
	memset(&d, 0, sizeof(d));
	d.hdr.type = CELL_MSG_DONE;
	d.hdr.len = sizeof(d);
	d.wait_status = r->wait_status;
	d.exec_errno = r->exec_errno;
	d.start_ns = r->start_ns;
	d.end_ns = r->end_ns ? r->end_ns : clock_now_ns();
	struct rusage after;
	getrusage(RUSAGE_CHILDREN, &after);
	uint64_t us = (uint64_t)(after.ru_utime.tv_sec - r->before.ru_utime.tv_sec) * 1000000 +
		      (uint64_t)(after.ru_utime.tv_usec - r->before.ru_utime.tv_usec) +
		      (uint64_t)(after.ru_stime.tv_sec - r->before.ru_stime.tv_sec) * 1000000 +
		      (uint64_t)(after.ru_stime.tv_usec - r->before.ru_stime.tv_usec);
	d.rusage_cpu_ns = us * 1000;
	d.rusage_maxrss_kb = r->maxrss_kb;
	d.wall_killed = r->wall_killed;
	d.mem_base_known = r->mem_base_known;
	d.mem_base_bytes = r->mem_base;
	snprintf(d.error, sizeof(d.error), "%s", r->setup_error);
	d.preloaded = r->preloaded;
	if (r->preload_missed)
		snprintf(d.preload_error, sizeof(d.preload_error), "%s", s->preload_why);
	struct itimerspec off;
	memset(&off, 0, sizeof(off));
	timerfd_settime(s->timerfd, 0, &off, NULL);
	if (sandbox__msg_send(s->sock, &d, sizeof(d), NULL, 0) < 0)
		_exit(1);
	/* A one-shot cell is done: tearing it down (mounts, namespaces)
	 * now overlaps with the supervisor reading the run's accounting. */
	if (s->cfg.oneshot)
		_exit(0);
	/* After DONE, while the caller reads the result: sockets the run
	 * left (the first work after a run costs most here: ~90 us of a
	 * warm run's path on the test VM when it came before DONE), then a
	 * namespace the run changed is replaced now, not when the next run
	 * is waiting. */
	if (sandbox__test_sockets_left || (sockets_left(s) && !collect_left_sockets(s))) {
		s->net_used = true;
		s->regroup = true;
	}
	char why[300];
	if (s->net_used || network_touched(s))
		renew_network(s, why, sizeof(why));  /* if it fails, the next RUN retries and reports */
	bool keep_box = r->keep_box;
	run_reset(r);
	s->dirty = true;
	/* The box too, unless the caller reads files back from it: a next
	 * run then finds it empty instead of waiting for it to be emptied.
	 * If that fails, the box stays dirty: the next RUN retries and
	 * reports. */
	if (!keep_box)
		wipe_if_dirty(s, s->cfg.disk_kb, why, sizeof(why));
}

/* Reads what the program's side said before execve (nothing: it ran). */
static void read_exec_report(struct init_state *s)
{
	struct init_run *r = &s->run;
	struct payload_report rep;
	ssize_t n = read(r->errpipe, &rep, sizeof(rep));
	if (n < 0 && errno == EINTR)
		return;
	if (n == (ssize_t)sizeof(rep)) {
		rep.what[sizeof(rep.what) - 1] = '\0';
		if (rep.stage == 0 || rep.stage == 2) {
			r->exec_errno = rep.err ? rep.err : ENOEXEC;
			snprintf(r->setup_error, sizeof(r->setup_error), "%s %s: %s",
				 rep.stage == 0 ? "cannot execute" : "cannot enter",
				 rep.what, strerror(rep.err));
		} else {
			r->exec_errno = -1;  /* runcell's own failure */
			snprintf(r->setup_error, sizeof(r->setup_error),
				 "cell setup failed at %s: %s", rep.what, strerror(rep.err));
		}
	}
	close(r->errpipe);
	r->errpipe = -1;
}

/* Every process of the cell but init (and the preloader). */
static void kill_programs(struct init_state *s)
{
	if (s->preload.pid > 0)
		sandbox__preload_kill_programs(s->cfg.uid);
	else
		kill(-1, SIGKILL);
}

static void reap(struct init_state *s)
{
	struct init_run *r = &s->run;
	for (;;) {
		int st;
		struct rusage ru;
		pid_t p = wait4(-1, &st, WNOHANG | __WALL, &ru);
		if (p > 0) {
			if (p == s->preload.pid) {
				snprintf(s->preload_why, sizeof(s->preload_why),
					 "the preloader ended (wait status %d)", st);
				sandbox__preload_stop(&s->preload);
				continue;
			}
			if ((uint64_t)ru.ru_maxrss > r->maxrss_kb)
				r->maxrss_kb = (uint64_t)ru.ru_maxrss;
			if (p == r->pid) {
				r->exited = true;
				r->wait_status = st;
				r->end_ns = clock_now_ns();
				/* The program is done: so is everything it left. */
				kill_programs(s);
			}
			continue;
		}
		if (p < 0 && errno == EINTR)
			continue;
		/* Nothing left of the run: no child, or with a preloader, no
		 * process but it (looked for once the program has ended). */
		bool no_child = p < 0 && errno == ECHILD;
		if (r->active && r->exited &&
		    (no_child || (p == 0 && s->preload.pid > 0 && sandbox__preload_alone(&s->preload)))) {
			if (r->errpipe >= 0)
				read_exec_report(s);
			send_done(s);
		}
		return;
	}
}

/* Removes what dir holds, depth-first, as root inside the cell: unlinkat
 * never follows a link and no path is looked up by name from above.  At
 * most *budget entries; past that the caller remounts instead. */
static int empty_dir(int dfd, int *budget, int depth)
{
	if (depth > 64)
		return -E2BIG;
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	int rc = 0;
	for (bool again = true; again && rc == 0;) {
		again = false;
		struct dirent *e;
		rewinddir(d);
		while (rc == 0 && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (--*budget < 0) {
				rc = -E2BIG;
				break;
			}
			again = true;
			if (unlinkat(dirfd(d), e->d_name, 0) == 0)
				continue;
			if (errno != EISDIR) {
				rc = -errno;
				break;
			}
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				rc = -errno;
				break;
			}
			rc = empty_dir(sub, budget, depth + 1);
			close(sub);
			if (rc == 0 && unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0)
				rc = -errno;
		}
	}
	closedir(d);
	return rc;
}

/* The top directories themselves: what the program may have changed on
 * them (mode, extended attributes, inode flags such as nodump and
 * noatime, times: run N could set any mtime as a message to run N+1) is
 * put back. */
static int reset_top(int fd, mode_t mode)
{
	int flags = 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && flags != 0) {
		flags = 0;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
			return -errno;
	}
	char names[4096];
	ssize_t n = flistxattr(fd, names, sizeof(names));
	for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1)
		if (fremovexattr(fd, names + i) < 0)
			return -errno;
	if (n < 0 && errno != ENOTSUP)
		return -errno;
	if (futimens(fd, NULL) < 0)  /* now, as if just made */
		return -errno;
	return fchmod(fd, mode) < 0 ? -errno : 0;
}

/* SysV IPC objects outlive their creator: remove every one in the
 * cell's ipc namespace. */
static void remove_sysv_ipc(void)
{
	struct msginfo mi;
	int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&mi);
	for (int i = 0; i <= max; i++) {
		struct msqid_ds ds;
		int id = msgctl(i, MSG_STAT, &ds);
		if (id >= 0)
			msgctl(id, IPC_RMID, NULL);
	}
	struct seminfo si;
	max = semctl(0, 0, SEM_INFO, &si);
	for (int i = 0; i <= max; i++) {
		struct semid_ds ds;
		int id = semctl(i, 0, SEM_STAT, &ds);
		if (id >= 0)
			semctl(id, 0, IPC_RMID);
	}
	struct shm_info shi;
	max = shmctl(0, SHM_INFO, (struct shmid_ds *)&shi);
	for (int i = 0; i <= max; i++) {
		struct shmid_ds ds;
		int id = shmctl(i, SHM_STAT, &ds);
		if (id >= 0)
			shmctl(id, IPC_RMID, NULL);
	}
}

/* Between runs: every file of the last run goes.  Emptying the three
 * directories costs microseconds when the run left little; a run that
 * left many files (or anything that cannot be removed) gets a new tmpfs
 * instead, which costs a few unmounts. */
static int wipe_if_dirty(struct init_state *s, uint64_t disk_kb, char *why, size_t len)
{
	if (!s->dirty && disk_kb == s->cfg.disk_kb)
		return 0;
	remove_sysv_ipc();
	static const struct { const char *path; mode_t mode; } tops[] = {
		{ "/box", 0755 }, { "/tmp", 01777 }, { "/dev/shm", 01777 },
	};
	int rc = disk_kb == s->cfg.disk_kb ? 0 : -EAGAIN;
	int budget = 4096;
	for (size_t i = 0; i < 3 && rc == 0; i++) {
		int fd = open(tops[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			break;
		}
		rc = empty_dir(fd, &budget, 0);
		if (rc == 0)
			rc = reset_top(fd, tops[i].mode);
		close(fd);
	}
	if (rc < 0)
		rc = sandbox__fsroot_fresh_data(&s->cfg, disk_kb, true, why, len);
	if (rc == 0) {
		s->cfg.disk_kb = disk_kb;
		s->dirty = false;
	}
	return rc;
}

/* Moves init, and so every later program, to a new network namespace
 * with lo up, when a run changed the current one. */
static int renew_network(struct init_state *s, char *why, size_t len)
{
	if (s->cfg.net || !s->net_used)
		return 0;
	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(why, len, "cannot make a new network namespace: %s", strerror(errno));
		return -errno;
	}
	s->net_used = false;
	net_snapshot_len = -1;
	socket_snapshot_len = -1;
	int rc = sandbox__netns_setup(why, len);
	if (rc == 0)
		snapshot_network(s);
	return rc;
}

struct payload_args {
	struct init_state *s;
	const struct cell_run_msg *run;
	char **argv, **env;
	const char *cwd;
	int *fds;
	int nfds;
};

static int payload_trampoline(void *arg)
{
	struct payload_args *a = arg;
	int errfd = sandbox__payload_confine(&a->s->payload, a->run, a->fds, a->nfds, a->cwd);
	int e = sandbox__payload_exec(a->argv, a->env);
	sandbox__payload_fail(errfd, 0, e, a->argv[0]);
}

/*
 * Starts the program's process; returns its pid or -1 with errno.
 *
 * v2: clone3 with CLONE_INTO_CGROUP, so it is born inside the run's group
 * (no migration, no window).  Otherwise a vfork-style clone (CLONE_VM |
 * CLONE_VFORK, sandbox__clone_vfork), the way posix_spawn starts a child:
 * no page tables to copy and the child runs at once, while init waits for
 * its execve; about 0.1 ms less per run than fork() on the test machine.
 * payload.c is written for that: it only makes syscalls, writes nothing
 * but its own stack, and ends in execve or _exit.
 */
static pid_t start_payload(struct payload_args *pa, int v2_cgroup_fd)
{
	if (v2_cgroup_fd >= 0) {
		struct clone_args ca;
		memset(&ca, 0, sizeof(ca));
		ca.flags = CLONE_INTO_CGROUP;
		ca.exit_signal = SIGCHLD;
		ca.cgroup = (uint64_t)v2_cgroup_fd;
		pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid == 0)
			payload_trampoline(pa);
		return pid;
	}
	return sandbox__clone_vfork(payload_trampoline, pa);
}

bool sandbox__test_sockets_left;

/* The file messages that follow a RUN are read into this. */
static char filemsg[CELL_MSG_MAX];

/* Reads and drops the next n file messages, so that the stream stays in
 * step after a request that is not carried out. */
static void drain_files(struct init_state *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int ffd[1] = { -1 };
		int nf = 1;
		if (sandbox__msg_recv(s->sock, filemsg, sizeof(filemsg), ffd, &nf) <= 0)
			_exit(0);
		if (nf)
			close(ffd[0]);
	}
}

static void handle_run(struct init_state *s, size_t len, int *fds, int nfds)
{
	const struct cell_run_msg *m = (const struct cell_run_msg *)s->msg;
	char why[300];
	if (len < sizeof(*m) || s->run.active || m->ncg_fds > 4 || (m->nmem_fds != 0 && m->nmem_fds != 2) ||
	    nfds != 3 + (int)(m->ncg_fds + m->nmem_fds)) {
		send_failed(s->sock, EPROTO, "malformed run request");
		goto out;
	}
	/* argv, env and cwd: NUL-terminated strings after the header. */
	static char *argv[65536], *env[65536];
	if (m->argc < 1 || m->argc >= 65536 || m->envc >= 65536) {
		send_failed(s->sock, E2BIG, "too many arguments or variables");
		goto out;
	}
	const char *cwd = "/box";
	char *p = s->msg + sizeof(*m), *end = s->msg + len;
	uint32_t nstr = m->argc + m->envc + (m->has_cwd ? 1 : 0);
	for (uint32_t i = 0; i < nstr; i++) {
		char *z = memchr(p, '\0', (size_t)(end - p));
		if (!z) {
			send_failed(s->sock, EPROTO, "malformed run request");
			goto out;
		}
		if (i < m->argc)
			argv[i] = p;
		else if (i < m->argc + m->envc)
			env[i - m->argc] = p;
		else
			cwd = p;
		p = z + 1;
	}
	argv[m->argc] = NULL;
	env[m->envc] = NULL;

	/* Sockets of the last run outlived it, and their buffers stay
	 * charged to the kept v1 group this request names: the caller makes
	 * a new group and asks again.  (A v2 group is new for every run.) */
	bool regroup = s->regroup && m->nmem_fds == 2;
	s->regroup = false;
	if (regroup) {
		drain_files(s, m->nfiles);
		struct cell_msg_hdr h = { CELL_MSG_REGROUP, sizeof(h) };
		if (sandbox__msg_send(s->sock, &h, sizeof(h), NULL, 0) < 0)
			_exit(1);
		goto out;
	}
	/* The caller's last run: from here on init is a one-shot cell's (no
	 * network snapshot; it exits right after DONE). */
	if (m->last_run)
		s->cfg.oneshot = 1;
	if (wipe_if_dirty(s, m->limits.disk_kb, why, sizeof(why)) < 0 ||
	    renew_network(s, why, sizeof(why)) < 0) {
		send_failed(s->sock, EIO, why);
		goto out;
	}
	snapshot_network(s);
	/* Files for /box follow, one message each. */
	uint32_t nfiles = m->nfiles;
	struct cell_run_msg hdr = *m;
	for (uint32_t i = 0; i < nfiles; i++) {
		int ffd[1] = { -1 };
		int nf = 1;
		ssize_t n = sandbox__msg_recv(s->sock, filemsg, sizeof(filemsg), ffd, &nf);
		if (n <= 0)
			_exit(0);
		const struct cell_file_msg *fm = (const struct cell_file_msg *)filemsg;
		int rc;
		if ((size_t)n < sizeof(*fm) || fm->hdr.type != CELL_MSG_FILE ||
		    (fm->has_fd && nf != 1)) {
			snprintf(why, sizeof(why), "malformed file message");
			rc = -EPROTO;
		} else {
			rc = place_file(s, fm, (size_t)n, nf ? ffd[0] : -1, why, sizeof(why));
		}
		if (nf)
			close(ffd[0]);
		if (rc < 0) {
			drain_files(s, nfiles - i - 1);
			s->dirty = true;
			send_failed(s->sock, -rc, why);
			goto out;
		}
	}

	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		send_failed(s->sock, errno, "pipe");
		goto out;
	}
	int all[CELL_MAX_FDS + 1];
	for (int i = 0; i < nfds; i++)
		all[i] = fds[i];
	all[nfds] = pipefd[1];

	struct init_run *r = &s->run;
	run_reset(r);
	if (hdr.nmem_fds == 2) {
		/* v1: the box is wiped and filled, nothing of the program runs
		 * yet: the peak starts from what is charged now, and that (the
		 * cache of earlier runs) is subtracted from it. */
		int peak_fd = fds[3 + hdr.ncg_fds], usage_fd = fds[4 + hdr.ncg_fds];
		int rc = pwrite(peak_fd, "0", 1, 0) == 1 ? 0 : -(errno ? errno : EIO);
		if (rc == 0)
			rc = sandbox__read_u64_fd(usage_fd, &r->mem_base);
		if (rc < 0) {
			int e = -rc;
			close(pipefd[0]);
			close(pipefd[1]);
			snprintf(why, sizeof(why), "cannot reset the memory peak of the run's cgroup: %s",
				 strerror(e));
			send_failed(s->sock, e, why);
			goto out;
		}
		r->mem_base_known = true;
	}
	bool preload = hdr.preload && sandbox__preload_serves(&s->preload, argv, env);
	getrusage(RUSAGE_CHILDREN, &r->before);
	r->start_ns = clock_now_ns();
	pid_t pid = -1;
	int fork_errno = 0;
	if (preload) {
		/* stdio, the cgroup's descriptors and the report pipe */
		int pfds[CELL_MAX_FDS];
		int npfds = 0;
		for (uint32_t i = 0; i < 3 + hdr.ncg_fds; i++)
			pfds[npfds++] = fds[i];
		pfds[npfds++] = pipefd[1];
		pid = sandbox__preload_spawn(&s->preload, m, len, pfds, npfds, s->preload_why,
					     sizeof(s->preload_why));
		r->preloaded = pid > 0;
	}
	r->preload_missed = hdr.preload && !r->preloaded && s->preload_why[0] &&
			    sandbox__preload_missed(&s->preload, argv, env);
	if (pid < 0) {
		struct payload_args pa = { s, &hdr, argv, env, cwd, all, nfds + 1 };
		pid = start_payload(&pa, hdr.cg_kind == CG_V2 ? fds[3] : -1);
		fork_errno = errno;
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		snprintf(why, sizeof(why), "cannot fork the program: %s", strerror(fork_errno));
		send_failed(s->sock, fork_errno, why);
		goto out;
	}
	r->active = true;
	r->keep_box = hdr.keep_box;
	r->pid = pid;
	r->errpipe = pipefd[0];
	s->dirty = true;
	/* The wall limit counts from here, the program's start, which is
	 * what wall_ms reports: ended by init, a run over it never reports
	 * less.  (The supervisor's own deadline comes later, as a backstop.) */
	uint64_t at = r->start_ns + hdr.limits.wall_ms * 1000000ull;
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(at / 1000000000ull);
	its.it_value.tv_nsec = (long)(at % 1000000000ull);
	if (timerfd_settime(s->timerfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		kill_programs(s);  /* cannot happen; never a run without a deadline */
out:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

static void handle_fetch(struct init_state *s, size_t len)
{
	struct cell_fetch_msg reply;
	memset(&reply, 0, sizeof(reply));
	reply.hdr.type = CELL_MSG_FETCHED;
	reply.hdr.len = sizeof(reply);
	const char *path = s->msg + sizeof(struct cell_fetch_msg);
	int fd = -1;
	if (len <= sizeof(struct cell_fetch_msg) || !memchr(path, '\0', len - sizeof(struct cell_fetch_msg)) ||
	    !sandbox__path_parts_ok(path) || s->run.active) {
		reply.err = EINVAL;
	} else {
		/* Relative to /box, no link anywhere on the way, not even a
		 * magic one, not onto another mount; as the cell uid. */
		int dirfd = open("/box", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct open_how how;
		memset(&how, 0, sizeof(how));
		how.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			      RESOLVE_NO_XDEV;
		setfsgid(s->cfg.gid);
		setfsuid(s->cfg.uid);
		fd = dirfd < 0 ? -1 : (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		int e = errno;
		setfsuid(0);
		setfsgid(0);
		if (dirfd >= 0)
			close(dirfd);
		struct stat st;
		if (fd < 0)
			reply.err = e;
		else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			reply.err = EPERM;
			close(fd);
			fd = -1;
		}
	}
	sandbox__msg_send(s->sock, &reply, sizeof(reply), fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
	if (fd >= 0)
		close(fd);
}

/* Opens /box or a directory under it the way a fetch opens a file: no
 * link on the way, as the cell uid. */
static int open_box_dir(struct init_state *s, const char *path)
{
	int boxfd = open("/box", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (boxfd < 0)
		return -errno;
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
	setfsgid(s->cfg.gid);
	setfsuid(s->cfg.uid);
	int fd = (int)syscall(SYS_openat2, boxfd, *path ? path : ".", &how, sizeof(how));
	int e = errno;
	setfsuid(0);
	setfsgid(0);
	close(boxfd);
	return fd < 0 ? -e : fd;
}

static void handle_list(struct init_state *s, size_t len)
{
	static char reply[sizeof(struct cell_fetch_msg) + 65536];
	struct cell_fetch_msg *r = (struct cell_fetch_msg *)reply;
	memset(r, 0, sizeof(*r));
	r->hdr.type = CELL_MSG_LISTED;
	size_t off = sizeof(*r);
	const char *path = s->msg + sizeof(struct cell_fetch_msg);
	int fd = -1;
	if (len <= sizeof(struct cell_fetch_msg) || !memchr(path, '\0', len - sizeof(struct cell_fetch_msg)) ||
	    (*path && !sandbox__path_parts_ok(path)) || s->run.active)
		r->err = EINVAL;
	else if ((fd = open_box_dir(s, path)) < 0)
		r->err = -fd;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (fd >= 0 && !d) {
		r->err = errno;
		close(fd);
	}
	struct dirent *e;
	unsigned count = 0;
	while (d && (e = readdir(d)) && count < 1000) {
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		size_t n = strlen(e->d_name) + 1;
		if (off + n > sizeof(reply))
			break;
		memcpy(reply + off, e->d_name, n);
		off += n;
		count++;
	}
	if (d)
		closedir(d);
	r->hdr.len = (uint32_t)off;
	sandbox__msg_send(s->sock, reply, off, NULL, 0);
}

static int read_config(struct init_state *s, char *why, size_t wlen)
{
	int exe = -1, nfd = 1;
	ssize_t n = sandbox__msg_recv(s->sock, s->msg, sizeof(s->msg), &exe, &nfd);
	if (n <= 0)
		_exit(0);
	s->cfg.preload_exe = nfd == 1 ? exe : -1;
	const struct cell_config_msg *m = (const struct cell_config_msg *)s->msg;
	if ((size_t)n < sizeof(*m) || m->hdr.type != CELL_MSG_CONFIG || m->nbinds > 64 ||
	    (m->preload != 0) != (nfd == 1) || m->preload_envc > CELL_PRELOAD_ENV_MAX) {
		snprintf(why, wlen, "malformed configuration");
		return -EPROTO;
	}
	s->cfg.uid = m->uid;
	s->cfg.gid = m->gid;
	s->cfg.net = m->net;
	s->cfg.oneshot = m->oneshot;
	s->cfg.disk_kb = m->disk_kb;
	s->cfg.nbinds = m->nbinds;
	static struct init_bind binds[64];
	s->cfg.binds = binds;
	char *p = s->msg + sizeof(*m), *end = s->msg + n;
	for (uint32_t i = 0; i < m->nbinds; i++) {
		char *h = p, *z1 = memchr(h, '\0', (size_t)(end - h));
		if (!z1 || z1 + 2 >= end)
			goto bad;
		char *c = z1 + 1, *z2 = memchr(c, '\0', (size_t)(end - c));
		if (!z2 || z2 + 1 >= end)
			goto bad;
		binds[i].host = h;
		binds[i].cell = c;
		binds[i].rw = z2[1] != 0;
		p = z2 + 2;
	}
	if (m->preload) {
		static char *env[CELL_PRELOAD_ENV_MAX + 1];
		for (uint32_t i = 0; i <= m->preload_envc; i++) {
			char *z = memchr(p, '\0', (size_t)(end - p));
			if (!z)
				goto bad;
			/* Copies: the strings of s->msg last until the next
			 * message, the preloader's as long as the cell. */
			char *copy = strdup(p);
			if (!copy)
				goto bad;
			if (i == 0)
				s->cfg.preload_program = copy;
			else
				env[i - 1] = copy;
			p = z + 1;
		}
		env[m->preload_envc] = NULL;
		s->cfg.preload_env = env;
	}
	return 0;
bad:
	snprintf(why, wlen, "malformed bind list");
	return -EPROTO;
}

void sandbox__init_run(int sock)
{
	static struct init_state state;
	struct init_state *s = &state;
	char why[400];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 0);
	setsid();
	umask(0);
	s->payload.nproc_max = RLIM_INFINITY;
	struct rlimit nproc;
	if (getrlimit(RLIMIT_NPROC, &nproc) == 0)
		s->payload.nproc_max = nproc.rlim_max;
	/* Only the socket survives: no descriptor of the caller leaks into
	 * the cell. */
	if (sock != INIT_SOCK_FD) {
		if (dup2(sock, INIT_SOCK_FD) < 0)
			_exit(1);
		sock = INIT_SOCK_FD;
	}
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3; i++)
		dup2(devnull, i);
	if (syscall(SYS_close_range, 4u, ~0u, 0) < 0)
		for (int fd = 4; fd < 4096; fd++)
			close(fd);
	fcntl(sock, F_SETFD, FD_CLOEXEC);
	s->sock = sock;
	s->preload.pid = -1;
	s->preload.sock = -1;
	run_reset(&s->run);

	sandbox__init_mark("init: started");
	if (read_config(s, why, sizeof(why)) < 0)
		init_die(sock, EPROTO, why);
	sandbox__init_mark("init: configured");
	if (sandbox__filter_build(&s->filter, s->cfg.net) < 0)
		init_die(sock, E2BIG, "seccomp filter too large");
	s->payload.uid = s->cfg.uid;
	s->payload.gid = s->cfg.gid;
	s->payload.filter = &s->filter;
	bool bind_fault = false;
	int rc = sandbox__fsroot_build(&s->cfg, &bind_fault, why, sizeof(why));
	if (rc < 0) {
		sandbox__msg_send_failed(sock, -rc, bind_fault, why);
		_exit(1);
	}
	sandbox__init_mark("init: root built");
	/* The programs inherit init's OOM score.  A caller started with
	 * OOMScoreAdjust=-1000 made them unkillable: at the cell's memory
	 * limit the kernel found no victim and the program spun in its page
	 * fault to the wall limit.  Untrusted code is the first to go, also
	 * when the whole host runs short.  Raising the score needs no
	 * privilege. */
	int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (oom >= 0) {
		if (write(oom, "1000", 4) != 4)
			sandbox__init_mark("init: oom_score_adj not set");
		close(oom);
	}
	/* The preloader, with the OOM score above, and with capabilities,
	 * of which it keeps what a run's confinement needs (preload.c). */
	if (s->cfg.preload_exe >= 0) {
		s->preload.program = s->cfg.preload_program;
		s->preload.env = s->cfg.preload_env;
		sandbox__preload_start(&s->preload, s->cfg.preload_exe, &s->payload, s->preload_why,
				       sizeof(s->preload_why));
		close(s->cfg.preload_exe);
		s->cfg.preload_exe = -1;
		sandbox__init_mark("init: preloader started");
	}
	/* Capabilities can only ever be lost from here on: empty the
	 * bounding set, which children inherit. */
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
			break;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0)
		init_die(sock, errno, "signalfd");
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->timerfd < 0)
		init_die(sock, errno, "timerfd");

	/* The cell is ready when its preloader is: a run that finds it ready
	 * does not wait for an interpreter's start, and a keeper's cells are
	 * counted ready only once nothing of their build is left to run.  A
	 * preloader that fails here is stopped; runs are then executed, and
	 * those that asked for it say why. */
	if (s->preload.pid > 0) {
		sandbox__preload_ready(&s->preload, s->preload_why, sizeof(s->preload_why));
		sandbox__init_mark(s->preload.pid > 0 ? "init: preloader ready" : "init: preloader failed");
	}
	sandbox__init_mark("init: ready");
	struct cell_ready_msg *ready = sandbox__init_marks();
	ready->hdr.type = CELL_MSG_READY;
	ready->hdr.len = sizeof(*ready);
	if (sandbox__msg_send(sock, ready, sizeof(*ready), NULL, 0) < 0)
		_exit(1);

	for (;;) {
		struct pollfd pf[4] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = s->sigfd, .events = POLLIN },
			{ .fd = s->timerfd, .events = POLLIN },
			{ .fd = s->run.errpipe, .events = POLLIN },
		};
		int n = poll(pf, s->run.errpipe >= 0 ? 4 : 3, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pf[3].revents && s->run.errpipe >= 0)
			read_exec_report(s);
		if (pf[2].revents) {
			uint64_t expirations;
			if (read(s->timerfd, &expirations, sizeof(expirations)) > 0 &&
			    s->run.active && !s->run.exited) {
				s->run.wall_killed = true;
				kill_programs(s);
			}
		}
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			while (read(s->sigfd, &si, sizeof(si)) > 0)
				;
			reap(s);
		}
		if (pf[0].revents) {
			int fds[CELL_MAX_FDS];
			int nfds = CELL_MAX_FDS;
			ssize_t len = sandbox__msg_recv(sock, s->msg, sizeof(s->msg), fds, &nfds);
			if (len <= 0)
				_exit(0);  /* the supervisor is gone: the cell goes too */
			const struct cell_msg_hdr *h = (const struct cell_msg_hdr *)s->msg;
			switch (h->type) {
			case CELL_MSG_RUN:
				handle_run(s, (size_t)len, fds, nfds);
				nfds = 0;
				break;
			case CELL_MSG_KILL:
				if (s->run.active)
					kill_programs(s);
				break;
			case CELL_MSG_FETCH:
				handle_fetch(s, (size_t)len);
				break;
			case CELL_MSG_LIST:
				handle_list(s, (size_t)len);
				break;
			default:
				send_failed(sock, EPROTO, "unknown request");
				break;
			}
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
		}
	}
}

void sandbox_init_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sandbox__init_run(INIT_SOCK_FD);
}
