/*
 * result: a cell's result as the JSON object of the contract (shared by
 * runcell run and runcell exec).
 */
#ifndef RUNCELL_CLI_RESULT_H
#define RUNCELL_CLI_RESULT_H

#include "core/json.h"
#include "sandbox/sandbox.h"

/* Writes the fields of r into an object the caller has begun. */
void cli_result_fields(struct json_writer *w, const struct sandbox_result *r);

#endif
