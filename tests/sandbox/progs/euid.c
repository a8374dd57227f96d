/* euid: prints its real and effective uid.  The driver makes it setuid
 * root on the host; run in the cell it must not gain root (nosuid mount
 * and no_new_privs). */
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	printf("uid %d euid %d\n", (int)getuid(), (int)geteuid());
	return geteuid() == 0 ? 1 : 0;
}
