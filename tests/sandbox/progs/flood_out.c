/* flood_out: putchar forever on stdout; must end as output_limit promptly. */
#include <stdio.h>
int main(void)
{
	for (;;)
		putchar('A');
}
