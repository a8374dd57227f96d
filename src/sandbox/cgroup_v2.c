/*
 * cgroup_v2: the backend for the unified hierarchy (most current hosts).
 *
 * A run's group is <base>/runcell/<slot>.<seq>, where <base> is the mount
 * or runcell's own delegated cgroup (below).  The program is born in
 * it: the cell's init forks it with clone3(CLONE_INTO_CGROUP) (kernel 5.7),
 * so there is no migration, no attach cost and no moment when the program
 * runs outside its limits.
 *
 * Knobs (kernel versions that introduced them):
 *   memory.max          the cell's memory                       (4.5)
 *   memory.swap.max=0   swap cannot extend it                   (4.5)
 *   memory.oom.group=1  an OOM kill takes the whole cell        (4.19)
 *   pids.max            processes and threads together          (4.5)
 *   cpu (controller)    enabled where the host has it: each run's group
 *                       has the default cpu.weight, so the kernel divides
 *                       the CPU between cells, not between processes or
 *                       sessions (a run of 250 setsid'd processes took
 *                       250/251 of the CPU on a v1 host without it)   (4.15)
 *   cpu.stat            usage_usec: CPU of every task           (4.15; present without the cpu controller)
 *   memory.peak         peak memory; older kernels fall back to
 *                       the largest process's maxrss, said so   (5.19)
 *   memory.events       oom_kill counter tells an OOM kill;     (4.13)
 *                       max, whether the cell's own limit ran out
 *   cgroup.kill         kills every task, racing forks included (5.14)
 */
#include "sandbox/cgroup_mounts.h"
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/*
 * Where runcell's groups go: <base>/runcell, found once per process and
 * before anything is moved.  <base> is the mount (the host's root, or a
 * container's namespace root), or runcell's own cgroup when that was
 * delegated to it (systemd's Delegate=yes marks it with the
 * trusted.delegate or user.delegate attribute): then the service's limits
 * (MemoryMax=) cover its cells too, and systemd, which owns the rest of
 * the tree, never meets groups it did not make.
 */
static struct {
	char base[512];
	bool own;              /* base is runcell's own group: it may empty it into a leaf */
	bool delegated;        /* base is below the mount: a delegated group */
	bool no_controllers;   /* own group delegated, but without memory and pids */
	char own_path[256];    /* what /proc/self/cgroup says */
	char foreign[400];     /* set: the mounted tree is not this process's */
} v2_place;
static pthread_once_t v2_place_once = PTHREAD_ONCE_INIT;

/* The "0::" line of /proc/self/cgroup: this process's group, relative to
 * its cgroup namespace's root. */
static int own_cgroup(char *out, size_t cap)
{
	char buf[1024];
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	for (char *line = buf; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, "0::/", 4))
			continue;
		size_t len = strcspn(line + 3, "\n");
		if (len >= cap)
			return -ENAMETOOLONG;
		memcpy(out, line + 3, len);
		out[len] = '\0';
		return 0;
	}
	return -ENOENT;
}

/* Whether the cgroup.procs file at path lists pid. */
static bool lists_pid(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[32];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strtol(line, NULL, 10) == (long)pid;
	fclose(f);
	return found;
}

static bool delegated_to_us(const char *dir)
{
	static const char *const names[] = { "trusted.delegate", "user.delegate" };
	for (size_t i = 0; i < 2; i++) {
		char v[8];
		ssize_t n = getxattr(dir, names[i], v, sizeof(v));
		if (n == 1 && v[0] == '1')
			return true;
	}
	return false;
}

static void v2_place_find(void)
{
	const struct cg_mounts *m = sandbox__cg_mounts();
	snprintf(v2_place.base, sizeof(v2_place.base), "%s", m->v2);
	if (!m->v2[0] || own_cgroup(v2_place.own_path, sizeof(v2_place.own_path)) < 0)
		return;
	const char *own = v2_place.own_path;
	char path[800];
	snprintf(path, sizeof(path), "%s%s/cgroup.procs", m->v2, strcmp(own, "/") ? own : "");
	if (!lists_pid(path, getpid())) {
		/* A host's tree bind-mounted into a container that has a cgroup
		 * namespace of its own: the kernel refuses to start programs
		 * in groups outside the namespace. */
		snprintf(v2_place.foreign, sizeof(v2_place.foreign),
			 "%.100s is not this process's cgroup2 tree: it does not hold the group %.100s "
			 "(a host's tree in a cgroup namespace: mount cgroup2 inside it)", m->v2, own);
		return;
	}
	/* A process runcell moved into <group>/leaf still belongs to <group>. */
	char group[256];
	snprintf(group, sizeof(group), "%s", own);
	size_t gl = strlen(group);
	if (gl >= 5 && !strcmp(group + gl - 5, "/leaf"))
		group[gl - 5 > 0 ? gl - 5 : 1] = '\0';
	if (!strcmp(group, "/")) {
		v2_place.own = true;  /* the namespace's root (or the host's) */
		return;
	}
	char dir[512];
	snprintf(dir, sizeof(dir), "%s%s", m->v2, group);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	if (!delegated_to_us(dir))
		return;
	if (!sandbox__cg_controllers_have(path, "memory", "pids")) {
		v2_place.no_controllers = true;
		return;
	}
	snprintf(v2_place.base, sizeof(v2_place.base), "%s", dir);
	v2_place.own = true;
	v2_place.delegated = true;
}

static void v2_place_get(void)
{
	pthread_once(&v2_place_once, v2_place_find);
}

/*
 * A cgroup that holds processes cannot delegate controllers to groups
 * below it ("no internal processes"); only the host's root is exempt.  A
 * container's namespace root and a delegated group are not: enabling
 * memory and pids there fails with EBUSY while any process sits in it,
 * runcell's own included.  So the processes of runcell's own group move
 * into a leaf, <group>/leaf, as systemd does with init.scope.  Their
 * limits do not change: those of the group are above the leaf.
 */
static int empty_into_leaf(const char *group, char *why, size_t len)
{
	char leaf[600], procs[600], to[620];
	snprintf(leaf, sizeof(leaf), "%s/leaf", group);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", group);
	snprintf(to, sizeof(to), "%s/cgroup.procs", leaf);
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST) {
		snprintf(why, len, "cannot create %.200s: %s", leaf, strerror(errno));
		return -errno;
	}
	for (int round = 0; round < 8; round++) {
		FILE *f = fopen(procs, "re");
		if (!f) {
			snprintf(why, len, "cannot read %.200s: %s", procs, strerror(errno));
			return -errno;
		}
		char line[32];
		int moved = 0;
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			int rc = sandbox__write_file(to, line);
			if (rc < 0 && rc != -ESRCH) {
				fclose(f);
				snprintf(why, len, "cannot move process %s into %.200s: %s", line, leaf,
					 strerror(-rc));
				return rc;
			}
			moved++;
		}
		fclose(f);
		if (moved == 0)
			return 0;
	}
	snprintf(why, len, "processes keep arriving in %.200s", procs);
	return -EBUSY;
}

int sandbox__cgv2_usable(char *why, size_t len)
{
	const struct cg_mounts *m = sandbox__cg_mounts();
	if (!m->v2[0]) {
		snprintf(why, len, "no cgroup2 mount");
		return -ENOENT;
	}
	char path[700];
	snprintf(path, sizeof(path), "%s/cgroup.controllers", m->v2);
	if (!sandbox__cg_controllers_have(path, "memory", "pids")) {
		snprintf(why, len, "%s lacks the memory and pids controllers "
			 "(bound to v1 hierarchies on this host)", m->v2);
		return -ENOENT;
	}
	/* Only now: on a v1 host, a hybrid tree's cgroup.procs lists every
	 * process of the host. */
	v2_place_get();
	if (v2_place.foreign[0]) {
		snprintf(why, len, "%s", v2_place.foreign);
		return -ENOENT;
	}
	const char *base = v2_place.base;
	/* The host's root cgroup may hold processes and still delegate; runcell's
	 * own group is emptied into a leaf first; the runcell group holds
	 * none, so it can delegate too. */
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", base);
	int rc = sandbox__write_file(path, "+memory +pids");
	if (rc == -EBUSY && v2_place.own) {
		char ewhy[300];
		rc = empty_into_leaf(base, ewhy, sizeof(ewhy));
		if (rc < 0) {
			snprintf(why, len, "cannot enable memory and pids in %.200s: its processes must "
				 "move into a leaf cgroup first, and %.280s", path, ewhy);
			return rc;
		}
		rc = sandbox__write_file(path, "+memory +pids");
	}
	if (rc < 0) {
		snprintf(why, len, "cannot enable memory and pids in %s: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/runcell", base);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		snprintf(why, len, "cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/runcell/cgroup.subtree_control", base);
	rc = sandbox__write_file(path, "+memory +pids");
	if (rc < 0) {
		snprintf(why, len, "cannot enable memory and pids in %s: %s", path, strerror(-rc));
		return rc;
	}
	/* cpu, where the host has it, on both levels; without it the cells
	 * compete as processes do (best effort: a kernel can refuse it, for
	 * one while a real-time process sits in a non-root group). */
	char ctl[700];
	snprintf(ctl, sizeof(ctl), "%s/cgroup.controllers", base);
	bool cpu = sandbox__cg_controllers_have(ctl, "cpu", "cpu");
	if (cpu) {
		char sub[700];
		snprintf(sub, sizeof(sub), "%s/cgroup.subtree_control", base);
		cpu = sandbox__write_file(sub, "+cpu") == 0 && sandbox__write_file(path, "+cpu") == 0;
	}
	const char *note = v2_place.delegated       ? " (runcell's own cgroup, delegated)"
			   : v2_place.no_controllers ? " (outside runcell's own cgroup %s: delegated, but "
						       "memory and pids are not enabled for it)"
			   : !v2_place.own          ? " (outside runcell's own cgroup %s, which is not delegated)"
						    : "";
	char where[400];
	snprintf(where, sizeof(where), note, v2_place.own_path);
	snprintf(why, len, "%s under %s/runcell%s", cpu ? "memory, pids, cpu" : "memory, pids, cpu.stat",
		 base, where);
	return 0;
}

int sandbox__cgv2_set_limits(struct cg_run *cg, const struct sandbox_limits *l,
			     const struct sandbox_limits *old, char *why, size_t len)
{
	const char *dir = cg->dirs[0];
	char v[32];
	if (!old || old->memory_kb != l->memory_kb) {
		snprintf(v, sizeof(v), "%" PRIu64, l->memory_kb * 1024);
		int rc = sandbox__write_in(dir, "memory.max", v);
		if (rc < 0) {
			snprintf(why, len, "cannot set memory.max of %s: %s", dir, strerror(-rc));
			return rc;
		}
	}
	if (!old || old->processes != l->processes) {
		snprintf(v, sizeof(v), "%u", l->processes);
		int rc = sandbox__write_in(dir, "pids.max", v);
		if (rc < 0) {
			snprintf(why, len, "cannot set pids.max of %s: %s", dir, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int sandbox__cgv2_create(struct cg_run *cg, const char *name,
			 const struct sandbox_limits *l, char *why, size_t len)
{
	v2_place_get();
	char *dir = cg->dirs[0];
	if (snprintf(dir, sizeof(cg->dirs[0]), "%s/runcell/%s", v2_place.base, name) >= (int)sizeof(cg->dirs[0])) {
		snprintf(why, len, "cgroup path too long under %.200s", v2_place.base);
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(why, len, "cannot create cgroup %s: %s", dir, strerror(errno));
		return -errno;
	}
	cg->ndirs = 1;
	int rc = sandbox__write_in(dir, "memory.swap.max", "0");
	if (rc == 0 || rc == -ENOENT)
		rc = sandbox__write_in(dir, "memory.oom.group", "1");
	if (rc < 0 && rc != -ENOENT) {
		snprintf(why, len, "cannot set memory knobs of %s: %s", dir, strerror(-rc));
		return rc;
	}
	rc = sandbox__cgv2_set_limits(cg, l, NULL, why, len);
	if (rc < 0)
		return rc;
	cg->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cg->cpu_fd = sandbox__open_in(dir, "cpu.stat", O_RDONLY);
	cg->oom_fd = sandbox__open_in(dir, "memory.events", O_RDONLY);
	if (cg->dir_fd < 0 || cg->cpu_fd < 0 || cg->oom_fd < 0) {
		rc = -errno;
		snprintf(why, len, "cannot open control files of %s: %s", dir, strerror(errno));
		return rc;
	}
	cg->peak_fd = sandbox__open_in(dir, "memory.peak", O_RDONLY);  /* 5.19+ */
	cg->kill_fd = sandbox__open_in(dir, "cgroup.kill", O_WRONLY);  /* 5.14+ */
	cg->pids_events_fd = sandbox__open_in(dir, "pids.events", O_RDONLY);  /* 4.8+ */
	return 0;
}

int sandbox__cgv2_stats(struct cg_run *cg, struct cg_stats *st)
{
	uint64_t us = 0;
	int rc = sandbox__read_key_u64_fd(cg->cpu_fd, "usage_usec", &us);
	st->cpu_ns = us * 1000;
	if (rc == 0 && cg->peak_fd >= 0) {
		rc = sandbox__read_u64_fd(cg->peak_fd, &st->peak_bytes);
		st->peak_known = rc == 0;
	}
	if (rc == 0 && sandbox__read_key_u64_fd(cg->oom_fd, "oom_kill", &st->oom_kills) < 0)
		st->oom_kills = 0;
	/* memory.events' max counts the times this group's own memory.max
	 * was reached; an ancestor's limit reached is counted in the ancestor
	 * (a new group per run: all of them this run's). */
	uint64_t own_max = 0;
	if (st->oom_kills > 0 && sandbox__read_key_u64_fd(cg->oom_fd, "max", &own_max) == 0)
		st->oom_above = own_max == 0;
	if (cg->pids_events_fd < 0 ||
	    sandbox__read_key_u64_fd(cg->pids_events_fd, "max", &st->forks_refused) < 0)
		st->forks_refused = 0;
	return rc;
}

void sandbox__cgv2_kill(struct cg_run *cg)
{
	if (cg->kill_fd >= 0 && pwrite(cg->kill_fd, "1", 1, 0) == 1)
		return;
	if (cg->ndirs >= 1)
		sandbox__cg_kill_procs(cg->dirs[0]);
}

void sandbox__cgv2_sweep(const char *prefix)
{
	const struct cg_mounts *m = sandbox__cg_mounts();
	if (!m->v2[0])
		return;
	v2_place_get();
	if (v2_place.foreign[0])
		return;
	char parent[600];
	snprintf(parent, sizeof(parent), "%s/runcell", v2_place.base);
	sandbox__cg_sweep_dir(parent, prefix, true);
}
