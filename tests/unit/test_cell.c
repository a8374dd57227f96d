/*
 * A warm cell's last run (sandbox_run_spec.last_run), through the C API:
 * it runs and reports like any other run, and afterwards the cell refuses
 * whatever would need its init, which has left.  Builds real cells, so it
 * needs root (namespaces, mounts, cgroups); skipped otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "sandbox/sandbox.h"
#include "test.h"

static void run_echo(struct sandbox_cell *cell, const char *word, bool last)
{
	const char *argv[] = { "/bin/echo", word, NULL };
	struct sandbox_run_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.stdin_fd = -1;
	spec.last_run = last;
	sandbox_limits_default(&spec.limits);
	struct sandbox_result r;
	sandbox_result_init(&r);
	ASSERT_EQ(sandbox_cell_run(cell, &spec, &r), 0);
	if (r.status != SANDBOX_OK)
		FAIL("echo %s: %s: %s", word, sandbox_status_name(r.status), r.message);
	char want[64];
	snprintf(want, sizeof(want), "%s\n", word);
	ASSERT_STR(r.out.data, want);
	sandbox_result_free(&r);
}

TEST(cell_last_run_then_refused)
{
	if (geteuid() != 0)
		test_skip("building a cell needs root");
	struct sandbox_cell_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	struct sandbox_cell *cell = NULL;
	char why[512] = "";
	if (sandbox_cell_open(&cfg, &cell, why, sizeof(why)) < 0)
		FAIL("open: %s", why);
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
