/* cell_a FLAG MS: the first of two cells running at once.  Leaves marks in
 * /box, /tmp, /dev/shm, a SysV segment, an abstract socket, then writes
 * FLAG (in a shared rw bind) to say it is ready, and stays MS ms. */
#include "hostile.h"
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(int argc, char **argv)
{
	const char *marks[] = { "/box/cell-a-mark", "/tmp/cell-a-mark", "/dev/shm/cell-a-mark" };
	for (int i = 0; i < 3; i++) {
		int fd = open(marks[i], O_WRONLY | O_CREAT, 0666);
		if (fd >= 0) { write(fd, "a", 1); close(fd); }
	}
	shmget(0x52430011, 4096, IPC_CREAT | 0666);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, "\0runcell-cell-a", 15);
	bind(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 15);
	listen(s, 4);
	if (argc > 1) {
		int fd = open(argv[1], O_WRONLY | O_CREAT, 0666);
		if (fd < 0 || write(fd, "ready\n", 6) != 6)
			printf("flag %s: %s\n", argv[1], strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	hs_sleep_ms(argc > 2 ? atol(argv[2]) : 3000);
	printf("cell a done\n");
	return 0;
}
