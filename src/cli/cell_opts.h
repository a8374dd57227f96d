/*
 * cell_opts: the options that shape a cell, shared by runcell run and
 * runcell keep (--bind=HOST[:CELLPATH][:rw], --cgroup=MODE and
 * --preload=LANG), so that a keeper started with the same options holds
 * the cells runs ask for; and
 * the taking of such a cell, shared by runcell run and runcell exec.
 */
#ifndef RUNCELL_CLI_CELL_OPTS_H
#define RUNCELL_CLI_CELL_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "judge/judge.h"
#include "keeper/client.h"
#include "sandbox/sandbox.h"

#define CLI_MAX_BINDS 64

/* Parses v (changed in place: binds point into it) into binds[*n] and
 * counts it.  On a bad value prints "runcell CMD: invalid --bind=v: why"
 * and returns -1. */
int cli_parse_bind(const char *cmd, char *v, struct sandbox_bind *binds, size_t *n);
/* auto, v1, v2 or none; -1 with a message otherwise. */
int cli_parse_cgroup(const char *cmd, const char *v, enum sandbox_cgroup_mode *mode);
/* --preload=LANG of runcell CMD: the registry with LANG (in *reg, for the
 * caller to free) and LANG's preloader (*p, judge_preloader_free).  -1
 * with "runcell CMD: invalid --preload=LANG: why" on stderr. */
int cli_find_preloader(const char *cmd, const char *lang_id, struct lang_registry **reg,
		       struct judge_preloader *p);
/* keeper_run for runcell CMD.  When no keeper ran the run (0), says why:
 * on stderr ("runcell CMD: WHY; building the cell here") for a socket the
 * user named (socket_path not NULL), else in the debug log.  With
 * say_preload, a run executed where it asked to be preloaded says why in
 * its message, as a warm cell's run does. */
int cli_keeper_run(const char *cmd, const char *socket_path,
		   const struct sandbox_cell_config *shape, const struct sandbox_run_spec *spec,
		   bool say_preload, struct sandbox_result *result);

#endif
