/*
 * cli: one function per subcommand.  Each parses its own options, wires
 * the modules below it and prints; it returns the process exit status.
 */
#ifndef RUNCELL_CLI_H
#define RUNCELL_CLI_H

int cli_run(int argc, char **argv);
int cli_exec(int argc, char **argv);
int cli_languages(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_keep(int argc, char **argv);
void cli_run_usage(void);

#endif
