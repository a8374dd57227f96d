/*
 * client: runcell run's side of a keeper (keeper.h): a run in a cell that
 * a `runcell keep` built ahead, or word that there is none to be had.
 */
#ifndef RUNCELL_KEEPER_CLIENT_H
#define RUNCELL_KEEPER_CLIENT_H

#include <stddef.h>

#include "keeper/wire.h"
#include "sandbox/sandbox.h"

/*
 * Runs spec in a keeper's cell of shape's binds, net and cgroup mode, the
 * keeper at socket_path (NULL: KEEPER_SOCKET_DEFAULT).  Returns:
 *   1   the keeper ran it: *result is filled in, as sandbox_run fills it;
 *       why is empty, or says that the run was executed where it asked to
 *       be forked from a preloader the keeper's cells do not have;
 *   0   no keeper listens at socket_path, or it declined the run before
 *       starting it (why says which): run it in a cell of your own;
 *  <0   the keeper broke off after it took the run (it stopped, or a
 *       signal interrupted the wait): *result is an internal_error.
 * The keeper ends the run when the connection closes before it answers.
 * After a run the connection stays open until this process exits: the
 * keeper's teardown of the cell and its next build then wait until the
 * caller is gone instead of taking CPU from its last steps.  For a
 * command that runs one program and exits.
 */
int keeper_run(const char *socket_path, const struct sandbox_cell_config *shape,
	       const struct sandbox_run_spec *spec, struct sandbox_result *result, char *why,
	       size_t len);

#endif
