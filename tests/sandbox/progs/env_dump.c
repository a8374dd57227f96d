/* env_dump: prints its environment, one variable a line. */
#include <stdio.h>
extern char **environ;
int main(void)
{
	for (char **e = environ; *e; e++)
		puts(*e);
	return 0;
}
