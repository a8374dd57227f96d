/*
 * bench/sandbox: what a runcell cell costs per run, as ratios against a bare
 * spawn measured in the same process, in the same run.
 *
 * For each payload (/bin/true, python3 -c pass) the launchers take turns,
 * one run each per round (bare, runcell, runcell-keep, keep-preload for
 * Python, bwrap, api-fresh, warm cell, bare, ...), so
 * drift on this shared machine hits all of them alike.  Each launcher is
 * compared with the bare run of its own round, and the median of those
 * per-round ratios is what we report: it holds up under drift where a ratio
 * of two medians does not.
 *
 *   bare       posix_spawn + waitpid of the payload itself
 *   runcell    posix_spawn of `runcell run --no-keeper -- PAYLOAD` (full
 *              isolation and accounting, its defaults; the cell built and
 *              removed by the command), output to /dev/null
 *   runcell-keep  the same command with --keeper: its fresh cell is taken
 *              from a `runcell keep` this benchmark starts (cells built
 *              ahead; each used once and removed before the answer).
 *              The keeper rebuilds after each run; the benchmark waits,
 *              unmeasured, until it is done, so that the rebuild does not
 *              land on the next launcher's run.  What the rebuild costs
 *              when runs come faster than it is printed at the end: runs of
 *              the keeper alone, back to back, against bare ones.
 *   keep-preload  Python only: `runcell run --preload=python3` with its
 *              cell from a second keeper, started with --preload=python3,
 *              whose cells start the interpreter when built; the run is
 *              forked from it (checked once with --json before measuring:
 *              a run executed instead skips the launcher).
 *   bwrap      bubblewrap with the flags it is usually benchmarked with
 *   api-fresh  sandbox_run(): one fresh cell per run, built in this process
 *              (runcell without the CLI's own exec, to split the costs)
 *   warm cell  sandbox_cell_run() in one cell opened once by this process
 *
 * Two modes: back to back, and with an idle gap before every run, because
 * on cgroup v1 the first cgroup attach after an idle gap can cost 7-14 ms
 * and back-to-back loops hide it.
 *
 * The sandbox functions are declared weak, so this file also builds and
 * runs before the sandbox library exists (the warm cell is then skipped
 * with a note); linked with the sandbox objects it uses the real ones.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "keeper/wire.h"
#include "sandbox/sandbox.h"

#pragma weak sandbox_run
#pragma weak sandbox_cell_open
#pragma weak sandbox_cell_run
#pragma weak sandbox_cell_close
#pragma weak sandbox_cell_usable
#pragma weak sandbox_result_init
#pragma weak sandbox_result_free
#pragma weak sandbox_limits_default
#pragma weak sandbox_status_name
#pragma weak sandbox_cgroup_describe
#pragma weak sandbox_init_main

/* The targets of the issue. */
#define TARGET_TRUE_MS 2.0      /* runcell run /bin/true, median */
#define TARGET_PY_RATIO 1.10    /* runcell run python3 -c pass, x bare */
#define TARGET_WARM_ADD_MS 0.5  /* warm cell, ms over bare per run */

enum { L_BARE, L_RUNCELL, L_KEEP, L_KEEP_PRE, L_BWRAP, L_FRESH, L_WARM, L_COUNT };
static const char *const bench_launcher_names[L_COUNT] = {
	"bare", "runcell", "runcell-keep", "keep-preload", "bwrap", "api-fresh", "warm-cell",
};

enum { P_TRUE, P_PY, P_COUNT };
static const char *const bench_payload_names[P_COUNT] = {
	"/bin/true", "python3 -c pass",
};
static const char *const bench_payload_true[] = { "/bin/true", NULL };
static const char *const bench_payload_py[] = {
	"/usr/bin/python3", "-c", "pass", NULL,
};
static const char *const *const bench_payloads[P_COUNT] = {
	bench_payload_true, bench_payload_py,
};

enum { M_B2B, M_GAP, M_COUNT };

struct bench_series {
	double *ms;      /* one per round; NAN when the run failed */
	int rounds;
	int fails;
};

struct bench_opts {
	int runs;
	int gap_runs;
	int gap_ms;
	int warmup;
	bool no_gap;
	bool no_bwrap;
	bool no_warm;
	bool no_fresh;
	bool no_keep;
	const char *runcell;
	const char *bwrap;
};

static struct bench_opts bench_opt = {
	.runs = 200, .gap_runs = 20, .gap_ms = 100, .warmup = 3,
};

static bool bench_enabled[L_COUNT];
static char bench_note[L_COUNT][1024];
static int bench_devnull = -1;
static char *bench_env[4];
static struct sandbox_cell *bench_cell;
static struct sandbox_cell_config bench_cell_config;  /* defaults, cgroup auto */

/* argv of each launcher for each payload, built once. */
static char **bench_argv[L_COUNT][P_COUNT];

static struct bench_series bench_data[M_COUNT][P_COUNT][L_COUNT];

static void bench_die(const char *fmt, const char *arg)
{
	fprintf(stderr, "bench-sandbox: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static char **bench_argv_build(const char *const *prefix, const char *const *payload)
{
	size_t n = 0, m = 0;
	while (prefix && prefix[n])
		n++;
	while (payload[m])
		m++;
	char **v = calloc(n + m + 1, sizeof(*v));
	if (!v)
		bench_die("%s", "out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = (char *)prefix[i];
	for (size_t i = 0; i < m; i++)
		v[n + i] = (char *)payload[i];
	return v;
}

/*
 * Spawns argv with stdin/stdout/stderr on /dev/null (or stdout on out_fd)
 * and waits.  Returns the elapsed ms, or NAN when it could not be spawned;
 * *status gets the wait status.
 */
static double bench_spawn(char **argv, int out_fd, int *status)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, bench_devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd >= 0 ? out_fd : bench_devnull, 1);
	posix_spawn_file_actions_adddup2(&fa, bench_devnull, 2);

	pid_t pid;
	uint64_t t0 = clock_now_ns();
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, bench_env);
	if (rc == 0) {
		while (waitpid(pid, status, 0) < 0 && errno == EINTR)
			;
	}
	uint64_t t1 = clock_now_ns();
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		*status = -1;
		return NAN;
	}
	return (double)(t1 - t0) / 1e6;
}

/* One run through the C API: a fresh cell (L_FRESH) or the warm one. */
static double bench_api_run(int launcher, int payload, struct sandbox_result *res)
{
	struct sandbox_run_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.argv = bench_payloads[payload];
	spec.stdin_fd = -1;
	sandbox_limits_default(&spec.limits);
	sandbox_result_init(res);
	uint64_t t0 = clock_now_ns();
	int rc;
	if (launcher == L_FRESH)
		rc = sandbox_run(&bench_cell_config, &spec, res);
	else
		rc = sandbox_cell_run(bench_cell, &spec, res);
	uint64_t t1 = clock_now_ns();
	if (rc < 0) {
		snprintf(res->message, sizeof(res->message), "%s: %s",
			 launcher == L_FRESH ? "sandbox_run" : "sandbox_cell_run",
			 strerror(-rc));
		res->status = SANDBOX_INTERNAL_ERROR;
	}
	return (double)(t1 - t0) / 1e6;
}

static bool bench_keep_sustained;  /* no settling: the sustained series */
static void bench_keeper_settle(int launcher);

/* Whether the launcher runs the payload: keep-preload runs Python only. */
static bool bench_runs(int launcher, int payload)
{
	return bench_enabled[launcher] && (launcher != L_KEEP_PRE || payload == P_PY);
}

/* One run of one launcher; NAN when it failed. */
static double bench_run_one(int launcher, int payload)
{
	if (launcher == L_WARM || launcher == L_FRESH) {
		struct sandbox_result res;
		double ms = bench_api_run(launcher, payload, &res);
		bool ok = res.status == SANDBOX_OK && res.exit_code == 0;
		sandbox_result_free(&res);
		return ok ? ms : NAN;
	}
	int status;
	double ms = bench_spawn(bench_argv[launcher][payload], -1, &status);
	if ((launcher == L_KEEP || launcher == L_KEEP_PRE) && !bench_keep_sustained)
		bench_keeper_settle(launcher);
	if (isnan(ms) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return NAN;
	return ms;
}

static void bench_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void bench_series_alloc(struct bench_series *s, int rounds)
{
	s->ms = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(double));
	if (!s->ms)
		bench_die("%s", "out of memory");
	s->rounds = 0;
	s->fails = 0;
}

/* Rounds of "each enabled launcher once", in a fixed order. */
static void bench_measure(int mode, int payload, int rounds, int gap_ms)
{
	for (int l = 0; l < L_COUNT; l++)
		bench_series_alloc(&bench_data[mode][payload][l], rounds);
	if (mode == M_B2B) {
		for (int w = 0; w < bench_opt.warmup; w++)
			for (int l = 0; l < L_COUNT; l++)
				if (bench_runs(l, payload))
					bench_run_one(l, payload);
	}
	for (int r = 0; r < rounds; r++) {
		for (int l = 0; l < L_COUNT; l++) {
			struct bench_series *s = &bench_data[mode][payload][l];
			if (!bench_runs(l, payload))
				continue;
			if (gap_ms > 0)
				bench_sleep_ms(gap_ms);
			double ms = bench_run_one(l, payload);
			if (isnan(ms))
				s->fails++;
			s->ms[s->rounds++] = ms;
		}
	}
}

/*
 * The keeper's runs back to back with nothing between them, so that each
 * rebuild competes with the next run, against bare runs likewise: blocks
 * of 10 of each, taking turns, the median of the blocks' per-run means.
 */
enum { SUSTAINED_BLOCK = 10 };
static double bench_sustained[P_COUNT][2];  /* [payload][0 bare, 1 keeper] */

static int bench_cmp_double(const void *a, const void *b);

static void bench_measure_sustained(void)
{
	int blocks = bench_opt.runs / SUSTAINED_BLOCK < 3 ? 3 : bench_opt.runs / SUSTAINED_BLOCK;
	double *per[2];
	per[0] = calloc((size_t)blocks, sizeof(double));
	per[1] = calloc((size_t)blocks, sizeof(double));
	if (!per[0] || !per[1])
		bench_die("%s", "out of memory");
	for (int p = 0; p < P_COUNT; p++) {
		fprintf(stderr, "bench-sandbox: measuring %s, runcell-keep sustained...\n",
			bench_payload_names[p]);
		for (int b = 0; b < blocks; b++)
			for (int which = 0; which < 2; which++) {
				int l = which ? L_KEEP : L_BARE;
				double sum = 0;
				for (int i = 0; i < SUSTAINED_BLOCK; i++) {
					double ms = bench_run_one(l, p);
					sum += isnan(ms) ? 0 : ms;
					if (isnan(ms))
						bench_data[M_B2B][p][l].fails++;
				}
				per[which][b] = sum / SUSTAINED_BLOCK;
			}
		for (int which = 0; which < 2; which++) {
			qsort(per[which], (size_t)blocks, sizeof(double), bench_cmp_double);
			bench_sustained[p][which] = per[which][blocks / 2];
		}
	}
	free(per[0]);
	free(per[1]);
}

static void bench_print_sustained(void)
{
	if (!bench_enabled[L_KEEP])
		return;
	printf("\nruncell-keep sustained (the keeper's runs back to back, each rebuild competing\n"
	       "with the next run; medians of blocks of %d, taking turns with bare blocks):\n",
	       SUSTAINED_BLOCK);
	for (int p = 0; p < P_COUNT; p++)
		printf("  %-16s bare %.3f ms per run, runcell-keep %.3f ms (x%.2f, %+.3f ms)\n",
		       bench_payload_names[p], bench_sustained[p][0], bench_sustained[p][1],
		       bench_sustained[p][1] / bench_sustained[p][0],
		       bench_sustained[p][1] - bench_sustained[p][0]);
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Quantile q of the n sorted values, linear between neighbours. */
static double bench_quantile(const double *sorted, int n, double q)
{
	if (n == 0)
		return NAN;
	double pos = q * (n - 1);
	int lo = (int)pos;
	if (lo >= n - 1)
		return sorted[n - 1];
	double frac = pos - lo;
	return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac;
}

struct bench_stats {
	int n;            /* successful runs */
	double median, p10, p90, max;
	double ratio;     /* median of per-round ratios to bare */
	double added;     /* median of per-round differences to bare, ms */
};

static void bench_stats_of(int mode, int payload, int launcher, struct bench_stats *st)
{
	const struct bench_series *s = &bench_data[mode][payload][launcher];
	const struct bench_series *b = &bench_data[mode][payload][L_BARE];
	double *v = calloc((size_t)s->rounds + 1, sizeof(double));
	double *ratio = calloc((size_t)s->rounds + 1, sizeof(double));
	double *added = calloc((size_t)s->rounds + 1, sizeof(double));
	if (!v || !ratio || !added)
		bench_die("%s", "out of memory");
	int n = 0, np = 0;
	for (int i = 0; i < s->rounds; i++) {
		if (isnan(s->ms[i]))
			continue;
		v[n++] = s->ms[i];
		if (i < b->rounds && !isnan(b->ms[i]) && b->ms[i] > 0) {
			ratio[np] = s->ms[i] / b->ms[i];
			added[np] = s->ms[i] - b->ms[i];
			np++;
		}
	}
	qsort(v, (size_t)n, sizeof(double), bench_cmp_double);
	qsort(ratio, (size_t)np, sizeof(double), bench_cmp_double);
	qsort(added, (size_t)np, sizeof(double), bench_cmp_double);
	st->n = n;
	st->median = bench_quantile(v, n, 0.5);
	st->p10 = bench_quantile(v, n, 0.1);
	st->p90 = bench_quantile(v, n, 0.9);
	st->max = n ? v[n - 1] : NAN;
	st->ratio = bench_quantile(ratio, np, 0.5);
	st->added = bench_quantile(added, np, 0.5);
	free(v);
	free(ratio);
	free(added);
}

static const char *bench_mode_name(int mode, char *buf, size_t len)
{
	if (mode == M_B2B)
		snprintf(buf, len, "back-to-back");
	else
		snprintf(buf, len, "gap %dms", bench_opt.gap_ms);
	return buf;
}

/* Finds the string value of "key" in a JSON object, roughly (for display). */
static void bench_json_string(const char *json, const char *key, char *out, size_t len)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	out[0] = '\0';
	const char *p = strstr(json, pat);
	if (!p)
		return;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p != '"')
		return;
	p++;
	size_t o = 0;
	while (*p && *p != '"' && o + 1 < len) {
		if (*p == '\\' && p[1])
			p++;
		out[o++] = *p++;
	}
	out[o] = '\0';
}

/* `runcell run --json -- PAYLOAD` once: does it work, and what does it say? */
/* Runs argv (a `runcell run --json ...`) with its stdout read into out (at
 * most cap - 1 bytes, NUL-terminated) and waits; 0 with *status its wait
 * status, or an errno when it could not be started. */
static int bench_json_run(char **argv, char *out, size_t cap, int *status)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return errno;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, bench_devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, bench_devnull, 2);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, bench_env);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	size_t len = 0;
	while (rc == 0 && len < cap - 1) {
		ssize_t n = read(fds[0], out + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	close(fds[0]);
	if (rc == 0)
		while (waitpid(pid, status, 0) < 0 && errno == EINTR)
			;
	return rc;
}

static bool bench_runcell_check(int payload, char *why, size_t why_len)
{
	const char *prefix[] = { bench_opt.runcell, "run", "--json", "--no-keeper", "--", NULL };
	char **argv = bench_argv_build(prefix, bench_payloads[payload]);
	char out[8192];
	int status;
	int rc = bench_json_run(argv, out, sizeof(out), &status);
	free(argv);
	if (rc != 0) {
		snprintf(why, why_len, "cannot start %s: %s", bench_opt.runcell, strerror(rc));
		return false;
	}
	char st[64], msg[400];
	bench_json_string(out, "status", st, sizeof(st));
	bench_json_string(out, "message", msg, sizeof(msg));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, why_len, "`runcell run --json --no-keeper -- %s` exited with status %d",
			 bench_payload_names[payload],
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return false;
	}
	if (strcmp(st, "ok") != 0) {
		snprintf(why, why_len, "`runcell run --json --no-keeper -- %s` gave status \"%s\": %.300s",
			 bench_payload_names[payload], st, msg);
		return false;
	}
	snprintf(why, why_len, "%s", msg);
	return true;
}

static void bench_setup_runcell(void)
{
	if (access(bench_opt.runcell, X_OK) != 0) {
		snprintf(bench_note[L_RUNCELL], sizeof(bench_note[L_RUNCELL]),
			 "skipped: %s not found (build it with `make`)", bench_opt.runcell);
		return;
	}
	char why[512];
	for (int p = 0; p < P_COUNT; p++) {
		if (!bench_runcell_check(p, why, sizeof(why))) {
			snprintf(bench_note[L_RUNCELL], sizeof(bench_note[L_RUNCELL]),
				 "skipped: %.500s", why);
			return;
		}
	}
	const char *prefix[] = { bench_opt.runcell, "run", "--no-keeper", "--", NULL };
	for (int p = 0; p < P_COUNT; p++)
		bench_argv[L_RUNCELL][p] = bench_argv_build(prefix, bench_payloads[p]);
	bench_enabled[L_RUNCELL] = true;
	snprintf(bench_note[L_RUNCELL], sizeof(bench_note[L_RUNCELL]),
		 "%.300s run --no-keeper -- PAYLOAD (defaults); its message: %.500s",
		 bench_opt.runcell, why[0] ? why : "(none)");
}

/* The keepers the keeper launchers take their cells from: a plain one
 * (runcell-keep) and one started with --preload=python3 (keep-preload). */
struct bench_keeper {
	pid_t pid;
	char socket[108];
};
static struct bench_keeper bench_keepers[L_COUNT] = {
	[L_KEEP] = { .pid = -1 }, [L_KEEP_PRE] = { .pid = -1 },
};

static int bench_keeper_connect(const struct bench_keeper *k)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", k->socket);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* How many of the keeper's cells are built and waiting; -1 if it does
 * not answer. */
static int bench_keeper_ready(const struct bench_keeper *k, int *cells)
{
	int fd = bench_keeper_connect(k);
	if (fd < 0)
		return -1;
	struct wire_request_head h = { .magic = WIRE_MAGIC, .version = WIRE_VERSION };
	struct wire_reply_head r;
	int ready = -1;
	if (wire_send_all(fd, &h, sizeof(h)) == 0 && wire_recv_all(fd, &r, sizeof(r), false) == 0) {
		r.message[sizeof(r.message) - 1] = '\0';
		if (sscanf(r.message, "status: %d of %d cells ready", &ready, cells) != 2)
			ready = -1;
	}
	close(fd);
	return ready;
}

/* Waits (at most 2 s) until every cell of the launcher's keeper is built
 * again. */
static void bench_keeper_settle(int launcher)
{
	for (int i = 0; i < 1000; i++) {
		int cells = 0, ready = bench_keeper_ready(&bench_keepers[launcher], &cells);
		if (ready < 0 || ready >= cells)
			return;
		bench_sleep_ms(2);
	}
}

static void bench_stop_keeper(int launcher)
{
	struct bench_keeper *k = &bench_keepers[launcher];
	if (k->pid <= 0)
		return;
	kill(k->pid, SIGTERM);
	while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
		;
	k->pid = -1;
}

/* Whether the keep-preload launcher's run of `python3 -c pass` was forked
 * from the preloaded interpreter (a run executed instead would measure the
 * plain keeper again); why says what it got otherwise. */
static bool bench_keeper_preloads(char **argv, char *why, size_t why_len)
{
	char out[8192];
	int status;
	if (bench_json_run(argv, out, sizeof(out), &status) == 0 &&
	    strstr(out, "\"status\":\"ok\"") && strstr(out, "\"preloaded\":true"))
		return true;
	char msg[400];
	bench_json_string(out, "message", msg, sizeof(msg));
	snprintf(why, why_len, "not preloaded: %.380s", msg[0] ? msg : "no answer");
	return false;
}

/* Starts the launcher's keeper (--cells 2, and keep_opt); its runs are
 * `runcell run --keeper=SOCKET [run_opt] -- PAYLOAD`, for payload only
 * (P_COUNT: each). */
static void bench_setup_keeper(int launcher, const char *keep_opt, const char *run_opt,
			       int payload)
{
	char *note = bench_note[launcher];
	size_t note_len = sizeof(bench_note[launcher]);
	if (bench_opt.no_keep || !bench_enabled[L_RUNCELL]) {
		snprintf(note, note_len, "skipped: %s",
			 bench_opt.no_keep ? "--no-keep" : "runcell skipped");
		return;
	}
	struct bench_keeper *k = &bench_keepers[launcher];
	snprintf(k->socket, sizeof(k->socket), "/run/runcell/bench-%d-%d.sock", (int)getpid(),
		 launcher);
	char *argv[] = { (char *)bench_opt.runcell, "keep", "--cells", "2", "--socket",
			 k->socket, (char *)keep_opt, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, bench_devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, bench_devnull, 1);
	posix_spawn_file_actions_adddup2(&fa, bench_devnull, 2);
	int rc = posix_spawn(&k->pid, argv[0], &fa, NULL, argv, bench_env);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		k->pid = -1;
		snprintf(note, note_len, "skipped: cannot start runcell keep: %s", strerror(rc));
		return;
	}
	int fd = -1, status;
	for (int i = 0; i < 200 && (fd = bench_keeper_connect(k)) < 0; i++) {
		if (waitpid(k->pid, &status, WNOHANG) == k->pid) {
			k->pid = -1;
			snprintf(note, note_len, "skipped: `runcell keep%s%s` exited with status %d",
				 keep_opt ? " " : "", keep_opt ? keep_opt : "",
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			return;
		}
		bench_sleep_ms(50);
	}
	if (fd < 0) {
		snprintf(note, note_len, "skipped: runcell keep did not listen on %s within 10 s",
			 k->socket);
		return;
	}
	close(fd);
	char *keeper_opt = malloc(sizeof(k->socket) + 16);
	if (!keeper_opt)
		bench_die("%s", "out of memory");
	snprintf(keeper_opt, sizeof(k->socket) + 16, "--keeper=%s", k->socket);
	const char *prefix[6] = { bench_opt.runcell, "run", keeper_opt, run_opt ? run_opt : "--",
				  run_opt ? "--" : NULL, NULL };
	for (int p = 0; p < P_COUNT; p++)
		if (payload == P_COUNT || p == payload)
			bench_argv[launcher][p] = bench_argv_build(prefix, bench_payloads[p]);
	if (run_opt) {
		/* the same run once with --json: was it preloaded? */
		const char *check[] = { bench_opt.runcell, "run", "--json", keeper_opt, run_opt, "--",
					NULL };
		char **cargv = bench_argv_build(check, bench_payloads[payload]);
		char why[512];
		bench_keeper_settle(launcher);
		bool ok = bench_keeper_preloads(cargv, why, sizeof(why));
		free(cargv);
		if (!ok) {
			snprintf(note, note_len, "skipped: %.500s", why);
			return;
		}
	}
	bench_enabled[launcher] = true;
	snprintf(note, note_len,
		 "%.300s run %.150s%s%s -- PAYLOAD, cells from `runcell keep --cells 2%s%s` "
		 "started here", bench_opt.runcell, keeper_opt, run_opt ? " " : "",
		 run_opt ? run_opt : "", keep_opt ? " " : "", keep_opt ? keep_opt : "");
}

static void bench_setup_bwrap(void)
{
	if (bench_opt.no_bwrap) {
		snprintf(bench_note[L_BWRAP], sizeof(bench_note[L_BWRAP]),
			 "skipped: --no-bwrap");
		return;
	}
	if (access(bench_opt.bwrap, X_OK) != 0) {
		snprintf(bench_note[L_BWRAP], sizeof(bench_note[L_BWRAP]),
			 "skipped: %s not found (apt-get install bubblewrap)", bench_opt.bwrap);
		return;
	}
	const char *prefix[] = {
		bench_opt.bwrap, "--unshare-all", "--die-with-parent",
		"--ro-bind", "/usr", "/usr", "--ro-bind", "/lib", "/lib",
		"--ro-bind", "/lib64", "/lib64", "--ro-bind", "/bin", "/bin",
		"--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev",
		"--tmpfs", "/tmp", "--", NULL,
	};
	for (int p = 0; p < P_COUNT; p++)
		bench_argv[L_BWRAP][p] = bench_argv_build(prefix, bench_payloads[p]);
	int status;
	double ms = bench_spawn(bench_argv[L_BWRAP][P_TRUE], -1, &status);
	if (isnan(ms) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(bench_note[L_BWRAP], sizeof(bench_note[L_BWRAP]),
			 "skipped: `bwrap ... -- /bin/true` failed here");
		return;
	}
	bench_enabled[L_BWRAP] = true;
	snprintf(bench_note[L_BWRAP], sizeof(bench_note[L_BWRAP]),
		 "%s --unshare-all --die-with-parent, ro /usr /lib /lib64 /bin /etc, "
		 "/proc, /dev, tmpfs /tmp", bench_opt.bwrap);
}

/* Both payloads once through the API launcher; false (note filled) if not ok. */
static bool bench_api_check(int launcher, char *msg, size_t msg_len)
{
	for (int p = 0; p < P_COUNT; p++) {
		struct sandbox_result res;
		bench_api_run(launcher, p, &res);
		bool ok = res.status == SANDBOX_OK && res.exit_code == 0;
		if (!ok)
			snprintf(bench_note[launcher], sizeof(bench_note[launcher]),
				 "skipped: %s(%.40s) gave %.40s, exit %d: %.500s",
				 launcher == L_FRESH ? "sandbox_run" : "sandbox_cell_run",
				 bench_payload_names[p],
				 sandbox_status_name ? sandbox_status_name(res.status) : "?",
				 res.exit_code, res.message);
		else if (p == P_TRUE)
			snprintf(msg, msg_len, "%.500s", res.message);
		sandbox_result_free(&res);
		if (!ok)
			return false;
	}
	return true;
}

static void bench_setup_api(void)
{
	bench_cell_config.cgroup = SANDBOX_CGROUP_AUTO;
	if (!sandbox_run || !sandbox_cell_open || !sandbox_cell_run || !sandbox_cell_close ||
	    !sandbox_result_init || !sandbox_result_free || !sandbox_limits_default) {
		for (int l = L_FRESH; l <= L_WARM; l++)
			snprintf(bench_note[l], sizeof(bench_note[l]),
				 "skipped: built without the sandbox library "
				 "(link bench/sandbox.c with the src objects)");
		return;
	}
	char cg[200] = "", msg[512] = "";
	if (sandbox_cgroup_describe)
		sandbox_cgroup_describe(SANDBOX_CGROUP_AUTO, cg, sizeof(cg));

	if (bench_opt.no_fresh) {
		snprintf(bench_note[L_FRESH], sizeof(bench_note[L_FRESH]), "skipped: --no-fresh");
	} else if (bench_api_check(L_FRESH, msg, sizeof(msg))) {
		bench_enabled[L_FRESH] = true;
		snprintf(bench_note[L_FRESH], sizeof(bench_note[L_FRESH]),
			 "sandbox_run, a fresh cell per run (cgroup: %.200s); its message: %.500s",
			 cg[0] ? cg : "?", msg[0] ? msg : "(none)");
	}

	if (bench_opt.no_warm) {
		snprintf(bench_note[L_WARM], sizeof(bench_note[L_WARM]), "skipped: --no-warm");
		return;
	}
	char why[512] = "";
	int rc = sandbox_cell_open(&bench_cell_config, &bench_cell, why, sizeof(why));
	if (rc < 0) {
		snprintf(bench_note[L_WARM], sizeof(bench_note[L_WARM]),
			 "skipped: sandbox_cell_open: %.500s (%.100s)", why, strerror(-rc));
		bench_cell = NULL;
		return;
	}
	if (!bench_api_check(L_WARM, msg, sizeof(msg))) {
		sandbox_cell_close(bench_cell);
		bench_cell = NULL;
		return;
	}
	bench_enabled[L_WARM] = true;
	snprintf(bench_note[L_WARM], sizeof(bench_note[L_WARM]),
		 "sandbox_cell_run in one cell opened once; its message: %.500s",
		 msg[0] ? msg : "(none)");
}

static void bench_header(void)
{
	struct utsname u;
	uname(&u);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	const char *cg = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "v2" :
			 access("/sys/fs/cgroup/memory", F_OK) == 0 ? "v1" : "none found";
	double load[3] = { 0, 0, 0 };
	getloadavg(load, 3);
	printf("runcell sandbox benchmark: kernel %s, %ld CPUs, cgroup %s, load %.2f\n",
	       u.release, ncpu, cg, load[0]);
	printf("rounds: %d back to back (after %d warm-up), %d with a %d ms gap before every run\n",
	       bench_opt.runs, bench_opt.warmup, bench_opt.no_gap ? 0 : bench_opt.gap_runs,
	       bench_opt.gap_ms);
	for (int l = 0; l < L_COUNT; l++)
		printf("  %-12s  %s\n", bench_launcher_names[l],
		       l == L_BARE ? "posix_spawn + waitpid of the payload" : bench_note[l]);
	fflush(stdout);
}

static void bench_print_table(void)
{
	printf("\n%-16s %-12s %-13s %5s %8s %8s %8s %8s %8s %8s %5s\n",
	       "payload", "launcher", "mode", "runs", "median", "p10", "p90", "max",
	       "x bare", "+ms", "fail");
	for (int m = 0; m < M_COUNT; m++) {
		if (m == M_GAP && bench_opt.no_gap)
			continue;
		char mb[32];
		bench_mode_name(m, mb, sizeof(mb));
		for (int p = 0; p < P_COUNT; p++) {
			for (int l = 0; l < L_COUNT; l++) {
				if (!bench_runs(l, p))
					continue;
				struct bench_stats st;
				bench_stats_of(m, p, l, &st);
				printf("%-16s %-12s %-13s %5d %8.3f %8.3f %8.3f %8.3f",
				       bench_payload_names[p], bench_launcher_names[l], mb,
				       st.n, st.median, st.p10, st.p90, st.max);
				if (l == L_BARE)
					printf(" %8s %8s", "", "");
				else
					printf(" %7.2fx %+8.3f", st.ratio, st.added);
				printf(" %5d\n", bench_data[m][p][l].fails);
			}
		}
	}
	printf("(ms, wall clock around spawn+wait, sandbox_run or sandbox_cell_run; \"x bare\" and \"+ms\" are\n"
	       " medians of per-round ratios and differences to the bare run of the same round)\n");
}

/* One verdict line; counts it in *pass, *miss or *na. */
static void bench_verdict_line(const char *target, int mode, int payload, int launcher,
			       int kind, int *pass, int *miss, int *na)
{
	char mb[32], measured[96];
	const char *verdict;
	bench_mode_name(mode, mb, sizeof(mb));
	if (!bench_enabled[launcher] || (mode == M_GAP && bench_opt.no_gap)) {
		snprintf(measured, sizeof(measured), "not measured (%s)",
			 !bench_enabled[launcher] ? "launcher skipped" : "--no-gap");
		verdict = "n/a";
		(*na)++;
	} else {
		struct bench_stats st;
		bench_stats_of(mode, payload, launcher, &st);
		bool ok;
		if (kind == 0) {
			snprintf(measured, sizeof(measured), "median %.3f ms (x%.2f, %+.3f ms)",
				 st.median, st.ratio, st.added);
			ok = st.median <= TARGET_TRUE_MS;
		} else if (kind == 1) {
			snprintf(measured, sizeof(measured), "x%.3f (%+.3f ms, median %.3f ms)",
				 st.ratio, st.added, st.median);
			ok = st.ratio <= TARGET_PY_RATIO;
		} else {
			snprintf(measured, sizeof(measured), "%+.3f ms (x%.2f, median %.3f ms)",
				 st.added, st.ratio, st.median);
			ok = st.added <= TARGET_WARM_ADD_MS;
		}
		if (bench_data[mode][payload][launcher].fails > 0) {
			ok = false;
			size_t used = strlen(measured);
			snprintf(measured + used, sizeof(measured) - used, ", %d failed",
				 bench_data[mode][payload][launcher].fails);
		}
		verdict = ok ? "PASS" : "MISS";
		(*(ok ? pass : miss))++;
	}
	printf("%-44s %-13s %-50s %s\n", target, mb, measured, verdict);
}

static void bench_print_verdict(void)
{
	int pass = 0, miss = 0, na = 0;
	printf("\nverdict against the targets\n");
	printf("%-44s %-13s %-50s %s\n", "target", "mode", "measured", "verdict");
	for (int m = 0; m < M_COUNT; m++)
		bench_verdict_line("runcell run /bin/true: median <= 2.0 ms", m,
				   P_TRUE, L_RUNCELL, 0, &pass, &miss, &na);
	for (int m = 0; m < M_COUNT; m++)
		bench_verdict_line("runcell run python3 -c pass: <= x1.10 bare", m,
				   P_PY, L_RUNCELL, 1, &pass, &miss, &na);
	for (int m = 0; m < M_COUNT; m++)
		bench_verdict_line("  the same, cell from runcell keep", m,
				   P_TRUE, L_KEEP, 0, &pass, &miss, &na);
	for (int m = 0; m < M_COUNT; m++)
		bench_verdict_line("  the same, cell from runcell keep", m,
				   P_PY, L_KEEP, 1, &pass, &miss, &na);
	for (int m = 0; m < M_COUNT; m++)
		bench_verdict_line("  the same, keep --preload=python3", m,
				   P_PY, L_KEEP_PRE, 1, &pass, &miss, &na);
	for (int m = 0; m < M_COUNT; m++)
		bench_verdict_line("warm cell /bin/true: <= +0.5 ms over bare", m,
				   P_TRUE, L_WARM, 2, &pass, &miss, &na);
	for (int m = 0; m < M_COUNT; m++)
		bench_verdict_line("warm cell python3 -c pass: <= +0.5 ms", m,
				   P_PY, L_WARM, 2, &pass, &miss, &na);
	printf("%d PASS, %d MISS, %d n/a\n", pass, miss, na);
}

static void bench_usage(FILE *f)
{
	fprintf(f,
		"usage: bench-sandbox [options]\n"
		"  --runs N        back-to-back rounds per payload (default 200)\n"
		"  --gap-runs N    rounds with a gap before every run (default 20)\n"
		"  --gap-ms N      idle gap in ms before each run in gap mode (default 100)\n"
		"  --warmup N      unrecorded back-to-back rounds first (default 3)\n"
		"  --quick         20 runs, 5 gap runs, 1 warm-up: a smoke test\n"
		"  --no-gap        skip the gap mode\n"
		"  --runcell PATH  the runcell binary (default: $RUNCELL, else runcell\n"
		"                  next to this program, else build/runcell)\n"
		"  --bwrap PATH    bubblewrap (default /usr/bin/bwrap)\n"
		"  --no-bwrap      skip bubblewrap\n"
		"  --no-fresh      skip sandbox_run (a fresh cell per run, in process)\n"
		"  --no-warm       skip the warm cell\n"
		"  --no-keep       skip runcell run with cells from a runcell keep (both\n"
		"                  keepers: runcell-keep and keep-preload)\n"
		"Exit status: 0 when every measured run succeeded (PASS or MISS alike),\n"
		"1 when some runs failed, 2 on bad options.\n");
}

static int bench_int_arg(const char *s, int min)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > 1000000)
		bench_die("bad number: %s", s);
	return (int)v;
}

static void bench_parse(int argc, char **argv)
{
	enum { O_RUNS = 256, O_GAP_RUNS, O_GAP_MS, O_WARMUP, O_QUICK, O_NO_GAP,
	       O_RUNCELL, O_BWRAP, O_NO_BWRAP, O_NO_FRESH, O_NO_WARM, O_NO_KEEP, O_HELP };
	static const struct option longopts[] = {
		{ "runs", required_argument, NULL, O_RUNS },
		{ "gap-runs", required_argument, NULL, O_GAP_RUNS },
		{ "gap-ms", required_argument, NULL, O_GAP_MS },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "quick", no_argument, NULL, O_QUICK },
		{ "no-gap", no_argument, NULL, O_NO_GAP },
		{ "runcell", required_argument, NULL, O_RUNCELL },
		{ "bwrap", required_argument, NULL, O_BWRAP },
		{ "no-bwrap", no_argument, NULL, O_NO_BWRAP },
		{ "no-fresh", no_argument, NULL, O_NO_FRESH },
		{ "no-warm", no_argument, NULL, O_NO_WARM },
		{ "no-keep", no_argument, NULL, O_NO_KEEP },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool runs_set = false, gap_runs_set = false, warmup_set = false, quick = false;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_RUNS: bench_opt.runs = bench_int_arg(optarg, 1); runs_set = true; break;
		case O_GAP_RUNS: bench_opt.gap_runs = bench_int_arg(optarg, 1); gap_runs_set = true; break;
		case O_GAP_MS: bench_opt.gap_ms = bench_int_arg(optarg, 0); break;
		case O_WARMUP: bench_opt.warmup = bench_int_arg(optarg, 0); warmup_set = true; break;
		case O_QUICK: quick = true; break;
		case O_NO_GAP: bench_opt.no_gap = true; break;
		case O_RUNCELL: bench_opt.runcell = optarg; break;
		case O_BWRAP: bench_opt.bwrap = optarg; break;
		case O_NO_BWRAP: bench_opt.no_bwrap = true; break;
		case O_NO_FRESH: bench_opt.no_fresh = true; break;
		case O_NO_WARM: bench_opt.no_warm = true; break;
		case O_NO_KEEP: bench_opt.no_keep = true; break;
		case O_HELP: bench_usage(stdout); exit(0);
		default: bench_usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		bench_die("unexpected argument: %s", argv[optind]);
	if (quick) {
		if (!runs_set)
			bench_opt.runs = 20;
		if (!gap_runs_set)
			bench_opt.gap_runs = 5;
		if (!warmup_set)
			bench_opt.warmup = 1;
	}
	if (!bench_opt.bwrap)
		bench_opt.bwrap = "/usr/bin/bwrap";
	if (!bench_opt.runcell && getenv("RUNCELL") && getenv("RUNCELL")[0])
		bench_opt.runcell = getenv("RUNCELL");
	if (!bench_opt.runcell) {
		/* runcell next to this binary, else build/runcell from the repo root */
		static char path[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 16);
		bench_opt.runcell = "build/runcell";
		if (n > 0) {
			path[n] = '\0';
			char *slash = strrchr(path, '/');
			if (slash) {
				strcpy(slash + 1, "runcell");
				if (access(path, X_OK) == 0)
					bench_opt.runcell = path;
			}
		}
	}
}

/*
 * What starting any glibc program costs on this machine, measured in the
 * same run: this binary (static glibc) re-executed with --exit-at-once,
 * and one CPUID instruction.  In a VM every CPUID is an exit to the
 * hypervisor, and glibc issues dozens of them at every process start
 * (CPU features, cache sizes).  `runcell run` pays that once for itself,
 * on top of what its payload pays as the bare run does.
 */
static void bench_exec_floor(const char *self)
{
	enum { N = 200 };
	double t[N];
	char *argv[] = { (char *)self, "--exit-at-once", NULL };
	int status;
	for (int i = 0; i < N; i++)
		t[i] = bench_spawn(argv, -1, &status);
	qsort(t, N, sizeof(t[0]), bench_cmp_double);
	double spawn_ms = t[N / 2];
	for (int i = 0; i < N; i++) {
		unsigned a, b, c, d;
		uint64_t t0 = clock_now_ns();
		__cpuid_count(4, 0, a, b, c, d);
		t[i] = (double)(clock_now_ns() - t0) / 1000.0;
		(void)a, (void)b, (void)c, (void)d;
	}
	qsort(t, N, sizeof(t[0]), bench_cmp_double);
	printf("exec floor: a static glibc program that exits at once: %.3f ms to spawn and reap\n"
	       "(median of %d); one CPUID instruction: %.2f us (median of %d).\n",
	       spawn_ms, N, t[N / 2], N);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--exit-at-once"))
		return 0;
	/* A cell started with config.reexec runs its init through this binary. */
	if (argc > 0 && sandbox_init_main) {
		const char *base = strrchr(argv[0], '/');
		base = base ? base + 1 : argv[0];
		if (!strcmp(base, SANDBOX_INIT_ARGV0))
			sandbox_init_main(argc, argv);
	}
	bench_parse(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	bench_devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (bench_devnull < 0)
		bench_die("/dev/null: %s", strerror(errno));
	/* Every launcher gets the same small environment. */
	const char *home = getenv("HOME");
	static char home_var[PATH_MAX + 8];
	snprintf(home_var, sizeof(home_var), "HOME=%s", home ? home : "/");
	bench_env[0] = "PATH=/usr/local/bin:/usr/bin:/bin";
	bench_env[1] = home_var;
	bench_env[2] = "LANG=C.UTF-8";
	bench_env[3] = NULL;

	for (int p = 0; p < P_COUNT; p++)
		bench_argv[L_BARE][p] = bench_argv_build(NULL, bench_payloads[p]);
	bench_enabled[L_BARE] = true;
	bench_setup_runcell();
	bench_setup_keeper(L_KEEP, NULL, NULL, P_COUNT);
	bench_setup_keeper(L_KEEP_PRE, "--preload=python3", "--preload=python3", P_PY);
	bench_setup_bwrap();
	bench_setup_api();
	bench_header();

	for (int m = 0; m < M_COUNT; m++) {
		if (m == M_GAP && bench_opt.no_gap)
			continue;
		for (int p = 0; p < P_COUNT; p++) {
			char mb[32];
			fprintf(stderr, "bench-sandbox: measuring %s, %s...\n",
				bench_payload_names[p], bench_mode_name(m, mb, sizeof(mb)));
			bench_measure(m, p, m == M_B2B ? bench_opt.runs : bench_opt.gap_runs,
				      m == M_B2B ? 0 : bench_opt.gap_ms);
		}
	}
	if (bench_cell)
		sandbox_cell_close(bench_cell);
	bench_keep_sustained = true;
	if (bench_enabled[L_KEEP])
		bench_measure_sustained();
	bench_stop_keeper(L_KEEP);
	bench_stop_keeper(L_KEEP_PRE);

	bench_print_table();
	bench_print_verdict();
	bench_print_sustained();
	bench_exec_floor("/proc/self/exe");
	double load[3] = { 0, 0, 0 };
	getloadavg(load, 3);
	if (load[0] > 0.5 * (double)sysconf(_SC_NPROCESSORS_ONLN))
		printf("note: load %.2f at the end on %ld CPUs: the machine was busy, so trust the\n"
		       "per-round ratios more than absolute times, or run again when it is quiet\n",
		       load[0], sysconf(_SC_NPROCESSORS_ONLN));

	int fails = 0;
	for (int m = 0; m < M_COUNT; m++)
		for (int p = 0; p < P_COUNT; p++)
			for (int l = 0; l < L_COUNT; l++)
				fails += bench_data[m][p][l].fails;
	if (fails) {
		printf("%d runs failed (see the fail column): the numbers above do not count them\n",
		       fails);
		return 1;
	}
	return 0;
}
