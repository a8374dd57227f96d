/* flood_both: alternates 64 KB writes on stdout and stderr forever.  A
 * supervisor that drains one stream at a time deadlocks; runcell must read
 * both and end with output_limit. */
#include "hostile.h"
int main(void)
{
	static char o[65536], e[65536];
	memset(o, 'o', sizeof o);
	memset(e, 'e', sizeof e);
	for (;;) {
		if (write(1, o, sizeof o) < 0) return 2;
		if (write(2, e, sizeof e) < 0) return 3;
	}
}
