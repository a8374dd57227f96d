/*
 * cgroup_mounts: where the cgroup hierarchies of this host are mounted,
 * found once per process.  Shared by both backends.
 */
#ifndef RUNCELL_SANDBOX_CGROUP_MOUNTS_H
#define RUNCELL_SANDBOX_CGROUP_MOUNTS_H

#include <stdbool.h>

struct cg_mounts {
	char v1_memory[256];   /* mount point of each v1 controller, or "" */
	char v1_pids[256];
	char v1_cpuacct[256];
	char v1_cpu[256];      /* optional: the cpu controller, each cell its own weight;
				* the cpuacct mount's path when the two share one */
	char v2[256];          /* mount point of the unified hierarchy, or "" */
};

/* Found once per process (cgroup_mounts.c says how). */
const struct cg_mounts *sandbox__cg_mounts(void);

/* The two ways of finding them, without the cache (tests compare them):
 * the usual layout under top (true when it answers whole), and
 * /proc/self/mountinfo. */
bool sandbox__cg_mounts_standard(const char *top, struct cg_mounts *out);
void sandbox__cg_mounts_scan(struct cg_mounts *out);

#endif
