/*
 * submission: a submission's JSON (POST /v1/submissions, docs/API.md) read
 * into a judge request, with every rule checked.
 *
 * The API runs it to refuse a bad request before anything is stored; the
 * worker runs it again on the stored JSON to build the judge request.  One
 * function for both, so what was accepted is exactly what gets run.  The
 * parsed tree stays alive inside struct submission: the judge request
 * points into it (no copies of sources or test data).
 */
#ifndef RUNCELL_JUDGE_SUBMISSION_H
#define RUNCELL_JUDGE_SUBMISSION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/url.h"
#include "judge/judge.h"
#include "lang/lang.h"

#define SUBMISSION_MAX_ARGS 64
#define SUBMISSION_MAX_ARG_LEN 4096
#define SUBMISSION_MAX_METADATA 4096
#define SUBMISSION_MAX_URL URL_MAX

/* What the server allows (from its config). */
struct submission_policy {
	struct sandbox_limits defaults; /* for a limit the request leaves out */
	struct sandbox_limits max;      /* a request may lower, never exceed */
	size_t max_tests;
};

struct submission {
	const struct lang *lang;
	struct judge_request req;  /* ready for judge_submit (cache unset) */
	const char *callback_url;  /* NULL when none */
	const struct json_value *metadata; /* NULL when none */
	/* owned */
	struct judge_source *sources;
	struct judge_test *tests;
	const char **args;
	struct buf *decoded;       /* base64 file contents */
	size_t ndecoded;
	char (*test_names)[24];
};

/* The error of a refused submission: an HTTP status (400 or 422), the
 * JSON path of the field at fault, and a message for people. */
struct submission_error {
	int status;
	char field[96];
	char message[384];
};

/* Reads one submission object.  prefix is prepended to field paths
 * ("submissions[3]." in a batch, "" alone).  Returns 0, or -1 with *err
 * filled.  The submission points into obj, which must outlive it. */
int submission_from_json(const struct json_value *obj, const char *prefix,
			 const struct lang_registry *reg, const struct submission_policy *pol,
			 struct submission *out, struct submission_error *err);
void submission_free(struct submission *s);

/* Parses a request body (strictly, bounded by max_input) into a tree. */
int submission_parse_body(const char *body, size_t len, size_t max_input,
			  struct json_value **root, struct submission_error *err);

#endif
