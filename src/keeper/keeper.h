/*
 * keeper: fresh cells built ahead for `runcell run`.
 *
 * A one-shot run spends most of what runcell adds on building its cell
 * (clone, namespaces, mounts, cgroups) and tearing it down.  `runcell keep`
 * builds cells before any run asks for one: each of its threads holds one
 * cell, built and never used, and waits on a unix socket.  `runcell run`
 * connects, hands over its program (argv, environment, limits, its stdin
 * and --box files as descriptors), and gets the result back.  The keeper
 * runs the program as the cell's only run, removes the cell (its processes,
 * cgroup and namespaces) before it answers, so nothing of the run is left
 * when `runcell run` returns, then builds the next cell while it waits.
 *
 * A cell is used once: a run through the keeper gets the same fresh cell
 * it would have built itself, not a warm cell's wiped one.  A keeper's
 * cells have one shape (its --bind, --net and --cgroup options); a run
 * that asks for another, or finds no keeper, builds its own cell as
 * before.  With a preloader (--preload=LANG), each cell starts the
 * interpreter as it is built: a run that asks for that preloader is
 * forked from it, any other run is executed in the same cell.  The
 * socket is the keeper's, mode 0600, and it serves only its own uid and
 * root (SO_PEERCRED).
 *
 * This header is the keeper's side; client.h is runcell run's, wire.h what
 * the two say to each other.
 */
#ifndef RUNCELL_KEEPER_H
#define RUNCELL_KEEPER_H

#include <stdbool.h>
#include <stddef.h>

#include "keeper/wire.h"
#include "sandbox/sandbox.h"

#define KEEPER_CELLS_MAX 64

struct keeper_config {
	const char *socket_path;  /* NULL: KEEPER_SOCKET_DEFAULT */
	unsigned cells;           /* cells built ahead, 1..KEEPER_CELLS_MAX */
	/* Their binds, net and cgroup mode: the runs that ask for exactly
	 * these are served (reexec and lazy are the keeper's own); and
	 * their preloader, if any (with the environment of the runs it serves). */
	struct sandbox_cell_config shape;
};

/* Builds the cells and serves runs until keeper_stop().  Returns 0 after a
 * stop, or a negative errno with *why filled in when it cannot start (the
 * socket is taken by a live keeper, a cell cannot be built). */
int keeper_serve(const struct keeper_config *cfg, char *why, size_t len);
/* Async-signal-safe: the keeper stops accepting and removes its cells; a
 * run in progress is ended and answered as interrupted. */
void keeper_stop(void);

#endif
