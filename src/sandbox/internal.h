/*
 * sandbox internals shared by the supervisor side (cell.c), the cell's init
 * (init.c, fsroot.c) and the helpers (cgroup*.c, seccomp.c, slot.c).
 * Nothing here is visible outside src/sandbox/.
 */
#ifndef RUNCELL_SANDBOX_INTERNAL_H
#define RUNCELL_SANDBOX_INTERNAL_H

#include <linux/filter.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "sandbox/sandbox.h"

/* Cell uids: one per slot, so concurrent cells never share a uid. */
#define SANDBOX_UID_BASE 60000u
#define SANDBOX_MAX_SLOTS 1000u

/* Default environment of a program in a cell. */
#define SANDBOX_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* ---- slot.c: one slot (and uid) per live cell on the host ---------- */

/* Claims the lowest free slot (an abstract unix socket bound by name, so
 * the claim dies with the process and leaves no file behind). */
int sandbox__slot_claim(unsigned *slot, int *fd);

/* ---- netns.c: network namespaces made ahead ------------------------ */

/* lo up in the caller's network namespace (once per namespace). */
int sandbox__netns_setup(char *why, size_t len);
/* The namespace the slot's last cell made for it (an fd), removed from the
 * slot; -1 when there is none or it fails the checks. */
int sandbox__netns_take(unsigned slot);

/* Makes a namespace for the slot's next cell in a thread of its own. */
struct sandbox__netns_maker {
	pthread_t thread;
	bool started;
	unsigned slot;
};
void sandbox__netns_make_start(struct sandbox__netns_maker *m, unsigned slot);
void sandbox__netns_make_wait(struct sandbox__netns_maker *m);

/* ---- init.c ------------------------------------------------------------ */

/* Tests only: a warm cell's init then acts after every run as if the run
 * had left sockets that outlived the kernel's collector (a new network
 * namespace, and a new v1 group asked for), which no program can be
 * relied on to do.  Read by init, which a test's cell forks from it. */
extern bool sandbox__test_sockets_left;

/* ---- seccomp.c --------------------------------------------------------- */

#define SANDBOX_BPF_MAX 256

struct sandbox_filter {
	struct sock_filter insn[SANDBOX_BPF_MAX];
	unsigned short len;
};

/* Builds the cell's deny-list filter.  allow_net keeps socket families
 * that need a network. */
int sandbox__filter_build(struct sandbox_filter *f, bool allow_net);

/* ---- cgroup*.c ------------------------------------------------------------ */

enum cg_kind { CG_NONE, CG_V1, CG_V2 };

/* Limits and measurements of one run. */
struct cg_run {
	enum cg_kind kind;
	char name[64];
	/* v1: one directory per distinct controller mount (memory, pids,
	 * cpuacct); the program writes "0" to each tasks file itself. */
	char dirs[4][320];
	int ndirs;
	int mem_dir, pids_dir;  /* which of dirs holds memory, pids */
	int task_fds[4];
	/* v2: the directory, passed to clone3(CLONE_INTO_CGROUP). */
	int dir_fd;
	int cpu_fd;   /* cpuacct.usage (v1) or cpu.stat (v2) */
	int peak_fd;  /* memory.max_usage_in_bytes (v1) or memory.peak (v2) */
	int oom_fd;   /* memory.oom_control (v1) or memory.events (v2) */
	int kill_fd;  /* cgroup.kill (v2, kernel 5.14+) */
	int usage_fd; /* memory.usage_in_bytes (v1) */
	int pids_events_fd;  /* pids.events: forks refused at pids.max; -1 if absent */
	bool live;    /* created; a v1 group is kept for the cell's next run */
	bool reused;  /* v1: this run has the group of an earlier run */
	bool unused;  /* made ahead of its first run (config.ahead): its
			 counters are still at zero, so that run sets only
			 its limits and counts as a new group's */
	struct sandbox_limits applied;  /* limits written to it */
	uint64_t base_usage;  /* v1: memory charged before the run (cache), as
			       * init read it after wiping the box */
	uint64_t base_oom;    /* v1: OOM kills before the run */
	uint64_t base_pids_max;  /* v1: forks refused before the run */
};

struct cg_stats {
	uint64_t cpu_ns;
	uint64_t peak_bytes;
	bool peak_known;      /* false when the kernel cannot tell */
	uint64_t oom_kills;
	/* OOM kills while the group's own limit was never reached: a limit
	 * above the cell's (a group runcell runs in, or the host) ran out. */
	bool oom_above;
	uint64_t forks_refused;  /* process or thread creations pids.max refused */
};

/* Detects the backend to use; fills *why with a sentence for people. */
enum cg_kind sandbox__cg_detect(enum sandbox_cgroup_mode mode, char *why, size_t len);
/* Removes leftovers of a slot's earlier, crashed holder. */
void sandbox__cg_sweep_slot(enum cg_kind kind, unsigned slot);
/* A cgroup with no descriptors and no directory. */
void sandbox__cg_clear(struct cg_run *cg, enum cg_kind kind);
/* Gets cg ready for a run: creates it, or (v1) resets a live group's
 * counters and limits, which is cheaper than a new memory cgroup. */
int sandbox__cg_begin(struct cg_run *cg, enum cg_kind kind, unsigned slot,
		      uint64_t seq, const struct sandbox_limits *limits,
		      char *why, size_t len);
/* After a run: v2 groups are removed (memory.peak cannot be reset before
 * 6.12), v1 groups kept.  Returns 0 or -errno. */
int sandbox__cg_end(struct cg_run *cg);
int sandbox__cg_cpu_ns(struct cg_run *cg, uint64_t *ns);
int sandbox__cg_stats(struct cg_run *cg, struct cg_stats *st);
/* Kills every task of the run's cgroup (v2 cgroup.kill, v1 signals). */
void sandbox__cg_kill(struct cg_run *cg);
/* Closes descriptors and removes the directories (retrying while busy). */
int sandbox__cg_destroy(struct cg_run *cg);

/* v1 and v2 backends behind the functions above. */
int sandbox__cgv1_usable(char *why, size_t len);
int sandbox__cgv1_create(struct cg_run *cg, const char *name,
			 const struct sandbox_limits *limits, char *why, size_t len);
/* Writes the memory and pids limits that differ from old (all, when old
 * is NULL: a new group). */
int sandbox__cgv1_set_limits(struct cg_run *cg, const struct sandbox_limits *l,
			     const struct sandbox_limits *old, char *why, size_t len);
int sandbox__cgv1_reset(struct cg_run *cg, const struct sandbox_limits *limits,
			char *why, size_t len);
int sandbox__cgv1_stats(struct cg_run *cg, struct cg_stats *st);
void sandbox__cgv1_kill(struct cg_run *cg);
void sandbox__cgv1_sweep(const char *prefix);
int sandbox__cgv2_usable(char *why, size_t len);
int sandbox__cgv2_create(struct cg_run *cg, const char *name,
			 const struct sandbox_limits *limits, char *why, size_t len);
/* memory.max and pids.max, where they differ from old (NULL: both). */
int sandbox__cgv2_set_limits(struct cg_run *cg, const struct sandbox_limits *l,
			     const struct sandbox_limits *old, char *why, size_t len);
int sandbox__cgv2_stats(struct cg_run *cg, struct cg_stats *st);
void sandbox__cgv2_kill(struct cg_run *cg);
void sandbox__cgv2_sweep(const char *prefix);
/* cgroup_files.c: kills what is left in a group directory and removes it. */
int sandbox__cg_remove_dir(const char *dir);
/* Whether a v2 cgroup.controllers file (path) lists both controllers. */
bool sandbox__cg_controllers_have(const char *path, const char *a, const char *b);
/* SIGKILLs every process listed in dir/cgroup.procs. */
void sandbox__cg_kill_procs(const char *dir);
/* Removes the groups in parent whose names start with prefix (a crashed
 * runcell's); kill_file: write cgroup.kill first (v2, 5.14+). */
void sandbox__cg_sweep_dir(const char *parent, const char *prefix, bool kill_file);

/* cgroup_files.c: small helpers for cgroup control files. */
int sandbox__write_file(const char *path, const char *value);
/* The same for FILE in directory DIR; open_in adds O_CLOEXEC to FLAGS. */
int sandbox__write_in(const char *dir, const char *file, const char *value);
int sandbox__open_in(const char *dir, const char *file, int flags);
int sandbox__read_u64_fd(int fd, uint64_t *value);
int sandbox__read_key_u64_fd(int fd, const char *key, uint64_t *value);

/* ---- protocol between the supervisor and the cell's init ------------------ */

enum cell_msg_type {
	CELL_MSG_CONFIG = 1,  /* sup -> init: the cell's configuration */
	CELL_MSG_READY,       /* init -> sup: the cell is built */
	CELL_MSG_FAILED,      /* init -> sup: building or a request failed */
	CELL_MSG_FILE,        /* sup -> init: a file for /box (fd or data) */
	CELL_MSG_RUN,         /* sup -> init: run a program (fds attached) */
	CELL_MSG_KILL,        /* sup -> init: kill the running program now */
	CELL_MSG_DONE,        /* init -> sup: every process of the run is gone */
	CELL_MSG_FETCH,       /* sup -> init: open a file of /box for reading */
	CELL_MSG_FETCHED,     /* init -> sup: the descriptor, or an errno */
	CELL_MSG_LIST,        /* sup -> init: regular files of a /box directory */
	CELL_MSG_LISTED,      /* init -> sup: an errno, then "name\0..." */
	CELL_MSG_REGROUP,     /* init -> sup: not run; ask again with a new
			       * v1 group (the last run left sockets) */
};

/* Largest message; the socket buffers are raised to hold it. */
#define CELL_MSG_MAX (2u << 20)

struct cell_msg_hdr {
	uint32_t type;
	uint32_t len;  /* bytes of the whole message, header included */
};

/* Most environment strings a preloader gets (cell_config_msg). */
#define CELL_PRELOAD_ENV_MAX 256

struct cell_config_msg {
	struct cell_msg_hdr hdr;
	uint32_t uid, gid;
	uint32_t net;
	uint32_t nbinds;
	uint32_t oneshot;   /* one run, then init exits right after DONE */
	uint32_t preload;   /* a preloader's binary is attached (an fd) */
	uint64_t disk_kb;   /* initial /box size; each run may change it */
	uint32_t preload_envc;
	uint32_t pad;
	/* followed by nbinds * (host "\0" cell "\0" rw-byte), then with
	 * preload its program "\0" and preload_envc environment strings */
};

struct cell_file_msg {
	struct cell_msg_hdr hdr;
	uint32_t mode;
	uint32_t has_fd;
	uint32_t readonly;  /* root-owned, no write bits */
	uint32_t pad;
	uint64_t len;       /* inline data length when !has_fd */
	/* followed by path "\0" then inline data */
};

struct cell_run_msg {
	struct cell_msg_hdr hdr;
	struct sandbox_limits limits;
	uint32_t cg_kind;      /* enum cg_kind */
	uint32_t ncg_fds;      /* cgroup descriptors after the 3 stdio ones */
	uint32_t argc, envc;
	uint32_t has_cwd;
	uint32_t nfiles;       /* CELL_MSG_FILE messages that follow */
	uint32_t last_run;     /* init exits after DONE, as a one-shot cell's */
	uint32_t nmem_fds;     /* v1: 2 when memory.max_usage_in_bytes and
				* memory.usage_in_bytes follow the tasks fds */
	uint32_t preload;      /* fork it from the preloader if it serves it */
	uint32_t keep_box;     /* not wiped after DONE: the caller reads it back */
	/* followed by argv strings, env strings, cwd, each "\0"-terminated */
};

struct cell_done_msg {
	struct cell_msg_hdr hdr;
	int32_t wait_status;     /* of the program (pid 2) */
	int32_t exec_errno;      /* non-zero: the program could not start */
	uint64_t start_ns, end_ns;   /* CLOCK_MONOTONIC, fork .. reap */
	uint64_t rusage_cpu_ns;  /* every reaped process, for no-cgroup mode */
	uint64_t rusage_maxrss_kb;
	uint32_t wall_killed;    /* init ended the run at its wall limit */
	uint32_t mem_base_known; /* v1: init reset the peak after the wipe */
	uint32_t preloaded;      /* forked from the preloader */
	uint64_t mem_base_bytes; /* v1: memory charged then (cache of earlier runs) */
	char error[256];         /* set when init failed during the run */
	char preload_error[160]; /* why a run that asked for the preloader
				  * was executed instead */
};

struct cell_fetch_msg {
	struct cell_msg_hdr hdr;
	int32_t err;             /* 0 and an fd attached, or a positive errno */
	uint32_t pad;
	/* request: followed by the path "\0" */
};

/* READY carries the times of init's steps, for RUNCELL_TRACE. */
#define CELL_MARKS_MAX 16
struct cell_ready_msg {
	struct cell_msg_hdr hdr;
	uint32_t nmarks;
	uint32_t pad;
	struct {
		char what[40];
		uint64_t ns;  /* CLOCK_MONOTONIC, shared with the supervisor */
	} marks[CELL_MARKS_MAX];
};

/* init_marks.c: records the time of a step of init's setup (init side
 * only); the marks travel in the READY message that init_marks returns. */
void sandbox__init_mark(const char *what);
struct cell_ready_msg *sandbox__init_marks(void);

struct cell_failed_msg {
	struct cell_msg_hdr hdr;
	int32_t err;
	uint32_t bind_fault;     /* the caller's bind could not be made */
	char text[400];
};

/* Send and receive one message with up to 8 descriptors. */
#define CELL_MAX_FDS 9
int sandbox__msg_send(int sock, const void *msg, size_t len,
		      const int *fds, int nfds);
/* Returns the message length, 0 at end of stream, or -errno.  Received
 * descriptors are stored in fds (up to *nfds, which is updated). */
ssize_t sandbox__msg_recv(int sock, void *msg, size_t cap, int *fds, int *nfds);
/* A FAILED message with text (cut to fit); errors are not reported: the
 * sender is about to give up anyway. */
void sandbox__msg_send_failed(int sock, int err, bool bind_fault, const char *text);

/* ---- payload.c: the program's side, from clone to its first instruction -- */

/* What the program's side reports on the pipe when it cannot start. */
struct payload_report {
	int stage;  /* 0: execve itself; 2: the working directory; 1: a setup step */
	int err;
	char what[120];
};

struct payload_ctx {
	uid_t uid;
	gid_t gid;
	const struct sandbox_filter *filter;
	rlim_t nproc_max;  /* init's hard RLIMIT_NPROC: no run's can be above it */
};

/* Confines the calling process for run (fds: stdin, stdout, stderr, the
 * cgroup descriptors, then the report pipe, last).  Returns the report
 * pipe's new descriptor (3, close-on-exec); a failure is reported and ends
 * the process. */
int sandbox__payload_confine(const struct payload_ctx *ctx, const struct cell_run_msg *run,
			     const int *fds, int nfds, const char *cwd);
/* Execs argv[0] (searched in env's PATH); returns the errno of why not.
 * Not noreturn on purpose: with ASan, a call to a noreturn function first
 * resets the stack's shadow, which on init's shared stack it must not. */
int sandbox__payload_exec(char *const *argv, char *const *env);
/* Whether the PATH search of sandbox__payload_exec, for a name without a
 * slash, finds path first: the first place that has the name is path
 * (false when it cannot tell: an entry relative to the run's working
 * directory comes before). */
bool sandbox__payload_finds(const char *file, char *const *env, const char *path);
void sandbox__payload_fail(int fd, int stage, int err, const char *what)
	__attribute__((noreturn));
/* Runs fn(arg) in a child that shares init's memory until it execs or
 * exits (CLONE_VM | CLONE_VFORK, as posix_spawn does), on a guarded stack
 * of init's; the caller goes on after that.  Its pid, or -1 with errno. */
pid_t sandbox__clone_vfork(int (*fn)(void *), void *arg);

/* ---- preload.c: a preloaded interpreter, init's side ---------------------- */

struct init_preload {
	pid_t pid;            /* -1: none (not asked for, failed or died) */
	int sock;
	bool ready;           /* its READY was read */
	const char *program;
	char *const *env;
	char code_option[SANDBOX_CODE_OPTION_MAX];  /* from its READY; "": none */
};

/* Starts the preloader (exe_fd) with p->program and p->env. */
int sandbox__preload_start(struct init_preload *p, int exe_fd, const struct payload_ctx *ctx,
			   char *why, size_t len);
/* Waits for its start (once); false, with why, when it failed (it is
 * then stopped). */
bool sandbox__preload_ready(struct init_preload *p, char *why, size_t len);
/* Whether it runs argv with env, once ready: argv[0] its program, argv[1]
 * a script or its code option with the code, env its environment. */
bool sandbox__preload_serves(const struct init_preload *p, char *const *argv, char *const *env);
/* Whether argv with env is its program's, with its environment, while it
 * is not there (failed or died): a run it might have served. */
bool sandbox__preload_missed(const struct init_preload *p, char *const *argv, char *const *env);
/* Forks run's program as init's child, once sandbox__preload_serves (fds:
 * stdin, stdout, stderr, cgroup descriptors, report pipe); its pid, or -1
 * with why (the preloader is then stopped). */
pid_t sandbox__preload_spawn(struct init_preload *p, const struct cell_run_msg *run,
			     size_t run_len, const int *fds, int nfds, char *why, size_t len);
/* Kills it; init reaps it. */
void sandbox__preload_stop(struct init_preload *p);
/* kill(-1, SIGKILL) as uid: every program of the cell, not the preloader. */
void sandbox__preload_kill_programs(uid_t uid);
/* No process in the cell but init and the preloader. */
bool sandbox__preload_alone(const struct init_preload *p);

/* ---- init.c / fsroot.c: inside the cell --------------------------------- */

/* Runs the cell's init on socket sock (never returns). */
void sandbox__init_run(int sock) __attribute__((noreturn));

struct init_bind {
	char *host, *cell;
	bool rw;
};

struct init_config {
	uid_t uid;
	gid_t gid;
	bool net;
	bool oneshot;
	int preload_exe;           /* the preloader's binary; -1: none */
	const char *preload_program;
	char **preload_env;
	uint64_t disk_kb;
	struct init_bind *binds;
	size_t nbinds;
};

/* ---- path.c ---- */

/* A relative path of non-empty parts, none "." or "..", at most 1024
 * bytes, no trailing slash. */
bool sandbox__path_parts_ok(const char *p);

/* Builds the cell's root and pivots into it; returns 0 or -errno with the
 * failing step in why, and *bind_fault true when that step was one of the
 * caller's binds (a bad --bind, not a failure of runcell). */
int sandbox__fsroot_build(const struct init_config *c, bool *bind_fault, char *why, size_t len);
/* Replaces /box, /tmp and /dev/shm by one fresh tmpfs of disk_kb. */
int sandbox__fsroot_fresh_data(const struct init_config *c, uint64_t disk_kb,
			       bool unmount_old, char *why, size_t len);

#endif
