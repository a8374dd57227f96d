/*
 * cgroup_mounts: where the cgroup hierarchies are mounted, found once per
 * process.
 *
 * The usual places (/sys/fs/cgroup as cgroup2, or a tmpfs there holding
 * one v1 hierarchy per controller and /sys/fs/cgroup/unified) are checked
 * first with statfs(2) and a file only the controller has.  Reading
 * /proc/self/mountinfo instead costs 25 us on a quiet machine and 50-120 us
 * right after a cell was torn down or after an idle spell (measured; the
 * kernel's mount lock is the likely reason), and every `runcell run` would
 * pay it before its cell exists.  Anything else (other mount points, a
 * hierarchy missing, a first run that has not made its runcell groups yet)
 * falls back to mountinfo.
 */
#include "sandbox/cgroup_mounts.h"
#include "sandbox/internal.h"

#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define CG_TOP "/sys/fs/cgroup"

static struct cg_mounts cg_mounts_found;
static pthread_once_t cg_mounts_once = PTHREAD_ONCE_INIT;

static bool has_option(const char *opts, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = opts; p && *p;) {
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* The fallback: every line of mountinfo, split by hand (5-6 us less than
 * sscanf per `runcell version`, medians of 1500).  A mount point too long
 * for struct cg_mounts is skipped. */
void sandbox__cg_mounts_scan(struct cg_mounts *out)
{
	memset(out, 0, sizeof(*out));
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		/* id parent major:minor root mountpoint opts [optional...] - type source
		 * superopts.  No field holds a space: the kernel writes one as \040. */
		char *fields[32], *save = NULL;
		int n = 0, dash = -1;
		for (char *t = strtok_r(line, " \n", &save); t && n < 32; t = strtok_r(NULL, " \n", &save)) {
			if (dash < 0 && n >= 6 && !strcmp(t, "-"))
				dash = n;
			fields[n++] = t;
		}
		if (dash < 0 || dash + 3 >= n)
			continue;
		const char *mnt = fields[4], *type = fields[dash + 1], *super = fields[dash + 3];
		if (strlen(mnt) >= 256 || strchr(mnt, '\\'))
			continue;  /* escaped characters: not a path we create in */
		if (!strcmp(type, "cgroup2")) {
			if (!out->v2[0])
				snprintf(out->v2, sizeof(out->v2), "%s", mnt);
		} else if (!strcmp(type, "cgroup")) {
			if (has_option(super, "memory") && !out->v1_memory[0])
				snprintf(out->v1_memory, 256, "%s", mnt);
			if (has_option(super, "pids") && !out->v1_pids[0])
				snprintf(out->v1_pids, 256, "%s", mnt);
			if (has_option(super, "cpuacct") && !out->v1_cpuacct[0])
				snprintf(out->v1_cpuacct, 256, "%s", mnt);
			if (has_option(super, "cpu") && !out->v1_cpu[0])
				snprintf(out->v1_cpu, 256, "%s", mnt);
		}
	}
	fclose(f);
}

static bool fs_is(const char *path, long magic)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == (unsigned long)magic;
}

/* A v1 hierarchy at top/ctl that holds the controller: its runcell group
 * (made by an earlier run) has the controller's file.  The root group
 * cannot tell, since it has no pids file. */
static bool v1_standard(const char *top, const char *ctl, const char *file, char out[256])
{
	char path[512];
	if (snprintf(path, sizeof(path), "%s/%s/runcell/%s", top, ctl, file) >= (int)sizeof(path) ||
	    access(path, F_OK) < 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s", top, ctl);
	if (strlen(path) >= 256 || !fs_is(path, CGROUP_SUPER_MAGIC))
		return false;
	memcpy(out, path, strlen(path) + 1);
	return true;
}

bool sandbox__cg_mounts_standard(const char *top, struct cg_mounts *out)
{
	memset(out, 0, sizeof(*out));
	if (strlen(top) > 200)
		return false;
	char path[256];
	if (fs_is(top, CGROUP2_SUPER_MAGIC)) {
		/* v2 only; unless its controllers are held by v1 hierarchies
		 * mounted elsewhere, which mountinfo finds. */
		snprintf(out->v2, sizeof(out->v2), "%s", top);
		snprintf(path, sizeof(path), "%s/cgroup.controllers", top);
		return sandbox__cg_controllers_have(path, "memory", "pids");
	}
	if (!fs_is(top, TMPFS_MAGIC))
		return false;
	snprintf(path, sizeof(path), "%s/unified", top);
	if (fs_is(path, CGROUP2_SUPER_MAGIC))
		snprintf(out->v2, sizeof(out->v2), "%s", path);
	if (!v1_standard(top, "memory", "memory.limit_in_bytes", out->v1_memory) ||
	    !v1_standard(top, "pids", "pids.max", out->v1_pids) ||
	    !v1_standard(top, "cpuacct", "cpuacct.usage", out->v1_cpuacct))
		return false;
	/* cpu is optional.  Where it shares a hierarchy with cpuacct (the
	 * usual "cpu,cpuacct", linked as cpu and cpuacct), it is that one:
	 * the same path, so a run makes one group there, not two. */
	snprintf(path, sizeof(path), "%s/cpu", top);
	char shares[300];
	snprintf(shares, sizeof(shares), "%s/cpu.shares", path);
	struct stat a, b;
	if (fs_is(path, CGROUP_SUPER_MAGIC) && access(shares, F_OK) == 0 && stat(path, &a) == 0 &&
	    stat(out->v1_cpuacct, &b) == 0)
		snprintf(out->v1_cpu, sizeof(out->v1_cpu), "%s", a.st_dev == b.st_dev ? out->v1_cpuacct : path);
	return true;
}

static void cg_mounts_find(void)
{
	if (!sandbox__cg_mounts_standard(CG_TOP, &cg_mounts_found))
		sandbox__cg_mounts_scan(&cg_mounts_found);
}

const struct cg_mounts *sandbox__cg_mounts(void)
{
	pthread_once(&cg_mounts_once, cg_mounts_find);
	return &cg_mounts_found;
}
