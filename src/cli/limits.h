/*
 * limits: the limit options shared by runcell run and runcell exec
 * (--cpu-time=SEC --wall-time=SEC --memory=MB --processes=N
 * --file-size=MB --output=KB --open-files=N --stack=MB --disk=MB).
 */
#ifndef RUNCELL_CLI_LIMITS_H
#define RUNCELL_CLI_LIMITS_H

#include <getopt.h>

#include "sandbox/sandbox.h"

/* getopt_long values of the limit options are CLI_LIMIT_BASE + index. */
#define CLI_LIMIT_BASE 1000
#define CLI_LIMIT_COUNT 9

extern const struct option cli_limit_options[CLI_LIMIT_COUNT];

/* Fills out (n + CLI_LIMIT_COUNT + 1 entries) with a command's own n
 * options, the limit options and the terminating zero entry. */
void cli_limit_merge(struct option *out, const struct option *own, size_t n);
/* Parses the value of the limit option val into *l; on a bad value
 * prints "runcell CMD: invalid --opt=value: why" and returns -1. */
int cli_limit_parse(const char *cmd, int val, const char *arg, struct sandbox_limits *l);
/* Checks l against the hard rlimits runcell runs under (see
 * sandbox_limits_check_host): a default above them is lowered to them; an
 * option given above them prints "runcell CMD: --opt ..." with the most it
 * can be, and returns -1. */
int cli_limits_check_host(const char *cmd, struct sandbox_limits *l);
/* Prints the option lines of a usage text, with l's values as defaults. */
void cli_limit_usage(const struct sandbox_limits *l);

#endif
