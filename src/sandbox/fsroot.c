/*
 * fsroot: the file system a program sees, built by the cell's init in its
 * own mount namespace, then entered with pivot_root.
 *
 *   /            tmpfs, read-only once built (nosuid, nodev)
 *   /usr         read-only bind of the host's (nosuid, nodev)
 *   /bin /lib... the host's merged-/usr symlinks, or read-only binds
 *   /etc         generated passwd/group/hosts/nsswitch.conf, plus read-only
 *                binds of ld.so.cache and alternatives
 *   /dev         tmpfs with null zero full random urandom and the fd links
 *   /proc        a procfs of the cell's pid namespace, hidepid=2 (the
 *                cell's root-owned init is invisible to the program)
 *   /box /tmp /dev/shm   binds of one tmpfs owned by the cell uid, so one
 *                size and inode limit covers all three; replaced whole
 *                between runs of a warm cell
 *   no /sys      (host topology, cgroup files, kernel knobs)
 *
 * Every bind is made without MS_REC (no surprise submounts) and remounted
 * read-only, nosuid and nodev, because MS_BIND ignores those flags on the
 * first call.  The new root is built on a tmpfs mounted over /tmp of the
 * private namespace; sources of user binds are opened first, so host paths
 * under /tmp stay reachable through /proc/self/fd.
 */
#include "sandbox/internal.h"

#include "core/dir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define ROOT "/tmp"  /* where the new root is built, before pivot_root */

#define FAIL(...) do { int e_ = errno; snprintf(why, len, __VA_ARGS__); return e_ ? -e_ : -EIO; } while (0)

static int write_small(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	int e = errno;
	close(fd);
	return w == (ssize_t)n ? 0 : -(w < 0 ? e : EIO);
}

/* Bind src (a path, or /proc/self/fd/N) onto dst, then make it read-only
 * unless rw.  nosuid and nodev always: no setuid binary or device node of
 * the host is usable through a bind. */
static int bind_path(const char *src, const char *dst, bool rw)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return -errno;
	unsigned long fl = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV;
	if (!rw)
		fl |= MS_RDONLY;
	if (mount(NULL, dst, NULL, fl, NULL) < 0)
		return -errno;
	return 0;
}

/* A mount point for src at dst: a directory or an empty file. */
static int make_mountpoint(const char *dst, bool dir)
{
	if (dir)
		return dir_create_all(dst, 0755);
	char parent[512];
	snprintf(parent, sizeof(parent), "%s", dst);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		int rc = dir_create_all(parent, 0755);
		if (rc < 0)
			return rc;
	}
	int fd = open(dst, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* /usr, and the top-level links or directories that point into it. */
static int build_system_dirs(char *why, size_t len)
{
	if (mkdir(ROOT "/usr", 0755) < 0 || bind_path("/usr", ROOT "/usr", false) < 0)
		FAIL("cannot bind /usr: %s", strerror(errno));
	static const char *const tops[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		char host[64], dst[64], target[256];
		snprintf(host, sizeof(host), "/%s", tops[i]);
		snprintf(dst, sizeof(dst), ROOT "/%s", tops[i]);
		struct stat st;
		if (lstat(host, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(host, target, sizeof(target) - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			if (symlink(target, dst) < 0)
				FAIL("cannot link %s: %s", dst, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdir(dst, 0755) < 0 || bind_path(host, dst, false) < 0)
				FAIL("cannot bind %s: %s", host, strerror(errno));
		}
	}
	return 0;
}

static int build_etc(const struct init_config *c, char *why, size_t len)
{
	if (mkdir(ROOT "/etc", 0755) < 0)
		FAIL("cannot create /etc: %s", strerror(errno));
	char text[512];
	snprintf(text, sizeof(text),
		 "root:x:0:0:root:/root:/usr/sbin/nologin\n"
		 "runcell:x:%u:%u:runcell:/box:/bin/sh\n"
		 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		 (unsigned)c->uid, (unsigned)c->gid);
	if (write_small(ROOT "/etc/passwd", text) < 0)
		FAIL("cannot write /etc/passwd: %s", strerror(errno));
	snprintf(text, sizeof(text), "root:x:0:\nruncell:x:%u:\nnogroup:x:65534:\n",
		 (unsigned)c->gid);
	if (write_small(ROOT "/etc/group", text) < 0 ||
	    write_small(ROOT "/etc/hosts", "127.0.0.1\tlocalhost runcell\n::1\tlocalhost ip6-localhost\n") < 0 ||
	    write_small(ROOT "/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n") < 0)
		FAIL("cannot write /etc: %s", strerror(errno));
	/* What the dynamic loader and Debian's alternatives need; absent
	 * entries are skipped. */
	static const char *const etc_binds[] = { "/etc/ld.so.cache", "/etc/alternatives",
						   "/etc/resolv.conf" };
	for (size_t i = 0; i < sizeof(etc_binds) / sizeof(etc_binds[0]); i++) {
		struct stat st;
		/* Name resolution only matters with the host's network. */
		if (!c->net && !strcmp(etc_binds[i], "/etc/resolv.conf"))
			continue;
		if (stat(etc_binds[i], &st) < 0)
			continue;
		char dst[128];
		snprintf(dst, sizeof(dst), ROOT "%s", etc_binds[i]);
		if (make_mountpoint(dst, S_ISDIR(st.st_mode)) < 0 ||
		    bind_path(etc_binds[i], dst, false) < 0)
			FAIL("cannot bind %s: %s", etc_binds[i], strerror(errno));
	}
	/* The time zone, as a link (it is one on Debian). */
	char zone[256];
	ssize_t n = readlink("/etc/localtime", zone, sizeof(zone) - 1);
	if (n > 0) {
		zone[n] = '\0';
		if (symlink(zone, ROOT "/etc/localtime") < 0)
			FAIL("cannot link /etc/localtime: %s", strerror(errno));
	}
	return 0;
}

/* The operator's --bind list; sources were opened before /tmp was covered. */
static int build_user_binds(const struct init_config *c, const int *src_fds,
			    char *why, size_t len)
{
	for (size_t i = 0; i < c->nbinds; i++) {
		const struct init_bind *b = &c->binds[i];
		struct stat st;
		if (fstat(src_fds[i], &st) < 0)
			FAIL("cannot stat bind source %s: %s", b->host, strerror(errno));
		char src[64], dst[512];
		snprintf(src, sizeof(src), "/proc/self/fd/%d", src_fds[i]);
		if (snprintf(dst, sizeof(dst), ROOT "%s", b->cell) >= (int)sizeof(dst)) {
			errno = ENAMETOOLONG;
			FAIL("bind target too long: %s", b->cell);
		}
		int rc = make_mountpoint(dst, S_ISDIR(st.st_mode));
		if (rc < 0) {
			errno = -rc;
			FAIL("cannot create bind target %s in the cell: %s", b->cell, strerror(-rc));
		}
		if (bind_path(src, dst, b->rw) < 0)
			FAIL("cannot bind %s to %s: %s", b->host, b->cell, strerror(errno));
	}
	return 0;
}

static int build_dev(char *why, size_t len)
{
	/* No MS_NODEV here: the nodes below must work.  The program cannot
	 * add nodes (no CAP_MKNOD) and the mount ends read-only. */
	if (mkdir(ROOT "/dev", 0755) < 0 ||
	    mount("tmpfs", ROOT "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
		  "mode=0755,size=64k,nr_inodes=64") < 0)
		FAIL("cannot mount /dev: %s", strerror(errno));
	static const struct { const char *name; unsigned minor; } nodes[] = {
		{ "null", 3 }, { "zero", 5 }, { "full", 7 }, { "random", 8 }, { "urandom", 9 },
	};
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), ROOT "/dev/%s", nodes[i].name);
		if (mknod(path, S_IFCHR | 0666, makedev(1, nodes[i].minor)) < 0)
			FAIL("cannot create /dev/%s: %s", nodes[i].name, strerror(errno));
	}
	if (symlink("/proc/self/fd", ROOT "/dev/fd") < 0 ||
	    symlink("/proc/self/fd/0", ROOT "/dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", ROOT "/dev/stdout") < 0 ||
	    symlink("/proc/self/fd/2", ROOT "/dev/stderr") < 0 ||
	    mkdir(ROOT "/dev/shm", 0755) < 0)
		FAIL("cannot populate /dev: %s", strerror(errno));
	if (mount(NULL, ROOT "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
		  "mode=0755,size=64k,nr_inodes=64") < 0)
		FAIL("cannot make /dev read-only: %s", strerror(errno));
	return 0;
}

static int data_mount(const char *root, const struct init_config *c, uint64_t disk_kb,
		      char *why, size_t len)
{
	char stage[64], opts[160];
	snprintf(stage, sizeof(stage), "%s/.runcell", root);
	uint64_t inodes = sandbox_disk_inodes(disk_kb);
	/* Owned by the cell uid from birth: no chown is ever needed. */
	snprintf(opts, sizeof(opts), "size=%" PRIu64 "k,nr_inodes=%" PRIu64 ",mode=0755,uid=%u,gid=%u",
		 disk_kb, inodes, (unsigned)c->uid, (unsigned)c->gid);
	if (mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		FAIL("cannot mount the box tmpfs: %s", strerror(errno));
	setfsgid(c->gid);
	setfsuid(c->uid);
	static const struct { const char *sub; mode_t mode; } subs[] = {
		{ "box", 0755 }, { "tmp", 01777 }, { "shm", 01777 },
	};
	int err = 0;
	for (size_t i = 0; i < 3 && !err; i++) {
		char p[96];
		snprintf(p, sizeof(p), "%s/%s", stage, subs[i].sub);
		if (mkdir(p, subs[i].mode) < 0)
			err = errno;
	}
	setfsuid(0);
	setfsgid(0);
	if (err) {
		errno = err;
		FAIL("cannot create the box directories: %s", strerror(err));
	}
	static const char *const targets[] = { "/box", "/tmp", "/dev/shm" };
	for (size_t i = 0; i < 3; i++) {
		char src[96], dst[96];
		snprintf(src, sizeof(src), "%s/%s", stage, subs[i].sub);
		snprintf(dst, sizeof(dst), "%s%s", root, targets[i]);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			FAIL("cannot bind %s: %s", targets[i], strerror(errno));
	}
	if (umount2(stage, MNT_DETACH) < 0)
		FAIL("cannot detach the box staging mount: %s", strerror(errno));
	return 0;
}

int sandbox__fsroot_fresh_data(const struct init_config *c, uint64_t disk_kb,
			       bool unmount_old, char *why, size_t len)
{
	if (unmount_old) {
		static const char *const targets[] = { "/box", "/tmp", "/dev/shm" };
		for (size_t i = 0; i < 3; i++)
			if (umount2(targets[i], MNT_DETACH) < 0)
				FAIL("cannot unmount %s: %s", targets[i], strerror(errno));
	}
	return data_mount("", c, disk_kb, why, len);
}

int sandbox__fsroot_build(const struct init_config *c, bool *bind_fault, char *why, size_t len)
{
	int src_fds[64];
	*bind_fault = true;
	if (c->nbinds > 64) {
		errno = E2BIG;
		FAIL("too many binds (at most 64)");
	}
	for (size_t i = 0; i < c->nbinds; i++) {
		src_fds[i] = open(c->binds[i].host, O_PATH | O_CLOEXEC);
		if (src_fds[i] < 0)
			FAIL("cannot open bind source %s: %s", c->binds[i].host, strerror(errno));
	}
	*bind_fault = false;
	/* Nothing mounted here may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		FAIL("cannot make / private: %s", strerror(errno));
	if (mount("tmpfs", ROOT, "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0755,size=1m,nr_inodes=1024") < 0)
		FAIL("cannot mount the root tmpfs: %s", strerror(errno));
	sandbox__init_mark("fs: root tmpfs");
	int rc = build_system_dirs(why, len);
	if (rc == 0)
		rc = build_etc(c, why, len);
	if (rc == 0)
		rc = build_dev(why, len);
	if (rc < 0)
		return rc;
	sandbox__init_mark("fs: usr etc dev");
	if (mkdir(ROOT "/proc", 0555) < 0 ||
	    mount("proc", ROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") < 0)
		FAIL("cannot mount /proc: %s", strerror(errno));
	sandbox__init_mark("fs: proc");
	if (mkdir(ROOT "/box", 0755) < 0 || mkdir(ROOT "/tmp", 0755) < 0 ||
	    mkdir(ROOT "/.runcell", 0) < 0)
		FAIL("cannot create /box: %s", strerror(errno));
	rc = build_user_binds(c, src_fds, why, len);
	for (size_t i = 0; i < c->nbinds; i++)
		close(src_fds[i]);
	if (rc < 0) {
		*bind_fault = true;
		return rc;
	}
	rc = data_mount(ROOT, c, c->disk_kb, why, len);
	if (rc < 0)
		return rc;
	sandbox__init_mark("fs: box");
	/* Read-only root: the program can write only to /box, /tmp, /dev/shm
	 * and rw binds. */
	if (mount(NULL, ROOT, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
		  "mode=0755,size=1m,nr_inodes=1024") < 0)
		FAIL("cannot make the root read-only: %s", strerror(errno));
	/* pivot_root rather than chroot: the old root is unmounted, not just
	 * out of sight, so no capability or fd trick can walk back to it. */
	if (chdir(ROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		FAIL("cannot pivot into the cell root: %s", strerror(errno));
	sandbox__init_mark("fs: pivoted");
	if (sethostname("runcell", 7) < 0)
		FAIL("cannot set the hostname: %s", strerror(errno));
	if (!c->net)
		return sandbox__netns_setup(why, len);
	return 0;
}
