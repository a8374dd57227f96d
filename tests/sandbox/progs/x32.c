/* x32: syscall getpid with the x32 bit (39 | 0x40000000).  Non-native
 * ABIs are not allowed in the cell: the process must be killed. */
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void)
{
	long r = syscall(39 | 0x40000000L);
	printf("x32 getpid returned %ld\n", r);
	r = syscall(105 | 0x40000000L, 0); /* setuid(0) */
	printf("x32 setuid returned %ld\n", r);
	return 0;
}
