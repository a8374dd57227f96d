/*
 * The limits the v1 backend writes into a new group, against a directory
 * of empty files standing in for a memory and pids group: which files it
 * writes and with what, where the host's kernel lacks some of them (no
 * swap accounting: no memory.memsw.*).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/internal.h"
#include "test.h"

static void make_files(const char *dir, const char *const *names)
{
	char path[400];
	for (; *names; names++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *names);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ASSERT_GE(fd, 0);
		close(fd);
	}
}

/* The file's content, "" when empty, "(absent)" when missing. */
static const char *content(const char *dir, const char *name)
{
	static char buf[64];
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "(absent)";
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Makes files in dir, then writes a new group's limits (64 MB, 10
 * processes) there, which must succeed and set the memory limit. */
static void new_group_in(const char *dir, const char *const *files)
{
	make_files(dir, files);
	struct cg_run cg;
	sandbox__cg_clear(&cg, CG_V1);
	snprintf(cg.name, sizeof(cg.name), "test");
	snprintf(cg.dirs[0], sizeof(cg.dirs[0]), "%s", dir);
	cg.ndirs = 1;
	cg.mem_dir = cg.pids_dir = 0;
	struct sandbox_limits l;
	sandbox_limits_default(&l);
	l.memory_kb = 64 * 1024;
	l.processes = 10;
	char why[300] = "";
	if (sandbox__cgv1_set_limits(&cg, &l, NULL, why, sizeof(why)) < 0)
		FAIL("set limits: %s", why);
	ASSERT_STR(content(dir, "memory.limit_in_bytes"), "67108864");
}

static void body_without_swap_accounting(const char *dir)
{
	static const char *const files[] = { "memory.limit_in_bytes", "memory.swappiness",
					     "memory.kmem.tcp.limit_in_bytes", "pids.max", NULL };
	new_group_in(dir, files);
	ASSERT_STR(content(dir, "memory.kmem.tcp.limit_in_bytes"), "67108864");
	ASSERT_STR(content(dir, "pids.max"), "10");
	/* swap would make room under the limit: the group's reclaim must not swap */
	ASSERT_STR(content(dir, "memory.swappiness"), "0");
}

TEST(cgv1_no_swap_accounting_turns_swapping_off)
{
	test_with_tmpdir(body_without_swap_accounting);
}

static void body_with_swap_accounting(const char *dir)
{
	static const char *const files[] = { "memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
					     "memory.swappiness", "memory.kmem.tcp.limit_in_bytes",
					     "pids.max", NULL };
	new_group_in(dir, files);
	ASSERT_STR(content(dir, "memory.memsw.limit_in_bytes"), "67108864");
	/* memsw already bounds memory and swap together: swappiness as it was */
	ASSERT_STR(content(dir, "memory.swappiness"), "");
}

TEST(cgv1_swap_accounting_limits_memsw)
{
	test_with_tmpdir(body_with_swap_accounting);
}

static void body_minimal_kernel(const char *dir)
{
	/* Neither memsw, swappiness nor kmem.tcp: what is there is enough. */
	static const char *const files[] = { "memory.limit_in_bytes", "pids.max", NULL };
	new_group_in(dir, files);
	ASSERT_STR(content(dir, "memory.swappiness"), "(absent)");
}

TEST(cgv1_optional_files_absent)
{
	test_with_tmpdir(body_minimal_kernel);
}
