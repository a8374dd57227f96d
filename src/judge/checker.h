/*
 * checker: decides whether a program's output matches the expected one.
 */
#ifndef RUNCELL_JUDGE_CHECKER_H
#define RUNCELL_JUDGE_CHECKER_H

#include <stdbool.h>
#include <stddef.h>

enum checker_kind {
	CHECKER_EXACT,   /* byte for byte */
	CHECKER_LINES,   /* each line right-trimmed, trailing empty lines
			    ignored (the default, as Judge0) */
	CHECKER_TOKENS,  /* whitespace-separated tokens equal */
	CHECKER_FLOAT,   /* tokens; numbers within abs or rel tolerance,
			    other tokens equal */
};

struct checker {
	enum checker_kind kind;
	double abs_tol;  /* float: |a-b| <= abs_tol ... */
	double rel_tol;  /* ... or |a-b| <= rel_tol * |b| */
};

/* "exact", "lines", "tokens", "float" (abs = rel = 1e-6),
 * "float:1e-9" (both), "float:abs=1e-6,rel=1e-9".  NULL: lines.
 * Returns 0 or -EINVAL. */
int checker_parse(const char *spec, struct checker *out);
const char *checker_name(const struct checker *c);
bool checker_accepts(const struct checker *c, const char *out, size_t out_len,
		     const char *expected, size_t expected_len);

#endif
