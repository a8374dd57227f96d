/* int80: a 32-bit syscall through int 0x80 (i386 getuid32 = 199, then
 * setuid32(0) = 213) from a 64-bit process.  Non-native ABIs are not
 * allowed in the cell: the process must be killed, never reach printf. */
#include <stdio.h>
int main(void)
{
	long r;
	__asm__ volatile ("int $0x80" : "=a"(r) : "a"(199L) : "memory");
	printf("int 0x80 getuid32 returned %ld\n", r);
	__asm__ volatile ("int $0x80" : "=a"(r) : "a"(213L), "b"(0L) : "memory");
	printf("int 0x80 setuid32(0) returned %ld\n", r);
	return 0;
}
