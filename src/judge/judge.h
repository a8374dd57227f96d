/*
 * judge: one submission from source to verdict.
 *
 * compile (once, in the cell, with the language's compile limits; or
 * taken from the compile cache) -> for each test: run the artifact in the
 * same warm cell, wiped between tests, with the artifact placed read-only
 * -> compare the output with the expected one -> a verdict per test and
 * one for the submission (the first test's that is not accepted).
 *
 * A verdict is data: judge_submit returns 0 whatever the program did, and
 * a negative errno only for a request it cannot judge at all.
 */
#ifndef RUNCELL_JUDGE_H
#define RUNCELL_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "judge/cache.h"
#include "judge/checker.h"
#include "lang/lang.h"
#include "sandbox/sandbox.h"

enum judge_verdict {
	JUDGE_ACCEPTED,
	JUDGE_WRONG_ANSWER,
	JUDGE_COMPILE_ERROR,
	JUDGE_RUNTIME_ERROR,
	JUDGE_TIME_LIMIT,
	JUDGE_MEMORY_LIMIT,
	JUDGE_OUTPUT_LIMIT,
	JUDGE_INTERNAL_ERROR,
};

const char *judge_verdict_name(enum judge_verdict v);

/* Largest source file, and most files, of one submission. */
#define JUDGE_MAX_SOURCE (1u << 20)
#define JUDGE_MAX_FILES 64

struct judge_source {
	const char *name;    /* plain file name, no '/' */
	const char *data;
	size_t len;
};

struct judge_test {
	const char *name;
	const char *input_path;   /* NULL: input, or empty stdin */
	const char *input;        /* stdin from memory when input_path is NULL */
	size_t input_len;
	const char *expected;     /* NULL: any clean exit is accepted */
	size_t expected_len;
};

struct judge_request {
	const struct lang *lang;
	const struct judge_source *sources;  /* the first is the entry */
	size_t nsources;
	const char *const *args;             /* program arguments, NULL-terminated */
	const struct judge_source *extras;   /* data files for the runs (read-only, */
	size_t nextras;                      /* not compiled) */
	const struct judge_test *tests;
	size_t ntests;
	struct checker checker;
	struct sandbox_limits limits;        /* of each run */
	bool first_failure;
	struct cache *cache;                 /* NULL: no compile cache */
	/* Whose entries of the cache it may use: requests of one scope never
	 * see another's compiles (the server's API keys).  NULL: shared. */
	const char *cache_scope;
	/* The caller closes the cell after this request: the final test's
	 * run is the cell's last (sandbox_run_spec.last_run). */
	bool cell_last_use;
	/* Bytes of stdout and stderr the result keeps over the compile and
	 * all tests, in report order (the compile's, then each test's stdout
	 * and stderr); what is over is dropped once a run is judged, so that
	 * many tests with large outputs do not pile up in memory.  A cut
	 * stream is marked truncated.  0: keep everything. */
	size_t keep_output;
};

struct judge_test_result {
	const char *name;
	enum judge_verdict verdict;
	struct sandbox_result run;
};

struct judge_result {
	enum judge_verdict verdict;
	bool compiled;                 /* the language compiles */
	bool cached;                   /* the artifact came from the cache */
	struct sandbox_result compile; /* valid when compiled && !cached */
	struct judge_test_result *tests;
	size_t ntests;                 /* tests run (fewer with first_failure) */
	uint64_t cpu_ms_max, wall_ms_max, memory_kb_max;
	char message[640];
};

/* Checks one source file: a plain name, 1 byte to JUDGE_MAX_SOURCE of
 * text without NUL.  0, or -EINVAL with why, and *bad_name telling
 * whether the name (rather than the content) is at fault. */
int judge_check_source(const struct judge_source *s, bool *bad_name, char *why, size_t len);

/* Checks the name a file other than the entry file keeps in the box, for
 * language l: not one that a compile makes (an artifact: "main",
 * "*.class"), and, for a source (handed to the compiler by name), not one
 * that starts with '-' or '@' (an option or a response file to gcc, javac
 * and others).  0, or -EINVAL with why. */
int judge_check_box_name(const struct lang *l, const char *name, bool source, char *why, size_t len);

/* Checks a request before any cell is built: a message for people and
 * -EINVAL when it cannot be judged (empty source, NUL bytes, ...). */
int judge_check(const struct judge_request *req, char *why, size_t len);

/* Whether the sources and data files fit the runs' disk (limits.disk_kb,
 * in 4 KiB pages and in files): 0, or -ENOSPC with why.  Apart from
 * judge_check, so that a caller can name the field at fault (judge_submit
 * calls both). */
int judge_check_disk(const struct judge_request *req, char *why, size_t len);

/* A language's preloaded interpreter, as config.preload of a cell that
 * judges it: the binary beside runcell's (lang_preloader) and the
 * environment of the language's runs (lang_env), which the preloader is
 * started with and a run must match to be forked.  preload points into
 * the struct, which must stay where it is while a cell uses it. */
struct judge_preloader {
	struct sandbox_preload preload;
	char path[4096];
	char **env;
};

/* Fills *p for l, which has a preloader (l->preload).  0, or a negative
 * errno with p->path naming the binary that is not there. */
int judge_preloader_find(const struct lang *l, struct judge_preloader *p);
void judge_preloader_free(struct judge_preloader *p);

/* Judges req in cell, which must have been opened with the language's
 * binds.  Returns 0 with *res filled, or -errno with res->message. */
int judge_submit(struct sandbox_cell *cell, const struct judge_request *req,
		 struct judge_result *res);

/* Where judge_submit_from gets its cell: opened only when a run needs it,
 * so that a request refused by judge_check, or a run taken elsewhere,
 * builds none. */
struct judge_cell_source {
	/* Opens the cell, with the language's binds; called at most once.
	 * 0, or a negative errno with why.  The caller closes the cell. */
	int (*open)(void *ctx, struct sandbox_cell **cell, char *why, size_t len);
	/* Optional.  Offered the submission's run when it is its only one
	 * (one test) and no cell was opened before it (nothing compiled: a
	 * language without a compile step, or an artifact from the cache);
	 * for a fresh cell built ahead (runcell keep).  spec.preload is
	 * set for a language with a preloader: the source forks the run
	 * from one if its cell has it.  Returns 1 when it ran it (*result
	 * filled as sandbox_cell_run fills it), 0 when it declined (the
	 * opened cell runs it), <0 when it broke off after taking it
	 * (*result is an internal_error, judged as such: never a second
	 * run). */
	int (*run_once)(void *ctx, const struct sandbox_run_spec *spec,
			struct sandbox_result *result);
	void *ctx;
};

/* judge_submit with the cell from src. */
int judge_submit_from(const struct judge_cell_source *src, const struct judge_request *req,
		      struct judge_result *res);
void judge_result_free(struct judge_result *res);

#endif
