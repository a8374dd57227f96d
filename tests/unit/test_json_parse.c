/*
 * Unit tests for the json parser: the accepted grammar, the tree and its
 * getters, every kind of malformed input, limits, and round trips through
 * the writer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/json.h"
#include "test.h"

static struct json_value *parse_ok_len(const char *s, size_t len)
{
	struct json_value *v = NULL;
	struct json_error err;
	int rc = json_parse(s, len, NULL, &v, &err);
	if (rc != 0) {
		char q[200];
		FAIL("parse of \"%s\" failed (%d) at %zu: %s",
		     test_quote(s, len, q, sizeof(q)), rc, err.offset, err.message);
	}
	ASSERT_NOT_NULL(v);
	return v;
}

#define PARSE_OK(lit) parse_ok_len(lit, sizeof(lit) - 1)

/* Expects rc and an error offset (SIZE_MAX: any offset within the input). */
static void expect_error_len(const char *s, size_t len, int want_rc, size_t want_offset,
			     const char *want_msg)
{
	struct json_value *v = (struct json_value *)1;
	struct json_error err;
	memset(&err, 0x55, sizeof(err));
	int rc = json_parse(s, len, NULL, &v, &err);
	char q[200];
	if (rc != want_rc)
		FAIL("\"%s\": rc %d, want %d (%s)", test_quote(s, len, q, sizeof(q)), rc,
		     want_rc, rc ? err.message : "accepted");
	ASSERT_NULL(v);
	ASSERT_LE(err.offset, len);
	ASSERT_GT(strlen(err.message), 0);
	ASSERT_LT(strlen(err.message), sizeof(err.message));
	if (want_offset != SIZE_MAX && err.offset != want_offset)
		FAIL("\"%s\": error at %zu, want %zu (%s)", test_quote(s, len, q, sizeof(q)),
		     err.offset, want_offset, err.message);
	if (want_msg && !strstr(err.message, want_msg))
		FAIL("\"%s\": message \"%s\" lacks \"%s\"", test_quote(s, len, q, sizeof(q)),
		     err.message, want_msg);
}

#define BAD(lit) expect_error_len(lit, sizeof(lit) - 1, -EINVAL, SIZE_MAX, NULL)
#define BAD_AT(lit, off, msg) expect_error_len(lit, sizeof(lit) - 1, -EINVAL, off, msg)

TEST(json_parse_scalars)
{
	struct json_value *v = PARSE_OK("null");
	ASSERT_EQ(v->type, JSON_NULL);
	json_free(v);
	v = PARSE_OK(" true ");
	ASSERT_EQ(v->type, JSON_BOOL);
	ASSERT_TRUE(v->u.boolean);
	json_free(v);
	v = PARSE_OK("\t\r\nfalse\n");
	ASSERT_EQ(v->type, JSON_BOOL);
	ASSERT_FALSE(v->u.boolean);
	json_free(v);
	v = PARSE_OK("\"str\"");
	ASSERT_EQ(v->type, JSON_STRING);
	ASSERT_STR(v->u.str.s, "str");
	ASSERT_EQ(v->u.str.len, 3);
	json_free(v);
	v = PARSE_OK("-12");
	ASSERT_EQ(v->type, JSON_NUMBER);
	ASSERT_TRUE(v->u.num.is_int);
	ASSERT_EQ(v->u.num.i, -12);
	ASSERT_TRUE(v->u.num.d == -12.0);
	json_free(v);
}

TEST(json_parse_numbers)
{
	static const struct {
		const char *text;
		double d;
		bool is_int;
		int64_t i;
	} cases[] = {
		{ "0", 0, true, 0 },
		{ "-0", 0, true, 0 },
		{ "1.5", 1.5, false, 0 },
		{ "-0.25", -0.25, false, 0 },
		{ "1e3", 1000, true, 1000 },
		{ "1E+2", 100, true, 100 },
		{ "2.0", 2, true, 2 },
		{ "25e-1", 2.5, false, 0 },
		{ "1e-400", 0, true, 0 }, /* underflow to zero is fine */
		{ "9223372036854775807", 9223372036854775807.0, true, INT64_MAX },
		{ "-9223372036854775808", -9223372036854775808.0, true, INT64_MIN },
		{ "9223372036854775808", 9223372036854775808.0, false, 0 },
		{ "18446744073709551616", 18446744073709551616.0, false, 0 },
		{ "123456789012345678901234567890", 1.2345678901234568e29, false, 0 },
		{ "9007199254740993", 9007199254740992.0, true, 9007199254740993LL },
		{ "1.7976931348623157e308", 1.7976931348623157e308, false, 0 },
		/* integral decimals in the int64 range are integers, as digits are */
		{ "1e16", 1e16, true, 10000000000000000LL },
		{ "10000000000000000.0", 1e16, true, 10000000000000000LL },
		{ "-1.5e18", -1.5e18, true, -1500000000000000000LL },
		{ "9.3e18", 9.3e18, false, 0 },
		{ "-9.3e18", -9.3e18, false, 0 },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct json_value *v = parse_ok_len(cases[k].text, strlen(cases[k].text));
		ASSERT_EQ(v->type, JSON_NUMBER);
		if (v->u.num.d != cases[k].d)
			FAIL("%s: d = %.17g", cases[k].text, v->u.num.d);
		if (v->u.num.is_int != cases[k].is_int)
			FAIL("%s: is_int = %d", cases[k].text, v->u.num.is_int);
		if (cases[k].is_int && v->u.num.i != cases[k].i)
			FAIL("%s: i = %lld", cases[k].text, (long long)v->u.num.i);
		json_free(v);
	}
}

TEST(json_parse_bad_numbers)
{
	BAD_AT("01", 0, "leading zero");
	BAD_AT("-01", 0, "leading zero");
	BAD("-");
	BAD("+1");
	BAD(".5");
	BAD_AT("1.", 2, "after '.'");
	BAD("1.e5");
	BAD_AT("1e", 2, "exponent");
	BAD("1e+");
	BAD("0x10");
	BAD("1_000");
	BAD("NaN");
	BAD("Infinity");
	BAD("-Infinity");
	BAD("- 1");
	BAD("1 2");
	BAD_AT("1e400", 0, "out of range");
	BAD("-1e400");
	BAD("[1e99999999999999999999]");
}

TEST(json_parse_huge_number_tokens)
{
	/* 100k digits: valid syntax, out of double range. */
	size_t n = 100000;
	char *s = malloc(n);
	memset(s, '9', n);
	expect_error_len(s, n, -EINVAL, 0, "out of range");
	/* 0.000...1 with 100k zeros underflows to 0. */
	s[0] = '0';
	s[1] = '.';
	memset(s + 2, '0', n - 3);
	s[n - 1] = '1';
	struct json_value *v = parse_ok_len(s, n);
	ASSERT_EQ(v->type, JSON_NUMBER);
	ASSERT_TRUE(v->u.num.d == 0.0);
	json_free(v);
	free(s);
}

TEST(json_parse_strings_and_escapes)
{
	struct json_value *v = PARSE_OK("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"");
	ASSERT_STR(v->u.str.s, "a\"b\\c/d\b\f\n\r\t");
	json_free(v);
	v = PARSE_OK("\"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\"");
	ASSERT_STR(v->u.str.s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	json_free(v);
	v = PARSE_OK("\"raw caf\xc3\xa9 \xf0\x9f\x98\x80\"");
	ASSERT_STR(v->u.str.s, "raw caf\xc3\xa9 \xf0\x9f\x98\x80");
	json_free(v);
	v = PARSE_OK("\"\\uDBFF\\uDFFF\"");
	ASSERT_STR(v->u.str.s, "\xf4\x8f\xbf\xbf");
	json_free(v);
	v = PARSE_OK("\"\"");
	ASSERT_EQ(v->u.str.len, 0);
	ASSERT_STR(v->u.str.s, "");
	json_free(v);
	v = PARSE_OK("\"\x7f\"");
	ASSERT_EQ(v->u.str.len, 1);
	json_free(v);
}

TEST(json_parse_nul_in_strings)
{
	struct json_value *v = PARSE_OK("{\"k\\u0000ey\":\"a\\u0000b\"}");
	ASSERT_EQ(v->type, JSON_OBJECT);
	ASSERT_EQ(json_len(v), 1);
	ASSERT_EQ(v->u.obj.members[0].key_len, 4);
	ASSERT_MEM(v->u.obj.members[0].key, 4, "k\0ey", 4);
	const struct json_value *s = &v->u.obj.members[0].value;
	ASSERT_EQ(s->u.str.len, 3);
	ASSERT_MEM(s->u.str.s, s->u.str.len, "a\0b", 3);
	ASSERT_EQ(s->u.str.s[3], '\0');
	/* json_get compares whole keys: "k" is not "k\0ey". */
	ASSERT_NULL(json_get(v, "k"));
	json_free(v);
	/* A raw NUL byte is a control character. */
	BAD_AT("\"a\0b\"", 2, "control character");
	BAD_AT("[1,\0]", 3, NULL);
	BAD("\0");
}

TEST(json_parse_bad_strings)
{
	BAD_AT("\"abc", 0, "unterminated");
	BAD_AT("\"abc\\", 0, "unterminated");
	BAD_AT("\"a\nb\"", 2, "control character");
	BAD_AT("\"a\tb\"", 2, "control character");
	BAD_AT("\"\\x41\"", 1, "invalid escape");
	BAD_AT("\"\\a\"", 1, "invalid escape");
	BAD("\"\\'\"");
	BAD("\"\\U0041\"");
	BAD_AT("\"\\u00G1\"", 1, "hex");
	BAD_AT("\"\\u00\"", 1, NULL);
	BAD_AT("\"\\u004", 1, "truncated");
	BAD_AT("\"\\uD83D\"", 1, "lone high surrogate");
	BAD_AT("\"\\uD83Dx\"", 1, "lone high surrogate");
	BAD_AT("\"\\uD83D\\n\"", 1, "lone high surrogate");
	BAD_AT("\"\\uD83D\\u0041\"", 1, "not followed by a low");
	BAD_AT("\"\\uD83D\\uD83D\"", 1, "not followed by a low");
	BAD_AT("\"\\uDE00\"", 1, "lone low surrogate");
	BAD_AT("\"\\uDE00\\uD83D\"", 1, "lone low surrogate");
	BAD_AT("\"ab\xff\"", 3, "UTF-8");
	BAD_AT("\"\xc0\x80\"", 1, "UTF-8");            /* overlong NUL */
	BAD_AT("\"\xed\xa0\x80\"", 1, "UTF-8");        /* raw surrogate */
	BAD_AT("\"\xf4\x90\x80\x80\"", 1, "UTF-8");    /* > U+10FFFF */
	BAD_AT("\"\xe2\x82\"", 1, "UTF-8");            /* truncated */
	BAD("'single'");
	BAD("\"a\"\"b\"");
}

TEST(json_parse_structure)
{
	struct json_value *v = PARSE_OK(
		" { \"a\" : [ 1 , 2.5 , \"x\" , true , null , { } , [ ] ] ,\n"
		"   \"b\" : { \"c\" : { \"d\" : false } } } ");
	ASSERT_EQ(v->type, JSON_OBJECT);
	ASSERT_EQ(json_len(v), 2);
	const struct json_value *a = json_get_array(v, "a");
	ASSERT_NOT_NULL(a);
	ASSERT_EQ(json_len(a), 7);
	ASSERT_EQ(json_at(a, 0)->u.num.i, 1);
	ASSERT_TRUE(json_at(a, 1)->u.num.d == 2.5);
	ASSERT_STR(json_at(a, 2)->u.str.s, "x");
	ASSERT_EQ(json_at(a, 3)->type, JSON_BOOL);
	ASSERT_EQ(json_at(a, 4)->type, JSON_NULL);
	ASSERT_EQ(json_at(a, 5)->type, JSON_OBJECT);
	ASSERT_EQ(json_len(json_at(a, 5)), 0);
	ASSERT_EQ(json_at(a, 6)->type, JSON_ARRAY);
	ASSERT_NULL(json_at(a, 7));
	const struct json_value *d = json_get(json_get_object(json_get_object(v, "b"), "c"), "d");
	ASSERT_NOT_NULL(d);
	ASSERT_EQ(d->type, JSON_BOOL);
	ASSERT_NULL(json_get_object(v, "a"));
	ASSERT_NULL(json_get_array(v, "b"));
	ASSERT_NULL(json_get(v, "zz"));
	ASSERT_NULL(json_get(a, "a"));
	ASSERT_NULL(json_at(v, 0));
	ASSERT_EQ(json_len(json_at(a, 0)), 0);
	json_free(v);
	json_free(NULL);
}

TEST(json_parse_member_order_and_offsets)
{
	struct json_value *v = PARSE_OK("{\"z\":1, \"a\":2}");
	ASSERT_STR(v->u.obj.members[0].key, "z");
	ASSERT_EQ(v->u.obj.members[0].offset, 1);
	ASSERT_STR(v->u.obj.members[1].key, "a");
	ASSERT_EQ(v->u.obj.members[1].offset, 8);
	json_free(v);
}

TEST(json_parse_typed_getters)
{
	struct json_value *v = PARSE_OK(
		"{\"s\":\"text\",\"i\":42,\"f\":1.25,\"b\":true,\"n\":null,\"big\":1e30,"
		"\"neg\":-7,\"o\":{},\"a\":[]}");
	const char *s = NULL;
	size_t len = 0;
	ASSERT_EQ(json_get_str(v, "s", &s, &len), 0);
	ASSERT_STR(s, "text");
	ASSERT_EQ(len, 4);
	ASSERT_EQ(json_get_str(v, "s", &s, NULL), 0);
	ASSERT_EQ(json_get_str(v, "i", &s, &len), -EINVAL);
	ASSERT_EQ(json_get_str(v, "missing", &s, &len), -ENOENT);
	ASSERT_EQ(json_get_str(v, "n", &s, &len), -ENOENT);

	int64_t i = 5;
	ASSERT_EQ(json_get_i64(v, "i", &i), 0);
	ASSERT_EQ(i, 42);
	ASSERT_EQ(json_get_i64(v, "neg", &i), 0);
	ASSERT_EQ(i, -7);
	i = 5;
	ASSERT_EQ(json_get_i64(v, "f", &i), -EINVAL);
	ASSERT_EQ(json_get_i64(v, "big", &i), -EINVAL);
	ASSERT_EQ(json_get_i64(v, "s", &i), -EINVAL);
	ASSERT_EQ(json_get_i64(v, "n", &i), -ENOENT);
	ASSERT_EQ(json_get_i64(v, "nope", &i), -ENOENT);
	ASSERT_EQ(i, 5); /* left alone on error */

	double d = 0;
	ASSERT_EQ(json_get_f64(v, "f", &d), 0);
	ASSERT_TRUE(d == 1.25);
	ASSERT_EQ(json_get_f64(v, "i", &d), 0);
	ASSERT_TRUE(d == 42.0);
	ASSERT_EQ(json_get_f64(v, "b", &d), -EINVAL);

	bool b = false;
	ASSERT_EQ(json_get_bool(v, "b", &b), 0);
	ASSERT_TRUE(b);
	ASSERT_EQ(json_get_bool(v, "i", &b), -EINVAL);
	ASSERT_EQ(json_get_bool(v, "n", &b), -ENOENT);

	ASSERT_NOT_NULL(json_get_object(v, "o"));
	ASSERT_NOT_NULL(json_get_array(v, "a"));
	/* Getters on a non-object. */
	ASSERT_EQ(json_get_i64(json_get(v, "a"), "x", &i), -ENOENT);
	ASSERT_NULL(json_get(NULL, "x"));
	ASSERT_STR(json_type_name(JSON_OBJECT), "object");
	ASSERT_STR(json_type_name(JSON_NUMBER), "number");
	json_free(v);
}

TEST(json_parse_bad_structure)
{
	BAD_AT("", 0, "end of input");
	BAD_AT("   ", 3, "end of input");
	BAD_AT("[1,]", 3, "trailing comma");
	BAD_AT("[1,2,  ]", 7, "trailing comma");
	BAD_AT("{\"a\":1,}", 7, "trailing comma");
	BAD_AT("{\"a\":1 \"b\":2}", 7, "',' or '}'");
	BAD_AT("[1 2]", 3, "',' or ']'");
	BAD("[,1]");
	BAD("[,]");
	BAD("{,}");
	BAD("[1,,2]");
	BAD_AT("{\"a\"}", 4, "':'");
	BAD("{\"a\" 1}");
	BAD("{\"a\":}");
	BAD_AT("{a:1}", 1, "string key");
	BAD("{1:1}");
	BAD("{'a':1}");
	BAD("{\"a\"::1}");
	BAD("[");
	BAD("[1");
	BAD("[1,");
	BAD("{");
	BAD("{\"a\"");
	BAD("{\"a\":");
	BAD("{\"a\":1");
	BAD("]");
	BAD("}");
	BAD_AT("[]]", 2, "end of input");
	BAD_AT("{}}", 2, "end of input");
	BAD_AT("[] []", 3, "end of input");
	BAD("tru");
	BAD("nul");
	BAD("True");
	BAD("NULL");
	BAD("truex");
	BAD("[truefalse]");
	BAD("nulll");
	BAD("/* c */ 1");
	BAD("1 // c");
	BAD("# c\n1");
	BAD("\xef\xbb\xbf{}");       /* BOM */
	BAD("\x0c 1");               /* form feed is not JSON whitespace */
	BAD("\xc2\xa0 1");           /* nor is NBSP */
	BAD("{\"a\":1}\x00");
	BAD("undefined");
	BAD("()");
}

TEST(json_parse_duplicate_keys_rejected)
{
	BAD_AT("{\"a\":1,\"a\":2}", 7, "duplicate key \"a\"");
	BAD_AT("{\"a\":1,\"b\":{\"x\":1,\"x\":2}}", 18, "duplicate key \"x\"");
	/* Escaped spelling of the same key is the same key. */
	BAD_AT("{\"ab\":1,\"a\\u0062\":2}", 8, "duplicate key");
	/* A large object takes the sorting path. */
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "{");
	for (int i = 0; i < 500; i++)
		buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	size_t dup_at = b.len + 1;
	buf_puts(&b, ",\"k250\":0,\"k3\":1}");
	expect_error_len(b.data, b.len, -EINVAL, dup_at, "duplicate key \"k250\"");
	/* And without the duplicate it parses, with json_get finding members. */
	buf_reset(&b);
	buf_puts(&b, "{");
	for (int i = 0; i < 500; i++)
		buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	buf_puts(&b, "}");
	struct json_value *v = parse_ok_len(b.data, b.len);
	int64_t n = 0;
	ASSERT_EQ(json_get_i64(v, "k499", &n), 0);
	ASSERT_EQ(n, 499);
	ASSERT_EQ(json_len(v), 500);
	json_free(v);
	buf_free(&b);
	/* Keys differing only after a NUL are different keys. */
	v = PARSE_OK("{\"a\\u0000x\":1,\"a\\u0000y\":2,\"a\":3}");
	ASSERT_EQ(json_len(v), 3);
	json_free(v);
}

static char *nested(size_t depth, char open, char close, size_t *len)
{
	char *s = malloc(2 * depth + 1);
	memset(s, open, depth);
	memset(s + depth, close, depth);
	s[2 * depth] = '\0';
	*len = 2 * depth;
	return s;
}

TEST(json_parse_depth_limit)
{
	size_t len;
	char *s = nested(64, '[', ']', &len);
	struct json_value *v = parse_ok_len(s, len);
	json_free(v);
	free(s);

	s = nested(65, '[', ']', &len);
	expect_error_len(s, len, -E2BIG, 64, "nesting deeper than 64");
	free(s);

	/* A caller-chosen limit. */
	struct json_limits lim = { .max_depth = 3 };
	struct json_error err;
	ASSERT_EQ(json_parse("[[[]]]", 6, &lim, &v, &err), 0);
	json_free(v);
	ASSERT_EQ(json_parse("[{\"a\":[{}]}]", 12, &lim, &v, &err), -E2BIG);
	ASSERT_EQ(err.offset, 7);
	ASSERT_NULL(v);
}

TEST(json_parse_deep_nesting_hostile)
{
	/* A million unclosed brackets, even with the highest allowed limit. */
	size_t n = 1000000;
	char *s = malloc(n);
	memset(s, '[', n);
	struct json_limits lim = { .max_input = n, .max_depth = 1000000 };
	struct json_value *v;
	struct json_error err;
	ASSERT_EQ(json_parse(s, n, &lim, &v, &err), -E2BIG);
	ASSERT_EQ(err.offset, JSON_MAX_DEPTH_CAP);
	/* Alternating objects and arrays. */
	for (size_t i = 0; i + 5 <= n; i += 5)
		memcpy(s + i, "{\"a\":", 5);
	ASSERT_EQ(json_parse(s, n, &lim, &v, &err), -E2BIG);
	/* Closed properly at depth 1000 it parses. */
	size_t len;
	char *ok = nested(1000, '[', ']', &len);
	ASSERT_EQ(json_parse(ok, len, &lim, &v, &err), 0);
	json_free(v);
	free(ok);
	free(s);
}

TEST(json_parse_input_and_string_limits)
{
	struct json_limits lim = { .max_input = 10 };
	struct json_value *v;
	struct json_error err;
	ASSERT_EQ(json_parse("\"12345678\"", 10, &lim, &v, &err), 0);
	json_free(v);
	ASSERT_EQ(json_parse("\"123456789\"", 11, &lim, &v, &err), -E2BIG);
	ASSERT_EQ(err.offset, 10);
	ASSERT_NOT_NULL(strstr(err.message, "larger than 10"));

	struct json_limits slim = { .max_string = 4 };
	ASSERT_EQ(json_parse("[\"abcd\"]", 8, &slim, &v, &err), 0);
	json_free(v);
	ASSERT_EQ(json_parse("[\"abcde\"]", 9, &slim, &v, &err), -E2BIG);
	ASSERT_EQ(err.offset, 1);
	/* Decoded length counts: 4 escapes of 6 bytes are 4 bytes. */
	ASSERT_EQ(json_parse("\"\\u0041\\u0041\\u0041\\u0041\"", 26, &slim, &v, &err), 0);
	json_free(v);
	/* Two-byte characters: 3 of them are 6 bytes. */
	ASSERT_EQ(json_parse("\"\xc3\xa9\xc3\xa9\xc3\xa9\"", 8, &slim, &v, &err), -E2BIG);
	/* Keys too. */
	ASSERT_EQ(json_parse("{\"abcdef\":1}", 12, &slim, &v, &err), -E2BIG);
	/* Default input limit: 1 MiB. */
	size_t n = JSON_DEFAULT_MAX_INPUT + 1;
	char *big = malloc(n);
	memset(big, ' ', n);
	big[0] = '1';
	ASSERT_EQ(json_parse(big, n, NULL, &v, &err), -E2BIG);
	ASSERT_EQ(json_parse(big, n - 1, NULL, &v, &err), 0);
	json_free(v);
	free(big);
}

TEST(json_parse_not_nul_terminated)
{
	/* The parser must respect len, never reading past it. */
	char *s = malloc(4);
	memcpy(s, "[1,2", 4);
	struct json_value *v;
	struct json_error err;
	ASSERT_EQ(json_parse(s, 4, NULL, &v, &err), -EINVAL);
	ASSERT_EQ(err.offset, 4);
	memcpy(s, "\"\\u0", 4);
	ASSERT_EQ(json_parse(s, 4, NULL, &v, &err), -EINVAL);
	memcpy(s, "tru", 3);
	ASSERT_EQ(json_parse(s, 3, NULL, &v, &err), -EINVAL);
	memcpy(s, "-1.5", 4);
	ASSERT_EQ(json_parse(s, 4, NULL, &v, &err), 0);
	ASSERT_TRUE(v->u.num.d == -1.5);
	json_free(v);
	ASSERT_EQ(json_parse(NULL, 0, NULL, &v, &err), -EINVAL);
	ASSERT_EQ(json_parse(s, 3, NULL, &v, NULL), -EINVAL); /* err may be NULL */
	free(s);
}

static void round_trip(const char *in, const char *want)
{
	struct json_value *v = parse_ok_len(in, strlen(in));
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	ASSERT_EQ(json_value(&w, v), 0);
	ASSERT_STR(b.data, want);
	/* And the output parses to the same output again. */
	struct json_value *v2 = parse_ok_len(b.data, b.len);
	struct buf b2;
	buf_init(&b2, 0);
	json_writer_init(&w, &b2);
	ASSERT_EQ(json_value(&w, v2), 0);
	ASSERT_MEM(b2.data, b2.len, b.data, b.len);
	buf_free(&b);
	buf_free(&b2);
	json_free(v);
	json_free(v2);
}

TEST(json_parse_round_trips)
{
	round_trip("{}", "{}");
	round_trip(" [ ] ", "[]");
	round_trip("{\"a\": [1, -2, 3.5, true, false, null, \"s\"], \"b\": {\"c\": {}}}",
		   "{\"a\":[1,-2,3.5,true,false,null,\"s\"],\"b\":{\"c\":{}}}");
	round_trip("\"\\u0000\\u001f\\\"\\\\\\/\\n\"", "\"\\u0000\\u001f\\\"\\\\/\\n\"");
	round_trip("\"\\uD83D\\uDE00 \xc3\xa9\"", "\"\xf0\x9f\x98\x80 \xc3\xa9\"");
	round_trip("{\"k\\u0000\":1}", "{\"k\\u0000\":1}");
	round_trip("[1e3, 0.1, 1e300, -9223372036854775808, 1.0]",
		   "[1000,0.1,1e+300,-9223372036854775808,1]");
	round_trip("[18446744073709551615]", "[1.8446744073709552e+19]");
	round_trip("[9007199254740993]", "[9007199254740993]");
}
