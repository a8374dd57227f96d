/* stdin_ignore: never reads stdin (which the driver feeds 100 MB) and
 * exits 0: runcell must not block on it. */
#include <stdio.h>
int main(void)
{
	puts("bye");
	return 0;
}
