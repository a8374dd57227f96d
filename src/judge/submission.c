/*
 * submission: the JSON of one submission into a judge request.
 *
 * Strict by design: an unknown field, a wrong type or a limit above the
 * server's maximum is refused with the field's path, never ignored or
 * clamped, so a client's typo ("lang", "cpu_time") cannot silently run
 * something other than what was meant.
 */
#include "judge/submission.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/url.h"
#include "core/base64.h"

static int refuse(struct submission_error *err, int status, const char *prefix,
		  const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int refuse(struct submission_error *err, int status, const char *prefix,
		  const char *field, const char *fmt, ...)
{
	err->status = status;
	snprintf(err->field, sizeof(err->field), "%s%s", prefix, field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static bool key_in(const char *key, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (!strcmp(key, *allowed))
			return true;
	return false;
}

/* Every member of obj must be one of allowed. */
static int only_known(const struct json_value *obj, const char *const *allowed,
		      const char *prefix, const char *where, struct submission_error *err)
{
	for (size_t i = 0; i < obj->u.obj.n; i++) {
		const char *k = obj->u.obj.members[i].key;
		if (strlen(k) != obj->u.obj.members[i].key_len) {
			/* a NUL inside: the name would be cut at it in a message */
			char f[64];
			snprintf(f, sizeof(f), "%s%.40s", where, *k ? k : "\"\"");
			return refuse(err, 422, prefix, f, "a field name holds a NUL character "
				      "(after '%.40s')", k);
		}
		if (!key_in(k, allowed)) {
			char f[64];
			/* An empty key is named as "", so the field is never
			 * empty. */
			snprintf(f, sizeof(f), "%s%.40s", where, *k ? k : "\"\"");
			return refuse(err, 422, prefix, f, "unknown field '%.40s'", k);
		}
	}
	return 0;
}

/* An optional string member: 0 (set or left alone when absent), -1. */
static int opt_string(const struct json_value *obj, const char *key, const char *prefix,
		      const char **out, size_t *len, struct submission_error *err)
{
	int rc = json_get_str(obj, key, out, len);
	if (rc == -EINVAL)
		return refuse(err, 422, prefix, key, "%s must be a string", key);
	return 0;
}

/* The same for a name-like member (a checker, a URL), which never holds a
 * NUL: one would cut it short in every message about it. */
static int opt_text(const struct json_value *obj, const char *key, const char *prefix,
		    const char **out, size_t *len, struct submission_error *err)
{
	if (opt_string(obj, key, prefix, out, len, err) < 0)
		return -1;
	if (*out && strlen(*out) != *len)
		return refuse(err, 422, prefix, key, "%s holds a NUL character", key);
	return 0;
}

static int read_limits(const struct json_value *root, const char *prefix,
		       const struct submission_policy *pol, struct sandbox_limits *out,
		       struct submission_error *err)
{
	*out = pol->defaults;
	const struct json_value *v = json_get(root, "limits");
	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_OBJECT)
		return refuse(err, 422, prefix, "limits", "limits must be an object");
	if (only_known(v, sandbox_limit_names, prefix, "limits.", err) < 0)
		return -1;
	for (size_t i = 0; i < SANDBOX_LIMIT_COUNT; i++) {
		const struct json_value *x = json_get(v, sandbox_limit_names[i]);
		if (!x || x->type == JSON_NULL)
			continue;
		char f[32];
		snprintf(f, sizeof(f), "limits.%s", sandbox_limit_names[i]);
		uint64_t cap = sandbox_limit_get(&pol->max, i), least, most;
		sandbox_limit_range(i, &least, &most);
		/* An integer beyond int64 (2^63, 1e23) is one, only too large. */
		if (x->type == JSON_NUMBER && !x->u.num.is_int && x->u.num.d >= 9.2e18 &&
		    isfinite(x->u.num.d) && trunc(x->u.num.d) == x->u.num.d)
			return refuse(err, 422, prefix, f, "%s is above this server's maximum of %llu",
				      f, (unsigned long long)cap);
		if (x->type != JSON_NUMBER || !x->u.num.is_int)
			return refuse(err, 422, prefix, f, "%s must be an integer", f);
		if (x->u.num.i <= 0)
			return refuse(err, 422, prefix, f, "%s must be positive", f);
		if ((uint64_t)x->u.num.i > cap)
			return refuse(err, 422, prefix, f,
				      "%s is %lld, above this server's maximum of %llu", f,
				      (long long)x->u.num.i, (unsigned long long)cap);
		if ((uint64_t)x->u.num.i < least)
			return refuse(err, 422, prefix, f,
				      "%s is %lld, below the least a cell runs with (%llu)", f,
				      (long long)x->u.num.i, (unsigned long long)least);
		sandbox_limit_set(out, i, (uint64_t)x->u.num.i);
	}
	const char *bad;
	if (sandbox_limits_check(out, &bad) < 0)
		return refuse(err, 422, prefix, "limits", "limits out of range (%s)", bad);
	return 0;
}

static int read_files(const struct json_value *root, const char *prefix, struct submission *s,
		      struct submission_error *err)
{
	const char *src = NULL;
	size_t srclen = 0;
	if (opt_string(root, "source", prefix, &src, &srclen, err) < 0)
		return -1;
	const struct json_value *files = json_get(root, "files");
	if (files && files->type == JSON_NULL)
		files = NULL;
	if (src && files)
		return refuse(err, 422, prefix, "files", "give either source or files, not both");
	if (!src && !files)
		return refuse(err, 422, prefix, "source", "source (or files) is required");
	if (src) {
		struct judge_source one = { s->lang->source ? s->lang->source : "main", src, srclen };
		char why[200];
		bool bad_name;
		if (judge_check_source(&one, &bad_name, why, sizeof(why)) < 0)
			return refuse(err, 422, prefix, "source", "source: %s", why);
		s->sources = calloc(1, sizeof(*s->sources));
		if (!s->sources)
			return refuse(err, 500, prefix, "source", "out of memory");
		s->sources[0] = one;
		s->req.nsources = 1;
		return 0;
	}
	if (files->type != JSON_ARRAY)
		return refuse(err, 422, prefix, "files", "files must be an array");
	size_t n = files->u.arr.n;
	if (n == 0 || n > JUDGE_MAX_FILES)
		return refuse(err, 422, prefix, "files", "files must hold 1 to %d files",
			      JUDGE_MAX_FILES);
	s->sources = calloc(n, sizeof(*s->sources));
	s->decoded = calloc(n, sizeof(*s->decoded));
	if (!s->sources || !s->decoded)
		return refuse(err, 500, prefix, "files", "out of memory");
	static const char *const file_keys[] = { "name", "content", "encoding", NULL };
	for (size_t i = 0; i < n; i++) {
		const struct json_value *f = &files->u.arr.items[i];
		char fp[48];
		snprintf(fp, sizeof(fp), "files[%zu]", i);
		if (f->type != JSON_OBJECT)
			return refuse(err, 422, prefix, fp, "%s must be an object", fp);
		char inner[64];
		snprintf(inner, sizeof(inner), "%s.", fp);
		if (only_known(f, file_keys, prefix, inner, err) < 0)
			return -1;
		const char *name = NULL, *content = NULL, *enc = "utf8";
		size_t nlen = 0, clen = 0, elen = 4;
		char sub[80];
		snprintf(sub, sizeof(sub), "%s.name", fp);
		if (json_get_str(f, "name", &name, &nlen) != 0)
			return refuse(err, 422, prefix, sub, "%s must be a string", sub);
		if (strlen(name) != nlen) /* a NUL inside the JSON string */
			return refuse(err, 422, prefix, sub, "%s holds a NUL character", sub);
		for (size_t j = 0; j < i; j++) {
			/* Against the names as sent: the entry file's may be
			 * replaced below. */
			const char *prev = NULL;
			size_t plen = 0;
			json_get_str(&files->u.arr.items[j], "name", &prev, &plen);
			if (prev && !strcmp(prev, name))
				return refuse(err, 422, prefix, sub, "file %.100s given twice", name);
		}
		if (i > 0 && s->lang->source && !strcmp(name, s->lang->source))
			return refuse(err, 422, prefix, sub,
				      "%s: %.100s is the name the first file takes in the box; "
				      "rename this one", sub, name);
		char why_name[300];
		if ((i > 0 || !s->lang->source) && name[0] &&
		    judge_check_box_name(s->lang, name, true, why_name, sizeof(why_name)) < 0)
			return refuse(err, 422, prefix, sub, "%s: %s", sub, why_name);
		snprintf(sub, sizeof(sub), "%s.content", fp);
		if (json_get_str(f, "content", &content, &clen) != 0)
			return refuse(err, 422, prefix, sub, "%s must be a string", sub);
		snprintf(sub, sizeof(sub), "%s.encoding", fp);
		if (json_get_str(f, "encoding", &enc, &elen) == -EINVAL ||
		    (strcmp(enc, "utf8") && strcmp(enc, "base64")))
			return refuse(err, 422, prefix, sub, "%s must be \"utf8\" or \"base64\"", sub);
		if (!strcmp(enc, "base64")) {
			snprintf(sub, sizeof(sub), "%s.content", fp);
			buf_init(&s->decoded[i], 0);
			s->ndecoded = i + 1;
			if (base64_decode(&s->decoded[i], content, clen, JUDGE_MAX_SOURCE) < 0)
				return refuse(err, 422, prefix, sub,
					      "%s is not valid base64 (or decodes to more than %u "
					      "bytes)", sub, JUDGE_MAX_SOURCE);
			content = s->decoded[i].data ? s->decoded[i].data : "";
			clen = s->decoded[i].len;
		}
		char why[320];
		bool bad_name;
		if (judge_check_source(&(struct judge_source){ name, content, clen }, &bad_name, why,
				       sizeof(why)) < 0) {
			snprintf(sub, sizeof(sub), "%s.%s", fp, bad_name ? "name" : "content");
			return refuse(err, 422, prefix, sub, "%s: %s", sub, why);
		}
		/* The entry file takes the language's file name ("Main.java"). */
		if (i == 0 && s->lang->source)
			name = s->lang->source;
		s->sources[i] = (struct judge_source){ name, content, clen };
	}
	s->req.nsources = n;
	return 0;
}

static int test_name_cmp(const void *a, const void *b)
{
	const struct judge_test *x = *(const struct judge_test *const *)a;
	const struct judge_test *y = *(const struct judge_test *const *)b;
	return strcmp(x->name, y->name);
}

static int read_tests(const struct json_value *root, const char *prefix,
		      const struct submission_policy *pol, struct submission *s,
		      struct submission_error *err)
{
	const char *in = NULL, *exp = NULL;
	size_t inlen = 0, explen = 0;
	if (opt_string(root, "stdin", prefix, &in, &inlen, err) < 0 ||
	    opt_string(root, "expected_output", prefix, &exp, &explen, err) < 0)
		return -1;
	const struct json_value *tests = json_get(root, "tests");
	if (tests && tests->type == JSON_NULL)
		tests = NULL;
	if (!tests) {
		s->tests = calloc(1, sizeof(*s->tests));
		if (!s->tests)
			return refuse(err, 500, prefix, "tests", "out of memory");
		s->tests[0] = (struct judge_test){ .name = "1", .input = in ? in : "",
						   .input_len = inlen, .expected = exp,
						   .expected_len = explen };
		s->req.ntests = 1;
		return 0;
	}
	if (in || exp)
		return refuse(err, 422, prefix, in ? "stdin" : "expected_output",
			      "stdin and expected_output go inside each test when tests is given");
	if (tests->type != JSON_ARRAY)
		return refuse(err, 422, prefix, "tests", "tests must be an array");
	size_t n = tests->u.arr.n;
	if (n == 0 || n > pol->max_tests)
		return refuse(err, 422, prefix, "tests", "tests must hold 1 to %zu tests",
			      pol->max_tests);
	s->tests = calloc(n, sizeof(*s->tests));
	s->test_names = calloc(n, sizeof(*s->test_names));
	if (!s->tests || !s->test_names)
		return refuse(err, 500, prefix, "tests", "out of memory");
	static const char *const test_keys[] = { "name", "stdin", "expected_output", NULL };
	for (size_t i = 0; i < n; i++) {
		const struct json_value *t = &tests->u.arr.items[i];
		char tp[32], inner[40], sub[64];
		snprintf(tp, sizeof(tp), "tests[%zu]", i);
		snprintf(inner, sizeof(inner), "%s.", tp);
		if (t->type != JSON_OBJECT)
			return refuse(err, 422, prefix, tp, "%s must be an object", tp);
		if (only_known(t, test_keys, prefix, inner, err) < 0)
			return -1;
		struct judge_test *jt = &s->tests[i];
		snprintf(s->test_names[i], sizeof(s->test_names[i]), "%zu", i + 1);
		jt->name = s->test_names[i];
		const char *name = NULL;
		size_t nlen = 0;
		snprintf(sub, sizeof(sub), "%s.name", tp);
		if (json_get_str(t, "name", &name, &nlen) == -EINVAL || (name && (nlen == 0 || nlen > 100)))
			return refuse(err, 422, prefix, sub, "%s must be a string of 1 to 100 bytes", sub);
		if (name && strlen(name) != nlen)
			return refuse(err, 422, prefix, sub, "%s holds a NUL character", sub);
		if (name)
			jt->name = name;
		snprintf(sub, sizeof(sub), "%s.stdin", tp);
		in = "";
		inlen = 0;
		if (json_get_str(t, "stdin", &in, &inlen) == -EINVAL)
			return refuse(err, 422, prefix, sub, "%s must be a string", sub);
		jt->input = in;
		jt->input_len = inlen;
		snprintf(sub, sizeof(sub), "%s.expected_output", tp);
		exp = NULL;
		explen = 0;
		if (json_get_str(t, "expected_output", &exp, &explen) == -EINVAL)
			return refuse(err, 422, prefix, sub, "%s must be a string", sub);
		jt->expected = exp;
		jt->expected_len = explen;
	}
	s->req.ntests = n;
	/* Names are how results and messages ("test x: ...") tell tests
	 * apart: two alike, given or numbered, are refused. */
	const struct judge_test **byname = malloc(n * sizeof(*byname));
	if (!byname)
		return refuse(err, 500, prefix, "tests", "out of memory");
	for (size_t i = 0; i < n; i++)
		byname[i] = &s->tests[i];
	qsort(byname, n, sizeof(*byname), test_name_cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(byname[i - 1]->name, byname[i]->name)) {
			const struct judge_test *later = byname[i] > byname[i - 1] ? byname[i] : byname[i - 1];
			char sub[48];
			snprintf(sub, sizeof(sub), "tests[%zu].name", (size_t)(later - s->tests));
			int r = refuse(err, 422, prefix, sub, "test name '%.100s' given twice (a test "
				       "without a name is named by its place: 1, 2, ...)", byname[i]->name);
			free(byname);
			return r;
		}
	free(byname);
	return 0;
}

static int read_args(const struct json_value *root, const char *prefix, struct submission *s,
		     struct submission_error *err)
{
	const struct json_value *a = json_get(root, "args");
	size_t n = 0;
	if (a && a->type != JSON_NULL) {
		if (a->type != JSON_ARRAY)
			return refuse(err, 422, prefix, "args", "args must be an array of strings");
		n = a->u.arr.n;
		if (n > SUBMISSION_MAX_ARGS)
			return refuse(err, 422, prefix, "args", "at most %d args",
				      SUBMISSION_MAX_ARGS);
	}
	s->args = calloc(n + 1, sizeof(*s->args));
	if (!s->args)
		return refuse(err, 500, prefix, "args", "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct json_value *x = &a->u.arr.items[i];
		char f[24];
		snprintf(f, sizeof(f), "args[%zu]", i);
		if (x->type != JSON_STRING || x->u.str.len > SUBMISSION_MAX_ARG_LEN ||
		    strlen(x->u.str.s) != x->u.str.len)
			return refuse(err, 422, prefix, f,
				      "%s must be a string of at most %d bytes without NUL", f,
				      SUBMISSION_MAX_ARG_LEN);
		s->args[i] = x->u.str.s;
	}
	s->req.args = s->args;
	return 0;
}

static int read_extras(const struct json_value *root, const char *prefix, struct submission *s,
		       struct submission_error *err)
{
	const char *checker = NULL;
	size_t len = 0;
	if (opt_text(root, "checker", prefix, &checker, &len, err) < 0)
		return -1;
	if (checker_parse(checker, &s->req.checker) < 0)
		return refuse(err, 422, prefix, "checker",
			      "unknown checker (lines, exact, tokens, float, float:TOL, "
			      "float:abs=A,rel=R)");
	int rc = json_get_bool(root, "first_failure", &s->req.first_failure);
	if (rc == -EINVAL)
		return refuse(err, 422, prefix, "first_failure", "first_failure must be a boolean");
	if (opt_text(root, "callback_url", prefix, &s->callback_url, &len, err) < 0)
		return -1;
	if (s->callback_url) {
		char why[160];
		if (len > SUBMISSION_MAX_URL || strlen(s->callback_url) != len ||
		    url_parse_http(s->callback_url, NULL, why, sizeof(why)) < 0)
			return refuse(err, 422, prefix, "callback_url", "invalid callback_url: %s",
				      len > SUBMISSION_MAX_URL ? "too long" : why);
	}
	const struct json_value *m = json_get(root, "metadata");
	if (m && m->type != JSON_NULL) {
		if (m->type != JSON_OBJECT)
			return refuse(err, 422, prefix, "metadata", "metadata must be an object");
		struct buf b;
		buf_init(&b, SUBMISSION_MAX_METADATA);
		struct json_writer w;
		json_writer_init(&w, &b);
		int werr = json_value(&w, m);
		buf_free(&b);
		if (werr < 0)
			return refuse(err, 422, prefix, "metadata",
				      "metadata is larger than %d bytes as JSON",
				      SUBMISSION_MAX_METADATA);
		s->metadata = m;
	}
	return 0;
}

int submission_from_json(const struct json_value *obj, const char *prefix,
			 const struct lang_registry *reg, const struct submission_policy *pol,
			 struct submission *s, struct submission_error *err)
{
	memset(s, 0, sizeof(*s));
	memset(err, 0, sizeof(*err));
	if (!prefix)
		prefix = "";
	if (!obj || obj->type != JSON_OBJECT) {
		/* "submissions[3]." names the item itself, without the dot. */
		char item[96];
		snprintf(item, sizeof(item), "%s", *prefix ? prefix : "body");
		size_t l = strlen(item);
		if (l && item[l - 1] == '.')
			item[l - 1] = '\0';
		return refuse(err, 422, "", item, "a submission must be a JSON object");
	}
	static const char *const keys[] = { "language", "source", "files", "stdin",
					    "expected_output", "tests", "checker", "args",
					    "first_failure", "limits", "callback_url",
					    "metadata", NULL };
	if (only_known(obj, keys, prefix, "", err) < 0)
		return -1;
	const char *lang = NULL;
	size_t llen = 0;
	int rc = json_get_str(obj, "language", &lang, &llen);
	if (rc == -ENOENT)
		return refuse(err, 422, prefix, "language", "language is required (see GET /v1/languages)");
	if (rc < 0)
		return refuse(err, 422, prefix, "language", "language must be a string");
	if (strlen(lang) != llen)
		return refuse(err, 422, prefix, "language", "language holds a NUL character");
	s->lang = llen < 64 ? lang_find(reg, lang) : NULL;
	if (!s->lang)
		return refuse(err, 422, prefix, "language",
			      "unknown language '%.60s' (see GET /v1/languages)", lang);
	if (!s->lang->available)
		return refuse(err, 422, prefix, "language",
			      "language '%s' is not available on this host", s->lang->id);
	s->req.lang = s->lang;
	if (read_files(obj, prefix, s, err) < 0 || read_tests(obj, prefix, pol, s, err) < 0 ||
	    read_args(obj, prefix, s, err) < 0 || read_extras(obj, prefix, s, err) < 0 ||
	    read_limits(obj, prefix, pol, &s->req.limits, err) < 0) {
		submission_free(s);
		return -1;
	}
	s->req.sources = s->sources;
	s->req.tests = s->tests;
	char why[256];
	if (judge_check_disk(&s->req, why, sizeof(why)) < 0) {
		submission_free(s);
		return refuse(err, 422, prefix, "limits.disk_kb", "limits.disk_kb: %s", why);
	}
	if (judge_check(&s->req, why, sizeof(why)) < 0) {
		submission_free(s);
		return refuse(err, 422, prefix, obj && json_get(obj, "files") ? "files" : "source",
			      "%s", why);
	}
	return 0;
}

void submission_free(struct submission *s)
{
	for (size_t i = 0; i < s->ndecoded; i++)
		buf_free(&s->decoded[i]);
	free(s->decoded);
	free(s->sources);
	free(s->tests);
	free(s->test_names);
	free(s->args);
	memset(s, 0, sizeof(*s));
}

int submission_parse_body(const char *body, size_t len, size_t max_input,
			  struct json_value **root, struct submission_error *err)
{
	memset(err, 0, sizeof(*err));
	*root = NULL;
	if (len == 0)
		return refuse(err, 400, "", "body", "the body is empty (a JSON object is expected)");
	struct json_limits lim = { .max_input = max_input, .max_depth = 32 };
	struct json_error je;
	int rc = json_parse(body, len, &lim, root, &je);
	if (rc == -ENOMEM)
		return refuse(err, 500, "", "body", "out of memory");
	if (rc == -E2BIG)
		return refuse(err, 413, "", "body", "%s", je.message);
	if (rc < 0)
		return refuse(err, 400, "", "body", "malformed JSON at byte %zu: %s", je.offset,
			      je.message);
	return 0;
}
