/*
 * runcell run: one program (or, with --sequence, several) in a cell.
 *
 * Options are checked here, before any cell exists, so a bad option costs
 * nothing and says which option is wrong (exit 2).  The cell's own
 * failures exit 1; whatever the program did, exit 0 and the result.
 */
#include "cli/cli.h"
#include "cli/cell_opts.h"
#include "cli/interrupt.h"
#include "cli/limits.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/json.h"
#include "judge/judge.h"
#include "judge/report.h"
#include "keeper/client.h"
#include "lang/lang.h"
#include "sandbox/sandbox.h"

#define RUN_MAX_ENV 1024
#define RUN_MAX_FILES 10000

struct run_opts {
	struct sandbox_cell_config cell;
	struct sandbox_limits limits;
	struct sandbox_bind binds[CLI_MAX_BINDS];
	const char *env[RUN_MAX_ENV + 1];
	size_t nenv;
	const char *stdin_path;
	const char *box_dir;
	bool json;
	bool sequence;
	const char *preload;          /* --preload=LANG */
	const char *keeper;           /* --keeper=SOCKET; NULL: the default */
	bool no_keeper;
	struct judge_preloader preloader;
	struct lang_registry *reg;
};

void cli_run_usage(void)
{
	struct sandbox_limits d;
	sandbox_limits_default(&d);
	printf("usage: runcell run [options] -- PROGRAM [ARGS...]\n"
	       "\n"
	       "Runs PROGRAM in a fresh cell and reports what happened.\n"
	       "\n");
	cli_limit_usage(&d);
	printf("cell:\n"
	       "  --stdin=FILE       the program's standard input [/dev/null]\n"
	       "  --box=DIR          copy DIR's files into /box, the working directory\n"
	       "  --bind=HOST[:CELLPATH][:rw]  make a host path visible (read-only by default)\n"
	       "  --env=NAME=VALUE   add a variable (the cell starts with PATH, HOME, LANG)\n"
	       "  --net              share the host's network (off by default)\n"
	       "  --cgroup=MODE      auto, v1, v2 or none (rlimits only) [auto]\n"
	       "  --keeper=SOCKET    take a cell built ahead from the runcell keep at SOCKET\n"
	       "                     [" KEEPER_SOCKET_DEFAULT "; used when it listens]\n"
	       "  --no-keeper        always build the cell here\n"
	       "output:\n"
	       "  --json             print the result as one JSON object on stdout\n"
	       "  --sequence         split the command on ':::' and run each part in turn in\n"
	       "                     one warm cell (with --json, one object per line)\n"
	       "  --preload=LANG     run in a warm cell with LANG's preloaded interpreter\n"
	       "                     (python3): each program that is LANG's interpreter with\n"
	       "                     a script (or -c CODE) and the cell's environment is\n"
	       "                     forked from it; the JSON gets \"preloaded\":\n"
	       "                     true|false.  Without --sequence, a runcell keep\n"
	       "                     --preload=LANG runs it\n");
}

static int bad(const char *opt, const char *value, const char *why)
{
	fprintf(stderr, "runcell run: invalid --%s=%s: %s\n", opt, value, why);
	return -1;
}

static int set_env(struct run_opts *o, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return bad("env", kv, "expected NAME=VALUE");
	size_t nlen = (size_t)(eq - kv);
	for (size_t i = 0; i < o->nenv; i++)
		if (!strncmp(o->env[i], kv, nlen) && o->env[i][nlen] == '=') {
			o->env[i] = kv;
			return 0;
		}
	if (o->nenv >= RUN_MAX_ENV)
		return bad("env", kv, "too many variables");
	o->env[o->nenv++] = kv;
	return 0;
}

/* --preload=LANG: LANG's preloader, for its interpreter, with the runs'
 * environment. */
static int find_preloader(struct run_opts *o)
{
	if (cli_find_preloader("run", o->preload, &o->reg, &o->preloader) < 0)
		return -1;
	o->cell.preload = o->preloader.preload;
	o->cell.preload.env = o->env;
	return 0;
}

static int parse_opts(int argc, char **argv, struct run_opts *o, int *first_arg)
{
	enum { O_STDIN = 256, O_BOX, O_BIND, O_ENV, O_NET, O_JSON, O_SEQ, O_CGROUP, O_PRELOAD,
	       O_KEEPER, O_NO_KEEPER, O_HELP };
	static const struct option own[] = {
		{ "stdin", required_argument, NULL, O_STDIN },
		{ "box", required_argument, NULL, O_BOX },
		{ "bind", required_argument, NULL, O_BIND },
		{ "env", required_argument, NULL, O_ENV },
		{ "net", no_argument, NULL, O_NET },
		{ "json", no_argument, NULL, O_JSON },
		{ "sequence", no_argument, NULL, O_SEQ },
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "preload", required_argument, NULL, O_PRELOAD },
		{ "keeper", required_argument, NULL, O_KEEPER },
		{ "no-keeper", no_argument, NULL, O_NO_KEEPER },
		{ "help", no_argument, NULL, O_HELP },
	};
	struct option longopts[sizeof(own) / sizeof(own[0]) + CLI_LIMIT_COUNT + 1];
	cli_limit_merge(longopts, own, sizeof(own) / sizeof(own[0]));
	memset(o, 0, sizeof(*o));
	sandbox_limits_default(&o->limits);
	for (const char *const *e = sandbox_default_env; *e; e++)
		o->env[o->nenv++] = *e;
	size_t nbinds = 0;
	optind = 1;
	opterr = 0;
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case O_STDIN: o->stdin_path = optarg; break;
		case O_BOX: o->box_dir = optarg; break;
		case O_BIND: rc = cli_parse_bind("run", optarg, o->binds, &nbinds); break;
		case O_ENV: rc = set_env(o, optarg); break;
		case O_NET: o->cell.net = true; break;
		case O_JSON: o->json = true; break;
		case O_SEQ: o->sequence = true; break;
		case O_PRELOAD: o->preload = optarg; break;
		case O_KEEPER:
			if (optarg[0] != '/')
				rc = bad("keeper", optarg, "expected the absolute path of a socket");
			o->keeper = optarg;
			break;
		case O_NO_KEEPER: o->no_keeper = true; break;
		case O_CGROUP: rc = cli_parse_cgroup("run", optarg, &o->cell.cgroup); break;
		case O_HELP:
		case 'h':
			cli_run_usage();
			exit(0);
		default:
			if (c >= CLI_LIMIT_BASE) {
				rc = cli_limit_parse("run", c, optarg, &o->limits);
				break;
			}
			fprintf(stderr, "runcell run: unknown or incomplete option '%s' (see runcell run --help)\n",
				argv[optind - 1]);
			rc = -1;
		}
	}
	if (rc < 0 || cli_limits_check_host("run", &o->limits) < 0)
		return -1;
	if (optind >= argc) {
		fprintf(stderr, "runcell run: no program given (runcell run [options] -- PROGRAM [ARGS...])\n");
		return -1;
	}
	if (o->keeper && (o->no_keeper || o->sequence)) {
		fprintf(stderr, "runcell run: --keeper is for one program in a fresh cell, not with %s\n",
			o->no_keeper ? "--no-keeper" : "--sequence");
		return -1;
	}
	o->cell.binds = o->binds;
	o->cell.nbinds = nbinds;
	o->env[o->nenv] = NULL;
	*first_arg = optind;
	return o->preload ? find_preloader(o) : 0;
}

/* What --box puts on the cell's disk: bytes in 4 KiB pages (as tmpfs
 * counts them) and entries (files and directories, one inode each). */
struct box_usage {
	uint64_t bytes;
	uint64_t entries;
};

/* Regular files and directories of the operator's --box directory, files
 * with descriptors, each directory after what it holds.  Links and special
 * files are not copied: the box holds plain data. */
static int collect_box(const char *root, const char *rel, struct sandbox_file *files,
		       size_t *n, int depth, struct box_usage *use)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s%s%s", root, rel[0] ? "/" : "", rel);
	if (depth > 32) {
		fprintf(stderr, "runcell run: --box=%s: directories nested too deep\n", root);
		return -1;
	}
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "runcell run: --box=%s: %s\n", dir, strerror(errno));
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		char full[8192];
		snprintf(full, sizeof(full), "%s/%s", root, sub);
		struct stat st;
		if (lstat(full, &st) < 0) {
			fprintf(stderr, "runcell run: --box: %s: %s\n", full, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = collect_box(root, sub, files, n, depth + 1, use);
			if (rc == 0 && *n >= RUN_MAX_FILES) {
				fprintf(stderr, "runcell run: --box=%s: more than %d files\n", root, RUN_MAX_FILES);
				rc = -1;
			} else if (rc == 0) {
				files[*n].path = strdup(sub);
				files[*n].fd = -1;
				files[*n].mode = S_IFDIR | (st.st_mode & 0777);
				(*n)++;
				use->entries++;
			}
		} else if (S_ISREG(st.st_mode)) {
			if (*n >= RUN_MAX_FILES) {
				fprintf(stderr, "runcell run: --box=%s: more than %d files\n", root, RUN_MAX_FILES);
				rc = -1;
				break;
			}
			int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				fprintf(stderr, "runcell run: --box: %s: %s\n", full, strerror(errno));
				rc = -1;
				break;
			}
			files[*n].path = strdup(sub);
			files[*n].fd = fd;
			files[*n].mode = S_IFREG | (st.st_mode & 0777);  /* 000 stays 000 */
			(*n)++;
			use->bytes += sandbox_disk_bytes((uint64_t)st.st_size);
			use->entries++;
		} else {
			fprintf(stderr, "runcell run: --box: skipping %s (not a regular file or directory)\n", full);
		}
	}
	closedir(d);
	return rc;
}

static void print_json(const struct sandbox_result *r, bool preload)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_begin_object(&w);
	report_cell_fields(&w, r);
	if (preload) {
		json_key(&w, "preloaded");
		json_bool(&w, r->preloaded);
	}
	json_end_object(&w);
	buf_puts(&b, "\n");
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	buf_free(&b);
}

static void print_plain(const struct sandbox_result *r)
{
	if (r->out.len)
		fwrite(r->out.data, 1, r->out.len, stdout);
	fflush(stdout);
	if (r->err.len) {
		fwrite(r->err.data, 1, r->err.len, stderr);
		if (r->err.data[r->err.len - 1] != '\n')
			fputc('\n', stderr);  /* the summary starts a line of its own */
	}
	fprintf(stderr, "runcell: %s: %s; cpu %" PRIu64 " ms, wall %" PRIu64 " ms, memory %" PRIu64 " KB%s\n",
		sandbox_status_name(r->status), r->message, r->cpu_ms, r->wall_ms, r->memory_kb,
		r->out.truncated || r->err.truncated ? " (output truncated)" : "");
}

/* The warm cell of --sequence and --preload: 0, or runcell run's exit
 * status after it said why not. */
static int open_warm(struct run_opts *o, struct sandbox_cell **cell)
{
	char why[512];
	o->cell.reexec = false;
	/* The first program waits in line while the cell is built; a
	 * preloader's cell is waited for. */
	o->cell.lazy = !o->preload;
	int rc = sandbox_cell_open(&o->cell, cell, why, sizeof(why));
	if (rc < 0) {
		*cell = NULL;
		if (!sandbox_interrupted())
			fprintf(stderr, "runcell run: %s\n", why);
		return rc == -EINVAL || rc == -ENOENT || rc == -ENOTSUP ? 2 : 1;
	}
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int cli_run(int argc, char **argv)
{
	static struct run_opts o;
	int first;
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		cli_run_usage();
		return 0;
	}
	if (parse_opts(argc, argv, &o, &first) < 0)
		return 2;
	raise_nofile();

	static struct sandbox_file files[RUN_MAX_FILES];
	size_t nfiles = 0;
	struct box_usage use = { 0, 0 };
	if (o.box_dir && collect_box(o.box_dir, "", files, &nfiles, 0, &use) < 0)
		return 2;
	/* Refused here, with the reason, rather than failing inside the cell. */
	if (!sandbox_disk_fits(o.limits.disk_kb, use.bytes, use.entries)) {
		fprintf(stderr, "runcell run: --box=%s: %" PRIu64 " files and directories taking %" PRIu64
			" KB (in 4 KB pages) do not fit the cell's disk of %" PRIu64 " KB (at most %" PRIu64
			" files and directories); raise --disk\n", o.box_dir, use.entries,
			use.bytes / 1024, o.limits.disk_kb, sandbox_disk_inodes(o.limits.disk_kb) - 3);
		return 2;
	}
	int stdin_fd = -1;
	bool stdin_regular = false;
	if (o.stdin_path) {
		stdin_fd = open(o.stdin_path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (stdin_fd < 0 || fstat(stdin_fd, &st) < 0 || S_ISDIR(st.st_mode)) {
			fprintf(stderr, "runcell run: invalid --stdin=%s: %s\n", o.stdin_path,
				stdin_fd < 0 ? strerror(errno) : "a directory");
			return 2;
		}
		stdin_regular = S_ISREG(st.st_mode);
	}

	/* The programs: one, or the ':::'-separated parts. */
	char **progs[256];
	int nprogs = 0;
	progs[nprogs++] = &argv[first];
	if (o.sequence) {
		for (int i = first; i < argc; i++) {
			if (strcmp(argv[i], ":::"))
				continue;
			argv[i] = NULL;
			if (nprogs >= 256) {
				fprintf(stderr, "runcell run: --sequence: at most 256 programs\n");
				return 2;
			}
			progs[nprogs++] = &argv[i + 1];
		}
		for (int p = 0; p < nprogs; p++)
			if (!progs[p][0]) {
				fprintf(stderr, "runcell run: --sequence: empty program around ':::'\n");
				return 2;
			}
	}

	struct sandbox_run_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.env = o.env;
	spec.limits = o.limits;
	spec.files = files;
	spec.nfiles = nfiles;
	int status = 0;
	struct sandbox_cell *cell = NULL;
	cli_interrupt_catch();
	spec.preload = o.preload != NULL;
	/* --sequence runs in its own warm cell.  One program is offered to a
	 * keeper first (one started with the same --preload has the
	 * interpreter started); a --preload program it does not take gets
	 * the warm cell, any other a fresh one. */
	bool warm_now = o.sequence || (o.preload && o.no_keeper);
	if (warm_now && (status = open_warm(&o, &cell)) != 0)
		return cli_interrupt_status("run", status);
	for (int p = 0; p < nprogs; p++) {
		spec.argv = (const char *const *)progs[p];
		/* Each program of a sequence gets a file of its own: one open
		 * file shared by all would carry what a program set on it
		 * (O_NONBLOCK, F_SETSIG, OFD locks) to the next. */
		if (stdin_regular && p > 0) {
			int fresh = open(o.stdin_path, O_RDONLY | O_CLOEXEC);
			if (fresh < 0) {
				fprintf(stderr, "runcell run: --stdin=%s: %s\n", o.stdin_path,
					strerror(errno));
				status = 1;
				break;
			}
			close(stdin_fd);
			stdin_fd = fresh;
		}
		spec.stdin_fd = stdin_fd;
		spec.last_run = p == nprogs - 1;  /* the cell's init need not wait for more */
		for (size_t i = 0; i < nfiles; i++)
			lseek(files[i].fd, 0, SEEK_SET);
		struct sandbox_result r;
		sandbox_result_init(&r);
		int rc;
		if (!cell && !o.no_keeper && cli_keeper_run("run", o.keeper, &o.cell, &spec, true, &r))
			rc = 0;  /* ran, or broke off: the result says which */
		else if (!cell && o.preload && (status = open_warm(&o, &cell)) != 0) {
			sandbox_result_free(&r);
			break;
		} else
			rc = cell ? sandbox_cell_run(cell, &spec, &r) : sandbox_run(&o.cell, &spec, &r);
		if (sandbox_interrupted()) {
			sandbox_result_free(&r);  /* stopped: no result to report */
			break;
		}
		if (rc < 0) {
			fprintf(stderr, "runcell run: %s\n", r.message[0] ? r.message : strerror(-rc));
			sandbox_result_free(&r);
			status = 2;
			break;
		}
		if (o.json)
			print_json(&r, o.preload != NULL);
		else
			print_plain(&r);
		if (r.status == SANDBOX_INTERNAL_ERROR) {
			if (o.json)
				fprintf(stderr, "runcell run: internal error: %s\n", r.message);
			status = 1;
		}
		sandbox_result_free(&r);
	}
	sandbox_cell_close(cell);
	lang_registry_free(o.reg);
	judge_preloader_free(&o.preloader);
	for (size_t i = 0; i < nfiles; i++) {
		close(files[i].fd);
		free((char *)files[i].path);
	}
	if (stdin_fd >= 0)
		close(stdin_fd);
	return cli_interrupt_status("run", status);
}
