/*
 * runcell serve: the engine behind the HTTP API (docs/API.md).
 *
 *   runcell serve [--config FILE] [--listen ADDR] [--port N] [--data DIR]
 *                 [--web DIR] [--min-workers N] [--max-workers N]
 *                 [--max-queue N] [--wait-timeout-ms N] [--batch-max N]
 *                 [--allow-anonymous]
 *
 * Settings come from three layers, later ones winning: built-in defaults,
 * the config file ("key = value" lines, see etc/runcell.conf), flags.
 * Every flag is a config key, and both go through one setter, so they
 * cannot disagree about a value's meaning or range.
 *
 * Startup: create and lock the data directory (one server per store, so
 * the requeue below cannot steal a live server's jobs), hand back every
 * job the last server left running (it died: kill -9, power loss), load
 * the languages, start the API, then wait for SIGTERM, SIGINT or SIGHUP.
 */
#include "cli/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "queue/queue.h"
#include "core/dir.h"
#include "core/json.h"
#include "core/log.h"
#include "store/store.h"

#define SERVE_MAX_KEYS 64

struct serve_settings {
	char listen[64];
	int port;
	char data_dir[PATH_MAX];
	char web_dir[PATH_MAX];
	char callback_ca_file[PATH_MAX];
	char queue_url[256];
	int min_workers, max_workers, idle_ms;
	long long max_queue;
	int wait_timeout_ms;
	long long batch_max, max_body_kb, max_tests, cache_max_mb, max_result_kb;
	char *api_keys[SERVE_MAX_KEYS + 1];
	char admin_key[256];
	bool allow_anonymous;
	bool preload;             /* cells get a language's preloader */
	int callback_attempts, callback_timeout_ms, callback_senders;
	struct sandbox_limits defaults, max;
	unsigned defaults_given, max_given;  /* bit i: limit i set by the config or a flag */
};

static void serve_defaults(struct serve_settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->listen, sizeof(s->listen), "127.0.0.1");
	s->port = 8080;
	s->preload = true;
	snprintf(s->data_dir, sizeof(s->data_dir), "data");
	snprintf(s->queue_url, sizeof(s->queue_url), "embedded");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	s->min_workers = 1;
	s->max_workers = cpus > 0 ? (int)cpus : 1;
	s->idle_ms = 30000;
	s->max_queue = 10000;
	s->wait_timeout_ms = 10000;
	s->batch_max = 100;
	s->max_body_kb = 4096;
	s->max_tests = 100;
	s->cache_max_mb = 512;
	s->max_result_kb = 16 * 1024;
	s->callback_attempts = 5;
	s->callback_timeout_ms = 5000;
	s->callback_senders = 4;
	sandbox_limits_default(&s->defaults);
	s->max = (struct sandbox_limits){ .cpu_ms = 30000, .wall_ms = 60000,
					  .memory_kb = 2048 * 1024, .processes = 256,
					  .file_size_kb = 256 * 1024, .output_kb = 64 * 1024,
					  .open_files = 1024, .stack_kb = 256 * 1024,
					  .disk_kb = 256 * 1024 };
}

static void serve_settings_free(struct serve_settings *s)
{
	for (int i = 0; s->api_keys[i]; i++)
		free(s->api_keys[i]);
}

static int serve_int(const char *v, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int serve_copy(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	snprintf(dst, len, "%s", v);
	return 0;
}

/* Sets one key; on a bad key or value writes why and returns -1. */
static int serve_set(struct serve_settings *s, const char *key, const char *v, char *why,
		     size_t wl)
{
	long long x;
	struct { const char *name; int *ip; long long *lp; long long lo, hi; } ints[] = {
		{ "port", &s->port, NULL, 0, 65535 },
		{ "min_workers", &s->min_workers, NULL, 0, 256 },
		{ "max_workers", &s->max_workers, NULL, 1, 256 },
		{ "worker_idle_ms", &s->idle_ms, NULL, 100, 86400000 },
		{ "wait_timeout_ms", &s->wait_timeout_ms, NULL, 0, 3600000 },
		{ "callback_attempts", &s->callback_attempts, NULL, 1, 100 },
		{ "callback_timeout_ms", &s->callback_timeout_ms, NULL, 10, 600000 },
		{ "callback_senders", &s->callback_senders, NULL, 1, CALLBACK_MAX_SENDERS },
		{ "max_queue", NULL, &s->max_queue, 1, 100000000 },
		{ "batch_max", NULL, &s->batch_max, 1, 10000 },
		{ "max_body_kb", NULL, &s->max_body_kb, 1, 1024 * 1024 },
		{ "max_tests", NULL, &s->max_tests, 1, 100000 },
		{ "cache_max_mb", NULL, &s->cache_max_mb, 1, 1024 * 1024 },
		{ "max_result_kb", NULL, &s->max_result_kb, 1, 32 * 1024 },
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (strcmp(key, ints[i].name))
			continue;
		if (serve_int(v, ints[i].lo, ints[i].hi, &x) < 0) {
			snprintf(why, wl, "%s must be an integer from %lld to %lld, not '%.60s'%s", key,
				 ints[i].lo, ints[i].hi, v, strchr(v, '=') ? " (one setting per line)" : "");
			return -1;
		}
		if (ints[i].ip)
			*ints[i].ip = (int)x;
		else
			*ints[i].lp = x;
		return 0;
	}
	for (size_t i = 0; i < SANDBOX_LIMIT_COUNT; i++) {
		const char *k = sandbox_limit_names[i];
		bool is_def = !strncmp(key, "default_", 8) && !strcmp(key + 8, k);
		bool is_max = !strncmp(key, "max_", 4) && !strcmp(key + 4, k);
		if (!is_def && !is_max)
			continue;
		uint64_t lo, hi;
		sandbox_limit_range(i, &lo, &hi);
		if (hi > INT32_MAX)
			hi = INT32_MAX;
		if (serve_int(v, (long long)lo, (long long)hi, &x) < 0) {
			snprintf(why, wl, "%s must be an integer from %llu to %llu, not '%.60s'%s", key,
				 (unsigned long long)lo, (unsigned long long)hi, v,
				 strchr(v, '=') ? " (one setting per line)" : "");
			return -1;
		}
		sandbox_limit_set(is_def ? &s->defaults : &s->max, i, (uint64_t)x);
		*(is_def ? &s->defaults_given : &s->max_given) |= 1u << i;
		return 0;
	}
	int bad = 0;
	if (!strcmp(key, "listen"))
		bad = serve_copy(s->listen, sizeof(s->listen), v);
	else if (!strcmp(key, "data_dir"))
		bad = serve_copy(s->data_dir, sizeof(s->data_dir), v);
	else if (!strcmp(key, "web_dir"))
		bad = serve_copy(s->web_dir, sizeof(s->web_dir), v);
	else if (!strcmp(key, "callback_ca_file")) {
		if (*v && access(v, R_OK) < 0) {
			snprintf(why, wl, "callback_ca_file %s: %s", v, strerror(errno));
			return -1;
		}
		bad = serve_copy(s->callback_ca_file, sizeof(s->callback_ca_file), v);
	} else if (!strcmp(key, "queue")) {
		if (queue_url_check(v, why, wl) < 0)
			return -1;
		bad = serve_copy(s->queue_url, sizeof(s->queue_url), v);
	} else if (!strcmp(key, "admin_key")) {
		if (strlen(v) < 8) {
			snprintf(why, wl, "admin_key needs at least 8 characters");
			return -1;
		}
		bad = serve_copy(s->admin_key, sizeof(s->admin_key), v);
	}
	else if (!strcmp(key, "allow_anonymous") || !strcmp(key, "preload")) {
		bool *flag = !strcmp(key, "preload") ? &s->preload : &s->allow_anonymous;
		if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
			*flag = true;
		else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
			*flag = false;
		else {
			snprintf(why, wl, "%s must be true or false", key);
			return -1;
		}
	} else if (!strcmp(key, "api_keys")) {
		serve_settings_free(s);
		memset(s->api_keys, 0, sizeof(s->api_keys));
		char *copy = strdup(v), *save = NULL;
		int n = 0;
		for (char *t = copy ? strtok_r(copy, ", ", &save) : NULL; t;
		     t = strtok_r(NULL, ", ", &save)) {
			if (n == SERVE_MAX_KEYS || strlen(t) < 8) {
				free(copy);
				if (n == SERVE_MAX_KEYS)
					snprintf(why, wl, "at most %d api_keys", SERVE_MAX_KEYS);
				else
					snprintf(why, wl, "api key %d of the list has fewer than 8 "
						 "characters", n + 1);
				return -1;
			}
			s->api_keys[n++] = strdup(t);
		}
		free(copy);
		if (n == 0) {
			/* "api_keys =" must not quietly mean "no authentication" */
			snprintf(why, wl, "api_keys lists no key (leave the setting out to serve "
				 "without keys)");
			return -1;
		}
	} else {
		snprintf(why, wl, "unknown setting '%s' (etc/runcell.conf lists them)", key);
		return -1;
	}
	if (bad) {
		snprintf(why, wl, "%s is too long", key);
		return -1;
	}
	return 0;
}

static char *serve_trim(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
		p[--n] = '\0';
	return p;
}

static int serve_read_config(struct serve_settings *s, const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "runcell serve: --config=%s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[4096], why[256];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		/* A longer line would be read as two: a key list cut in the
		 * middle of a key would make a prefix of that key valid. */
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "runcell serve: %s:%d: line longer than %zu bytes\n", path,
				lineno, sizeof(line) - 2);
			rc = -1;
			break;
		}
		char *p = serve_trim(line);
		if (!*p || *p == '#')
			continue;
		/* A '#' after a blank starts a comment. */
		for (char *c = p + 1; *c; c++)
			if (*c == '#' && (c[-1] == ' ' || c[-1] == '\t')) {
				*c = '\0';
				p = serve_trim(p);
				break;
			}
		char *eq = strchr(p, '=');
		if (!eq) {
			fprintf(stderr, "runcell serve: %s:%d: expected 'key = value'\n", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *key = serve_trim(p), *val = serve_trim(eq + 1);
		if (serve_set(s, key, val, why, sizeof(why)) < 0) {
			fprintf(stderr, "runcell serve: %s:%d: %s\n", path, lineno, why);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

static bool serve_loopback(const char *addr)
{
	unsigned char b[16];
	if (inet_pton(AF_INET, addr, b) == 1)
		return b[0] == 127;
	if (inet_pton(AF_INET6, addr, b) == 1) {
		static const unsigned char one[16] = { [15] = 1 };
		static const unsigned char v4mapped[12] = { [10] = 0xff, [11] = 0xff };
		return !memcmp(b, one, 16) || (!memcmp(b, v4mapped, 12) && b[12] == 127);
	}
	return false;
}

static void serve_usage(void)
{
	printf("usage: runcell serve [options]\n"
	       "\n"
	       "Serves the HTTP API (docs/API.md): submissions are stored in DATA/runcell.db,\n"
	       "run by a pool of workers in warm cells, and their results kept.\n"
	       "\n"
	       "  --config=FILE          settings, 'key = value' per line (etc/runcell.conf)\n"
	       "  --listen=ADDR          address to bind (default 127.0.0.1)\n"
	       "  --port=N               port (default 8080; 0 picks a free one)\n"
	       "  --data=DIR             data directory (default ./data)\n"
	       "  --web=DIR              static files served at / (default: web/ of the install)\n"
	       "  --min-workers=N        workers kept alive (default 1)\n"
	       "  --max-workers=N        most workers (default: the number of CPUs)\n"
	       "  --max-queue=N          queued submissions before POST answers 503\n"
	       "  --wait-timeout-ms=N    longest ?wait=true hold before 202 (default 10000)\n"
	       "  --batch-max=N          most submissions per batch (default 100)\n"
	       "  --allow-anonymous      serve a non-loopback address without api_keys\n"
	       "\n"
	       "Flags override the config file.  SIGTERM, SIGINT or SIGHUP stops gracefully;\n"
	       "a second one cuts the running jobs short (they run again at the next start).\n");
}

/* Default web/: next to etc/ of this install (../web from the binary). */
static void serve_default_web(char *out, size_t len)
{
	char langs[PATH_MAX];
	lang_default_dir(langs, sizeof(langs));
	snprintf(out, len, "%.*s/../../web", (int)(sizeof(langs) - 16), langs);
	char real[PATH_MAX];
	if (realpath(out, real) && strlen(real) < len)
		snprintf(out, len, "%s", real);
}

/* The lock is on the data directory itself, not on a file in it: a lock
 * file that was deleted let a second server take the first one's running
 * jobs back to the queue and run them again. */
static int serve_lock(const char *data_dir)
{
	int fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "runcell serve: %s: %s\n", data_dir, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr,
			"runcell serve: %s is in use by another runcell serve (it holds the lock on "
			"the directory); one data directory serves one server\n",
			data_dir);
		close(fd);
		return -1;
	}
	return fd; /* held until exit */
}

/* The store holds every submitted source and result: readable by runcell's
 * user alone, also in a data directory that existed with wider modes.
 * SQLite gives its -wal and -shm files the database's mode. */
static int serve_private_db(int dir_fd, const char **which)
{
	*which = "runcell.db";
	bool made = true;
	int fd = openat(dir_fd, "runcell.db", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		made = false;
		fd = openat(dir_fd, "runcell.db", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	struct stat sb;
	int rc = fstat(fd, &sb) < 0 ? -errno : 0;
	/* An existing store that is empty (truncated, or replaced by an empty
	 * file) starts over with no submissions: say so, it was silent. */
	if (rc == 0 && !made && sb.st_size == 0)
		log_warn("runcell.db was an empty file: a new, empty store is made in it");
	if (rc == 0 && (sb.st_mode & 077) && fchmod(fd, sb.st_mode & 0700) < 0)
		rc = -errno;
	close(fd);
	/* Opened without following a link: chmod would change what a link
	 * planted there points to. */
	for (const char *const *f = (const char *const[]){ "runcell.db-wal", "runcell.db-shm", NULL }; *f; f++) {
		int side = openat(dir_fd, *f, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (side < 0) {
			if (errno != ENOENT && rc == 0) {
				rc = -errno;
				*which = *f;
			}
			continue;
		}
		if (fchmod(side, 0600) < 0 && rc == 0) {
			rc = -errno;
			*which = *f;
		}
		close(side);
	}
	return rc;
}

static void serve_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int serve_main(int argc, char **argv, struct serve_settings *s);

static const char *serve_signal_name(int sig)
{
	return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP";
}

/* While the server stops: a second signal ends the running jobs at once.
 * Their cells are killed (sandbox_interrupt); their workers store nothing,
 * and the next start hands the jobs out again.  Once stopped, the main
 * thread sets serve_stopped and wakes this thread with a signal of its
 * own (no pthread_cancel, which leaves sanitizers a torn-down stack). */
static atomic_bool serve_stopped;

static void *serve_hurry(void *arg)
{
	const sigset_t *sigs = arg;
	int sig = 0;
	if (sigwait(sigs, &sig) == 0 && !atomic_load(&serve_stopped)) {
		log_warn("%s again: cutting the running jobs short; they run again at the next "
			 "start", serve_signal_name(sig));
		sandbox_interrupt(sig);
	}
	return NULL;
}

/* The signals that stop the server; blocked from the very start, so one
 * that comes while the store opens and the languages are probed waits for
 * the graceful stop instead of killing the process (exit 143, no log). */
static void serve_stop_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);  /* a closed terminal stops it gracefully too */
}

int cli_serve(int argc, char **argv)
{
	sigset_t sigs;
	serve_stop_signals(&sigs);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	struct serve_settings s;
	serve_defaults(&s);
	int rc = serve_main(argc, argv, &s);
	serve_settings_free(&s);
	return rc;
}

static int serve_main(int argc, char **argv, struct serve_settings *s)
{
	static const struct { const char *flag, *key; bool boolean; } flags[] = {
		{ "--listen", "listen", false },	  { "--port", "port", false },
		{ "--data", "data_dir", false },	  { "--web", "web_dir", false },
		{ "--min-workers", "min_workers", false }, { "--max-workers", "max_workers", false },
		{ "--max-queue", "max_queue", false },	  { "--wait-timeout-ms", "wait_timeout_ms", false },
		{ "--batch-max", "batch_max", false },	  { "--allow-anonymous", "allow_anonymous", true },
	};
	const char *config = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			serve_usage();
			return 0;
		}
		if (!strncmp(argv[i], "--config=", 9))
			config = argv[i] + 9;
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (!strcmp(argv[i], "--config") || !strcmp(argv[i], "--config=")) {
			fprintf(stderr, "runcell serve: --config needs a file\n");
			return 2;
		}
	}
	if (config && serve_read_config(s, config) < 0)
		return 2;
	char why[256];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		if (!strncmp(a, "--config", nl) && nl == 8) {
			if (!eq)
				i++;
			continue;
		}
		size_t k = 0, nf = sizeof(flags) / sizeof(flags[0]);
		while (k < nf && !(strlen(flags[k].flag) == nl && !strncmp(flags[k].flag, a, nl)))
			k++;
		if (k == nf) {
			fprintf(stderr, "runcell serve: unknown option '%s' (see runcell serve --help)\n",
				a);
			return 2;
		}
		const char *v = flags[k].boolean ? (eq ? eq + 1 : "true") : eq ? eq + 1 : NULL;
		if (!v && i + 1 < argc)
			v = argv[++i];
		if (!v) {
			fprintf(stderr, "runcell serve: %s needs a value\n", flags[k].flag);
			return 2;
		}
		if (serve_set(s, flags[k].key, v, why, sizeof(why)) < 0) {
			fprintf(stderr, "runcell serve: invalid %s: %s\n", flags[k].flag, why);
			return 2;
		}
	}
	if (s->min_workers > s->max_workers) {
		fprintf(stderr, "runcell serve: min_workers (%d) is above max_workers (%d)\n",
			s->min_workers, s->max_workers);
		return 2;
	}
	const char *field;
	if (sandbox_limits_check(&s->max, &field) < 0 ||
	    sandbox_limits_check(&s->defaults, &field) < 0) {
		fprintf(stderr, "runcell serve: a limit setting is out of range (%s)\n", field);
		return 2;
	}
	/* Every request may ask for the maximums: they must be possible.  A
	 * built-in one above the hard rlimits runcell runs under is lowered to
	 * them (64 MB of stack where ulimit -Hs is 8 MB); one the config or a
	 * flag set is an error. */
	struct sandbox_limits asked = s->max;
	sandbox_limits_clamp_host(&s->max, s->max_given);
	sandbox_limits_clamp_host(&s->defaults, s->defaults_given);
	for (size_t i = 0; i < SANDBOX_LIMIT_COUNT; i++)
		if (sandbox_limit_get(&s->max, i) != sandbox_limit_get(&asked, i))
			fprintf(stderr, "runcell serve: max_%s lowered to %llu, the hard limit runcell "
				"runs under\n", sandbox_limit_names[i],
				(unsigned long long)sandbox_limit_get(&s->max, i));
	size_t bad;
	uint64_t host_max;
	if (sandbox_limits_check_host(&s->max, &bad, &host_max) < 0) {
		fprintf(stderr, "runcell serve: max_%s (%llu) is above the hard limit runcell runs "
			"under, which it cannot raise without CAP_SYS_RESOURCE: at most %llu here\n",
			sandbox_limit_names[bad], (unsigned long long)sandbox_limit_get(&s->max, bad),
			(unsigned long long)host_max);
		return 2;
	}
	for (size_t i = 0; i < SANDBOX_LIMIT_COUNT; i++) {
		uint64_t d = sandbox_limit_get(&s->defaults, i), m = sandbox_limit_get(&s->max, i);
		if (d > m) {
			const char *k = sandbox_limit_names[i];
			fprintf(stderr, "runcell serve: default_%s (%llu) is above max_%s (%llu)\n", k,
				(unsigned long long)d, k, (unsigned long long)m);
			return 2;
		}
	}
	unsigned char addr[16];
	if (inet_pton(AF_INET, s->listen, addr) != 1 && inet_pton(AF_INET6, s->listen, addr) != 1) {
		fprintf(stderr, "runcell serve: listen must be an IPv4 or IPv6 address, not '%s'\n",
			s->listen);
		return 2;
	}
	if (!serve_loopback(s->listen) && !s->api_keys[0] && !s->allow_anonymous) {
		fprintf(stderr,
			"runcell serve: refusing to serve %s without api_keys: anyone who can reach "
			"it could run code here.  Set api_keys in the config, or allow_anonymous = "
			"true (--allow-anonymous) if that is what you want.\n",
			s->listen);
		return 2;
	}

	log_set_json(true);
	signal(SIGPIPE, SIG_IGN);
	serve_raise_nofile();
	int made = dir_create_all(s->data_dir, 0700);
	if (made < 0) {
		fprintf(stderr, "runcell serve: cannot create %s: %s\n", s->data_dir, strerror(-made));
		return 1;
	}
	int lock = serve_lock(s->data_dir);
	if (lock < 0)
		return 1;
	const char *store_file;
	int prc = serve_private_db(lock, &store_file);
	if (prc < 0) {
		fprintf(stderr, "runcell serve: %s/%s: %s\n", s->data_dir, store_file, strerror(-prc));
		close(lock);
		return 1;
	}
	char store_url[PATH_MAX + 48], worker_url[PATH_MAX + 48], cache_dir[PATH_MAX + 32],
		err[512];
	/* "sqlite://" + the path, and the option always given: the store
	 * reads a path after "//" as is (a data directory "//x" was opened as
	 * "x", relative) and its last '?' as the option ("q?x" was one). */
	snprintf(store_url, sizeof(store_url), "sqlite://%s/runcell.db?sync=full", s->data_dir);
	/* Workers skip the fsync of claims and results: a job whose result a
	 * power loss forgets runs again; a crash of the process loses nothing. */
	snprintf(worker_url, sizeof(worker_url), "sqlite://%s/runcell.db?sync=normal", s->data_dir);
	snprintf(cache_dir, sizeof(cache_dir), "%s/cache", s->data_dir);
	struct store *st;
	if (store_open(store_url, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "runcell serve: %s\n", err);
		return 1;
	}
	int64_t requeued = 0;
	int qrc = store_requeue_all_running(st, &requeued);
	if (qrc == -ENOSPC) {
		/* A full disk: serve what is stored (GETs work, POSTs get 503);
		 * the jobs are taken again when their leases run out. */
		log_warn("cannot hand back the submissions the last server left running (%s): the disk "
			 "is full; they run again when their leases run out", store_errmsg(st));
	} else if (qrc < 0) {
		fprintf(stderr, "runcell serve: %s\n", store_errmsg(st));
		store_close(st);
		return 1;
	}
	store_close(st);
	if (requeued)
		log_info("%lld submissions were running when the last server stopped: queued again",
			 (long long)requeued);

	char langdir[PATH_MAX];
	struct lang_registry *reg;
	if (lang_registry_load(lang_default_dir(langdir, sizeof(langdir)), &reg, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "runcell serve: cannot load the languages: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < lang_count(reg); i++)
		lang_probe_cached((struct lang *)lang_at(reg, i), cache_dir);
	if (!s->web_dir[0])
		serve_default_web(s->web_dir, sizeof(s->web_dir));

	/* Signals are taken by sigwait below; cli_serve blocked them before
	 * anything else, so every thread inherits the mask. */
	sigset_t sigs;
	serve_stop_signals(&sigs);

	struct api_config ac = {
		.listen = s->listen,
		.port = (uint16_t)s->port,
		.store_url = store_url,
		.worker_store_url = worker_url,
		.queue_url = s->queue_url,
		.web_dir = s->web_dir,
		.max_body = (size_t)s->max_body_kb * 1024,
		.batch_max = (size_t)s->batch_max,
		.max_queue = s->max_queue,
		.wait_timeout_ms = s->wait_timeout_ms,
		.api_keys = (const char *const *)s->api_keys,
		.admin_key = s->admin_key[0] ? s->admin_key : NULL,
		.policy = { .defaults = s->defaults, .max = s->max, .max_tests = (size_t)s->max_tests },
		.languages = reg,
		.callback = { .max_attempts = s->callback_attempts,
			      .timeout_ms = s->callback_timeout_ms,
			      .senders = s->callback_senders,
			      .ca_file = s->callback_ca_file[0] ? s->callback_ca_file : NULL },
		.min_workers = s->min_workers,
		.max_workers = s->max_workers,
		.idle_ms = s->idle_ms,
		.cache_dir = cache_dir,
		.cache_max_bytes = (uint64_t)s->cache_max_mb << 20,
		.max_result_bytes = (uint64_t)s->max_result_kb << 10,
		.preload = s->preload,
	};
	struct api *api;
	if (api_start(&ac, &api, err, sizeof(err)) < 0) {
		fprintf(stderr, "runcell serve: %s\n", err);
		lang_registry_free(reg);
		return 1;
	}
	char url[128];
	bool v6 = strchr(s->listen, ':') != NULL;
	snprintf(url, sizeof(url), "http://%s%s%s:%u", v6 ? "[" : "", s->listen, v6 ? "]" : "",
		 api_port(api));
	struct buf b;
	struct json_writer w;
	log_event_begin(&w, &b, LOG_INFO, "listening");
	json_field_string(&w, "url", url);
	json_field_string(&w, "data", s->data_dir);
	json_field_int(&w, "min_workers", s->min_workers);
	json_field_int(&w, "max_workers", s->max_workers);
	json_field_string(&w, "cgroup", sandbox_cgroup_describe(SANDBOX_CGROUP_AUTO, err, sizeof(err)));
	json_field_bool(&w, "auth", s->api_keys[0] != NULL);
	log_event_end(&w, &b);

	int sig = 0;
	sigwait(&sigs, &sig);
	log_info("%s: stopping (running jobs finish, queued ones stay queued; a second signal "
		 "cuts the running ones short)", serve_signal_name(sig));
	pthread_t hurry;
	bool hurrying = pthread_create(&hurry, NULL, serve_hurry, &sigs) == 0;
	api_stop(api);
	if (hurrying) {
		atomic_store(&serve_stopped, true);
		pthread_kill(hurry, SIGTERM);  /* blocked everywhere: its sigwait takes it */
		pthread_join(hurry, NULL);
	}
	lang_registry_free(reg);
	log_info("stopped");
	close(lock);
	return 0;
}
