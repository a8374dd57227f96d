/*
 * init_marks: the times of the steps of init's setup (init.c, fsroot.c),
 * kept in the READY message that init sends once the cell is built, for
 * RUNCELL_TRACE.  A file of its own so that the root builder can record
 * its steps without depending on init.c, which depends on it.
 */
#include "sandbox/internal.h"

#include <stdio.h>

#include "core/clock.h"

static struct cell_ready_msg init_ready;

void sandbox__init_mark(const char *what)
{
	if (init_ready.nmarks >= CELL_MARKS_MAX)
		return;
	snprintf(init_ready.marks[init_ready.nmarks].what, sizeof(init_ready.marks[0].what), "%s", what);
	init_ready.marks[init_ready.nmarks++].ns = clock_now_ns();
}

struct cell_ready_msg *sandbox__init_marks(void)
{
	return &init_ready;
}
