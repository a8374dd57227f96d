/* sysv_ipc: creates a SysV shared memory segment (with data), a message
 * queue with a message and a semaphore set, and leaves them behind.  They
 * must not survive into the next run of a warm cell nor be seen by other
 * cells. */
#include "hostile.h"
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
int main(void)
{
	int id = shmget(0x52430001, 1 << 20, IPC_CREAT | 0666);
	if (id < 0) { printf("shmget: %s\n", strerror(errno)); return 2; }
	char *p = shmat(id, NULL, 0);
	if (p != (void *)-1) strcpy(p, "left-behind");
	int q = msgget(0x52430002, IPC_CREAT | 0666);
	struct { long t; char m[16]; } msg = { 1, "left-behind" };
	if (q >= 0) msgsnd(q, &msg, sizeof msg.m, IPC_NOWAIT);
	int s = semget(0x52430003, 1, IPC_CREAT | 0666);
	printf("shm %d msg %d sem %d\n", id, q, s);
	return 0;
}
