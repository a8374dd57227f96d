/* argv_dump: prints argc then every argument followed by a NUL byte, so
 * the driver can check arguments arrive literally (no shell). */
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	printf("%d", argc);
	putchar(0);
	for (int i = 1; i < argc; i++) {
		fwrite(argv[i], 1, strlen(argv[i]), stdout);
		putchar(0);
	}
	return 0;
}
