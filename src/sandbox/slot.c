/*
 * slot: one number per live cell on the host, giving the cell its uid
 * (SANDBOX_UID_BASE + slot) and its cgroup names.
 *
 * A slot is claimed by binding an abstract unix socket named after it.
 * The kernel makes the bind atomic across processes and releases it when
 * the holder dies, so concurrent `runcell run` processes and servers never
 * share a uid, and a crash leaves no lock file behind.  Abstract names are
 * per network namespace; cells live in their own, so they cannot squat on
 * a slot.
 */
#include "sandbox/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sandbox__slot_claim(unsigned *slot, int *fd)
{
	for (unsigned i = 0; i < SANDBOX_MAX_SLOTS; i++) {
		int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return -errno;
		struct sockaddr_un a;
		memset(&a, 0, sizeof(a));
		a.sun_family = AF_UNIX;
		int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1,
				 "runcell/slot/%u", i);
		socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
		if (bind(s, (struct sockaddr *)&a, alen) == 0) {
			*slot = i;
			*fd = s;
			return 0;
		}
		int e = errno;
		close(s);
		if (e != EADDRINUSE)
			return -e;
	}
	return -EAGAIN;
}
