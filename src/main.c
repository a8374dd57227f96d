/*
 * runcell: subcommand dispatch only.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "sandbox/sandbox.h"

#define RUNCELL_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"runcell %s: run untrusted code in isolated, accounted cells\n"
		"\n"
		"usage: runcell COMMAND [options]\n"
		"\n"
		"commands:\n"
		"  run       run one program in a fresh cell (see runcell run --help)\n"
		"  exec      compile, run and judge a submission (see runcell exec --help)\n"
		"  serve     serve the HTTP API (see runcell serve --help, docs/API.md)\n"
		"  languages list the languages this host can run\n"
		"  version   print the version and the cgroup backend this host gives\n"
		"  help      this text\n",
		RUNCELL_VERSION);
}

int main(int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], SANDBOX_INIT_ARGV0))
		sandbox_init_main(argc, argv);
	log_init_from_env();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "run"))
		return cli_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "exec"))
		return cli_exec(argc - 1, argv + 1);
	if (!strcmp(cmd, "serve"))
		return cli_serve(argc - 1, argv + 1);
	if (!strcmp(cmd, "languages"))
		return cli_languages(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		char why[512];
		printf("runcell %s\n%s\n", RUNCELL_VERSION,
		       sandbox_cgroup_describe(SANDBOX_CGROUP_AUTO, why, sizeof(why)));
		return 0;
	}
	fprintf(stderr, "runcell: unknown command '%s' (try runcell help)\n", cmd);
	return 2;
}
