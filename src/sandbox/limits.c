/*
 * limits: the one place that holds the default limits of a run, their
 * allowed ranges (and what the host's hard rlimits allow), what fits a
 * cell's disk, and the small result helpers shared by every caller.
 */
#include "sandbox/sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *const sandbox_limit_names[SANDBOX_LIMIT_COUNT + 1] = {
	"cpu_ms",	"wall_ms",    "memory_kb", "processes", "output_kb",
	"file_size_kb", "open_files", "stack_kb",  "disk_kb",	NULL,
};

uint64_t sandbox_limit_get(const struct sandbox_limits *l, size_t i)
{
	switch (i) {
	case 0: return l->cpu_ms;
	case 1: return l->wall_ms;
	case 2: return l->memory_kb;
	case 3: return l->processes;
	case 4: return l->output_kb;
	case 5: return l->file_size_kb;
	case 6: return l->open_files;
	case 7: return l->stack_kb;
	default: return l->disk_kb;
	}
}

void sandbox_limit_set(struct sandbox_limits *l, size_t i, uint64_t v)
{
	switch (i) {
	case 0: l->cpu_ms = v; break;
	case 1: l->wall_ms = v; break;
	case 2: l->memory_kb = v; break;
	case 3: l->processes = (uint32_t)v; break;
	case 4: l->output_kb = v; break;
	case 5: l->file_size_kb = v; break;
	case 6: l->open_files = (uint32_t)v; break;
	case 7: l->stack_kb = v; break;
	default: l->disk_kb = v; break;
	}
}

void sandbox_limits_default(struct sandbox_limits *l)
{
	l->cpu_ms = 2000;
	l->wall_ms = 5000;
	l->memory_kb = 256 * 1024;
	l->processes = 64;
	l->file_size_kb = 64 * 1024;
	l->output_kb = 4096;
	l->open_files = 256;
	l->stack_kb = 64 * 1024;
	l->disk_kb = 64 * 1024;
}

uint64_t sandbox_disk_inodes(uint64_t disk_kb)
{
	/* One per 4 KiB, as for a disk of small files, within bounds that
	 * keep an inode bomb small and a tiny disk usable. */
	uint64_t inodes = disk_kb / 4;
	if (inodes < 1024)
		inodes = 1024;
	if (inodes > 1048576)
		inodes = 1048576;
	return inodes;
}

uint64_t sandbox_disk_bytes(uint64_t len)
{
	return (len + 4095) & ~(uint64_t)4095;
}

bool sandbox_disk_fits(uint64_t disk_kb, uint64_t bytes, uint64_t entries)
{
	return bytes <= disk_kb * 1024 && entries + 3 <= sandbox_disk_inodes(disk_kb);
}

static bool can_raise_rlimits(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_SYS_RESOURCE / 32].effective & (1u << (CAP_SYS_RESOURCE % 32));
}

/* The first of the rlimit-backed limits above the caller's hard rlimits
 * (its index, and the most it can be), or -1; with clamp, every such limit
 * not in keep is lowered to that most instead. */
static int over_host(struct sandbox_limits *l, bool clamp, unsigned keep, size_t *index,
		     uint64_t *host_max)
{
	if (can_raise_rlimits())
		return -1;
	/* As init sets them (init.c): the hard CPU limit is the soft one,
	 * in whole seconds rounded up, plus two. */
	static const struct { int res; size_t index; uint64_t unit; } rl[] = {
		{ RLIMIT_CPU, SANDBOX_LIMIT_CPU_MS, 0 },
		{ RLIMIT_FSIZE, SANDBOX_LIMIT_FILE_SIZE_KB, 1024 },
		{ RLIMIT_NOFILE, SANDBOX_LIMIT_OPEN_FILES, 1 },
		{ RLIMIT_STACK, SANDBOX_LIMIT_STACK_KB, 1024 },
	};
	for (size_t i = 0; i < sizeof(rl) / sizeof(rl[0]); i++) {
		struct rlimit cur;
		if (getrlimit(rl[i].res, &cur) < 0 || cur.rlim_max == RLIM_INFINITY)
			continue;
		uint64_t v = sandbox_limit_get(l, rl[i].index), want, max;
		if (rl[i].res == RLIMIT_CPU) {
			want = (v + 999) / 1000 + 2;
			max = cur.rlim_max >= 3 ? (cur.rlim_max - 2) * 1000 : 0;
		} else {
			want = v * rl[i].unit;
			max = cur.rlim_max / rl[i].unit;
		}
		if (want <= cur.rlim_max || (clamp && (keep & (1u << rl[i].index))))
			continue;
		if (!clamp) {
			*index = rl[i].index;
			*host_max = max;
			return 0;
		}
		sandbox_limit_set(l, rl[i].index, max ? max : 1);
	}
	return -1;
}

int sandbox_limits_check_host(const struct sandbox_limits *l, size_t *index, uint64_t *host_max)
{
	struct sandbox_limits copy = *l;
	return over_host(&copy, false, 0, index, host_max) == 0 ? -EINVAL : 0;
}

void sandbox_limits_clamp_host(struct sandbox_limits *l, unsigned keep)
{
	over_host(l, true, keep, NULL, NULL);
}

/* What a cell accepts.  Lower bounds: what a program needs to start at all
 * (a few MB of memory, stdio and a little stack, a box).  Upper bounds keep
 * arithmetic far from overflow and a run from holding a slot for days. */
#define DAY_MS (24ull * 3600 * 1000)
#define TB_KB (1ull << 30)
static const struct { uint64_t min, max; const char *option; } limit_ranges[SANDBOX_LIMIT_COUNT] = {
	[SANDBOX_LIMIT_CPU_MS] = { 1, DAY_MS, "cpu_time" },
	[SANDBOX_LIMIT_WALL_MS] = { 1, DAY_MS, "wall_time" },
	[SANDBOX_LIMIT_MEMORY_KB] = { 1024, TB_KB, "memory" },
	[SANDBOX_LIMIT_PROCESSES] = { 1, 1000000, "processes" },
	[SANDBOX_LIMIT_OUTPUT_KB] = { 1, 1024 * 1024, "output" },
	[SANDBOX_LIMIT_FILE_SIZE_KB] = { 1, TB_KB, "file_size" },
	[SANDBOX_LIMIT_OPEN_FILES] = { 4, 1048576, "open_files" },
	[SANDBOX_LIMIT_STACK_KB] = { 64, TB_KB, "stack" },
	[SANDBOX_LIMIT_DISK_KB] = { 64, TB_KB, "disk" },
};

void sandbox_limit_range(size_t i, uint64_t *min, uint64_t *max)
{
	*min = limit_ranges[i].min;
	*max = limit_ranges[i].max;
}

int sandbox_limits_check(const struct sandbox_limits *l, const char **field)
{
	for (size_t i = 0; i < SANDBOX_LIMIT_COUNT; i++) {
		uint64_t v = sandbox_limit_get(l, i);
		if (v < limit_ranges[i].min || v > limit_ranges[i].max) {
			*field = limit_ranges[i].option;
			return -EINVAL;
		}
	}
	return 0;
}

const char *sandbox_status_name(enum sandbox_status s)
{
	switch (s) {
	case SANDBOX_OK: return "ok";
	case SANDBOX_RUNTIME_ERROR: return "runtime_error";
	case SANDBOX_SIGNALED: return "signaled";
	case SANDBOX_TIME_LIMIT: return "time_limit";
	case SANDBOX_WALL_TIME_LIMIT: return "wall_time_limit";
	case SANDBOX_MEMORY_LIMIT: return "memory_limit";
	case SANDBOX_OUTPUT_LIMIT: return "output_limit";
	case SANDBOX_INTERNAL_ERROR: return "internal_error";
	}
	return "internal_error";
}

void sandbox_result_init(struct sandbox_result *r)
{
	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	buf_init(&r->out, 0);
	buf_init(&r->err, 0);
}

void sandbox_result_free(struct sandbox_result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}
