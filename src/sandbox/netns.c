/*
 * netns: network namespaces made ahead, off the critical path.
 *
 * A cell without --net gets a network namespace with nothing in it but lo.
 * Creating one is the dearest step of a new cell: about 0.25 ms inside
 * clone() on the test machine (and as much again later, when a kernel
 * worker tears it down).  A namespace cannot be passed from one program to
 * the next as it is, either: the kernel keeps counters per namespace (lo's
 * bytes and packets, /proc/net/snmp) that would tell a run what the last
 * one did.
 *
 * A cell spends most of its first run waiting for the program, so that
 * is when it makes the namespace for the next cell of its slot: a
 * thread unshare()s, brings lo up, and binds the namespace on
 * /run/runcell/net/SLOT (a mount holds it; gone at reboot).  The slot's
 * next cell takes it (opens it and moves the mount away, so no namespace
 * is ever handed out twice, even after a crash) and joins it with setns()
 * in place of CLONE_NEWNET.  Whatever fails, the cell gets a new
 * namespace the slow way, as it would without this file.
 *
 * A warm cell keeps its namespace while its runs leave it as they found
 * it, and init replaces it after one that did not (init.c).
 */
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/stat.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NETNS_DIR "/run/runcell/net"
#define NETNS_LOCK "/run/runcell/net.lock"
#define NETNS_LOCK_WAIT_MS 2000

/* System calls only: the maker's thread runs it while the process may
 * fork (no lock of the C library may be held then; the thread's paths are
 * formatted with snprintf into its own buffers, which takes none). */
static int lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	rc = rc < 0 ? -errno : 0;
	close(s);
	return rc;
}

int sandbox__netns_setup(char *why, size_t len)
{
	int rc = lo_up();
	if (rc < 0)
		snprintf(why, len, "cannot bring up lo: %s", strerror(-rc));
	return rc;
}

static void netns_path(char *buf, size_t len, unsigned slot, const char *suffix)
{
	snprintf(buf, len, NETNS_DIR "/%u%s", slot, suffix);
}

/* A network namespace, and not the one runcell itself runs in (which
 * someone could have bound there). */
static bool netns_usable(int fd)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != NSFS_MAGIC)
		return false;
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return false;
	struct stat ns, own;
	if (fstat(fd, &ns) < 0 || stat("/proc/self/ns/net", &own) < 0)
		return false;
	return ns.st_ino != own.st_ino || ns.st_dev != own.st_dev;
}

/*
 * Taking moves the mount from SLOT to SLOT.taken rather than unmounting
 * it: an unmount waits for an RCU grace period (0.1-2 ms here), a move
 * does not.  The maker removes SLOT.taken later, off the critical path;
 * after a crash the slot's next maker does.
 */
int sandbox__netns_take(unsigned slot)
{
	char path[64], taken[64];
	netns_path(path, sizeof(path), slot, "");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	netns_path(taken, sizeof(taken), slot, ".taken");
	if (!netns_usable(fd) || mount(path, taken, NULL, MS_MOVE, NULL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* statx(2) by its system call: musl 1.2.3, which the front binary links
 * against, has no wrapper for it. */
static int stat_nofollow(const char *path, struct statx *stx)
{
	return (int)syscall(SYS_statx, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW,
			    STATX_BASIC_STATS | STATX_MNT_ID, stx);
}

/* dir: created root-only, and refused when it is anything else (a link,
 * or writable by others). */
static int private_dir(const char *path, struct statx *stx)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (stat_nofollow(path, stx) < 0)
		return -errno;
	if (!S_ISDIR(stx->stx_mode) || stx->stx_uid != 0 || (stx->stx_mode & 022))
		return -EPERM;
	return 0;
}

/* /run/runcell/net, a mount of its own that propagates nowhere: the
 * namespaces bound in it stay out of other mount namespaces, and a move
 * inside it is allowed even where /run is shared. */
static int netns_dir(void)
{
	struct statx top, dir;
	if (private_dir("/run/runcell", &top) < 0 || private_dir(NETNS_DIR, &dir) < 0)
		return -1;
	if (!(top.stx_mask & STATX_MNT_ID) || top.stx_mnt_id != dir.stx_mnt_id)
		return 0;
	/* Not a mount yet: the first cells after a boot.  Two of them at once
	 * would both find none and stack two, hiding what was bound on the
	 * first; so the check is made again, and the mount, under a lock.  A
	 * file of its own (runcell serve may lock a data directory it is
	 * given), waited for at most NETNS_LOCK_WAIT_MS: a stopped holder
	 * costs the cells their namespace made ahead, not their close. */
	int lock = open(NETNS_LOCK, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0)
		return -1;
	int locked = -1;
	for (int waited = 0; (locked = flock(lock, LOCK_EX | LOCK_NB)) < 0 &&
			     errno == EWOULDBLOCK && waited < NETNS_LOCK_WAIT_MS; waited += 10) {
		struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
		nanosleep(&ten_ms, NULL);
	}
	int rc = -1;
	if (locked == 0 && stat_nofollow(NETNS_DIR, &dir) == 0) {
		rc = 0;
		if (top.stx_mnt_id == dir.stx_mnt_id &&
		    (mount(NETNS_DIR, NETNS_DIR, NULL, MS_BIND, NULL) < 0 ||
		     mount(NULL, NETNS_DIR, NULL, MS_PRIVATE, NULL) < 0))
			rc = -1;
	}
	close(lock);  /* and with it the lock */
	return rc;
}

/* An empty file to mount on. */
static int mount_point(const char *path)
{
	int f = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0)
		return -1;
	close(f);
	return 0;
}

static void netns_leave(unsigned slot, int fd)
{
	if (netns_dir() < 0)
		return;
	char path[64], taken[64], src[64];
	netns_path(path, sizeof(path), slot, "");
	netns_path(taken, sizeof(taken), slot, ".taken");
	/* What the slot's cells took: every mount on SLOT.taken goes. */
	for (int i = 0; i < 16 && umount2(taken, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++)
		;
	if (mount_point(taken) < 0 || mount_point(path) < 0)
		return;
	int old = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	bool have = old >= 0 && netns_usable(old);
	if (old >= 0)
		close(old);
	if (have)
		return;  /* an unused one is there already */
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	mount(src, path, NULL, MS_BIND, NULL);
}

/* The maker's thread: only it moves to the new namespace. */
static void *maker_main(void *arg)
{
	struct sandbox__netns_maker *m = arg;
	if (unshare(CLONE_NEWNET) < 0 || lo_up() < 0)
		return NULL;
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		netns_leave(m->slot, fd);
		close(fd);
	}
	return NULL;
}

void sandbox__netns_make_start(struct sandbox__netns_maker *m, unsigned slot)
{
	if (m->started)
		return;
	m->slot = slot;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	m->started = pthread_create(&m->thread, &attr, maker_main, m) == 0;
	pthread_attr_destroy(&attr);
}

void sandbox__netns_make_wait(struct sandbox__netns_maker *m)
{
	if (m->started)
		pthread_join(m->thread, NULL);
	m->started = false;
}
