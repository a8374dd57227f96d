/*
 * Where the cgroup hierarchies are: the quick look at the usual layout
 * (statfs and a controller's own file) must give what /proc/self/mountinfo
 * says, and must say "not whole" rather than guess when a hierarchy is
 * missing or another one sits at its name.  Needs root (cgroup groups,
 * mounts in a private mount namespace); skipped otherwise.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/cgroup_mounts.h"
#include "test.h"

static void need_root_and_v1(struct cg_mounts *scan)
{
	if (geteuid() != 0)
		test_skip("cgroup groups and mounts need root");
	sandbox__cg_mounts_scan(scan);
	if (!scan->v1_memory[0] || !scan->v1_pids[0] || !scan->v1_cpuacct[0])
		test_skip("this host has no v1 memory, pids and cpuacct hierarchies");
	/* What an earlier run leaves: the runcell group in each. */
	const char *ctl[] = { scan->v1_memory, scan->v1_pids, scan->v1_cpuacct };
	for (int i = 0; i < 3; i++) {
		char dir[320];
		snprintf(dir, sizeof(dir), "%s/runcell", ctl[i]);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			FAIL("mkdir %s: %s", dir, strerror(errno));
	}
}

TEST(cg_mounts_standard_agrees_with_mountinfo)
{
	struct cg_mounts scan, quick;
	need_root_and_v1(&scan);
	if (strcmp(scan.v1_memory, "/sys/fs/cgroup/memory") ||
	    strcmp(scan.v1_pids, "/sys/fs/cgroup/pids") ||
	    strcmp(scan.v1_cpuacct, "/sys/fs/cgroup/cpuacct"))
		test_skip("v1 hierarchies are not in /sys/fs/cgroup/<controller> here");
	ASSERT_TRUE(sandbox__cg_mounts_standard("/sys/fs/cgroup", &quick));
	ASSERT_STR(quick.v1_memory, scan.v1_memory);
	ASSERT_STR(quick.v1_pids, scan.v1_pids);
	ASSERT_STR(quick.v1_cpuacct, scan.v1_cpuacct);
	ASSERT_STR(quick.v2, scan.v2);
	/* The cached answer is the same. */
	ASSERT_STR(sandbox__cg_mounts()->v1_memory, scan.v1_memory);
}

static void bind(const char *src, const char *dst)
{
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		FAIL("mkdir %s: %s", dst, strerror(errno));
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		FAIL("bind %s on %s: %s", src, dst, strerror(errno));
}

static void layouts(const char *dir)
{
	struct cg_mounts scan, quick;
	need_root_and_v1(&scan);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		FAIL("private mount namespace: %s", strerror(errno));
	char top[256], path[320];
	snprintf(top, sizeof(top), "%s/cg", dir);
	if (mkdir(top, 0755) < 0 || mount("tmpfs", top, "tmpfs", 0, "size=64k") < 0)
		FAIL("tmpfs on %s: %s", top, strerror(errno));

	/* An empty tmpfs: nothing there, so not whole. */
	ASSERT_FALSE(sandbox__cg_mounts_standard(top, &quick));

	/* The three hierarchies where the usual layout puts them. */
	snprintf(path, sizeof(path), "%s/memory", top);
	bind(scan.v1_memory, path);
	snprintf(path, sizeof(path), "%s/pids", top);
	bind(scan.v1_pids, path);
	/* Not yet cpuacct: two of three is not whole. */
	ASSERT_FALSE(sandbox__cg_mounts_standard(top, &quick));
	snprintf(path, sizeof(path), "%s/cpuacct", top);
	bind(scan.v1_cpuacct, path);
	ASSERT_TRUE(sandbox__cg_mounts_standard(top, &quick));
	snprintf(path, sizeof(path), "%s/memory", top);
	ASSERT_STR(quick.v1_memory, path);
	snprintf(path, sizeof(path), "%s/pids", top);
	ASSERT_STR(quick.v1_pids, path);
	snprintf(path, sizeof(path), "%s/cpuacct", top);
	ASSERT_STR(quick.v1_cpuacct, path);

	/* The pids hierarchy under the name memory: a cgroup file system,
	 * but not the memory controller's. */
	snprintf(path, sizeof(path), "%s/memory", top);
	if (umount2(path, MNT_DETACH) < 0)
		FAIL("umount %s: %s", path, strerror(errno));
	bind(scan.v1_pids, path);
	ASSERT_FALSE(sandbox__cg_mounts_standard(top, &quick));

	/* A directory that is no cgroup file system at all. */
	if (umount2(path, MNT_DETACH) < 0)
		FAIL("umount %s: %s", path, strerror(errno));
	ASSERT_FALSE(sandbox__cg_mounts_standard(top, &quick));

	/* A cgroup2 top without the memory and pids controllers (they are
	 * bound to v1 here): not whole, mountinfo has to tell. */
	if (scan.v2[0]) {
		snprintf(path, sizeof(path), "%s/v2top", dir);
		bind(scan.v2, path);
		ASSERT_FALSE(sandbox__cg_mounts_standard(path, &quick));
		ASSERT_STR(quick.v2, path);
	}
}

TEST(cg_mounts_standard_checks_each_hierarchy)
{
	test_with_tmpdir(layouts);
}
