/*
 * limits: parsing of the limit options (see limits.h).  Values are
 * checked here, before any cell exists, and the message names the option.
 */
#include "cli/limits.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct option cli_limit_options[CLI_LIMIT_COUNT] = {
	{ "cpu-time", required_argument, NULL, CLI_LIMIT_BASE + 0 },
	{ "wall-time", required_argument, NULL, CLI_LIMIT_BASE + 1 },
	{ "memory", required_argument, NULL, CLI_LIMIT_BASE + 2 },
	{ "processes", required_argument, NULL, CLI_LIMIT_BASE + 3 },
	{ "file-size", required_argument, NULL, CLI_LIMIT_BASE + 4 },
	{ "output", required_argument, NULL, CLI_LIMIT_BASE + 5 },
	{ "open-files", required_argument, NULL, CLI_LIMIT_BASE + 6 },
	{ "stack", required_argument, NULL, CLI_LIMIT_BASE + 7 },
	{ "disk", required_argument, NULL, CLI_LIMIT_BASE + 8 },
};

void cli_limit_merge(struct option *out, const struct option *own, size_t n)
{
	memcpy(out, own, n * sizeof(*own));
	memcpy(out + n, cli_limit_options, sizeof(cli_limit_options));
	memset(&out[n + CLI_LIMIT_COUNT], 0, sizeof(*out));
}

static int bad(const char *cmd, const char *opt, const char *value, const char *why)
{
	fprintf(stderr, "runcell %s: invalid --%s=%s: %s\n", cmd, opt, value, why);
	return -1;
}

/* Each option: the limit it sets, how many of the limit's units one of
 * the option's is, and the option's unit for messages.  The range is the
 * cell's own (sandbox_limit_range), so the two never disagree. */
static const struct {
	size_t index;
	double scale;
	const char *unit;
	bool whole;  /* a count: no fractions */
} limit_opts[CLI_LIMIT_COUNT] = {
	{ SANDBOX_LIMIT_CPU_MS, 1000, " s", false },
	{ SANDBOX_LIMIT_WALL_MS, 1000, " s", false },
	{ SANDBOX_LIMIT_MEMORY_KB, 1024, " MB", false },
	{ SANDBOX_LIMIT_PROCESSES, 1, "", true },
	{ SANDBOX_LIMIT_FILE_SIZE_KB, 1024, " MB", false },
	{ SANDBOX_LIMIT_OUTPUT_KB, 1, " KB", false },
	{ SANDBOX_LIMIT_OPEN_FILES, 1, "", true },
	{ SANDBOX_LIMIT_STACK_KB, 1024, " MB", false },
	{ SANDBOX_LIMIT_DISK_KB, 1024, " MB", false },
};

/* Bit i: limit i was given as an option (the rest are defaults). */
static unsigned limits_given;

int cli_limit_parse(const char *cmd, int val, const char *v, struct sandbox_limits *l)
{
	int i = val - CLI_LIMIT_BASE;
	if (i < 0 || i >= CLI_LIMIT_COUNT)
		return -1;
	const char *opt = cli_limit_options[i].name;
	/* Plain decimals only: strtod would also take " 1", "0x10", "1e2". */
	bool whole = limit_opts[i].whole;
	bool plain = v[0] && strspn(v, whole ? "0123456789" : "0123456789.") == strlen(v);
	char *end;
	errno = 0;
	double x = plain ? strtod(v, &end) : 0;
	if (!plain || errno || end == v || *end || !isfinite(x) || x <= 0)
		return bad(cmd, opt, v, whole ? "expected a positive whole number"
					      : "expected a positive decimal number, such as 2 or 0.5");
	uint64_t least, most;
	sandbox_limit_range(limit_opts[i].index, &least, &most);
	double scaled = x * limit_opts[i].scale;
	if (scaled > (double)most)
		return bad(cmd, opt, v, "too large");
	if (scaled < (double)least) {
		char why[96];
		double in_unit = (double)least / limit_opts[i].scale;
		if (limit_opts[i].scale == 1024 && least < 1024)  /* "at least 1 KB", not 0.000976562 MB */
			snprintf(why, sizeof(why), "at least %" PRIu64 " KB (%.10g%s)", least, in_unit,
				 limit_opts[i].unit);
		else
			snprintf(why, sizeof(why), "at least %g%s", in_unit, limit_opts[i].unit);
		return bad(cmd, opt, v, why);
	}
	sandbox_limit_set(l, limit_opts[i].index, (uint64_t)llround(scaled));
	limits_given |= 1u << limit_opts[i].index;
	return 0;
}

int cli_limits_check_host(const char *cmd, struct sandbox_limits *l)
{
	size_t i;
	uint64_t max;
	/* A default above the hard rlimits is lowered to them (a 64 MB stack
	 * where ulimit -Hs is 8 MB): the program gets what it would get
	 * outside.  An option given above them is an error. */
	sandbox_limits_clamp_host(l, limits_given);
	if (sandbox_limits_check_host(l, &i, &max) == 0)
		return 0;
	/* By sandbox_limit_names index: the option, its unit, and the ulimit
	 * flag that shows the hard limit.  cpu_ms shows as seconds, *_kb as MB. */
	static const struct { const char *opt, *unit, *flag; double div; } as[SANDBOX_LIMIT_COUNT] = {
		[SANDBOX_LIMIT_CPU_MS] = { "cpu-time", " s", "-Ht", 1000 },
		[SANDBOX_LIMIT_FILE_SIZE_KB] = { "file-size", " MB", "-Hf", 1024 },
		[SANDBOX_LIMIT_OPEN_FILES] = { "open-files", "", "-Hn", 1 },
		[SANDBOX_LIMIT_STACK_KB] = { "stack", " MB", "-Hs", 1024 },
	};
	if (i >= SANDBOX_LIMIT_COUNT || !as[i].opt)
		return -1;  /* cannot happen: the check names these four only */
	fprintf(stderr, "runcell %s: --%s is above the hard limit runcell runs under, which it cannot "
		"raise without CAP_SYS_RESOURCE: at most %g%s here (ulimit %s)\n", cmd, as[i].opt,
		(double)max / as[i].div, as[i].unit, as[i].flag);
	return -1;
}

void cli_limit_usage(const struct sandbox_limits *d)
{
	printf("limits (defaults in brackets):\n"
	       "  --cpu-time=SEC     CPU time of all processes and threads [%.3g]\n"
	       "  --wall-time=SEC    wall-clock time [%.3g]\n"
	       "  --memory=MB        memory of the whole cell [%" PRIu64 "]\n"
	       "  --processes=N      processes and threads together [%u]\n"
	       "  --file-size=MB     largest file written [%" PRIu64 "]\n"
	       "  --output=KB        cap per stream, stdout and stderr [%" PRIu64 "]\n"
	       "  --open-files=N     descriptors per process [%u]\n"
	       "  --stack=MB         stack size [%" PRIu64 "]\n"
	       "  --disk=MB          /box, /tmp and /dev/shm together [%" PRIu64 "]\n",
	       d->cpu_ms / 1000.0, d->wall_ms / 1000.0, d->memory_kb / 1024, d->processes,
	       d->file_size_kb / 1024, d->output_kb, d->open_files, d->stack_kb / 1024,
	       d->disk_kb / 1024);
}
