/*
 * interrupt: Ctrl-C, SIGTERM or SIGHUP during `runcell run` or `runcell
 * exec` ends the program at once and lets the command remove its cells
 * (cgroups, namespaces) before it exits, as a finished run would, instead
 * of dying with its cgroups left on the host.
 */
#ifndef RUNCELL_CLI_INTERRUPT_H
#define RUNCELL_CLI_INTERRUPT_H

/* Installs the handlers (they call sandbox_interrupt). */
void cli_interrupt_catch(void);
/* After the cells are closed: when a signal came, prints "runcell CMD:
 * interrupted by SIG..." and returns 128 + its number; else returns status. */
int cli_interrupt_status(const char *cmd, int status);

#endif
