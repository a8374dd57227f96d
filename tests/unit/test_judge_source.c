/*
 * Unit tests for where judge_submit_from gets its cell: opened only when a
 * run needs it, and a submission's only run offered first to run_once (a
 * keeper's cell), which may take it, decline it or break off.  The offer
 * side is a stand-in here: what the keeper itself does is covered by the
 * judge suite's keeper case and the hostile suite's keeper pass.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "judge/judge.h"
#include "lang/lang.h"
#include "test.h"

struct counts {
	int opens, offers;
	int answer;              /* what run_once returns */
	const char *out;         /* its program's stdout when it takes the run */
	char argv0[64];
	bool preload_asked, saw_stdin, saw_readonly_source;
	struct sandbox_cell *cell;  /* opened for real (needs root) */
	bool really_open;
};

static int count_open(void *ctx, struct sandbox_cell **cell, char *why, size_t len)
{
	struct counts *c = ctx;
	c->opens++;
	if (!c->really_open) {
		snprintf(why, len, "no cell in this test");
		return -ENOENT;
	}
	struct sandbox_cell_config cfg = { .lazy = true };
	int rc = sandbox_cell_open(&cfg, cell, why, len);
	if (rc == 0)
		c->cell = *cell;
	return rc;
}

static int count_offer(void *ctx, const struct sandbox_run_spec *spec, struct sandbox_result *r)
{
	struct counts *c = ctx;
	c->offers++;
	snprintf(c->argv0, sizeof(c->argv0), "%s", spec->argv[0]);
	c->preload_asked = spec->preload;
	c->saw_stdin = spec->stdin_fd >= 0;
	for (size_t i = 0; i < spec->nfiles; i++)
		if (!strcmp(spec->files[i].path, "main.py") && spec->files[i].readonly)
			c->saw_readonly_source = true;
	if (c->answer == 1) {
		r->status = SANDBOX_OK;
		r->exit_code = 0;
		buf_append(&r->out, c->out, strlen(c->out));
		snprintf(r->message, sizeof(r->message), "exited normally");
	} else if (c->answer < 0) {
		r->status = SANDBOX_INTERNAL_ERROR;
		r->exit_code = -1;
		snprintf(r->message, sizeof(r->message), "the keeper broke off during the run");
	}
	return c->answer;
}

static struct lang_registry *registry(void)
{
	unsetenv("RUNCELL_LANGUAGES");
	char dir[4096], why[512] = "";
	struct lang_registry *reg = NULL;
	if (lang_registry_load(lang_default_dir(dir, sizeof(dir)), &reg, why, sizeof(why)) < 0)
		FAIL("loading the languages: %s", why);
	return reg;
}

/* A python3 submission printing a+b, with n tests of input "20 22". */
static void python_request(struct judge_request *req, const struct lang *l,
			   const struct judge_source *src, struct judge_test *tests, size_t n)
{
	memset(req, 0, sizeof(*req));
	req->lang = l;
	req->sources = src;
	req->nsources = 1;
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct judge_test){ .name = i ? "2" : "1", .input = "20 22\n",
						.input_len = 6, .expected = "42\n", .expected_len = 3 };
	req->tests = tests;
	req->ntests = n;
	checker_parse(NULL, &req->checker);
	sandbox_limits_default(&req->limits);
	req->cell_last_use = true;
}

#define SUM_PY "a, b = map(int, input().split())\nprint(a + b)\n"
static const struct judge_source sum_py = { "main.py", SUM_PY, sizeof(SUM_PY) - 1 };

TEST(judge_single_run_taken_elsewhere_opens_no_cell)
{
	struct lang_registry *reg = registry();
	struct judge_request req;
	struct judge_test tests[1];
	python_request(&req, lang_find(reg, "python3"), &sum_py, tests, 1);
	const char *outs[] = { "42\n", "41\n" };
	const enum judge_verdict want[] = { JUDGE_ACCEPTED, JUDGE_WRONG_ANSWER };
	for (int i = 0; i < 2; i++) {
		struct counts c = { .answer = 1, .out = outs[i] };
		struct judge_cell_source src = { count_open, count_offer, &c };
		struct judge_result res;
		ASSERT_EQ(judge_submit_from(&src, &req, &res), 0);
		ASSERT_EQ(c.offers, 1);
		ASSERT_EQ(c.opens, 0);
		ASSERT_EQ(res.verdict, want[i]);
		ASSERT_EQ(res.ntests, 1);
		ASSERT_STR(c.argv0, "/usr/bin/python3");
		/* As the judge would run it: the source forks it from a
		 * preloader if its cell has one (runcell keep --preload). */
		ASSERT_TRUE(c.preload_asked);
		ASSERT_TRUE(c.saw_stdin);
		ASSERT_TRUE(c.saw_readonly_source);
		judge_result_free(&res);
	}
	lang_registry_free(reg);
}

TEST(judge_single_run_broken_off_is_internal_error_not_rerun)
{
	struct lang_registry *reg = registry();
	struct judge_request req;
	struct judge_test tests[1];
	python_request(&req, lang_find(reg, "python3"), &sum_py, tests, 1);
	struct counts c = { .answer = -EIO };
	struct judge_cell_source src = { count_open, count_offer, &c };
	struct judge_result res;
	ASSERT_EQ(judge_submit_from(&src, &req, &res), 0);
	ASSERT_EQ(c.offers, 1);
	ASSERT_EQ(c.opens, 0);
	ASSERT_EQ(res.verdict, JUDGE_INTERNAL_ERROR);
	ASSERT_TRUE(strstr(res.message, "broke off") != NULL);
	judge_result_free(&res);
	lang_registry_free(reg);
}

TEST(judge_offers_only_a_single_run_and_refusals_open_nothing)
{
	struct lang_registry *reg = registry();
	struct judge_request req;
	struct judge_test tests[2];
	struct judge_result res;
	/* two tests: the cell runs both, nothing is offered */
	python_request(&req, lang_find(reg, "python3"), &sum_py, tests, 2);
	struct counts c = { .answer = 1, .out = "42\n" };
	struct judge_cell_source src = { count_open, count_offer, &c };
	ASSERT_EQ(judge_submit_from(&src, &req, &res), -ENOENT);
	ASSERT_EQ(c.offers, 0);
	ASSERT_EQ(c.opens, 1);
	ASSERT_TRUE(strstr(res.message, "no cell in this test") != NULL);
	judge_result_free(&res);
	/* a compiled language: the compile needs the cell first */
#define HELLO_C "int main(void){return 0;}\n"
	static const struct judge_source hello_c = { "main.c", HELLO_C, sizeof(HELLO_C) - 1 };
	python_request(&req, lang_find(reg, "c"), &hello_c, tests, 1);
	memset(&c, 0, sizeof(c));
	c.answer = 1;
	ASSERT_EQ(judge_submit_from(&src, &req, &res), -ENOENT);
	ASSERT_EQ(c.offers, 0);
	ASSERT_EQ(c.opens, 1);
	judge_result_free(&res);
	/* a request judge_check refuses: no cell, no offer */
	static const struct judge_source empty = { "main.py", "", 0 };
	python_request(&req, lang_find(reg, "python3"), &empty, tests, 1);
	memset(&c, 0, sizeof(c));
	c.answer = 1;
	ASSERT_EQ(judge_submit_from(&src, &req, &res), -EINVAL);
	ASSERT_EQ(c.offers + c.opens, 0);
	judge_result_free(&res);
	lang_registry_free(reg);
}

TEST(judge_single_run_declined_runs_in_the_cell)
{
	if (geteuid() != 0)
		test_skip("building a cell needs root");
	if (access("/usr/bin/python3", X_OK) != 0)
		test_skip("no /usr/bin/python3");
	struct lang_registry *reg = registry();
	struct judge_request req;
	struct judge_test tests[1];
	python_request(&req, lang_find(reg, "python3"), &sum_py, tests, 1);
	struct counts c = { .answer = 0, .really_open = true };
	struct judge_cell_source src = { count_open, count_offer, &c };
	struct judge_result res;
	int rc = judge_submit_from(&src, &req, &res);
	sandbox_cell_close(c.cell);
	ASSERT_EQ(rc, 0);
	ASSERT_EQ(c.offers, 1);
	ASSERT_EQ(c.opens, 1);
	ASSERT_EQ(res.verdict, JUDGE_ACCEPTED);
	ASSERT_EQ(res.tests[0].run.out.len, 3);
	ASSERT_TRUE(memcmp(res.tests[0].run.out.data, "42\n", 3) == 0);
	judge_result_free(&res);
	lang_registry_free(reg);
}
