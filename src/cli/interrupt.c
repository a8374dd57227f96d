/*
 * interrupt: see interrupt.h.  The handler only calls sandbox_interrupt,
 * which is async-signal-safe: it kills the inits of the open cells, and
 * the command's normal path (a run that ends as internal_error, then
 * sandbox_cell_close) does the cleaning.  No SA_RESTART, so a blocking
 * call returns EINTR instead of waiting on.
 */
#include "cli/interrupt.h"

#include "sandbox/sandbox.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static void on_signal(int sig)
{
	sandbox_interrupt(sig);
}

void cli_interrupt_catch(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

int cli_interrupt_status(const char *cmd, int status)
{
	int sig = sandbox_interrupted();
	if (!sig)
		return status;
	fprintf(stderr, "runcell %s: interrupted by %s; the program was stopped and its cell "
		"removed\n", cmd, sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP");
	return 128 + sig;
}
