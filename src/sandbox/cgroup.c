/*
 * cgroup: one cgroup per run, for the limits no rlimit can express (memory
 * of the whole cell, processes and threads together) and for accounting
 * (CPU of every thread, peak memory, OOM kills).
 *
 * Two real backends sit behind these functions: cgroup_v1.c (memory, pids
 * and cpuacct hierarchies) and cgroup_v2.c (the unified hierarchy).
 * Detection prefers v2 when its memory and pids controllers can be used,
 * then v1; with neither, runs fall back to rlimits and every result says
 * so.  Each run gets a fresh group named "<slot>.<seq>" under a "runcell"
 * parent, created before the program starts and removed after every
 * process of the run is gone, so peaks and counters never mix two runs.
 */
#include "sandbox/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum cg_kind sandbox__cg_detect(enum sandbox_cgroup_mode mode, char *why, size_t len)
{
	char v2why[256] = "", v1why[256] = "";
	switch (mode) {
	case SANDBOX_CGROUP_NONE:
		snprintf(why, len, "cgroups disabled (--cgroup=none): limits per process by rlimits");
		return CG_NONE;
	case SANDBOX_CGROUP_V2:
		if (sandbox__cgv2_usable(v2why, sizeof(v2why)) == 0) {
			snprintf(why, len, "cgroup v2: %s", v2why);
			return CG_V2;
		}
		snprintf(why, len, "cgroup v2 requested but not usable: %s", v2why);
		return CG_NONE;
	case SANDBOX_CGROUP_V1:
		if (sandbox__cgv1_usable(v1why, sizeof(v1why)) == 0) {
			snprintf(why, len, "cgroup v1: %s", v1why);
			return CG_V1;
		}
		snprintf(why, len, "cgroup v1 requested but not usable: %s", v1why);
		return CG_NONE;
	case SANDBOX_CGROUP_AUTO:
		break;
	}
	if (sandbox__cgv2_usable(v2why, sizeof(v2why)) == 0) {
		snprintf(why, len, "cgroup v2: %s", v2why);
		return CG_V2;
	}
	if (sandbox__cgv1_usable(v1why, sizeof(v1why)) == 0) {
		snprintf(why, len, "cgroup v1: %s", v1why);
		return CG_V1;
	}
	snprintf(why, len, "no usable cgroups (v2: %s; v1: %s): limits per process "
		 "by rlimits, accounting from rusage", v2why, v1why);
	return CG_NONE;
}

const char *sandbox_cgroup_describe(enum sandbox_cgroup_mode mode, char *buf, size_t len)
{
	sandbox__cg_detect(mode, buf, len);
	return buf;
}

void sandbox__cg_sweep_slot(enum cg_kind kind, unsigned slot)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "%u.", slot);
	if (kind == CG_V1)
		sandbox__cgv1_sweep(prefix);
	else if (kind == CG_V2)
		sandbox__cgv2_sweep(prefix);
}

void sandbox__cg_clear(struct cg_run *cg, enum cg_kind kind)
{
	memset(cg, 0, sizeof(*cg));
	cg->kind = kind;
	cg->dir_fd = cg->cpu_fd = cg->peak_fd = cg->oom_fd = cg->kill_fd = cg->usage_fd = -1;
	cg->pids_events_fd = -1;
	for (int i = 0; i < 4; i++)
		cg->task_fds[i] = -1;
}

int sandbox__cg_begin(struct cg_run *cg, enum cg_kind kind, unsigned slot,
		      uint64_t seq, const struct sandbox_limits *limits,
		      char *why, size_t len)
{
	if (cg->live && cg->kind == kind) {
		/* A group made ahead and not yet run in counts from zero: only
		 * its limits change.  A kept one (v1) has its counters reset
		 * too; a v2 group that a run used is never used again. */
		int rc = -EINVAL;
		if (kind == CG_V1)
			rc = cg->unused ? sandbox__cgv1_set_limits(cg, limits, &cg->applied, why, len)
					: sandbox__cgv1_reset(cg, limits, why, len);
		else if (kind == CG_V2 && cg->unused)
			rc = sandbox__cgv2_set_limits(cg, limits, &cg->applied, why, len);
		if (rc == 0) {
			cg->applied = *limits;
			cg->reused = !cg->unused;
			cg->unused = false;
			return 0;
		}
	}
	if (cg->live)
		sandbox__cg_destroy(cg);  /* start over with a new group */
	sandbox__cg_clear(cg, kind);
	snprintf(cg->name, sizeof(cg->name), "%u.%" PRIu64, slot, seq);
	int rc = 0;
	if (kind == CG_V1)
		rc = sandbox__cgv1_create(cg, cg->name, limits, why, len);
	else if (kind == CG_V2)
		rc = sandbox__cgv2_create(cg, cg->name, limits, why, len);
	if (rc < 0) {
		sandbox__cg_destroy(cg);
		sandbox__cg_clear(cg, kind);
		return rc;
	}
	cg->live = true;
	cg->applied = *limits;
	return 0;
}

int sandbox__cg_end(struct cg_run *cg)
{
	if (cg->kind == CG_V1 && cg->live)
		return 0;
	return sandbox__cg_destroy(cg);
}

int sandbox__cg_cpu_ns(struct cg_run *cg, uint64_t *ns)
{
	if (cg->cpu_fd < 0)
		return -ENOENT;
	if (cg->kind == CG_V1)
		return sandbox__read_u64_fd(cg->cpu_fd, ns);
	uint64_t us;
	int rc = sandbox__read_key_u64_fd(cg->cpu_fd, "usage_usec", &us);
	if (rc == 0)
		*ns = us * 1000;
	return rc;
}

int sandbox__cg_stats(struct cg_run *cg, struct cg_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (cg->kind == CG_V1)
		return sandbox__cgv1_stats(cg, st);
	if (cg->kind == CG_V2)
		return sandbox__cgv2_stats(cg, st);
	return -ENOENT;
}

void sandbox__cg_kill(struct cg_run *cg)
{
	if (cg->kind == CG_V1)
		sandbox__cgv1_kill(cg);
	else if (cg->kind == CG_V2)
		sandbox__cgv2_kill(cg);
}

int sandbox__cg_destroy(struct cg_run *cg)
{
	int *fds[] = { &cg->dir_fd, &cg->cpu_fd, &cg->peak_fd, &cg->oom_fd,
		       &cg->kill_fd, &cg->usage_fd, &cg->pids_events_fd, &cg->task_fds[0], &cg->task_fds[1],
		       &cg->task_fds[2], &cg->task_fds[3] };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	int rc = 0;
	for (int i = 0; i < cg->ndirs; i++) {
		int r = sandbox__cg_remove_dir(cg->dirs[i]);
		if (r < 0 && rc == 0)
			rc = r;
	}
	cg->ndirs = 0;
	cg->live = false;
	return rc;
}
