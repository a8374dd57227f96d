/*
 * runcell: subcommand dispatch only.
 *
 * Built with RUNCELL_SERVER_EXE defined, this is the front binary: linked
 * against musl, it starts in ~0.1 ms where a glibc program spends ~0.5 ms
 * of a VM's trapped CPUID instructions before main.  `runcell run` is
 * started once per program, so that is most of what the CLI costs.  It
 * holds every command but serve, which needs SQLite and mbed TLS (Debian
 * ships them for glibc only): serve execs the full binary of that name in
 * the same directory, which keeps the pid, argv and environment.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/dir.h"
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
		"  keep      build cells ahead for runcell run (see runcell keep --help)\n"
		"  exec      compile, run and judge a submission (see runcell exec --help)\n"
		"  serve     serve the HTTP API (see runcell serve --help, docs/API.md)\n"
		"  languages list the languages this host can run\n"
		"  version   print the version and the cgroup backend this host gives\n"
		"  help      this text\n",
		RUNCELL_VERSION);
}

#ifdef RUNCELL_SERVER_EXE
#define BUILD_DESCRIPTION "build: musl front binary; serve runs " RUNCELL_SERVER_EXE " beside it"

static int serve_in_server_binary(char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + sizeof(RUNCELL_SERVER_EXE) + 1];
	int rc = dir_of_self(dir, sizeof(dir));
	if (rc < 0) {
		fprintf(stderr, "runcell: cannot find its own binary (/proc/self/exe): %s\n",
			strerror(-rc));
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, RUNCELL_SERVER_EXE);
	/* The mask survives execv: a stop signal during the server's start
	 * waits for it (see cli_serve). */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	execv(path, argv);
	sigprocmask(SIG_UNBLOCK, &stop, NULL);
	fprintf(stderr, "runcell: serve needs %s beside runcell: %s\n", path, strerror(errno));
	return 2;
}
#else
#define BUILD_DESCRIPTION "build: every command in this binary"
#endif

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
	if (!strcmp(cmd, "keep"))
		return cli_keep(argc - 1, argv + 1);
	if (!strcmp(cmd, "exec"))
		return cli_exec(argc - 1, argv + 1);
	if (!strcmp(cmd, "serve"))
#ifdef RUNCELL_SERVER_EXE
		return serve_in_server_binary(argv);
#else
		return cli_serve(argc - 1, argv + 1);
#endif
	if (!strcmp(cmd, "languages"))
		return cli_languages(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
			printf("usage: runcell version\n"
			       "prints runcell's version, how it was built, and the cgroup backend this\n"
			       "host gives cells (or why there is none)\n");
			return 0;
		}
		if (argc > 2) {
			fprintf(stderr, "runcell version: unexpected argument %s\n", argv[2]);
			return 2;
		}
		char why[512];
		printf("runcell %s\n%s\n%s\n", RUNCELL_VERSION, BUILD_DESCRIPTION,
		       sandbox_cgroup_describe(SANDBOX_CGROUP_AUTO, why, sizeof(why)));
		return 0;
	}
	fprintf(stderr, "runcell: unknown command '%s' (try runcell help)\n", cmd);
	return 2;
}
