/* fifo_leave: leaves a fifo named output.txt, a bound unix socket, a
 * symlink to /dev/zero, a directory named like a file and an open-ended
 * writer, then exits.  runcell must not hang or read them afterwards. */
#include "hostile.h"
#include <sys/socket.h>
#include <sys/un.h>
int main(void)
{
	if (mkfifo("/box/output.txt", 0666) != 0) printf("mkfifo: %s\n", strerror(errno));
	mkfifo("/tmp/fifo", 0666);
	mkfifo("/dev/shm/fifo", 0666);
	symlink("/dev/zero", "/box/zero");
	symlink("/dev/random", "/box/random");
	mkdir("/box/stdout", 0755);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, "/box/sock");
	if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) printf("bind: %s\n", strerror(errno));
	listen(s, 1);
	int big = open("/box/huge-sparse", O_WRONLY | O_CREAT, 0644);
	if (big >= 0) { signal(SIGXFSZ, SIG_IGN); ftruncate(big, 32 << 20); }
	printf("planted\n");
	return 0;
}
