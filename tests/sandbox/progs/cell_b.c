/* cell_b: runs while cell_a is alive in another cell and must see none of
 * it: no marks, no SysV segment, no abstract socket, no foreign process. */
#include "hostile.h"
#include <dirent.h>
#include <ctype.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(void)
{
	const char *marks[] = { "/box/cell-a-mark", "/tmp/cell-a-mark", "/dev/shm/cell-a-mark" };
	struct stat st;
	for (int i = 0; i < 3; i++)
		HS_FAILS(marks[i], stat(marks[i], &st), ENOENT);
	HS_FAILS("shmget cell a key", shmget(0x52430011, 0, 0), ENOENT);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, "\0runcell-cell-a", 15);
	HS_FAILS("connect @runcell-cell-a", connect(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 15), ECONNREFUSED);
	DIR *d = opendir("/proc");
	struct dirent *e;
	int others = 0;
	while ((e = readdir(d)))
		if (isdigit((unsigned char)e->d_name[0]) && atoi(e->d_name) != getpid()) {
			printf("visible pid %s\n", e->d_name);
			others++;
		}
	hs_check("no other process visible", others == 0);
	return hs_done();
}
