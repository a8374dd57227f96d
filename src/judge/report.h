/*
 * report: results as the JSON objects of the contract, shared by
 * runcell run, runcell exec and the server (docs/SANDBOX.md, docs/JUDGE.md).
 */
#ifndef RUNCELL_JUDGE_REPORT_H
#define RUNCELL_JUDGE_REPORT_H

#include "core/json.h"
#include "judge/judge.h"
#include "sandbox/sandbox.h"

/* Writes the fields of a cell result into an object the caller has begun. */
void report_cell_fields(struct json_writer *w, const struct sandbox_result *r);

/* No cap on the output a judge result carries. */
#define REPORT_ALL_OUTPUT ((size_t)-1)

/* Writes a judge result as one whole object (what runcell exec prints).
 * At most output_budget bytes of stdout and stderr in all, compile first,
 * then each test in order: a stream cut to fit has its _truncated flag
 * set.  The server stores results this way (max_result_kb); the CLI
 * passes REPORT_ALL_OUTPUT. */
void report_judge_result(struct json_writer *w, const struct lang *l,
			 const struct judge_result *res, size_t output_budget);

#endif
