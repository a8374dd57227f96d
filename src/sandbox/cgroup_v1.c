/*
 * cgroup_v1: the backend for hosts whose memory, pids and cpuacct
 * controllers are on v1 hierarchies.
 *
 * A run's group is <controller mount>/runcell/<slot>.<seq> in each
 * hierarchy.  The program joins it itself, before execve, by writing "0"
 * to each tasks file: moving one thread (the caller, single-threaded at
 * that point) does not take the global threadgroup lock that writing a pid
 * to cgroup.procs takes, and that lock's RCU grace period is what makes
 * the first attach after an idle gap cost 7-14 ms on v1 (baseline.md).
 *
 * Knobs:
 *   memory.limit_in_bytes        the cell's memory, all processes together
 *   memory.memsw.limit_in_bytes  the same value, so swap cannot extend it
 *   memory.swappiness            0, only where memsw is absent (no swap
 *                                accounting): the group's own reclaim then
 *                                never swaps, so swap cannot make room
 *                                under the limit either
 *   memory.kmem.tcp.limit_in_bytes  the same value again, for TCP socket
 *                                buffers: v1 charges them to a counter of
 *                                their own, and only once it has a limit;
 *                                without one a cell under --memory=16 queued
 *                                934 MB in loopback connections, from the
 *                                host-wide tcp_mem every other socket of the
 *                                host draws on (v2 charges them to memory.max)
 *   pids.max                     processes and threads together
 *   cpuacct.usage                CPU of every task; "0" resets it
 *   memory.max_usage_in_bytes    peak; "0" resets it to the current usage
 *   memory.usage_in_bytes        charged now: before a run, that is page
 *                                cache charged by earlier runs, subtracted
 *                                from the peak.  The cell's init resets the
 *                                one and reads the other once it has wiped
 *                                the box, so a warm cell's last run's files
 *                                are neither in the peak nor subtracted
 *   memory.oom_control           its oom_kill counter tells an OOM kill
 *   memory.limit_in_bytes,       read after an OOM kill: whether the cell's
 *   memory.memsw.max_usage_...   own limit ran out, or one above it
 *   cpu (hierarchy, optional)    a group of its own, with the default
 *                                cpu.shares: the kernel divides the CPU
 *                                between cells, not between processes.
 *                                Without it a run of 250 processes, each in
 *                                a session of its own (the scheduler's
 *                                autogroups), took 250/251 of the CPU, and
 *                                another cell's run hit its wall limit after
 *                                8 ms of CPU
 *
 * A warm cell keeps its group from run to run and resets the counters:
 * creating and removing a memory cgroup costs more than the rest of a
 * run's cgroup work together.
 */
#include "sandbox/cgroup_mounts.h"
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sandbox__cgv1_usable(char *why, size_t len)
{
	const struct cg_mounts *m = sandbox__cg_mounts();
	if (!m->v1_memory[0] || !m->v1_pids[0] || !m->v1_cpuacct[0]) {
		snprintf(why, len, "memory, pids and cpuacct hierarchies not all mounted");
		return -ENOENT;
	}
	const char *ctl[] = { m->v1_memory, m->v1_pids, m->v1_cpuacct, m->v1_cpu };
	bool cpu = m->v1_cpu[0] != '\0';
	for (int i = 0; i < 4; i++) {
		if (!ctl[i][0])
			continue;  /* cpu, when the host has no such hierarchy */
		char dir[320];
		snprintf(dir, sizeof(dir), "%s/runcell", ctl[i]);
		if (i == 3 && mkdir(dir, 0755) < 0 && errno != EEXIST) {
			cpu = false;  /* optional: a read-only cpu hierarchy leaves the rest usable */
			continue;
		}
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(why, len, "cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	snprintf(why, len, "memory, pids, cpuacct%s under %s/runcell", cpu ? ", cpu" : "", m->v1_memory);
	return 0;
}

/* Index of the directory for a controller mount, adding it if new. */
static int dir_for(struct cg_run *cg, const char *mnt, const char *name)
{
	char dir[320];
	snprintf(dir, sizeof(dir), "%s/runcell/%s", mnt, name);
	for (int i = 0; i < cg->ndirs; i++)
		if (!strcmp(cg->dirs[i], dir))
			return i;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(cg->dirs[cg->ndirs], sizeof(cg->dirs[0]), "%s", dir);
	return cg->ndirs++;
}

int sandbox__cgv1_set_limits(struct cg_run *cg, const struct sandbox_limits *l,
			     const struct sandbox_limits *old, char *why, size_t len)
{
	const char *mem = cg->dirs[cg->mem_dir], *pids = cg->dirs[cg->pids_dir];
	char v[32];
	int rc = 0;
	if (!old || old->memory_kb != l->memory_kb) {
		snprintf(v, sizeof(v), "%" PRIu64, l->memory_kb * 1024);
		/* memsw must stay >= the limit: raise memsw first when
		 * growing, the limit first when shrinking. */
		bool grow = old && l->memory_kb > old->memory_kb;
		if (grow)
			rc = sandbox__write_in(mem, "memory.memsw.limit_in_bytes", v);
		if (rc == 0 || rc == -ENOENT)
			rc = sandbox__write_in(mem, "memory.limit_in_bytes", v);
		if (rc == 0 && !grow) {
			/* Absent when the kernel has no swap accounting. */
			int r = sandbox__write_in(mem, "memory.memsw.limit_in_bytes", v);
			if (r == -ENOENT && !old) {
				/* Then swapping would free room under the
				 * limit; with swappiness 0 the group's own
				 * reclaim never swaps (mm/vmscan.c). */
				r = sandbox__write_in(mem, "memory.swappiness", "0");
				if (r == -ENOENT)
					r = 0;
			}
			if (r < 0 && r != -ENOENT)
				rc = r;
		}
		if (rc == 0) {
			/* Absent on a kernel without kernel-memory accounting. */
			int r = sandbox__write_in(mem, "memory.kmem.tcp.limit_in_bytes", v);
			if (r < 0 && r != -ENOENT)
				rc = r;
		}
		if (rc < 0) {
			snprintf(why, len, "cannot set the memory limit of cgroup %s: %s",
				 cg->name, strerror(-rc));
			return rc;
		}
	}
	if (!old || old->processes != l->processes) {
		snprintf(v, sizeof(v), "%u", l->processes);
		rc = sandbox__write_in(pids, "pids.max", v);
		if (rc < 0) {
			snprintf(why, len, "cannot set pids.max of cgroup %s: %s", cg->name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int sandbox__cgv1_reset(struct cg_run *cg, const struct sandbox_limits *l, char *why, size_t len)
{
	int rc = sandbox__cgv1_set_limits(cg, l, &cg->applied, why, len);
	if (rc < 0)
		return rc;
	cg->applied = *l;
	/* The peak is reset by the cell's init, after it has wiped the box
	 * (see cell.c): here the last run's files may still be charged. */
	if (pwrite(cg->cpu_fd, "0", 1, 0) != 1) {
		snprintf(why, len, "cannot reset the counters of cgroup %s: %s", cg->name, strerror(errno));
		return -errno;
	}
	if (sandbox__read_key_u64_fd(cg->oom_fd, "oom_kill", &cg->base_oom) < 0)
		cg->base_oom = 0;
	if (cg->pids_events_fd < 0 ||
	    sandbox__read_key_u64_fd(cg->pids_events_fd, "max", &cg->base_pids_max) < 0)
		cg->base_pids_max = 0;
	return 0;
}

int sandbox__cgv1_create(struct cg_run *cg, const char *name,
			 const struct sandbox_limits *l, char *why, size_t len)
{
	const struct cg_mounts *m = sandbox__cg_mounts();
	int mem = dir_for(cg, m->v1_memory, name);
	int pids = mem < 0 ? mem : dir_for(cg, m->v1_pids, name);
	int cpu = pids < 0 ? pids : dir_for(cg, m->v1_cpuacct, name);
	if (cpu < 0) {
		snprintf(why, len, "cannot create cgroup %s: %s", name, strerror(-cpu));
		return cpu;
	}
	/* The cpu group is optional: where it cannot be made (a read-only
	 * hierarchy), the run goes without, as on a host without one. */
	if (m->v1_cpu[0])
		dir_for(cg, m->v1_cpu, name);
	cg->mem_dir = mem;
	cg->pids_dir = pids;
	int rc = sandbox__cgv1_set_limits(cg, l, NULL, why, len);
	if (rc < 0)
		return rc;
	for (int i = 0; i < cg->ndirs; i++) {
		cg->task_fds[i] = sandbox__open_in(cg->dirs[i], "tasks", O_WRONLY);
		if (cg->task_fds[i] < 0)
			goto fail;
	}
	cg->cpu_fd = sandbox__open_in(cg->dirs[cpu], "cpuacct.usage", O_RDWR);
	cg->peak_fd = sandbox__open_in(cg->dirs[mem], "memory.max_usage_in_bytes", O_RDWR);
	cg->usage_fd = sandbox__open_in(cg->dirs[mem], "memory.usage_in_bytes", O_RDONLY);
	cg->oom_fd = sandbox__open_in(cg->dirs[mem], "memory.oom_control", O_RDONLY);
	/* Counts the forks pids.max refused, so a program that died of one
	 * can be told (kernel 4.8; optional). */
	cg->pids_events_fd = sandbox__open_in(cg->dirs[pids], "pids.events", O_RDONLY);
	if (cg->cpu_fd < 0 || cg->peak_fd < 0 || cg->oom_fd < 0 || cg->usage_fd < 0)
		goto fail;
	return 0;
fail:
	rc = -errno;
	snprintf(why, len, "cannot open control files of cgroup %s: %s", name, strerror(errno));
	return rc;
}

/* After an OOM kill (rarely, so the files are opened here): whether the
 * group's own limit was never reached, the kill coming from a limit above
 * it.  When its own limit runs out, its peak (peak: memory.max_usage_in_
 * bytes, reset for each run, read before the base is taken off) or that of
 * memory and swap (memory.memsw.max_usage_in_bytes, not reset: a count of
 * an earlier run only makes the answer "reached", as before) comes to the
 * limit, to within a charge batch.  (memory.failcnt cannot tell: it read 0
 * after such a kill on the test kernel, where the memsw counter, at the
 * same limit, fails first.) */
static bool v1_limit_never_reached(struct cg_run *cg, uint64_t peak)
{
	const char *dir = cg->dirs[cg->mem_dir];
	uint64_t limit = 0, memsw_peak = 0;
	int fd = sandbox__open_in(dir, "memory.limit_in_bytes", O_RDONLY);
	bool known = fd >= 0 && sandbox__read_u64_fd(fd, &limit) == 0;
	if (fd >= 0)
		close(fd);
	fd = sandbox__open_in(dir, "memory.memsw.max_usage_in_bytes", O_RDONLY);
	if (fd >= 0) {
		if (sandbox__read_u64_fd(fd, &memsw_peak) < 0)
			known = false;
		close(fd);
	}
	uint64_t batch = 64 * (uint64_t)sysconf(_SC_PAGESIZE);
	return known && peak + batch < limit && memsw_peak + batch < limit;
}

int sandbox__cgv1_stats(struct cg_run *cg, struct cg_stats *st)
{
	int rc = sandbox__read_u64_fd(cg->cpu_fd, &st->cpu_ns);
	if (rc == 0)
		rc = sandbox__read_u64_fd(cg->peak_fd, &st->peak_bytes);
	if (rc == 0 && sandbox__read_key_u64_fd(cg->oom_fd, "oom_kill", &st->oom_kills) < 0)
		st->oom_kills = 0;
	uint64_t raw_peak = st->peak_bytes;
	/* What earlier runs left charged (page cache) is not this run's. */
	st->peak_bytes = st->peak_bytes > cg->base_usage ? st->peak_bytes - cg->base_usage : 0;
	if (cg->reused) {
		/* The kernel charges a group in batches of 64 pages per CPU
		 * and keeps what a batch has left for the group's next
		 * charges: a reused group's base holds up to a batch that the
		 * run then spends without moving the counter, so a small
		 * program read 256, 256, 0, 256, 256, 0 KB over six identical
		 * runs.  Rounded up to whole batches, at least one, as a new
		 * group's first charge is. */
		uint64_t batch = 64 * (uint64_t)sysconf(_SC_PAGESIZE);
		st->peak_bytes = st->peak_bytes ? (st->peak_bytes + batch - 1) / batch * batch : batch;
	}
	st->oom_kills = st->oom_kills > cg->base_oom ? st->oom_kills - cg->base_oom : 0;
	if (rc == 0 && st->oom_kills > 0)
		st->oom_above = v1_limit_never_reached(cg, raw_peak);
	if (cg->pids_events_fd >= 0 &&
	    sandbox__read_key_u64_fd(cg->pids_events_fd, "max", &st->forks_refused) == 0)
		st->forks_refused = st->forks_refused > cg->base_pids_max ? st->forks_refused - cg->base_pids_max : 0;
	else
		st->forks_refused = 0;
	st->peak_known = rc == 0;
	return rc;
}

void sandbox__cgv1_kill(struct cg_run *cg)
{
	/* The cell's init kills by pid namespace; this is the second wall,
	 * used when init itself cannot be trusted to answer. */
	for (int i = 0; i < cg->ndirs; i++)
		sandbox__cg_kill_procs(cg->dirs[i]);
}

void sandbox__cgv1_sweep(const char *prefix)
{
	const struct cg_mounts *m = sandbox__cg_mounts();
	const char *ctl[] = { m->v1_memory, m->v1_pids, m->v1_cpuacct, m->v1_cpu };
	for (int i = 0; i < 4; i++) {
		if (!ctl[i][0])
			continue;
		char parent[320];
		snprintf(parent, sizeof(parent), "%s/runcell", ctl[i]);
		sandbox__cg_sweep_dir(parent, prefix, false);
	}
}
