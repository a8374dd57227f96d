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

/* Writes a judge result as one whole object (what runcell exec prints
 * and the server stores), with the output judge_submit kept
 * (judge_request.keep_output): a stream it cut has its _truncated flag. */
void report_judge_result(struct json_writer *w, const struct lang *l,
			 const struct judge_result *res);

#endif
