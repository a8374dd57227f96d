/*
 * runcell keep: serves runcell run, and runcell exec's single runs, with
 * cells built ahead (src/keeper/).
 *
 * Runs in the foreground until SIGINT, SIGTERM or SIGHUP; a process
 * manager (systemd, a container's init) keeps it up.  Its cell options
 * are runcell run's: a run is served when it asks for the same ones.
 */
#include "cli/cli.h"
#include "cli/cell_opts.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "judge/judge.h"
#include "keeper/keeper.h"
#include "lang/lang.h"

static void usage(void)
{
	printf("usage: runcell keep [options]\n"
	       "\n"
	       "Builds cells ahead and serves runcell run (and runcell exec's single\n"
	       "runs) with them: each run takes a fresh cell that is already built,\n"
	       "and the keeper builds the next one while it waits.  Every cell is used\n"
	       "once and removed before the run's result is answered.  Stops on\n"
	       "SIGINT, SIGTERM or SIGHUP.\n"
	       "\n"
	       "  --cells=N          cells kept built, at most %d [the number of CPUs]\n"
	       "  --socket=PATH      where runcell run and exec find it [%s]\n"
	       "  --preload=LANG     start LANG's preloaded interpreter (python3) in every\n"
	       "                     cell: runs that ask for it (runcell run --preload=LANG,\n"
	       "                     runcell exec --lang LANG) are forked from it; other\n"
	       "                     runs are executed as in any cell\n"
	       "the cells' shape (runs asking for another are built by runcell run):\n"
	       "  --bind=HOST[:CELLPATH][:rw]  as in runcell run (repeatable)\n"
	       "  --net              share the host's network\n"
	       "  --cgroup=MODE      auto, v1, v2 or none [auto]\n",
	       KEEPER_CELLS_MAX, KEEPER_SOCKET_DEFAULT);
}

static void on_signal(int sig)
{
	(void)sig;
	keeper_stop();
}

int cli_keep(int argc, char **argv)
{
	enum { O_CELLS = 256, O_SOCKET, O_BIND, O_NET, O_CGROUP, O_PRELOAD, O_HELP };
	static const struct option longopts[] = {
		{ "cells", required_argument, NULL, O_CELLS },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "bind", required_argument, NULL, O_BIND },
		{ "net", no_argument, NULL, O_NET },
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "preload", required_argument, NULL, O_PRELOAD },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	static struct sandbox_bind binds[CLI_MAX_BINDS];
	struct keeper_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cfg.cells = ncpu < 1 ? 1 : ncpu > KEEPER_CELLS_MAX ? KEEPER_CELLS_MAX : (unsigned)ncpu;
	size_t nbinds = 0;
	const char *preload = NULL;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case O_CELLS:
			errno = 0;
			long n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 1 || n > KEEPER_CELLS_MAX) {
				fprintf(stderr, "runcell keep: invalid --cells=%s: expected 1..%d\n",
					optarg, KEEPER_CELLS_MAX);
				return 2;
			}
			cfg.cells = (unsigned)n;
			break;
		case O_SOCKET:
			if (optarg[0] != '/') {
				fprintf(stderr, "runcell keep: invalid --socket=%s: expected an absolute path\n",
					optarg);
				return 2;
			}
			cfg.socket_path = optarg;
			break;
		case O_BIND:
			if (cli_parse_bind("keep", optarg, binds, &nbinds) < 0)
				return 2;
			break;
		case O_NET: cfg.shape.net = true; break;
		case O_CGROUP:
			if (cli_parse_cgroup("keep", optarg, &cfg.shape.cgroup) < 0)
				return 2;
			break;
		case O_PRELOAD:
			if (preload) {
				fprintf(stderr, "runcell keep: --preload given twice\n");
				return 2;
			}
			preload = optarg;
			break;
		case O_HELP:
		case 'h':
			usage();
			return 0;
		default:
			fprintf(stderr, "runcell keep: unknown or incomplete option '%s' (see runcell keep --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "runcell keep: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	cfg.shape.binds = binds;
	cfg.shape.nbinds = nbinds;
	/* Both held while the keeper serves: the preloader's names. */
	static struct judge_preloader preloader;
	struct lang_registry *reg = NULL;
	if (preload && cli_find_preloader("keep", preload, &reg, &preloader) < 0) {
		lang_registry_free(reg);
		return 2;
	}
	cfg.shape.preload = preloader.preload;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	char why[600];
	int rc = keeper_serve(&cfg, why, sizeof(why));
	judge_preloader_free(&preloader);
	lang_registry_free(reg);
	if (rc < 0) {
		fprintf(stderr, "runcell keep: %s\n", why);
		return rc == -EINVAL || rc == -EADDRINUSE ? 2 : 1;
	}
	return 0;
}
