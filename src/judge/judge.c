/*
 * judge: compile once, run every test in a wiped warm cell, compare, and
 * reduce to one verdict (see judge.h).
 *
 * The compile runs in the same cell as the tests, as untrusted code, with
 * the language's (larger) compile limits.  Its artifacts are read back
 * through the cell (never by a host path into the box: regular files
 * only, no links, size-capped), kept in memory files, cached, and placed
 * read-only into /box before each test.
 */
#include "judge/judge.h"

#include <errno.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Largest artifact read back from a compile. */
#define JUDGE_MAX_ARTIFACT (256u << 20)
#define JUDGE_MAX_ARTIFACTS 256

const char *judge_verdict_name(enum judge_verdict v)
{
	switch (v) {
	case JUDGE_ACCEPTED: return "accepted";
	case JUDGE_WRONG_ANSWER: return "wrong_answer";
	case JUDGE_COMPILE_ERROR: return "compile_error";
	case JUDGE_RUNTIME_ERROR: return "runtime_error";
	case JUDGE_TIME_LIMIT: return "time_limit";
	case JUDGE_MEMORY_LIMIT: return "memory_limit";
	case JUDGE_OUTPUT_LIMIT: return "output_limit";
	case JUDGE_INTERNAL_ERROR: return "internal_error";
	}
	return "internal_error";
}

static bool name_ok(const char *n)
{
	return n && *n && !strchr(n, '/') && strcmp(n, ".") && strcmp(n, "..") && strlen(n) <= 255;
}

/* The name the i-th source gets in /box. */
static const char *box_name(const struct judge_request *req, size_t i)
{
	if (i == 0 && req->lang->source)
		return req->lang->source;
	return req->sources[i].name;
}

int judge_check_source(const struct judge_source *s, bool *bad_name, char *why, size_t len)
{
	*bad_name = !name_ok(s->name);
	if (*bad_name)
		snprintf(why, len, "invalid file name '%s' (a plain name of 1 to 255 bytes, no '/')",
			 s->name ? s->name : "");
	else if (s->len == 0)
		snprintf(why, len, "%s is empty", s->name);
	else if (s->len > JUDGE_MAX_SOURCE)
		snprintf(why, len, "%s is larger than %u bytes", s->name, JUDGE_MAX_SOURCE);
	else if (memchr(s->data, '\0', s->len))
		snprintf(why, len, "%s is not text (it holds NUL bytes)", s->name);
	else
		return 0;
	return -EINVAL;
}

int judge_check_box_name(const struct lang *l, const char *name, bool source, char *why, size_t len)
{
	if (source && (name[0] == '-' || name[0] == '@')) {
		snprintf(why, len, "file %s: a name that starts with '%c' would reach the compiler "
			 "as an option; rename it", name, name[0]);
		return -EINVAL;
	}
	for (char **p = l->artifacts; p && *p; p++)
		if (fnmatch(*p, name, 0) == 0) {
			snprintf(why, len, "file %s: the compile makes a file of that name (%s); "
				 "rename it", name, *p);
			return -EINVAL;
		}
	return 0;
}

int judge_check_disk(const struct judge_request *req, char *why, size_t len)
{
	uint64_t bytes = 0, entries = req->nsources + req->nextras;
	for (size_t i = 0; i < entries; i++) {
		const struct judge_source *f = i < req->nsources ? &req->sources[i]
								: &req->extras[i - req->nsources];
		bytes += sandbox_disk_bytes(f->len);
	}
	if (sandbox_disk_fits(req->limits.disk_kb, bytes, entries))
		return 0;
	snprintf(why, len, "the files take %" PRIu64 " KB (in 4 KB pages), more than the "
		 "disk limit of %" PRIu64 " KB", bytes / 1024, req->limits.disk_kb);
	return -ENOSPC;
}

int judge_check(const struct judge_request *req, char *why, size_t len)
{
	if (!req->lang) {
		snprintf(why, len, "no language");
		return -EINVAL;
	}
	if (req->nsources == 0) {
		snprintf(why, len, "no source file");
		return -EINVAL;
	}
	if (req->nsources + req->nextras > JUDGE_MAX_FILES) {
		snprintf(why, len, "too many files (at most %d)", JUDGE_MAX_FILES);
		return -EINVAL;
	}
	for (size_t i = 0; i < req->nsources; i++) {
		const struct judge_source *s = &req->sources[i];
		bool bad_name;
		if (judge_check_source(s, &bad_name, why, len) < 0)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(req->sources[j].name, s->name)) {
				snprintf(why, len, "file %s given twice", s->name);
				return -EINVAL;
			}
		if (i > 0 && !strcmp(box_name(req, 0), s->name)) {
			snprintf(why, len, "file %s: the first file takes that name in the box "
				 "(%s's entry file); rename this one", s->name, req->lang->id);
			return -EINVAL;
		}
		if ((i > 0 || !req->lang->source) &&
		    judge_check_box_name(req->lang, s->name, true, why, len) < 0)
			return -EINVAL;
	}
	for (size_t i = 0; i < req->nextras; i++) {
		const struct judge_source *x = &req->extras[i];
		if (!name_ok(x->name) || x->len > JUDGE_MAX_SOURCE) {
			snprintf(why, len, "data file '%s': a plain name of at most %u bytes",
				 x->name ? x->name : "", JUDGE_MAX_SOURCE);
			return -EINVAL;
		}
		for (size_t j = 0; j < req->nsources; j++)
			if (!strcmp(req->sources[j].name, x->name) || !strcmp(box_name(req, j), x->name)) {
				snprintf(why, len, "data file %s has the name of a source file", x->name);
				return -EINVAL;
			}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(req->extras[j].name, x->name)) {
				snprintf(why, len, "data file %s given twice (two files of that name)", x->name);
				return -EINVAL;
			}
		if (judge_check_box_name(req->lang, x->name, false, why, len) < 0)
			return -EINVAL;
	}
	return 0;
}

struct artifacts {
	struct cache_file files[JUDGE_MAX_ARTIFACTS];
	size_t n;
};

static void artifacts_free(struct artifacts *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->files[i].name);
		buf_free(&a->files[i].data);
	}
	a->n = 0;
}

static int artifact_add(struct artifacts *a, const char *name, struct buf *data)
{
	if (a->n >= JUDGE_MAX_ARTIFACTS)
		return -E2BIG;
	struct cache_file *f = &a->files[a->n];
	f->name = strdup(name);
	if (!f->name)
		return -ENOMEM;
	f->mode = 0755;
	f->data = *data;
	buf_init(data, 0);
	a->n++;
	return 0;
}

static bool suffix_match(const char *name, const char *pattern)
{
	/* "*.class": every name ending in ".class"; otherwise the name. */
	if (pattern[0] != '*')
		return !strcmp(name, pattern);
	size_t n = strlen(name), p = strlen(pattern + 1);
	return n > p && !strcmp(name + n - p, pattern + 1);
}

/* The cell of one submission, opened from its source when first needed. */
struct cells {
	const struct judge_cell_source *src;
	struct sandbox_cell *cell;
};

static int cells_get(struct cells *c, struct sandbox_cell **cell, char *why, size_t len)
{
	if (!c->cell) {
		int rc = c->src->open(c->src->ctx, &c->cell, why, len);
		if (rc < 0) {
			c->cell = NULL;
			return rc;
		}
	}
	*cell = c->cell;
	return 0;
}

/* Reads the compile's artifacts back through the cell. */
static int collect_artifacts(struct sandbox_cell *cell, const struct lang *l,
			     struct artifacts *a, char *why, size_t len)
{
	struct buf names;
	buf_init(&names, 0);
	bool listed = false;
	for (char **p = l->artifacts; p && *p; p++) {
		if ((*p)[0] != '*') {
			struct buf data;
			int rc = sandbox_cell_fetch(cell, *p, JUDGE_MAX_ARTIFACT, &data);
			if (rc < 0) {
				snprintf(why, len, "the compiler left no usable %s: %s", *p, strerror(-rc));
				buf_free(&names);
				return rc;
			}
			rc = artifact_add(a, *p, &data);
			buf_free(&data);
			if (rc < 0) {
				buf_free(&names);
				return rc;
			}
			continue;
		}
		if (!listed) {
			int rc = sandbox_cell_list(cell, "", &names);
			if (rc < 0) {
				snprintf(why, len, "cannot list the compile's files: %s", strerror(-rc));
				return rc;
			}
			listed = true;
		}
		size_t found = 0;
		for (size_t off = 0; off < names.len;) {
			const char *name = names.data + off;
			off += strlen(name) + 1;
			if (!suffix_match(name, *p))
				continue;
			struct buf data;
			int rc = sandbox_cell_fetch(cell, name, JUDGE_MAX_ARTIFACT, &data);
			if (rc == 0)
				rc = artifact_add(a, name, &data);
			buf_free(&data);
			if (rc == -E2BIG) {
				snprintf(why, len, "the compile made more than %d files (%s); a program "
					 "may have at most %d", JUDGE_MAX_ARTIFACTS, *p, JUDGE_MAX_ARTIFACTS);
				buf_free(&names);
				return rc;
			}
			if (rc < 0) {
				snprintf(why, len, "cannot read back %s: %s", name, strerror(-rc));
				buf_free(&names);
				return rc;
			}
			found++;
		}
		if (!found) {
			snprintf(why, len, "the compiler left no %s", *p);
			buf_free(&names);
			return -ENOENT;
		}
	}
	buf_free(&names);
	return 0;
}

static size_t list_len(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/* A list as parts: its name and length, then every item.  Each part is
 * length-prefixed in the key (cache_key), so no item can pass for one of
 * another list, and no list is cut short. */
static size_t key_list(struct cache_part *parts, size_t n, char *head, size_t head_cap,
		       const char *name, char **v)
{
	snprintf(head, head_cap, "%s:%zu", name, list_len(v));
	parts[n++] = (struct cache_part){ head, strlen(head) };
	for (size_t i = 0; v && v[i]; i++)
		parts[n++] = (struct cache_part){ v[i], strlen(v[i]) };
	return n;
}

/* The key of a compile: everything that can change what the compiler
 * makes: the language's id and detected version, its compile command,
 * environment, artifacts and binds, the compile limits (the command may
 * name {memory_mb}), and every source with its name in the box; and whose
 * it is (cache_scope).  0, or -ENOMEM (then the compile is not cached). */
static int cache_key_for(const struct judge_request *req, char key[65])
{
	const struct lang *l = req->lang;
	size_t cap = 10 + list_len(l->compile) + list_len(l->env) + list_len(l->artifacts) +
		     list_len(l->binds) + 2 * req->nsources;
	/* 4 fixed parts, 4 list heads, the limits and the sources' head */
	struct cache_part *parts = calloc(cap, sizeof(*parts));
	if (!parts)
		return -ENOMEM;
	char heads[5][32];
	size_t n = 0;
	parts[n++] = (struct cache_part){ "runcell-compile-3", 17 };
	const char *scope = req->cache_scope ? req->cache_scope : "";
	parts[n++] = (struct cache_part){ scope, strlen(scope) };
	parts[n++] = (struct cache_part){ l->id, strlen(l->id) };
	const char *ver = l->version ? l->version : "";
	parts[n++] = (struct cache_part){ ver, strlen(ver) };
	n = key_list(parts, n, heads[0], sizeof(heads[0]), "compile", l->compile);
	n = key_list(parts, n, heads[1], sizeof(heads[1]), "env", l->env);
	n = key_list(parts, n, heads[2], sizeof(heads[2]), "artifacts", l->artifacts);
	n = key_list(parts, n, heads[3], sizeof(heads[3]), "binds", l->binds);
	char limits[24 * SANDBOX_LIMIT_COUNT];
	size_t lo = 0;
	for (size_t i = 0; i < SANDBOX_LIMIT_COUNT; i++)
		lo += (size_t)snprintf(limits + lo, sizeof(limits) - lo, "%" PRIu64 ",",
				       sandbox_limit_get(&l->compile_limits, i));
	parts[n++] = (struct cache_part){ limits, lo };
	snprintf(heads[4], sizeof(heads[4]), "sources:%zu", req->nsources);
	parts[n++] = (struct cache_part){ heads[4], strlen(heads[4]) };
	for (size_t i = 0; i < req->nsources; i++) {
		const char *bn = box_name(req, i);
		parts[n++] = (struct cache_part){ bn, strlen(bn) };
		parts[n++] = (struct cache_part){ req->sources[i].data, req->sources[i].len };
	}
	cache_key(parts, n, key);
	free(parts);
	return 0;
}

static enum judge_verdict verdict_of(enum sandbox_status s)
{
	switch (s) {
	case SANDBOX_OK: return JUDGE_ACCEPTED;
	case SANDBOX_RUNTIME_ERROR:
	case SANDBOX_SIGNALED: return JUDGE_RUNTIME_ERROR;
	case SANDBOX_TIME_LIMIT:
	case SANDBOX_WALL_TIME_LIMIT: return JUDGE_TIME_LIMIT;
	case SANDBOX_MEMORY_LIMIT: return JUDGE_MEMORY_LIMIT;
	case SANDBOX_OUTPUT_LIMIT: return JUDGE_OUTPUT_LIMIT;
	case SANDBOX_INTERNAL_ERROR: return JUDGE_INTERNAL_ERROR;
	}
	return JUDGE_INTERNAL_ERROR;
}

/* A runtime with a heap limit of its own (a JVM's -Xmx set from the
 * memory limit) fails with an error instead of being killed by the cell:
 * that is still the memory limit. */
static const char *runtime_out_of_memory(const struct lang *l, const struct buf *err)
{
	for (char **p = l->memory_errors; p && *p && err->data; p++)
		if (memmem(err->data, err->len, *p, strlen(*p)))
			return *p;
	return NULL;
}

static int compile(struct cells *cells, const struct judge_request *req, char **env,
		   struct judge_result *res, struct artifacts *art)
{
	const struct lang *l = req->lang;
	struct sandbox_cell *cell;
	int rc = cells_get(cells, &cell, res->message, sizeof(res->message));
	if (rc < 0)
		return rc;
	const char *names[JUDGE_MAX_FILES + 1];
	struct sandbox_file files[JUDGE_MAX_FILES];
	for (size_t i = 0; i < req->nsources; i++) {
		names[i] = box_name(req, i);
		files[i] = (struct sandbox_file){ .path = names[i], .fd = -1,
			.data = req->sources[i].data, .len = req->sources[i].len, .mode = 0644 };
	}
	names[req->nsources] = NULL;
	static const char *const no_args[] = { NULL };
	struct lang_vars vars = { .source = names[0], .sources = names, .args = no_args,
				  .memory_mb = l->compile_limits.memory_kb / 1024 };
	char **argv = NULL;
	rc = lang_expand((const char *const *)l->compile, &vars, &argv);
	if (rc < 0) {
		snprintf(res->message, sizeof(res->message), "bad compile command of %s", l->id);
		return rc;
	}
	/* The compile's limits are runcell's choice, not the caller's: where
	 * the host's hard rlimits are lower, the compile gets what they allow. */
	struct sandbox_limits compile_limits = l->compile_limits;
	/* What the runs may hold, the compile may write: a binary that fits
	 * the runs' --disk must not fail to link on a smaller compile disk. */
	if (req->limits.disk_kb > compile_limits.disk_kb)
		compile_limits.disk_kb = req->limits.disk_kb;
	if (req->limits.file_size_kb > compile_limits.file_size_kb)
		compile_limits.file_size_kb = req->limits.file_size_kb;
	sandbox_limits_clamp_host(&compile_limits, 0);
	struct sandbox_run_spec spec = { .argv = (const char *const *)argv,
		.env = (const char *const *)env, .limits = compile_limits, .stdin_fd = -1,
		.files = files, .nfiles = req->nsources, .keep_box = true /* artifacts read back */ };
	rc = sandbox_cell_run(cell, &spec, &res->compile);
	lang_argv_free(argv);
	if (rc < 0) {
		snprintf(res->message, sizeof(res->message), "cannot compile: %s", res->compile.message);
		return rc;
	}
	res->compiled = true;
	if (res->compile.status == SANDBOX_INTERNAL_ERROR) {
		res->verdict = JUDGE_INTERNAL_ERROR;
		snprintf(res->message, sizeof(res->message), "compile: %s", res->compile.message);
		return 0;
	}
	if (res->compile.status != SANDBOX_OK) {
		res->verdict = JUDGE_COMPILE_ERROR;
		snprintf(res->message, sizeof(res->message), "compilation failed: %s",
			 res->compile.message);
		return 0;
	}
	char why[300];
	if (collect_artifacts(cell, l, art, why, sizeof(why)) < 0) {
		res->verdict = JUDGE_COMPILE_ERROR;
		snprintf(res->message, sizeof(res->message), "%s", why);
		artifacts_free(art);
	}
	return 0;
}

/* A memory file holding data, read from its start: an artifact placed
 * before each test, or a test's stdin.  Its own name is fixed: memfd
 * names stop at 249 bytes, file names at 255. */
static int memfile(const void *data, size_t len)
{
	int fd = memfd_create("runcell-file", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, (const char *)data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			return -e;
		}
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Copies data files (sources of an interpreted language, --file data)
 * into the artifacts to place before each run. */
static int add_plain_files(struct artifacts *art, const struct judge_source *files, size_t n,
			   const struct judge_request *req, bool sources)
{
	for (size_t i = 0; i < n; i++) {
		struct buf b;
		buf_init(&b, 0);
		const char *name = sources ? box_name(req, i) : files[i].name;
		if (buf_append(&b, files[i].data, files[i].len) < 0 || artifact_add(art, name, &b) < 0) {
			buf_free(&b);
			return -ENOMEM;
		}
		art->files[art->n - 1].mode = 0644;
	}
	return 0;
}

/* Whether the artifacts fit a run's disk (in 4 KiB pages and in files);
 * why not, in why. */
static bool artifacts_fit(const struct artifacts *art, uint64_t disk_kb, char *why, size_t len)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < art->n; i++)
		bytes += sandbox_disk_bytes(art->files[i].data.len);
	if (sandbox_disk_fits(disk_kb, bytes, art->n))
		return true;
	snprintf(why, len, "the compiled program and its files take %" PRIu64 " KB (in 4 KB pages), "
		 "more than the disk limit of %" PRIu64 " KB", bytes / 1024, disk_kb);
	return false;
}

/* Step 1: what every run gets in /box, from the cache, a compile or the
 * sources.  A compile that fails sets res->verdict and returns 0. */
static int prepare_artifacts(struct cells *cells, const struct judge_request *req,
			     char **env, struct judge_result *res, struct artifacts *art)
{
	const struct lang *l = req->lang;
	int rc = 0;
	if (!l->compile) {
		rc = add_plain_files(art, req->sources, req->nsources, req, true);
	} else {
		char key[65] = "";
		struct cache_entry e;
		bool cacheable = req->cache && cache_key_for(req, key) == 0;
		if (cacheable) {
			if (cache_get(req->cache, key, &e) == 0) {
				for (size_t i = 0; i < e.nfiles && art->n < JUDGE_MAX_ARTIFACTS; i++) {
					art->files[art->n++] = e.files[i];
					e.files[i].name = NULL;
					buf_init(&e.files[i].data, 0);
				}
				cache_entry_free(&e);
				res->compiled = res->cached = true;
			}
		}
		if (!res->cached) {
			rc = compile(cells, req, env, res, art);
			if (rc < 0 || res->verdict != JUDGE_ACCEPTED)
				return rc;
			if (cacheable)
				cache_put(req->cache, key, art->files, art->n);  /* failing: a miss later */
		}
	}
	if (rc == 0)
		rc = add_plain_files(art, req->extras, req->nextras, req, false);
	return rc;
}

/* Stdin given in memory, copied into an anonymous file the cell reads. */
static int input_memfd(const struct judge_test *test, char *why, size_t len)
{
	int fd = memfile(test->input, test->input_len);
	if (fd < 0)
		snprintf(why, len, "cannot stage the test's input: %s", strerror(-fd));
	return fd;
}

/* The cell's memory limit is the one asked for plus what the language's
 * runtime gets on top (run_memory_extra_mb): an out-of-memory message names
 * the limit the caller set, and the headroom apart. */
static void name_asked_memory(struct sandbox_result *r, const struct lang *l, uint64_t cell_kb)
{
	if (r->status != SANDBOX_MEMORY_LIMIT || !l->run_memory_extra_kb || cell_kb < l->run_memory_extra_kb)
		return;
	char prefix[64];
	int n = snprintf(prefix, sizeof(prefix), "memory limit of %" PRIu64 " KB exceeded", cell_kb);
	if (strncmp(r->message, prefix, (size_t)n))
		return;
	char rest[sizeof(r->message)];
	snprintf(rest, sizeof(rest), "%s", r->message + n);
	snprintf(r->message, sizeof(r->message),
		 "memory limit of %" PRIu64 " KB exceeded, plus %" PRIu64 " KB for the %.32s runtime%.400s",
		 cell_kb - l->run_memory_extra_kb, l->run_memory_extra_kb, l->id, rest);
}

/* Step 2: one test in a wiped box (or, for the only run of a submission,
 * where src->run_once takes it); returns 0 or -errno. */
static int run_test(struct cells *cells, const struct judge_request *req,
		    const struct judge_test *test, const struct sandbox_run_spec *base,
		    struct judge_test_result *tr, char *why, size_t len)
{
	tr->name = test->name;
	sandbox_result_init(&tr->run);
	int in = -1;
	if (test->input_path && (in = open(test->input_path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, len, "cannot open %s: %s", test->input_path, strerror(errno));
		return -errno;
	}
	if (!test->input_path && test->input && (in = input_memfd(test, why, len)) < 0)
		return in;
	for (size_t i = 0; i < base->nfiles; i++)
		lseek(base->files[i].fd, 0, SEEK_SET);
	struct sandbox_run_spec spec = *base;
	spec.stdin_fd = in;
	spec.last_run = req->cell_last_use && test == &req->tests[req->ntests - 1];
	int rc = 0;
	if (cells->src->run_once && !cells->cell && req->ntests == 1)
		rc = cells->src->run_once(cells->src->ctx, &spec, &tr->run);
	if (rc == 0) {
		struct sandbox_cell *cell;
		rc = cells_get(cells, &cell, tr->run.message, sizeof(tr->run.message));
		if (rc == 0)
			rc = sandbox_cell_run(cell, &spec, &tr->run);
	} else if (rc > 0 || tr->run.status == SANDBOX_INTERNAL_ERROR) {
		rc = 0;  /* ran there, or broke off there: a result either way */
	}
	if (in >= 0)
		close(in);
	if (rc < 0) {
		snprintf(why, len, "%s", tr->run.message);
		return rc;
	}
	tr->verdict = verdict_of(tr->run.status);
	name_asked_memory(&tr->run, req->lang, base->limits.memory_kb);
	const char *oom = tr->verdict == JUDGE_RUNTIME_ERROR
				  ? runtime_out_of_memory(req->lang, &tr->run.err) : NULL;
	if (oom) {
		/* the message says why the verdict is not the status */
		tr->verdict = JUDGE_MEMORY_LIMIT;
		size_t used = strlen(tr->run.message);
		snprintf(tr->run.message + used, sizeof(tr->run.message) - used,
			 "; the runtime ran out of memory (%s)", oom);
	}
	if (tr->verdict == JUDGE_ACCEPTED && test->expected &&
	    !checker_accepts(&req->checker, tr->run.out.data ? tr->run.out.data : "",
			     tr->run.out.len, test->expected, test->expected_len))
		tr->verdict = JUDGE_WRONG_ANSWER;
	return 0;
}

/* Cuts r's output to what is left of the budget *left (stdout first). */
static void keep_output_of(struct sandbox_result *r, size_t *left)
{
	buf_cut(&r->out, *left);
	*left -= r->out.len;
	buf_cut(&r->err, *left);
	*left -= r->err.len;
}

static int given_cell(void *ctx, struct sandbox_cell **cell, char *why, size_t len)
{
	(void)why;
	(void)len;
	*cell = ctx;
	return 0;
}

int judge_submit(struct sandbox_cell *cell, const struct judge_request *req,
		 struct judge_result *res)
{
	struct judge_cell_source src = { .open = given_cell, .ctx = cell };
	return judge_submit_from(&src, req, res);
}

int judge_submit_from(const struct judge_cell_source *src, const struct judge_request *req,
		      struct judge_result *res)
{
	struct cells cells = { .src = src };
	size_t output_left = req->keep_output ? req->keep_output : SIZE_MAX;
	memset(res, 0, sizeof(*res));
	sandbox_result_init(&res->compile);
	int rc = judge_check(req, res->message, sizeof(res->message));
	if (rc == 0)
		rc = judge_check_disk(req, res->message, sizeof(res->message)) < 0 ? -EINVAL : 0;
	if (rc < 0)
		return rc;
	const struct lang *l = req->lang;
	char **env = lang_env(l);
	struct artifacts *art = calloc(1, sizeof(*art));
	struct sandbox_file files[JUDGE_MAX_ARTIFACTS];
	size_t nfiles = 0;
	char **argv = NULL;
	if (!env || !art) {
		rc = -ENOMEM;
		goto out;
	}
	rc = prepare_artifacts(&cells, req, env, res, art);
	if (res->compiled && !res->cached)
		keep_output_of(&res->compile, &output_left);
	if (rc < 0 || res->verdict != JUDGE_ACCEPTED)
		goto out;
	if (!artifacts_fit(art, req->limits.disk_kb, res->message, sizeof(res->message))) {
		/* What the compiler made cannot be placed: the submission's
		 * doing, so a verdict about it, not runcell's failure. */
		res->verdict = JUDGE_COMPILE_ERROR;
		goto out;
	}

	/* The artifacts go read-only into each run's wiped box, from memory
	 * files read again from the start every time. */
	for (; nfiles < art->n; nfiles++) {
		int fd = memfile(art->files[nfiles].data.data, art->files[nfiles].data.len);
		if (fd < 0) {
			snprintf(res->message, sizeof(res->message), "cannot hold %.200s in memory: %s",
				 art->files[nfiles].name, strerror(-fd));
			rc = fd;
			goto out;
		}
		files[nfiles] = (struct sandbox_file){ .path = art->files[nfiles].name, .fd = fd,
						       .mode = art->files[nfiles].mode, .readonly = true };
	}
	const char *names[JUDGE_MAX_FILES + 1];
	for (size_t i = 0; i < req->nsources; i++)
		names[i] = box_name(req, i);
	names[req->nsources] = NULL;
	static const char *const no_args[] = { NULL };
	struct sandbox_limits limits = req->limits;
	if (limits.processes < l->run_processes_min)
		limits.processes = l->run_processes_min;
	struct lang_vars vars = { .source = names[0], .sources = names,
				  .args = req->args ? req->args : no_args,
				  .memory_mb = limits.memory_kb / 1024 };
	limits.memory_kb += l->run_memory_extra_kb;
	rc = lang_expand((const char *const *)l->run, &vars, &argv);
	if (rc < 0) {
		snprintf(res->message, sizeof(res->message), "bad run command of %s", l->id);
		goto out;
	}
	res->tests = calloc(req->ntests ? req->ntests : 1, sizeof(*res->tests));
	if (!res->tests) {
		rc = -ENOMEM;
		goto out;
	}
	struct sandbox_run_spec base = { .argv = (const char *const *)argv,
		.env = (const char *const *)env, .limits = limits, .files = files, .nfiles = nfiles,
		.preload = l->preload != NULL };
	for (size_t t = 0; t < req->ntests; t++) {
		struct judge_test_result *tr = &res->tests[res->ntests++];
		rc = run_test(&cells, req, &req->tests[t], &base, tr, res->message, sizeof(res->message));
		if (rc < 0)
			goto out;
		keep_output_of(&tr->run, &output_left);
		if (tr->run.cpu_ms > res->cpu_ms_max)
			res->cpu_ms_max = tr->run.cpu_ms;
		if (tr->run.wall_ms > res->wall_ms_max)
			res->wall_ms_max = tr->run.wall_ms;
		if (tr->run.memory_kb > res->memory_kb_max)
			res->memory_kb_max = tr->run.memory_kb;
		if (tr->verdict != JUDGE_ACCEPTED && res->verdict == JUDGE_ACCEPTED) {
			res->verdict = tr->verdict;
			snprintf(res->message, sizeof(res->message), "test %s: %s", tr->name,
				 tr->verdict == JUDGE_WRONG_ANSWER ? "output differs from the expected one"
								   : tr->run.message);
			if (req->first_failure)
				break;
		}
	}
	if (res->verdict == JUDGE_ACCEPTED)
		snprintf(res->message, sizeof(res->message), "%zu test%s accepted", res->ntests,
			 res->ntests == 1 ? "" : "s");
out:
	lang_argv_free(argv);
	for (size_t i = 0; i < nfiles; i++)
		close(files[i].fd);
	if (art)
		artifacts_free(art);
	free(art);
	free(env);
	return rc;
}

int judge_preloader_find(const struct lang *l, struct judge_preloader *p)
{
	memset(p, 0, sizeof(*p));
	int rc = lang_preloader(l, p->path, sizeof(p->path));
	if (rc < 0)
		return rc;
	if (!(p->env = lang_env(l)))
		return -ENOMEM;
	p->preload = (struct sandbox_preload){ .server = p->path, .program = l->run[0],
					       .env = (const char *const *)p->env };
	return 0;
}

void judge_preloader_free(struct judge_preloader *p)
{
	free(p->env);
	p->env = NULL;
}

void judge_result_free(struct judge_result *res)
{
	sandbox_result_free(&res->compile);
	for (size_t i = 0; i < res->ntests; i++)
		sandbox_result_free(&res->tests[i].run);
	free(res->tests);
	res->tests = NULL;
	res->ntests = 0;
}
