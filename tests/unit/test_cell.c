/*
 * A warm cell's last run (sandbox_run_spec.last_run), through the C API:
 * it runs and reports like any other run, and afterwards the cell refuses
 * whatever would need its init, which has left.  Builds real cells, so it
 * needs root (namespaces, mounts, cgroups); skipped otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "sandbox/cgroup_mounts.h"
#include "sandbox/internal.h"
#include "sandbox/sandbox.h"
#include "test.h"

/* A warm cell with the default config (skips the test without root). */
static struct sandbox_cell *open_test_cell(void)
{
	if (geteuid() != 0)
		test_skip("building a cell needs root");
	struct sandbox_cell_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	struct sandbox_cell *cell = NULL;
	char why[512] = "";
	if (sandbox_cell_open(&cfg, &cell, why, sizeof(why)) < 0)
		FAIL("open: %s", why);
	return cell;
}

/* Runs argv in the cell, which must end ok; the caller frees r. */
static void run_ok(struct sandbox_cell *cell, const char *const *argv, bool last, bool keep_box,
		   struct sandbox_result *r)
{
	struct sandbox_run_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.stdin_fd = -1;
	spec.last_run = last;
	spec.keep_box = keep_box;
	sandbox_limits_default(&spec.limits);
	sandbox_result_init(r);
	ASSERT_EQ(sandbox_cell_run(cell, &spec, r), 0);
	if (r->status != SANDBOX_OK)
		FAIL("%s %s: %s: %s", argv[0], argv[1] ? argv[1] : "", sandbox_status_name(r->status),
		     r->message);
}

static void run_echo(struct sandbox_cell *cell, const char *word, bool last)
{
	const char *argv[] = { "/bin/echo", word, NULL };
	struct sandbox_result r;
	run_ok(cell, argv, last, false, &r);
	char want[64];
	snprintf(want, sizeof(want), "%s\n", word);
	ASSERT_STR(r.out.data, want);
	sandbox_result_free(&r);
}

TEST(cell_last_run_then_refused)
{
	struct sandbox_cell *cell = open_test_cell();
	run_echo(cell, "one", false);
	ASSERT_TRUE(sandbox_cell_usable(cell));
	run_echo(cell, "two", true);
	ASSERT_FALSE(sandbox_cell_usable(cell));

	const char *argv[] = { "/bin/true", NULL };
	struct sandbox_run_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.stdin_fd = -1;
	sandbox_limits_default(&spec.limits);
	struct sandbox_result r;
	sandbox_result_init(&r);
	ASSERT_EQ(sandbox_cell_run(cell, &spec, &r), 0);
	ASSERT_EQ(r.status, SANDBOX_INTERNAL_ERROR);
	if (!strstr(r.message, "last run"))
		FAIL("the refusal should say why: %s", r.message);
	sandbox_result_free(&r);
	struct buf b;
	ASSERT_EQ(sandbox_cell_fetch(cell, "anything", 16, &b), -EIO);
	ASSERT_EQ(sandbox_cell_list(cell, "", &b), -EIO);
	sandbox_cell_close(cell);
}

/* Two threads, each with its own warm cell, place a 1 MiB file of their own
 * letter and count the other letters in it.  The message that carries a
 * file into a cell was built in a static buffer that every thread shared:
 * under the server's workers one submission got another's source. */
struct letter_job {
	char letter;
	int rounds;
	char why[256];
};

static void *letter_rounds(void *arg)
{
	struct letter_job *j = arg;
	struct sandbox_cell_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.reexec = true;  /* a multithreaded caller, as the server's workers */
	struct sandbox_cell *cell = NULL;
	if (sandbox_cell_open(&cfg, &cell, j->why, sizeof(j->why)) < 0)
		return NULL;
	enum { SIZE = 1 << 20 };
	char *data = malloc(SIZE);
	if (!data) {
		snprintf(j->why, sizeof(j->why), "out of memory");
		sandbox_cell_close(cell);
		return NULL;
	}
	memset(data, j->letter, SIZE);
	char script[64];
	snprintf(script, sizeof(script), "tr -d %c < f | wc -c", j->letter);
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	for (int i = 0; i < j->rounds && !j->why[0]; i++) {
		struct sandbox_file f = { .path = "f", .fd = -1, .data = data, .len = SIZE };
		struct sandbox_run_spec spec;
		memset(&spec, 0, sizeof(spec));
		spec.argv = argv;
		spec.stdin_fd = -1;
		spec.files = &f;
		spec.nfiles = 1;
		sandbox_limits_default(&spec.limits);
		struct sandbox_result r;
		sandbox_result_init(&r);
		if (sandbox_cell_run(cell, &spec, &r) < 0 || r.status != SANDBOX_OK)
			snprintf(j->why, sizeof(j->why), "round %d: %s: %.200s", i,
				 sandbox_status_name(r.status), r.message);
		else if (!r.out.data || strcmp(r.out.data, "0\n"))
			snprintf(j->why, sizeof(j->why), "round %d: the file of %c held %s bytes of "
				 "another letter", i, j->letter, r.out.data ? r.out.data : "(none)");
		sandbox_result_free(&r);
	}
	free(data);
	sandbox_cell_close(cell);
	return NULL;
}

TEST(cell_threads_keep_their_files)
{
	if (geteuid() != 0)
		test_skip("building a cell needs root");
	struct letter_job jobs[2] = { { 'a', 40, "" }, { 'b', 40, "" } };
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(pthread_create(&t[i], NULL, letter_rounds, &jobs[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++)
		if (jobs[i].why[0])
			FAIL("%c: %s", jobs[i].letter, jobs[i].why);
}

/* A run with keep_box leaves its files for sandbox_cell_fetch; any other
 * run's box is emptied as soon as it is over, before the next run asks. */
static void run_writer(struct sandbox_cell *cell, const char *text, bool keep_box)
{
	char script[96];
	snprintf(script, sizeof(script), "set -e; echo %s > out; mkdir d; echo %s > d/x", text, text);
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct sandbox_result r;
	run_ok(cell, argv, false, keep_box, &r);
	sandbox_result_free(&r);
}

TEST(cell_keep_box_for_fetch_only)
{
	struct sandbox_cell *cell = open_test_cell();
	struct buf b;
	run_writer(cell, "kept", true);
	ASSERT_EQ(sandbox_cell_fetch(cell, "out", 64, &b), 0);
	ASSERT_STR(b.data, "kept\n");
	buf_free(&b);
	ASSERT_EQ(sandbox_cell_fetch(cell, "d/x", 64, &b), 0);
	ASSERT_STR(b.data, "kept\n");
	buf_free(&b);

	run_writer(cell, "gone", false);
	ASSERT_EQ(sandbox_cell_fetch(cell, "out", 64, &b), -ENOENT);
	ASSERT_EQ(sandbox_cell_fetch(cell, "d/x", 64, &b), -ENOENT);
	ASSERT_EQ(sandbox_cell_list(cell, "", &b), 0);
	ASSERT_EQ(b.len, 0);
	buf_free(&b);

	/* and the next run starts from an empty box either way */
	run_writer(cell, "kept", true);
	run_writer(cell, "again", true);
	ASSERT_EQ(sandbox_cell_fetch(cell, "out", 64, &b), 0);
	ASSERT_STR(b.data, "again\n");
	buf_free(&b);
	sandbox_cell_close(cell);
}

/* The v1 memory groups under runcell/, as " name:inode ...", so that a
 * group made again under an old name (a slot's sweep) counts as new. */
static void group_names(char *out, size_t len)
{
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/runcell", sandbox__cg_mounts()->v1_memory);
	DIR *d = opendir(dir);
	ASSERT_NOT_NULL(d);
	size_t used = snprintf(out, len, " ");
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_type == DT_DIR && e->d_name[0] != '.' && strchr(e->d_name, '.') &&
		    used < len)
			used += snprintf(out + used, len - used, "%s:%lu ", e->d_name,
					 (unsigned long)e->d_ino);
	closedir(d);
}

/* The name of the one group that is not in before ("" when none is). */
static void new_group(const char *before, char *name, size_t len)
{
	char now[4096], word[300];
	group_names(now, sizeof(now));
	name[0] = '\0';
	for (const char *p = now + 1; *p; p = strchr(p, ' ') + 1) {
		size_t n = (size_t)(strchr(p, ' ') - p);
		snprintf(word, sizeof(word), " %.*s ", (int)n, p);
		if (!strstr(before, word)) {
			if (name[0])
				FAIL("two new groups: %s and %.*s", name, (int)n, p);
			snprintf(name, len, "%.*s", (int)(strchr(p, ':') - p), p);
		}
	}
}

/* The kept v1 memory group of the cell's slot (prefix "SLOT."): its name,
 * or "" when there is none. */
static void slot_group(const char *prefix, char *name, size_t len)
{
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/runcell", sandbox__cg_mounts()->v1_memory);
	DIR *d = opendir(dir);
	ASSERT_NOT_NULL(d);
	name[0] = '\0';
	int found = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_type != DT_DIR || !strchr(e->d_name, '.') || e->d_name[0] == '.' ||
		    strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(name, len, "%s", e->d_name);
		found++;
	}
	closedir(d);
	if (found > 1)
		FAIL("%d groups for one cell under %s", found, dir);
}

/* A run that leaves sockets the kernel's collector does not free leaves
 * their buffers charged to the kept v1 group: the next run must get a new
 * group (init answers its request with REGROUP, the supervisor makes one
 * and asks again), and still run.  No program can be relied on to leave
 * such sockets, so init is told to act as if each run had. */
static void regroup_runs(bool sockets_left, char names[3][256])
{
	sandbox__test_sockets_left = sockets_left;  /* read by init, forked at the open */
	struct sandbox_cell *cell = open_test_cell();
	sandbox__test_sockets_left = false;
	/* The slot's groups are "SLOT.N": the first run's is the one new
	 * group (other cells on the host, a keeper's, have theirs). */
	char prefix[64] = "", before[4096];
	group_names(before, sizeof(before));
	static const char *const words[] = { "one", "two", "three" };
	for (int i = 0; i < 3; i++) {
		run_echo(cell, words[i], false);
		if (i == 0)
			new_group(before, names[i], sizeof(names[i]));
		else
			slot_group(prefix, names[i], sizeof(names[i]));
		if (!names[i][0])
			FAIL("no kept memory group after run %d", i + 1);
		if (i == 0) {
			snprintf(prefix, sizeof(prefix), "%s", names[i]);
			*(strchr(prefix, '.') + 1) = '\0';
			slot_group(prefix, names[i], sizeof(names[i]));  /* the only one */
		}
	}
	sandbox_cell_close(cell);
}

/* Skips the case unless cells can be built here and get v1 groups. */
static void skip_unless_v1(const char *what)
{
	char why[512];
	if (geteuid() != 0)
		test_skip("building a cell needs root");
	if (strncmp(sandbox_cgroup_describe(SANDBOX_CGROUP_AUTO, why, sizeof(why)), "cgroup v1", 9))
		test_skip("%s is v1's (this host: %s)", what, why);
}

TEST(cell_new_v1_group_after_sockets_left)
{
	skip_unless_v1("a kept group");
	char kept[3][256], renewed[3][256];
	regroup_runs(false, kept);
	ASSERT_STR(kept[1], kept[0]);
	ASSERT_STR(kept[2], kept[0]);
	regroup_runs(true, renewed);
	ASSERT_TRUE(strcmp(renewed[1], renewed[0]) != 0);
	ASSERT_TRUE(strcmp(renewed[2], renewed[1]) != 0);
}

/* A v1 cell built ahead has its group before its first run, which runs in
 * it and is counted as a new group's: the run's CPU time and memory, and
 * none of the group is left after the close. */
TEST(cell_ahead_v1_group_made_before_the_run)
{
	char why[512];
	skip_unless_v1("a group made ahead");
	struct sandbox_cell_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ahead = true;
	struct sandbox_cell *cell = NULL;
	char groups_before[4096], before[256], after[256], prefix[256];
	group_names(groups_before, sizeof(groups_before));
	if (sandbox_cell_open(&cfg, &cell, why, sizeof(why)) < 0)
		FAIL("open: %s", why);
	new_group(groups_before, before, sizeof(before));  /* other cells may have theirs */
	if (!before[0])
		FAIL("no group right after an open with config.ahead");
	static const char *const argv[] = {
		"/usr/bin/python3", "-c",
		"import time\nb = bytearray(30 << 20)\nt = time.process_time()\n"
		"while time.process_time() - t < 0.2: pass\n", NULL,
	};
	struct sandbox_result r;
	run_ok(cell, argv, true, false, &r);
	ASSERT_GE(r.memory_kb, 30 * 1024);
	ASSERT_LE(r.memory_kb, 48 * 1024);
	ASSERT_GE(r.cpu_ms, 190);
	ASSERT_LE(r.cpu_ms, 400);
	sandbox_result_free(&r);
	snprintf(prefix, sizeof(prefix), "%s", before);
	*(strchr(prefix, '.') + 1) = '\0';
	slot_group(prefix, after, sizeof(after));
	ASSERT_STR(after, before);  /* the run had the group made ahead */
	sandbox_cell_end(cell);
	slot_group(prefix, after, sizeof(after));
	ASSERT_STR(after, "");
	sandbox_cell_close(cell);
}

/* One run of a 200 MB Python allocation with --memory=MB in a fresh cell. */
static void run_hog(uint64_t memory_mb, struct sandbox_result *r)
{
	static const char *const argv[] = {
		"/usr/bin/python3", "-c",
		"b = bytearray(200 << 20)\nb[::4096] = b'x' * len(b[::4096])\n", NULL,
	};
	struct sandbox_cell_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	struct sandbox_run_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.stdin_fd = -1;
	sandbox_limits_default(&spec.limits);
	spec.limits.memory_kb = memory_mb * 1024;
	sandbox_result_init(r);
	ASSERT_EQ(sandbox_run(&cfg, &spec, r), 0);
}

/* An OOM kill that came from a limit above the cell (here: runcell's own
 * v1 memory group limited to 96 MB, below the run's 256 MB) is still
 * memory_limit, and its message says so instead of naming the cell's
 * limit as exceeded; the cell's own limit reached keeps its message.
 * The host's runcell group gets its limit back right after the run. */
TEST(cell_v1_oom_above_the_cell_said)
{
	skip_unless_v1("runcell's own v1 memory group");
	char path[400], old[64] = "";
	snprintf(path, sizeof(path), "%s/runcell/memory.limit_in_bytes",
		 sandbox__cg_mounts()->v1_memory);
	FILE *f = fopen(path, "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(old, sizeof(old), f));
	fclose(f);
	struct sandbox_result own, above;
	run_hog(64, &own);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs("96M", f);
	ASSERT_EQ(fclose(f), 0);
	run_hog(256, &above);
	f = fopen(path, "w");
	bool restored = f && fputs(old, f) >= 0;
	if (f && fclose(f) != 0)
		restored = false;
	ASSERT_TRUE(restored);
	ASSERT_EQ(own.status, SANDBOX_MEMORY_LIMIT);
	ASSERT_STR(own.message, "memory limit of 65536 KB exceeded (out-of-memory kill)");
	ASSERT_EQ(above.status, SANDBOX_MEMORY_LIMIT);
	if (!strstr(above.message, "below the cell's memory limit of 262144 KB: a limit above the "
				   "cell ran out"))
		FAIL("message: %s", above.message);
	ASSERT_LE(above.memory_kb, 100 * 1024);
	sandbox_result_free(&own);
	sandbox_result_free(&above);
}
