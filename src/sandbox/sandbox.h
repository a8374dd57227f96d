/*
 * sandbox: the cell, runcell's only privileged component.
 *
 * A cell is a set of fresh namespaces (pid, mount, net, ipc, uts, cgroup)
 * around a tmpfs root that holds read-only binds of the host's runtimes, a
 * writable size-limited /box and /tmp, a minimal /dev and a private /proc.
 * Inside it a small init process (pid 1 of the cell) runs programs on
 * request; each program runs as the cell's unprivileged uid, without
 * capabilities, in a new session, with no_new_privs and a seccomp filter,
 * inside a cgroup that limits and measures memory, processes and CPU time.
 *
 * Two ways to use it:
 *   - sandbox_run():   one program in one fresh cell, torn down afterwards.
 *   - a warm cell:     sandbox_cell_open() once, sandbox_cell_run() many
 *                      times (each run starts with a wiped /box, /tmp and
 *                      /dev/shm and ends with every process of the cell
 *                      killed), sandbox_cell_close() at the end.
 *
 * A result is data, never an error: whatever the program does, the
 * functions below fill a struct sandbox_result and return 0.  They return a
 * negative errno only when the caller's request is invalid; a failure of
 * runcell itself during a run is reported as SANDBOX_INTERNAL_ERROR with
 * the cause in result.message.
 *
 * Threads: a cell belongs to the thread that opened it (its init process
 * dies with that thread, by PR_SET_PDEATHSIG).  Different cells may be used
 * from different threads at once.  A cell's first run starts a thread of
 * its own (it makes the network namespace for the slot's next cell),
 * joined when the cell closes (sandbox_run: before it returns); it makes
 * system calls and formats paths into its own buffers (no malloc, no
 * lock), so forking init meanwhile is safe.
 */
#ifndef RUNCELL_SANDBOX_H
#define RUNCELL_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

enum sandbox_status {
	SANDBOX_OK,
	SANDBOX_RUNTIME_ERROR,   /* exited non-zero, or could not be executed */
	SANDBOX_SIGNALED,        /* killed by a signal it raised or caused */
	SANDBOX_TIME_LIMIT,      /* CPU time of the whole cell over the limit */
	SANDBOX_WALL_TIME_LIMIT, /* wall time over the limit */
	SANDBOX_MEMORY_LIMIT,    /* the cell's memory cgroup ran out (OOM kill) */
	SANDBOX_OUTPUT_LIMIT,    /* a stream over its cap, or file size limit */
	SANDBOX_INTERNAL_ERROR,  /* runcell failed; the cause is in message */
};

const char *sandbox_status_name(enum sandbox_status status);

/* Every limit of a run.  Zero never means "unlimited": use the defaults. */
struct sandbox_limits {
	uint64_t cpu_ms;        /* CPU time of all processes and threads */
	uint64_t wall_ms;       /* wall time, monotonic clock; always enforced */
	uint64_t memory_kb;     /* memory of the whole cell (cgroup) */
	uint32_t processes;     /* processes and threads together */
	uint64_t file_size_kb;  /* largest file the program may write */
	uint64_t output_kb;     /* cap per stream (stdout, stderr) */
	uint32_t open_files;    /* descriptors per process */
	uint64_t stack_kb;      /* stack of the main thread */
	uint64_t disk_kb;       /* /box, /tmp and /dev/shm together */
};

/* The defaults (one place): fit a C or Python program. */
void sandbox_limits_default(struct sandbox_limits *limits);
/* How many files and directories a disk of disk_kb holds (its tmpfs's
 * nr_inodes; three go to /box, /tmp and /dev/shm themselves). */
uint64_t sandbox_disk_inodes(uint64_t disk_kb);
/* What a file of len bytes takes on that disk: whole pages of 4 KiB. */
uint64_t sandbox_disk_bytes(uint64_t len);
/* Whether files and directories taking bytes (summed sandbox_disk_bytes)
 * and entries inodes fit, with /box, /tmp and /dev/shm, a disk of disk_kb. */
bool sandbox_disk_fits(uint64_t disk_kb, uint64_t bytes, uint64_t entries);
/* Checks ranges; on error returns -EINVAL and names the field in *field. */
int sandbox_limits_check(const struct sandbox_limits *limits, const char **field);
/* Checks the limits a cell sets as rlimits (cpu_ms, file_size_kb,
 * open_files, stack_kb) against the hard rlimits the caller runs under,
 * which its cells inherit and, without CAP_SYS_RESOURCE, cannot raise.
 * On error returns -EINVAL with the limit's index (sandbox_limit_names)
 * in *index and the most it can be, in its unit, in *host_max.  processes
 * is not checked: its rlimit is cut to fit (pids.max is the limit). */
int sandbox_limits_check_host(const struct sandbox_limits *limits, size_t *index,
			      uint64_t *host_max);
/* Lowers each of those limits that is above the hard rlimits to the most
 * it can be, but for those whose bit (1u << index) is in keep: for limits
 * runcell chooses itself (defaults, a compile's), not ones a user gave. */
void sandbox_limits_clamp_host(struct sandbox_limits *limits, unsigned keep);

/* The limits by index, for configuration files and APIs: their names
 * ("cpu_ms", "wall_ms", "memory_kb", "processes", "output_kb",
 * "file_size_kb", "open_files", "stack_kb", "disk_kb"; NULL-terminated)
 * and their values, whatever the field's width. */
#define SANDBOX_LIMIT_COUNT 9
enum sandbox_limit_index {
	SANDBOX_LIMIT_CPU_MS, SANDBOX_LIMIT_WALL_MS, SANDBOX_LIMIT_MEMORY_KB,
	SANDBOX_LIMIT_PROCESSES, SANDBOX_LIMIT_OUTPUT_KB, SANDBOX_LIMIT_FILE_SIZE_KB,
	SANDBOX_LIMIT_OPEN_FILES, SANDBOX_LIMIT_STACK_KB, SANDBOX_LIMIT_DISK_KB,
};
extern const char *const sandbox_limit_names[SANDBOX_LIMIT_COUNT + 1];
uint64_t sandbox_limit_get(const struct sandbox_limits *limits, size_t i);
/* The least and most a cell accepts for limit i (sandbox_limits_check). */
void sandbox_limit_range(size_t i, uint64_t *min, uint64_t *max);
void sandbox_limit_set(struct sandbox_limits *limits, size_t i, uint64_t value);

enum sandbox_cgroup_mode {
	SANDBOX_CGROUP_AUTO,  /* v2 if its controllers are usable, else v1 */
	SANDBOX_CGROUP_V1,
	SANDBOX_CGROUP_V2,
	SANDBOX_CGROUP_NONE,  /* rlimits only; said in every result message */
};

/* A host path made visible in the cell (read-only unless rw). */
struct sandbox_bind {
	const char *host;  /* absolute host path */
	const char *cell;  /* absolute path in the cell; NULL: same as host */
	bool rw;
};

/* A preloaded interpreter (docs/SANDBOX.md, "Preloaded interpreters"):
 * started once in a warm cell, it forks the runs that ask for it
 * (sandbox_run_spec.preload) and that run [program, SCRIPT, ARGS...] with
 * exactly env, instead of executing program each time. */
struct sandbox_preload {
	const char *server;          /* host path of the preloader (e.g.
					build/runcell-python); NULL: none */
	const char *program;         /* the program it stands for */
	const char *const *env;      /* the environment of the runs it
					serves; NULL: the default one */
};

/* What a cell is made of; fixed for its life. */
struct sandbox_cell_config {
	const struct sandbox_bind *binds;  /* extra binds beyond the defaults */
	size_t nbinds;
	bool net;                          /* share the host network */
	enum sandbox_cgroup_mode cgroup;
	/* Start init by re-executing this binary rather than by a bare fork.
	 * Required when the caller is multithreaded (a server). */
	bool reexec;
	/* sandbox_cell_open returns at once, without waiting for the cell to
	 * be built: the first run's request waits in line while init builds
	 * it (as in sandbox_run), and a failed build is that run's
	 * internal_error.  For a caller that opens a cell to use it now. */
	bool lazy;
	/* Built ahead of a run that comes later (runcell keep): once built,
	 * the cell starts what its first run would (the network namespace
	 * for the slot's next cell, and on v1 its cgroup), so that the run
	 * finds them done.  Not with lazy. */
	bool ahead;
	/* Not for sandbox_run, nor with lazy. */
	struct sandbox_preload preload;
};

/* A file placed in /box before a run. */
struct sandbox_file {
	const char *path;   /* relative to /box; no "..", not absolute */
	int fd;             /* read from this descriptor (its offset is used) */
	const void *data;   /* ... or from memory when fd < 0 */
	size_t len;
	mode_t mode;        /* permission bits, e.g. 0644 or 0755; 0 means 0644,
			       so mode 000 is S_IFREG | 0.  With S_IFDIR set, a
			       directory (no data; placed after what it holds,
			       so its bits may forbid writing) */
	bool readonly;      /* owned by root and not writable: the program can
			       read (and run) it but not change it */
};

/* A program's environment when its spec gives none (PATH, HOME, LANG). */
extern const char *const sandbox_default_env[];

/* One program to run. */
struct sandbox_run_spec {
	const char *const *argv;     /* argv[0] is searched in the cell's PATH */
	const char *const *env;      /* NULL: sandbox_default_env */
	const char *cwd;             /* NULL: /box */
	struct sandbox_limits limits;
	int stdin_fd;                /* -1: /dev/null */
	const struct sandbox_file *files;  /* placed in /box before the run */
	size_t nfiles;
	/* The cell's last run: its init exits as soon as it has reported, so
	 * the teardown overlaps with the caller's reading of the result, and
	 * skips what only a next run needs (~0.4 ms for runcell exec).  After
	 * it, sandbox_cell_run, _fetch and _list fail; close as usual. */
	bool last_run;
	/* Forked from the cell's preloaded interpreter when it serves argv
	 * and env; executed otherwise. */
	bool preload;
	/* The box stays as the run left it, for sandbox_cell_fetch and _list,
	 * until the next run.  Otherwise the cell's init empties it as soon
	 * as it has reported the run, while the caller reads the result, so
	 * that a next run does not wait for it. */
	bool keep_box;
};

struct sandbox_result {
	enum sandbox_status status;
	int exit_code;        /* -1 when the program did not exit normally */
	int signal;           /* 0 when no signal ended it */
	uint64_t cpu_ms;
	uint64_t wall_ms;
	uint64_t memory_kb;   /* peak memory of the whole cell */
	struct buf out;       /* stdout, at most limits.output_kb */
	struct buf err;       /* stderr, likewise; .truncated when cut */
	char message[512];    /* what happened, for people */
	bool preloaded;       /* forked from the cell's preloaded interpreter */
};

void sandbox_result_init(struct sandbox_result *result);
void sandbox_result_free(struct sandbox_result *result);

/* One program in one fresh cell. */
int sandbox_run(const struct sandbox_cell_config *config,
		const struct sandbox_run_spec *spec,
		struct sandbox_result *result);

struct sandbox_cell;

/* Builds a warm cell (see config.lazy).  Returns 0 or a negative errno
 * with *why filled in. */
int sandbox_cell_open(const struct sandbox_cell_config *config,
		      struct sandbox_cell **cell, char *why, size_t why_len);
/* Runs one program in the cell (box wiped first). */
int sandbox_cell_run(struct sandbox_cell *cell,
		     const struct sandbox_run_spec *spec,
		     struct sandbox_result *result);
/* Reads back a regular file from /box left by the last run (one with
 * keep_box): never follows a link, at most cap bytes (-EFBIG past it).
 * Returns 0 or -errno. */
int sandbox_cell_fetch(struct sandbox_cell *cell, const char *path,
		       size_t cap, struct buf *content);
/* Names of the regular files directly in /box/dir ("" for /box itself)
 * left by the last run (one with keep_box), as "name\0name\0..." in names
 * (at most 1000).  Links and other special files are not listed.  Returns
 * 0 or -errno. */
int sandbox_cell_list(struct sandbox_cell *cell, const char *dir, struct buf *names);
/* False once the cell cannot be used any more (its init died, which this
 * also checks for a cell that sits idle). */
bool sandbox_cell_usable(struct sandbox_cell *cell);
/* From another thread, while the owner may be in sandbox_cell_run: ends
 * the cell at once (its init is killed, and with it every program); the
 * run returns internal_error and the cell is unusable.  Only the owner
 * closes it, as usual. */
void sandbox_cell_cancel(struct sandbox_cell *cell);
/* After a run with last_run: removes the cell's cgroup without waiting for
 * its init to exit.  Nothing of the run is alive then (init reaps every
 * process of it before it reports, then exits); the kernel may still be
 * tearing down init's namespaces, which sandbox_cell_close waits for.
 * For a caller that answers someone before it closes. */
void sandbox_cell_end(struct sandbox_cell *cell);
void sandbox_cell_close(struct sandbox_cell *cell);

/* For a command's SIGINT/SIGTERM/SIGHUP handler (async-signal-safe): kills
 * the init of every cell this process has open, which ends their programs
 * at once; each run in progress returns internal_error and sandbox_cell_close
 * removes what the cell left, as usual.  Cells opened later fail with
 * -EINTR.  sandbox_interrupted() returns the signal given, or 0. */
void sandbox_interrupt(int sig);
int sandbox_interrupted(void);

/* With RUNCELL_TRACE=1 in the environment, a line "runcell: trace: T us
 * what" on stderr, T on the same clock as the cells' own steps: for a
 * caller that times its steps around theirs. */
void sandbox_trace(const char *what);

/* Which cgroup backend a cell would use here, and why (for --version,
 * runcell doctor and messages). */
const char *sandbox_cgroup_describe(enum sandbox_cgroup_mode mode,
				    char *buf, size_t len);

/* The preloader's side (a binary linked against the interpreter, whose
 * main() calls sandbox_preload_main): */
struct sandbox_preload_ops {
	/* Starts the interpreter for program; environ is the runs'. */
	int (*start)(const char *program, char *why, size_t len);
	void (*before_fork)(void);
	void (*after_fork_parent)(void);
	/* In the child, confined: runs argv ([program, SCRIPT, ARGS...], or
	 * [program, code_option, CODE, ARGS...]). */
	void (*run)(char *const *argv) __attribute__((noreturn));
	/* The option that gives the program itself as its argument (Python's
	 * "-c"), served as a script is; NULL: scripts only.  At most
	 * SANDBOX_CODE_OPTION_MAX - 1 bytes. */
	const char *code_option;
};
#define SANDBOX_CODE_OPTION_MAX 16
int sandbox_preload_main(int argc, char **argv, const struct sandbox_preload_ops *ops);

/* Entry point of a re-executed init (see config.reexec); main() calls it
 * when argv[0] is SANDBOX_INIT_ARGV0.  Never returns. */
#define SANDBOX_INIT_ARGV0 "runcell-cell-init"
void sandbox_init_main(int argc, char **argv) __attribute__((noreturn));

#endif
