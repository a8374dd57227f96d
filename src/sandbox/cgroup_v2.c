/*
 * cgroup_v2: the backend for the unified hierarchy (most current hosts).
 *
 * A run's group is <mount>/runcell/<slot>.<seq>.  The program is born in
 * it: the cell's init forks it with clone3(CLONE_INTO_CGROUP) (kernel 5.7),
 * so there is no migration, no attach cost and no moment when the program
 * runs outside its limits.
 *
 * Knobs (kernel versions that introduced them):
 *   memory.max          the cell's memory                       (4.5)
 *   memory.swap.max=0   swap cannot extend it                   (4.5)
 *   memory.oom.group=1  an OOM kill takes the whole cell        (4.19)
 *   pids.max            processes and threads together          (4.5)
 *   cpu.stat            usage_usec: CPU of every task           (4.5; present without the cpu controller)
 *   memory.peak         peak memory; older kernels fall back to
 *                       the largest process's maxrss, said so   (5.19)
 *   memory.events       oom_kill counter tells an OOM kill      (4.13)
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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether this process sits at the root of its cgroup namespace
 * (/proc/self/cgroup reads "0::/"): in a container, or on the host. */
static bool at_namespace_root(void)
{
	char buf[512];
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *line = buf; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (!strncmp(line, "0::", 3))
			return line[3] == '/' && (line[4] == '\n' || line[4] == '\0');
	return false;
}

/*
 * Only the host's root cgroup may hold processes and delegate
 * controllers.  The root of a cgroup namespace (a container's
 * /sys/fs/cgroup) may not: enabling memory and pids there fails with
 * EBUSY while any process sits in it, runcell's own included, and every
 * cell fell back to per-process rlimits.  So the processes of that root,
 * the container's own, move into a leaf, <mount>/leaf, as systemd does
 * with init.scope.  Their limits do not change: those of the container
 * are on the namespace root, above the leaf.
 */
static int empty_namespace_root(const char *mnt, char *why, size_t len)
{
	char leaf[400], procs[400], to[420];
	snprintf(leaf, sizeof(leaf), "%s/leaf", mnt);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", mnt);
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
	char path[400];
	snprintf(path, sizeof(path), "%s/cgroup.controllers", m->v2);
	if (!sandbox__cg_controllers_have(path, "memory", "pids")) {
		snprintf(why, len, "%s lacks the memory and pids controllers "
			 "(bound to v1 hierarchies on this host)", m->v2);
		return -ENOENT;
	}
	/* The host's root cgroup may hold processes and still delegate (the
	 * "no internal processes" rule exempts it); a namespace's root is
	 * emptied into a leaf first; the runcell parent holds none, so it
	 * can delegate too. */
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", m->v2);
	int rc = sandbox__write_file(path, "+memory +pids");
	if (rc == -EBUSY && at_namespace_root()) {
		char ewhy[300];
		rc = empty_namespace_root(m->v2, ewhy, sizeof(ewhy));
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
	snprintf(path, sizeof(path), "%s/runcell", m->v2);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		snprintf(why, len, "cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/runcell/cgroup.subtree_control", m->v2);
	rc = sandbox__write_file(path, "+memory +pids");
	if (rc < 0) {
		snprintf(why, len, "cannot enable memory and pids in %s: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(why, len, "memory, pids, cpu.stat under %s/runcell", m->v2);
	return 0;
}

int sandbox__cgv2_create(struct cg_run *cg, const char *name,
			 const struct sandbox_limits *l, char *why, size_t len)
{
	const struct cg_mounts *m = sandbox__cg_mounts();
	char *dir = cg->dirs[0];
	snprintf(dir, sizeof(cg->dirs[0]), "%s/runcell/%s", m->v2, name);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(why, len, "cannot create cgroup %s: %s", dir, strerror(errno));
		return -errno;
	}
	cg->ndirs = 1;
	char v[32];
	snprintf(v, sizeof(v), "%" PRIu64, l->memory_kb * 1024);
	int rc = sandbox__write_in(dir, "memory.max", v);
	if (rc == 0) {
		int r = sandbox__write_in(dir, "memory.swap.max", "0");
		if (r < 0 && r != -ENOENT)
			rc = r;
	}
	if (rc == 0) {
		int r = sandbox__write_in(dir, "memory.oom.group", "1");
		if (r < 0 && r != -ENOENT)
			rc = r;
	}
	if (rc < 0) {
		snprintf(why, len, "cannot set memory limits of %s: %s", dir, strerror(-rc));
		return rc;
	}
	snprintf(v, sizeof(v), "%u", l->processes);
	rc = sandbox__write_in(dir, "pids.max", v);
	if (rc < 0) {
		snprintf(why, len, "cannot set pids.max of %s: %s", dir, strerror(-rc));
		return rc;
	}
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
	char parent[320];
	snprintf(parent, sizeof(parent), "%s/runcell", m->v2);
	sandbox__cg_sweep_dir(parent, prefix, true);
}
