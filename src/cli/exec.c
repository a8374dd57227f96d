/*
 * runcell exec: compile, run and judge one submission, no server.
 *
 *   runcell exec --lang ID [--stdin FILE] [--expected FILE | --tests DIR]
 *                [--checker NAME] [--arg ARG]... [--first-failure] [--no-preload]
 *                [limits as in runcell run] FILE... [-- ARGS...]
 *
 * Everything the user gave is checked before a cell is built: an unknown
 * language, a missing, empty, binary or oversized file, or a test
 * directory with unpaired files is a message and exit 2.  The judge's
 * verdict, whatever it is, is exit 0 and one JSON object on stdout.
 */
#include "cli/cli.h"
#include "cli/interrupt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cell_opts.h"
#include "cli/limits.h"
#include "core/json.h"
#include "judge/judge.h"
#include "judge/report.h"

#define EXEC_MAX_TESTS 10000
#define EXEC_MAX_EXPECTED (64u << 20)        /* one .out file or --expected */
#define EXEC_MAX_EXPECTED_ALL (512ull << 20) /* the .out files of --tests together */
#define EXEC_KEEP_OUTPUT (64u << 20)         /* stdout and stderr printed, over all runs */
#define EXEC_CACHE_MAX_BYTES (512ull << 20)
/* Fewest tests forked from a preloaded interpreter: for one, starting the
 * preloader costs more than the run it saves (Python print(1) in a warm
 * cell on the test VM: 40 ms against 34 executed; two 48 against 59). */
#define EXEC_PRELOAD_MIN_TESTS 2

static void exec_usage(void)
{
	struct sandbox_limits d;
	sandbox_limits_default(&d);
	printf("usage: runcell exec --lang ID [options] FILE... [-- ARGS...]\n"
	       "\n"
	       "Compiles FILE... (the first is the entry), runs it on each test in a cell,\n"
	       "compares the output and prints one JSON object with the verdict.\n"
	       "\n"
	       "  --lang=ID          language id or alias (see runcell languages)\n"
	       "  --stdin=FILE       input of the single run\n"
	       "  --expected=FILE    expected output of the single run\n"
	       "  --tests=DIR        tests: pairs NAME.in / NAME.out (run in name order)\n"
	       "  --checker=NAME     lines (default), exact, tokens, float, float:TOL,\n"
	       "                     float:abs=A,rel=R\n"
	       "  --arg=ARG          a program argument (repeatable; --args too; or after --)\n"
	       "  --file=FILE        a data file placed read-only next to the program\n"
	       "  --first-failure    stop at the first test that is not accepted\n"
	       "  --no-preload       execute the interpreter for every test (by default,\n"
	       "                     with two tests or more, Python tests are forked from\n"
	       "                     an interpreter the cell starts once)\n"
	       "  --keeper=SOCKET    run a submission's only run (one test, nothing compiled\n"
	       "                     or the compile cached) in a cell built ahead by the\n"
	       "                     runcell keep at SOCKET\n"
	       "                     [%s; used when it listens]\n"
	       "  --no-keeper        always build the cell here\n", KEEPER_SOCKET_DEFAULT);
	cli_limit_usage(&d);
	printf("\nThe compile cache lives in $RUNCELL_CACHE_DIR (default "
	       "/var/cache/runcell/compile).\n");
}

/* Reads a whole regular file, refusing more than cap bytes. */
/* Reads a whole file of at most cap bytes.  With streams_ok, a pipe or a
 * character device (--expected <(...), /dev/stdin) is read to its end as
 * well; otherwise only a regular file is taken, so that a FIFO in a test
 * directory or named as a source is refused instead of waited on. */
static int read_file(const char *path, size_t cap, bool streams_ok, char **data, size_t *len,
		     char *why, size_t wl)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, wl, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	bool stream = streams_ok && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode));
	if (!S_ISREG(st.st_mode) && !stream) {
		snprintf(why, wl, "%s: not a regular file%s", path, streams_ok ? " or a pipe" : "");
		close(fd);
		return -1;
	}
	if (stream)
		(void)fcntl(fd, F_SETFL, 0);	/* wait for the writer's data */
	else if ((uint64_t)st.st_size > cap) {
		snprintf(why, wl, "%s: larger than %zu bytes", path, cap);
		close(fd);
		return -1;
	}
	/* a regular file is read to its size at open; a stream to its end */
	size_t want = stream ? cap + 1 : (size_t)st.st_size;
	size_t size = stream ? 65536 : want + 1;
	char *p = malloc(size);
	size_t got = 0;
	bool failed = false;
	while (p && got < want) {
		if (got + 1 >= size) {
			size_t grown = size * 2 > cap + 2 ? cap + 2 : size * 2;
			char *q = realloc(p, grown);
			if (!q) {
				free(p);
				p = NULL;
				break;
			}
			p = q;
			size = grown;
		}
		size_t room = size - 1 - got;
		ssize_t n = read(fd, p + got, room < want - got ? room : want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			failed = n < 0;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (!p || failed || (!stream && got != want)) {
		snprintf(why, wl, "%s: cannot read", path);
		free(p);
		return -1;
	}
	if (got > cap) {
		snprintf(why, wl, "%s: larger than %zu bytes", path, cap);
		free(p);
		return -1;
	}
	p[got] = '\0';
	*data = p;
	*len = got;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DIR/NAME.in with DIR/NAME.out; every file must be part of a pair.
 * *out and *n are set even on error: the caller frees what was loaded. */
static int load_tests(const char *dir, struct judge_test **out, size_t *n, char *why, size_t wl)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(why, wl, "--tests=%s: %s", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t count = 0, cap = 0;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (count == 2 * EXEC_MAX_TESTS) {
			snprintf(why, wl, "--tests=%s: more than %d files (at most %d tests)", dir,
				 2 * EXEC_MAX_TESTS, EXEC_MAX_TESTS);
			rc = -1;
			break;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			if (cap > 2 * EXEC_MAX_TESTS)
				cap = 2 * EXEC_MAX_TESTS;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				snprintf(why, wl, "--tests=%s: out of memory", dir);
				rc = -1;
				break;
			}
			names = nn;
		}
		if (!(names[count] = strdup(e->d_name))) {
			snprintf(why, wl, "--tests=%s: out of memory", dir);
			rc = -1;
			break;
		}
		count++;
	}
	closedir(d);
	struct judge_test *tests = rc < 0 ? NULL : calloc(count / 2 + 1, sizeof(*tests));
	size_t nt = 0;
	uint64_t expected_all = 0;
	if (!tests) {
		if (rc == 0)
			snprintf(why, wl, "--tests=%s: out of memory", dir);
		rc = -1;
	} else if (count > 0) /* an empty directory has no array to sort */
		qsort(names, count, sizeof(*names), name_cmp);
	for (size_t i = 0; i < count && rc == 0; i++) {
		size_t len = strlen(names[i]);
		bool is_in = len > 3 && !strcmp(names[i] + len - 3, ".in");
		bool is_out = len > 4 && !strcmp(names[i] + len - 4, ".out");
		char pair[1024];
		if (is_in)
			snprintf(pair, sizeof(pair), "%.*s.out", (int)(len - 3), names[i]);
		else if (is_out)
			snprintf(pair, sizeof(pair), "%.*s.in", (int)(len - 4), names[i]);
		if ((!is_in && !is_out) ||
		    !bsearch(&(char *){ pair }, names, count, sizeof(*names), name_cmp)) {
			snprintf(why, wl, "--tests=%s: %s has no %s pair (the layout is NAME.in and NAME.out)",
				 dir, names[i], is_in ? ".out" : is_out ? ".in" : ".in/.out");
			rc = -1;
			break;
		}
		if (!is_in)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			/* a directory or a FIFO would become the program's stdin */
			snprintf(why, wl, "--tests=%s: %s is not a regular file", dir, names[i]);
			rc = -1;
			break;
		}
		struct judge_test *t = &tests[nt++];
		t->name = strndup(names[i], len - 3);
		t->input_path = strdup(path);
		snprintf(path, sizeof(path), "%s/%s", dir, pair);
		char *exp;
		if (read_file(path, EXEC_MAX_EXPECTED, false, &exp, &t->expected_len, why, wl) < 0) {
			rc = -1;
		} else {
			t->expected = exp;
			expected_all += t->expected_len;
			if (expected_all > EXEC_MAX_EXPECTED_ALL) {
				snprintf(why, wl, "--tests=%s: the .out files add up to more than %llu MiB",
					 dir, EXEC_MAX_EXPECTED_ALL >> 20);
				rc = -1;
			}
		}
	}
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (rc == 0 && nt == 0) {
		snprintf(why, wl, "--tests=%s: no NAME.in / NAME.out pairs", dir);
		rc = -1;
	}
	*out = tests;
	*n = nt;
	return rc;
}

static void print_result(const struct lang *l, const struct judge_result *res)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	report_judge_result(&w, l, res);
	buf_puts(&b, "\n");
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	buf_free(&b);
}

static int fail(const char *fmt, const char *detail)
{
	fprintf(stderr, "runcell exec: ");
	fprintf(stderr, fmt, detail);
	fputc('\n', stderr);
	return 2;
}

/* Everything cli_exec allocates, freed in one place whatever the exit. */
struct exec_owned {
	const char **args, **extra_paths;
	struct judge_source *src, *extras;
	size_t nsrc, nextras;
	struct judge_test *tests;
	size_t ntests;
	char *expected;
	struct sandbox_bind *binds;
	struct lang_registry *reg;
	struct judge_preloader preloader;
};

static void exec_owned_free(struct exec_owned *o)
{
	for (size_t i = 0; i < o->nsrc; i++)
		free((char *)o->src[i].data);
	for (size_t i = 0; i < o->nextras; i++)
		free((char *)o->extras[i].data);
	for (size_t i = 0; i < o->ntests; i++) {
		free((char *)o->tests[i].name);
		free((char *)o->tests[i].input_path);
		free((char *)o->tests[i].expected);
	}
	free(o->tests);
	free(o->src);
	free(o->extras);
	free(o->args);
	free(o->extra_paths);
	free(o->expected);
	free(o->binds);
	lang_registry_free(o->reg);
	judge_preloader_free(&o->preloader);
}

static int exec_main(int argc, char **argv, struct exec_owned *o);

/* The cell of one exec: a keeper's for a single run when one takes it,
 * else one built here, when the judge first needs it. */
struct exec_cells {
	const struct sandbox_cell_config *cfg;
	const char *keeper;          /* --keeper; NULL: the default socket */
	bool open_failed;
	bool offered;                /* a run was offered to the keeper */
	struct sandbox_cell *cell;
	/* The language's preloader, which a keeper started with
	 * --preload=LANG has in its cells; none: executed there. */
	struct sandbox_preload preload;
};

static int exec_cell_open(void *ctx, struct sandbox_cell **cell, char *why, size_t len)
{
	struct exec_cells *c = ctx;
	int rc = sandbox_cell_open(c->cfg, cell, why, len);
	c->open_failed = rc < 0;
	if (rc == 0)
		c->cell = *cell;  /* closed by exec_main after the judge */
	return rc;
}

static int exec_run_once(void *ctx, const struct sandbox_run_spec *spec,
			 struct sandbox_result *result)
{
	struct exec_cells *c = ctx;
	c->offered = true;
	struct sandbox_cell_config shape = *c->cfg;
	struct sandbox_run_spec once = *spec;
	if (c->preload.server)
		shape.preload = c->preload;
	else
		once.preload = false;
	/* A single test is not preloaded without a keeper either: no word
	 * when this one has no preloader. */
	return cli_keeper_run("exec", c->keeper, &shape, &once, false, result);
}

int cli_exec(int argc, char **argv)
{
	struct exec_owned o;
	memset(&o, 0, sizeof(o));
	int status = exec_main(argc, argv, &o);
	exec_owned_free(&o);
	return status;
}

static int exec_main(int argc, char **argv, struct exec_owned *o)
{
	enum { O_LANG = 256, O_STDIN, O_EXPECTED, O_TESTS, O_CHECKER, O_ARG, O_FILE, O_FIRST,
	       O_NO_PRELOAD, O_KEEPER, O_NO_KEEPER, O_HELP };
	static const struct option own[] = {
		{ "lang", required_argument, NULL, O_LANG },
		{ "stdin", required_argument, NULL, O_STDIN },
		{ "expected", required_argument, NULL, O_EXPECTED },
		{ "tests", required_argument, NULL, O_TESTS },
		{ "checker", required_argument, NULL, O_CHECKER },
		{ "arg", required_argument, NULL, O_ARG },
		{ "args", required_argument, NULL, O_ARG },
		{ "file", required_argument, NULL, O_FILE },
		{ "first-failure", no_argument, NULL, O_FIRST },
		{ "no-preload", no_argument, NULL, O_NO_PRELOAD },
		{ "keeper", required_argument, NULL, O_KEEPER },
		{ "no-keeper", no_argument, NULL, O_NO_KEEPER },
		{ "help", no_argument, NULL, O_HELP },
	};
	struct option longopts[sizeof(own) / sizeof(own[0]) + CLI_LIMIT_COUNT + 1];
	cli_limit_merge(longopts, own, sizeof(own) / sizeof(own[0]));

	struct judge_request req;
	memset(&req, 0, sizeof(req));
	sandbox_limits_default(&req.limits);
	const char *lang_id = NULL, *stdin_path = NULL, *expected_path = NULL, *tests_dir = NULL,
		   *checker = NULL;
	bool preload = true, no_keeper = false;
	const char *keeper = NULL;
	const char **args = o->args = calloc((size_t)argc + 1, sizeof(*args));
	size_t nargs = 0;
	const char **extra_paths = o->extra_paths = calloc((size_t)argc + 1, sizeof(*extra_paths));
	if (!args || !extra_paths)
		return 1;
	size_t nextras = 0;
	/* Everything after the first "--" is the program's: split it off
	 * before getopt, which would otherwise mix it with the files. */
	int prog_args = argc;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			prog_args = i;
			break;
		}
	int opt_argc = prog_args;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(opt_argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_LANG: lang_id = optarg; break;
		case O_STDIN: stdin_path = optarg; break;
		case O_EXPECTED: expected_path = optarg; break;
		case O_TESTS: tests_dir = optarg; break;
		case O_CHECKER: checker = optarg; break;
		case O_ARG: args[nargs++] = optarg; break;
		case O_FILE: extra_paths[nextras++] = optarg; break;
		case O_FIRST: req.first_failure = true; break;
		case O_NO_PRELOAD: preload = false; break;
		case O_KEEPER:
			if (optarg[0] != '/')
				return fail("invalid --keeper=%s: expected the absolute path of a socket",
					    optarg);
			keeper = optarg;
			break;
		case O_NO_KEEPER: no_keeper = true; break;
		case O_HELP:
		case 'h':
			exec_usage();
			return 0;
		default:
			if (c >= CLI_LIMIT_BASE) {
				if (cli_limit_parse("exec", c, optarg, &req.limits) < 0)
					return 2;
				break;
			}
			return fail("unknown or incomplete option '%s' (see runcell exec --help)",
				    argv[optind - 1]);
		}
	}
	if (cli_limits_check_host("exec", &req.limits) < 0)
		return 2;
	if (keeper && no_keeper)
		return fail("%s", "--keeper cannot be combined with --no-keeper");
	/* getopt moved the files behind the options. */
	int nfiles = opt_argc - optind;
	char **files = &argv[optind];
	for (int k = prog_args + 1; k < argc; k++)
		args[nargs++] = argv[k];
	args[nargs] = NULL;
	if (!lang_id)
		return fail("%s", "no language: --lang=ID (see runcell languages)");
	if (nfiles == 0)
		return fail("%s", "no source file given");
	if (nfiles > JUDGE_MAX_FILES)
		return fail("%s", "too many source files");
	if (tests_dir && (expected_path || stdin_path))
		return fail("%s", "--tests cannot be combined with --stdin or --expected");
	if (checker_parse(checker, &req.checker) < 0)
		return fail("invalid --checker=%s (lines, exact, tokens, float, float:TOL, "
			    "float:abs=A,rel=R)", checker);

	char dir[4096], why[1024];
	struct lang_registry *reg;
	if (lang_registry_load_for(lang_default_dir(dir, sizeof(dir)), lang_id, &o->reg, why,
				   sizeof(why)) < 0) {
		fprintf(stderr, "runcell exec: cannot load the languages: %s\n", why);
		return 1;
	}
	reg = o->reg;
	struct lang *l = (struct lang *)lang_find(reg, lang_id);
	if (!l)
		return fail("unknown language '%s' (see runcell languages)", lang_id);
	const char *cache_dir = cache_default_dir();
	lang_probe_cached(l, cache_dir);
	if (!l->available)
		return fail("language '%s' is not available on this host (its toolchain is missing)",
			    l->id);
	req.lang = l;

	struct judge_source *src = o->src = calloc((size_t)nfiles, sizeof(*src));
	if (!src)
		return 1;
	for (int i = 0; i < nfiles; i++) {
		char *data;
		size_t len;
		if (read_file(files[i], JUDGE_MAX_SOURCE, false, &data, &len, why, sizeof(why)) < 0)
			return fail("%s", why);
		const char *base = strrchr(files[i], '/');
		src[i] = (struct judge_source){ base ? base + 1 : files[i], data, len };
		o->nsrc++;
	}
	req.sources = src;
	req.nsources = (size_t)nfiles;
	struct judge_source *extras = o->extras = calloc(nextras + 1, sizeof(*extras));
	if (!extras)
		return 1;
	for (size_t i = 0; i < nextras; i++) {
		char *data;
		size_t len;
		if (read_file(extra_paths[i], JUDGE_MAX_SOURCE, false, &data, &len, why, sizeof(why)) < 0)
			return fail("invalid --file: %s", why);
		const char *base = strrchr(extra_paths[i], '/');
		extras[i] = (struct judge_source){ base ? base + 1 : extra_paths[i], data, len };
		o->nextras++;
	}
	req.extras = extras;
	req.nextras = nextras;
	req.args = args;
	if (judge_check_disk(&req, why, sizeof(why)) < 0)
		return fail("%s; raise --disk", why);
	if (judge_check(&req, why, sizeof(why)) < 0)
		return fail("%s", why);

	struct judge_test single = { .name = "1", .input_path = stdin_path };
	struct stat in_st;
	if (stdin_path && access(stdin_path, R_OK) < 0)
		return fail("invalid --stdin: %s", strerror(errno));
	/* a pipe (--stdin <(...)) is fine; a directory would be the stdin,
	 * and a socket cannot be opened at all */
	if (stdin_path && stat(stdin_path, &in_st) < 0)
		return fail("invalid --stdin: %s", strerror(errno));
	if (stdin_path && S_ISDIR(in_st.st_mode))
		return fail("invalid --stdin: %s is a directory", stdin_path);
	if (stdin_path && S_ISSOCK(in_st.st_mode))
		return fail("invalid --stdin: %s is a socket", stdin_path);
	if (expected_path) {
		char *exp;
		if (read_file(expected_path, EXEC_MAX_EXPECTED, true, &exp, &single.expected_len, why,
			      sizeof(why)) < 0)
			return fail("invalid --expected: %s", why);
		single.expected = o->expected = exp;
	}
	if (tests_dir) {
		struct judge_test *tests = NULL;
		size_t nt = 0;
		int lrc = load_tests(tests_dir, &tests, &nt, why, sizeof(why));
		o->tests = tests;
		o->ntests = nt;
		if (lrc < 0)
			return fail("%s", why);
		req.tests = tests;
		req.ntests = nt;
	} else {
		req.tests = &single;
		req.ntests = 1;
	}

	struct cache *cache = NULL;
	if (l->compile && cache_open(cache_dir, EXEC_CACHE_MAX_BYTES, &cache) < 0)
		fprintf(stderr, "runcell exec: warning: no compile cache at %s: %s\n", cache_dir,
			strerror(errno));
	req.cache = cache;
	req.cell_last_use = true;  /* the cell is closed right after */
	/* Output past this is dropped as each test is judged (and marked
	 * truncated), so many tests of large output do not pile up. */
	req.keep_output = EXEC_KEEP_OUTPUT;

	size_t nbinds = 0;
	for (char **b = l->binds; b && *b; b++)
		nbinds++;
	struct sandbox_bind *binds = o->binds = calloc(nbinds + 1, sizeof(*binds));
	if (!binds)
		return 1;
	for (size_t i = 0; i < nbinds; i++)
		binds[i] = (struct sandbox_bind){ .host = l->binds[i] };
	/* lazy: the first run (the compile, or the only test) is queued while
	 * the cell is built. */
	struct sandbox_cell_config cfg = { .binds = binds, .nbinds = nbinds, .lazy = true };
	struct exec_cells cells = { .cfg = &cfg, .keeper = keeper };
	bool many = req.ntests >= EXEC_PRELOAD_MIN_TESTS;
	if (l->preload && preload && (many || !no_keeper)) {
		int prc = judge_preloader_find(l, &o->preloader);
		if (prc < 0 && many)
			fprintf(stderr, "runcell exec: warning: %s tests are executed, not preloaded: "
				"%s: %s\n", l->id, o->preloader.path, strerror(-prc));
		else if (prc == 0 && many) {
			cfg.preload = o->preloader.preload;
			cfg.lazy = false;  /* a preloader needs the cell built first */
		} else if (prc == 0) {
			/* A single test: preloaded only in a keeper's cell,
			 * whose interpreter was started before the run. */
			cells.preload = o->preloader.preload;
		}
	}
	struct judge_cell_source source = { .open = exec_cell_open, .ctx = &cells };
	if (!no_keeper)  /* offered only a submission's only run */
		source.run_once = exec_run_once;
	cli_interrupt_catch();
	struct judge_result res;
	int rc = judge_submit_from(&source, &req, &res);
	if (cells.cell)
		sandbox_cell_close(cells.cell);
	if (keeper && !cells.offered && rc == 0 && res.ntests > 0)
		fprintf(stderr, "runcell exec: --keeper serves a submission's only run when nothing "
			"was compiled for it (one test; no compile step, or a cached one); the cell "
			"was built here\n");
	cache_close(cache);
	int status = 0;
	if (sandbox_interrupted()) {
		judge_result_free(&res);  /* stopped: no verdict to report */
		return cli_interrupt_status("exec", 1);
	}
	if (rc < 0) {
		fprintf(stderr, "runcell exec: %s\n", res.message);
		status = rc == -EINVAL && !cells.open_failed ? 2 : 1;
	} else {
		print_result(l, &res);
		if (res.verdict == JUDGE_INTERNAL_ERROR) {
			fprintf(stderr, "runcell exec: internal error: %s\n", res.message);
			status = 1;
		}
	}
	judge_result_free(&res);
	return status;
}
