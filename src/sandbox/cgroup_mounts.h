/*
 * cgroup_mounts: where the cgroup hierarchies of this host are mounted,
 * read once from /proc/self/mountinfo.  Shared by both backends.
 */
#ifndef RUNCELL_SANDBOX_CGROUP_MOUNTS_H
#define RUNCELL_SANDBOX_CGROUP_MOUNTS_H

#include <stdbool.h>

struct cg_mounts {
	char v1_memory[256];   /* mount point of each v1 controller, or "" */
	char v1_pids[256];
	char v1_cpuacct[256];
	char v2[256];          /* mount point of the unified hierarchy, or "" */
};

const struct cg_mounts *sandbox__cg_mounts(void);

#endif
