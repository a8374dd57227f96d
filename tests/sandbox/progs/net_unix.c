/* net_unix PATH ABSTRACT: connecting to a unix socket the driver listens on
 * in the host's /tmp (PATH), to its abstract socket (@ABSTRACT) and to
 * well-known service sockets must all fail. */
#include "hostile.h"
#include <sys/socket.h>
#include <sys/un.h>
static int try_unix(const char *path, int abstract)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len;
	if (abstract) {
		a.sun_path[0] = 0;
		strncpy(a.sun_path + 1, path, sizeof a.sun_path - 2);
		len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
	} else {
		strncpy(a.sun_path, path, sizeof a.sun_path - 1);
		len = sizeof a;
	}
	int r = connect(s, (struct sockaddr *)&a, len);
	if (r == 0) write(s, "hostile\n", 8);
	int e = errno;
	close(s);
	errno = e;
	return r;
}
int main(int argc, char **argv)
{
	if (argc > 1)
		HS_FAILS("host socket in /tmp", try_unix(argv[1], 0), ENOENT, ECONNREFUSED);
	if (argc > 2)
		HS_FAILS("host abstract socket", try_unix(argv[2], 1), ECONNREFUSED);
	const char *well[] = { "/var/run/docker.sock", "/run/docker.sock", "/run/dbus/system_bus_socket",
		"/run/systemd/private", "/run/systemd/journal/socket", "/dev/log",
		"/run/postgresql/.s.PGSQL.5432", "/var/run/redis/redis.sock", "/tmp/.X11-unix/X0" };
	for (unsigned i = 0; i < sizeof well / sizeof *well; i++) {
		char what[300];
		snprintf(what, sizeof what, "connect %s", well[i]);
		HS_FAILS(what, try_unix(well[i], 0), ENOENT, ECONNREFUSED, EACCES);
	}
	HS_FAILS("abstract @/tmp/.X11-unix/X0", try_unix("/tmp/.X11-unix/X0", 1), ECONNREFUSED);
	HS_FAILS("abstract @/org/freedesktop/systemd1/notify", try_unix("/org/freedesktop/systemd1/notify", 1), ECONNREFUSED);
	return hs_done();
}
