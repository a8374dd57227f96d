/*
 * Unit tests for judge/submission: the JSON of a submission into a judge
 * request.  Every refusal names its field (with the batch prefix), nothing
 * unknown is ignored, limits may be lowered but not raised, and what is
 * accepted points at the right bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/submission.h"
#include "test.h"

static struct lang_registry *sub_registry(void)
{
	static struct lang_registry *reg;
	if (!reg) {
		char dir[4096], why[256];
		lang_default_dir(dir, sizeof(dir));
		if (lang_registry_load(dir, &reg, why, sizeof(why)) < 0)
			FAIL("cannot load languages: %s", why);
		/* No probe: mark them available, the parser only reads data. */
		for (size_t i = 0; i < lang_count(reg); i++)
			((struct lang *)lang_at(reg, i))->available = true;
	}
	return reg;
}

static struct submission_policy sub_policy(void)
{
	struct submission_policy p;
	sandbox_limits_default(&p.defaults);
	p.max = p.defaults;
	p.max.cpu_ms = 5000;
	p.max_tests = 3;
	return p;
}

/* Parses text; returns the status (0 when accepted) and keeps err. */
static int sub_try(const char *text, const char *prefix, struct submission_error *err)
{
	struct json_value *root;
	if (submission_parse_body(text, strlen(text), 1 << 20, &root, err) < 0)
		return err->status;
	struct submission s;
	struct submission_policy pol = sub_policy();
	int rc = submission_from_json(root, prefix, sub_registry(), &pol, &s, err);
	if (rc == 0)
		submission_free(&s);
	json_free(root);
	return rc == 0 ? 0 : err->status;
}

#define REFUSED(text_, status_, field_)                                           \
	do {                                                                      \
		struct submission_error e_;                                       \
		int st_ = sub_try(text_, "", &e_);                                \
		if (st_ != (status_) || strcmp(e_.field, field_))                 \
			FAIL("%s: got %d %s (%s), expected %d %s", text_, st_,     \
			     e_.field, e_.message, status_, field_);              \
	} while (0)

TEST(submission_minimal)
{
	const char *text = "{\"language\":\"py\",\"source\":\"print(1)\",\"stdin\":\"x\"}";
	struct json_value *root;
	struct submission_error err;
	ASSERT_EQ(submission_parse_body(text, strlen(text), 1 << 20, &root, &err), 0);
	struct submission s;
	struct submission_policy pol = sub_policy();
	ASSERT_EQ(submission_from_json(root, "", sub_registry(), &pol, &s, &err), 0);
	ASSERT_STR(s.lang->id, "python3");
	ASSERT_EQ(s.req.nsources, 1);
	ASSERT_STR(s.req.sources[0].name, "main.py");
	ASSERT_MEM(s.req.sources[0].data, s.req.sources[0].len, "print(1)", 8);
	ASSERT_EQ(s.req.ntests, 1);
	ASSERT_MEM(s.req.tests[0].input, s.req.tests[0].input_len, "x", 1);
	ASSERT_NULL(s.req.tests[0].expected);
	ASSERT_EQ(s.req.limits.cpu_ms, pol.defaults.cpu_ms);
	ASSERT_NULL(s.callback_url);
	submission_free(&s);
	json_free(root);
}

TEST(submission_full)
{
	const char *text =
		"{\"language\":\"c\",\"files\":[{\"name\":\"a.c\",\"content\":\"aW50IG1haW47\","
		"\"encoding\":\"base64\"},{\"name\":\"b.h\",\"content\":\"#define X\"}],"
		"\"tests\":[{\"stdin\":\"1\",\"expected_output\":\"2\"},{\"name\":\"big\"}],"
		"\"checker\":\"tokens\",\"args\":[\"-v\"],\"first_failure\":true,"
		"\"limits\":{\"cpu_ms\":100,\"memory_kb\":65536},"
		"\"callback_url\":\"http://127.0.0.1:9/x\",\"metadata\":{\"k\":[1,2]}}";
	struct json_value *root;
	struct submission_error err;
	ASSERT_EQ(submission_parse_body(text, strlen(text), 1 << 20, &root, &err), 0);
	struct submission s;
	struct submission_policy pol = sub_policy();
	ASSERT_EQ(submission_from_json(root, "", sub_registry(), &pol, &s, &err), 0);
	ASSERT_EQ(s.req.nsources, 2);
	ASSERT_STR(s.req.sources[0].name, "main.c"); /* the entry takes the language's name */
	ASSERT_MEM(s.req.sources[0].data, s.req.sources[0].len, "int main;", 9);
	ASSERT_STR(s.req.sources[1].name, "b.h");
	ASSERT_EQ(s.req.ntests, 2);
	ASSERT_STR(s.req.tests[0].name, "1");
	ASSERT_STR(s.req.tests[1].name, "big");
	ASSERT_MEM(s.req.tests[0].expected, s.req.tests[0].expected_len, "2", 1);
	ASSERT_NULL(s.req.tests[1].expected);
	ASSERT_TRUE(s.req.first_failure);
	ASSERT_STR(s.req.args[0], "-v");
	ASSERT_NULL(s.req.args[1]);
	ASSERT_EQ(s.req.limits.cpu_ms, 100);
	ASSERT_EQ(s.req.limits.memory_kb, 65536);
	ASSERT_EQ(s.req.limits.wall_ms, pol.defaults.wall_ms);
	ASSERT_STR(s.callback_url, "http://127.0.0.1:9/x");
	ASSERT_NOT_NULL(s.metadata);
	submission_free(&s);
	json_free(root);
}

TEST(submission_refusals_name_the_field)
{
	REFUSED("", 400, "body");
	REFUSED("{", 400, "body");
	REFUSED("[1]", 422, "body");
	REFUSED("{}", 422, "language");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"\":1}", 422, "\"\"");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"limits\":{\"\":1}}", 422, "limits.\"\"");
	REFUSED("{\"language\":7,\"source\":\"x\"}", 422, "language");
	REFUSED("{\"language\":\"cobol\",\"source\":\"x\"}", 422, "language");
	REFUSED("{\"language\":\"c\"}", 422, "source");
	REFUSED("{\"language\":\"c\",\"source\":\"\"}", 422, "source");
	REFUSED("{\"language\":\"c\",\"source\":1}", 422, "source");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"files\":[]}", 422, "files");
	REFUSED("{\"language\":\"c\",\"lang\":\"c\",\"source\":\"x\"}", 422, "lang");
	REFUSED("{\"language\":\"c\",\"files\":[{\"name\":\"a/b\",\"content\":\"x\"}]}", 422,
		"files[0].name");
	REFUSED("{\"language\":\"c\",\"files\":[{\"name\":\"a\",\"content\":\"%%\",\"encoding\":\"base64\"}]}",
		422, "files[0].content");
	REFUSED("{\"language\":\"c\",\"files\":[{\"name\":\"a\",\"content\":\"x\",\"mode\":1}]}", 422,
		"files[0].mode");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"limits\":{\"cpu_ms\":5001}}", 422,
		"limits.cpu_ms");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"limits\":{\"cpu_ms\":0}}", 422,
		"limits.cpu_ms");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"limits\":{\"cpu_ms\":1.5}}", 422,
		"limits.cpu_ms");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"limits\":{\"cpu\":1}}", 422, "limits.cpu");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"stdin\":\"a\",\"tests\":[{}]}", 422, "stdin");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"tests\":[{},{},{},{}]}", 422, "tests");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"tests\":[{\"stdin\":5}]}", 422,
		"tests[0].stdin");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"checker\":\"regex\"}", 422, "checker");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"args\":[1]}", 422, "args[0]");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"first_failure\":\"yes\"}", 422,
		"first_failure");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"callback_url\":\"ftp://x/\"}", 422,
		"callback_url");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"callback_url\":\"https://10.0.0.1/\"}", 422,
		"callback_url");
	REFUSED("{\"language\":\"c\",\"source\":\"x\",\"metadata\":[1]}", 422, "metadata");
}

TEST(submission_batch_prefix)
{
	struct submission_error e;
	ASSERT_EQ(sub_try("{\"language\":\"c\",\"source\":\"x\",\"limits\":{\"wall_ms\":-1}}",
			  "submissions[4].", &e),
		  422);
	ASSERT_STR(e.field, "submissions[4].limits.wall_ms");
	ASSERT_EQ(sub_try("3", "submissions[2].", &e), 422);
	ASSERT_STR(e.field, "submissions[2]");
}

TEST(submission_metadata_cap)
{
	char text[8192];
	char big[5000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "{\"language\":\"c\",\"source\":\"x\",\"metadata\":{\"k\":\"%s\"}}", big);
	REFUSED(text, 422, "metadata");
}

/* Thousands of near-valid submissions (a valid one with bytes flipped,
 * JSON tokens inserted, runs deleted or the end cut): each is accepted or
 * refused with 400 or 422 and a field named, never anything else, and
 * nothing leaks or overruns (the ASan build runs this too). */
TEST(submission_mutations_refused_cleanly)
{
	static const char *const seeds[] = {
		"{\"language\":\"c\",\"files\":[{\"name\":\"a.c\",\"content\":\"aW50IG1haW47\","
		"\"encoding\":\"base64\"},{\"name\":\"b.h\",\"content\":\"#define X\"}],"
		"\"tests\":[{\"stdin\":\"1\",\"expected_output\":\"2\"},{\"name\":\"big\"}],"
		"\"checker\":\"tokens\",\"args\":[\"-v\"],\"first_failure\":true,"
		"\"limits\":{\"cpu_ms\":100,\"memory_kb\":65536},"
		"\"callback_url\":\"http://127.0.0.1:9/x\",\"metadata\":{\"k\":[1,2]}}",
		"{\"language\":\"python3\",\"source\":\"print(input())\",\"stdin\":\"x\","
		"\"expected_output\":\"x\\n\",\"checker\":\"float\",\"limits\":{\"wall_ms\":900}}",
	};
	static const char *const tokens[] = { "\"", "{", "}", "[", "]", ",", ":", "null", "-1",
					      "1e999", "0.5", "\\u0000", "\\ud800", "true",
					      "18446744073709551616", "\"\":", "\\", "\xff", "\n" };
	srand(11);
	int accepted = 0, refused = 0;
	for (int i = 0; i < 4000; i++) {
		char text[2048];
		const char *seed = seeds[(size_t)i % (sizeof(seeds) / sizeof(seeds[0]))];
		size_t len = test_mutate(text, sizeof(text) - 1, seed, tokens,
					 sizeof(tokens) / sizeof(tokens[0]), true);
		text[len] = '\0';
		struct submission_error err;
		memset(&err, 0, sizeof(err));
		int st = sub_try(text, "", &err);
		if (st == 0) {
			accepted++;
			continue;
		}
		refused++;
		if (st != 400 && st != 422)
			FAIL("status %d for %s", st, text);
		if (!err.field[0] || !err.message[0])
			FAIL("refused %d without a field or message: %s", st, text);
	}
	ASSERT_GT(accepted, 50);
	ASSERT_GT(refused, 2000);
}
