/* symlink_leave: plants symlinks to host files in /box, /tmp and /dev/shm
 * (output.txt -> /etc/passwd, run.sh -> /etc/shadow, ...), a hard link
 * attempt and a dangling link, then exits 0.  Whatever runcell does with
 * the box afterwards (cleanup, copy) must not touch the targets. */
#include "hostile.h"
int main(void)
{
	const char *links[][2] = {
		{ "/etc/passwd", "/box/output.txt" }, { "/etc/shadow", "/box/run.sh" },
		{ "/etc/passwd", "/tmp/output.txt" }, { "/etc/passwd", "/dev/shm/x" },
		{ "/", "/box/root" }, { "/proc/1/root", "/box/initroot" },
		{ "../../../../etc/passwd", "/box/rel" }, { "/nonexistent/x", "/box/dangling" },
	};
	for (unsigned i = 0; i < sizeof links / sizeof *links; i++)
		if (symlink(links[i][0], links[i][1]) != 0)
			printf("symlink %s: %s\n", links[i][1], strerror(errno));
	HS_FAILS("write through /box/output.txt", open("/box/output.txt", O_WRONLY), EROFS, EACCES, EPERM);
	mkdir("/box/d", 0755);
	symlink("/etc", "/box/d/etc");
	chmod("/box/d", 0);
	printf("planted\n");
	return hs_done();
}
