/*
 * Unit tests for judge/checker: exact, lines, tokens, float, spec parsing,
 * NUL bytes, unterminated buffers, locale independence, large inputs.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "judge/checker.h"
#include "test.h"

static struct checker mk(const char *spec)
{
	struct checker c;
	if (checker_parse(spec, &c) != 0)
		FAIL("checker_parse(\"%s\") failed", spec ? spec : "(null)");
	return c;
}

/* NUL-terminated convenience (the checker never sees the terminator). */
static bool acc(const char *spec, const char *out, const char *exp)
{
	struct checker c = mk(spec);
	return checker_accepts(&c, out, strlen(out), exp, strlen(exp));
}

#define YES(spec, out, exp)                                                   \
	do {                                                                  \
		if (!acc(spec, out, exp))                                     \
			FAIL("%s: expected accept: %s vs %s", spec, #out, #exp); \
		if (!acc(spec, exp, out) && strncmp(spec, "float", 5) != 0)   \
			FAIL("%s: not symmetric: %s vs %s", spec, #out, #exp); \
	} while (0)
#define NO(spec, out, exp)                                                    \
	do {                                                                  \
		if (acc(spec, out, exp))                                      \
			FAIL("%s: expected reject: %s vs %s", spec, #out, #exp); \
	} while (0)

/*
 * A buffer placed so that its last byte is the last byte of a readable page
 * and the next page is PROT_NONE: reading one byte past the end crashes
 * (even without ASan).
 */
struct guarded {
	void *map;
	size_t map_len;
	char *p;
};

static char *guard_copy(struct guarded *g, const void *data, size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t pages = (n + (size_t)pg - 1) / (size_t)pg + 1;
	g->map_len = (pages + 0) * (size_t)pg;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (g->map == MAP_FAILED)
		FAIL("mmap");
	if (mprotect((char *)g->map + g->map_len - (size_t)pg, (size_t)pg, PROT_NONE))
		FAIL("mprotect");
	g->p = (char *)g->map + g->map_len - (size_t)pg - n;
	if (n)
		memcpy(g->p, data, n);
	return g->p;
}

static void guard_free(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

static bool acc_guarded(const char *spec, const void *out, size_t on, const void *exp,
			size_t en)
{
	struct checker c = mk(spec);
	struct guarded go, ge;
	bool r;
	const char *po = guard_copy(&go, out, on), *pe = guard_copy(&ge, exp, en);
	r = checker_accepts(&c, po, on, pe, en);
	guard_free(&go);
	guard_free(&ge);
	return r;
}

/* ---- parse ------------------------------------------------------------- */

TEST(checker_parse_names)
{
	struct checker c;
	ASSERT_EQ(checker_parse(NULL, &c), 0);
	ASSERT_EQ(c.kind, CHECKER_LINES);
	ASSERT_STR(checker_name(&c), "lines");
	ASSERT_EQ(checker_parse("lines", &c), 0);
	ASSERT_STR(checker_name(&c), "lines");
	ASSERT_EQ(checker_parse("exact", &c), 0);
	ASSERT_EQ(c.kind, CHECKER_EXACT);
	ASSERT_STR(checker_name(&c), "exact");
	ASSERT_EQ(checker_parse("tokens", &c), 0);
	ASSERT_EQ(c.kind, CHECKER_TOKENS);
	ASSERT_STR(checker_name(&c), "tokens");
	ASSERT_EQ(checker_parse("float", &c), 0);
	ASSERT_EQ(c.kind, CHECKER_FLOAT);
	ASSERT_STR(checker_name(&c), "float");
	ASSERT_TRUE(c.abs_tol == 1e-6 && c.rel_tol == 1e-6);
}

TEST(checker_parse_float_tolerances)
{
	struct checker c;
	ASSERT_EQ(checker_parse("float:1e-9", &c), 0);
	ASSERT_TRUE(c.kind == CHECKER_FLOAT && c.abs_tol == 1e-9 && c.rel_tol == 1e-9);
	ASSERT_EQ(checker_parse("float:0", &c), 0);
	ASSERT_TRUE(c.abs_tol == 0 && c.rel_tol == 0);
	ASSERT_EQ(checker_parse("float:abs=1e-6,rel=1e-9", &c), 0);
	ASSERT_TRUE(c.abs_tol == 1e-6 && c.rel_tol == 1e-9);
	ASSERT_EQ(checker_parse("float:rel=0.5,abs=2", &c), 0);
	ASSERT_TRUE(c.abs_tol == 2 && c.rel_tol == 0.5);
	/* An omitted key is 0: that test is not used. */
	ASSERT_EQ(checker_parse("float:abs=0.01", &c), 0);
	ASSERT_TRUE(c.abs_tol == 0.01 && c.rel_tol == 0);
	ASSERT_EQ(checker_parse("float:rel=1e-3", &c), 0);
	ASSERT_TRUE(c.abs_tol == 0 && c.rel_tol == 1e-3);
	ASSERT_EQ(checker_parse("float:.5", &c), 0);
	ASSERT_TRUE(c.abs_tol == 0.5);
}

TEST(checker_parse_errors)
{
	static const char *const bad[] = {
		"", "Lines", "EXACT", "token", "floats", "float:", "float:-1",
		"float:-1e-9", "float:nan", "float:NaN", "float:inf", "float:infinity",
		"float:1e999", "float:1e-400", "float:abs=5e-999", "float:abc", "float:1e", "float:1e-9x", "float: 1e-9",
		"float:1e-9 ", "float:0x10", "float:abs=", "float:rel=", "float:abs=-1",
		"float:abs=1,", "float:abs=1,rel=", "float:abs=1,abs=2", "float:rel=1,rel=1",
		"float:abs=1;rel=2", "float:tol=1", "float:abs=1,rel=2,abs=3",
		"float:abs=nan", "float:rel=inf", "float:1,2", "float:ABS=1", "lines ",
		" lines", "exact\n", "float:1e-6,rel=1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct checker c = { CHECKER_TOKENS, 7, 8 };
		if (checker_parse(bad[i], &c) != -EINVAL)
			FAIL("checker_parse(\"%s\") accepted", bad[i]);
		/* *out untouched on error */
		ASSERT_TRUE(c.kind == CHECKER_TOKENS && c.abs_tol == 7 && c.rel_tol == 8);
	}
}

TEST(checker_parse_locale_independent)
{
	/* Some locale with ',' as the decimal point, if installed (Debian
	 * images often have none: then this case only checks the C locale.
	 * To exercise it: localedef -i de_DE -f UTF-8 DIR/de_DE.UTF-8 and
	 * run with LOCPATH=DIR; plain strtod then fails it). */
	static const char *const locs[] = { "de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "ru_RU.UTF-8" };
	for (size_t i = 0; i < sizeof(locs) / sizeof(locs[0]); i++)
		if (setlocale(LC_ALL, locs[i]))
			break;
	struct checker c;
	ASSERT_EQ(checker_parse("float:0.5", &c), 0);
	ASSERT_TRUE(c.abs_tol == 0.5);
	ASSERT_TRUE(acc("float", "3.14159265", "3.1415926"));
	ASSERT_FALSE(acc("float", "3.15", "3.14"));
	ASSERT_FALSE(acc("float", "3,14", "3.14"));
	setlocale(LC_ALL, "C");
}

TEST(checker_name_null)
{
	ASSERT_STR(checker_name(NULL), "lines");
}

/* ---- exact ------------------------------------------------------------- */

TEST(checker_exact)
{
	YES("exact", "", "");
	YES("exact", "abc\n", "abc\n");
	NO("exact", "abc", "abc\n");
	NO("exact", "abc\n", "abc");
	NO("exact", "abc\r\n", "abc\n");
	NO("exact", "abc ", "abc");
	NO("exact", "", "\n");
	NO("exact", "abd", "abc");
	NO("exact", " a", "a");

	struct checker c = mk("exact");
	ASSERT_TRUE(checker_accepts(&c, "a\0b", 3, "a\0b", 3));
	ASSERT_FALSE(checker_accepts(&c, "a\0b", 3, "a\0c", 3));
	ASSERT_FALSE(checker_accepts(&c, "a\0", 2, "a", 1));
	/* Lengths, not terminators, decide. */
	ASSERT_TRUE(checker_accepts(&c, "abcX", 3, "abcY", 3));
	ASSERT_TRUE(checker_accepts(&c, NULL, 0, "", 0));
	ASSERT_TRUE(checker_accepts(&c, NULL, 0, NULL, 0));
}

/* ---- lines ------------------------------------------------------------- */

TEST(checker_lines_basic)
{
	YES("lines", "", "");
	YES("lines", "a", "a");
	YES("lines", "a\n", "a");
	YES("lines", "a\n\n\n", "a");
	YES("lines", "a \nb", "a\nb");
	YES("lines", "a\t\t \nb  \n", "a\nb");
	YES("lines", "a\r\nb\r\n", "a\nb\n");
	YES("lines", "a\r\n\r\n\r\n", "a");
	YES("lines", "a\v\f\r \n", "a\n");
	YES("lines", "\n\n\n", "");
	YES("lines", "   \n \t\n", "");
	YES("lines", "a\n   \n\n", "a\n");
	YES("lines", "1 2 3\n4 5 6\n", "1 2 3   \n4 5 6");
	YES("lines", "a\n\nb\n", "a\n\nb");
	YES("lines", "a\n \nb\n", "a\n\nb");
	NO("lines", " a", "a");
	NO("lines", "\ta", "a");
	NO("lines", "a", "b");
	NO("lines", "a b", "a  b");
	NO("lines", "a\nb", "ab");
	NO("lines", "a\nb", "a");
	NO("lines", "a", "a\nb");
	NO("lines", "\na", "a");
	NO("lines", "a\n\nb", "a\nb");
	NO("lines", "a\n\n\nb", "a\n\nb");
	NO("lines", "", "a");
	NO("lines", "a", "");
	NO("lines", "\n", "x");
	NO("lines", "a\rb", "a\nb");   /* a lone CR is not a line break */
	NO("lines", "a\r\nb", "a b");
	NO("lines", "1 2", "1\n2");
	NO("lines", "abc", "ab");
	NO("lines", "ab", "abc");
}

TEST(checker_lines_nul)
{
	struct checker c = mk("lines");
	ASSERT_TRUE(checker_accepts(&c, "a\0b\n", 4, "a\0b", 3));
	ASSERT_FALSE(checker_accepts(&c, "a\0b", 3, "a\0c", 3));
	/* NUL is not whitespace */
	ASSERT_FALSE(checker_accepts(&c, "a\0", 2, "a", 1));
	ASSERT_FALSE(checker_accepts(&c, "\0", 1, "", 0));
	ASSERT_TRUE(checker_accepts(&c, "\0 \n\n", 4, "\0", 1));
	/* Lengths decide, not terminators */
	ASSERT_TRUE(checker_accepts(&c, "abXYZ", 2, "ab\n", 3));
	ASSERT_TRUE(checker_accepts(&c, NULL, 0, "\n\n", 2));
}

TEST(checker_lines_guarded)
{
	/* The byte right after each buffer is unreadable. */
	ASSERT_TRUE(acc_guarded("lines", "a \r\n", 4, "a", 1));
	ASSERT_TRUE(acc_guarded("lines", "a", 1, "a\n\n", 3));
	ASSERT_TRUE(acc_guarded("lines", "x\ny", 3, "x\ny   ", 6));
	ASSERT_FALSE(acc_guarded("lines", "x\ny", 3, "x\nyz", 4));
	ASSERT_TRUE(acc_guarded("lines", "", 0, "", 0));
	ASSERT_TRUE(acc_guarded("lines", "   ", 3, "\n", 1));
	ASSERT_TRUE(acc_guarded("exact", "ab", 2, "ab", 2));
	ASSERT_TRUE(acc_guarded("tokens", "ab  cd", 6, "ab\ncd", 5));
	ASSERT_FALSE(acc_guarded("tokens", "ab  cd", 6, "ab\nc", 4));
	ASSERT_TRUE(acc_guarded("float", "1.5", 3, "1.5000001", 9));
	ASSERT_TRUE(acc_guarded("float", "1e5", 3, "100000", 6));
	ASSERT_FALSE(acc_guarded("float", "1e", 2, "1", 1));
	ASSERT_TRUE(acc_guarded("float", "2 ", 2, "2.0", 3));
}

/* ---- tokens ------------------------------------------------------------ */

TEST(checker_tokens)
{
	YES("tokens", "", "");
	YES("tokens", "  \n\t ", "");
	YES("tokens", "1 2 3", "1\n2\n3\n");
	YES("tokens", "  1\t\t2\r\n3  ", "1 2 3");
	YES("tokens", "a\v\fb", "a b");
	YES("tokens", "hello world", "hello\r\nworld\r\n");
	NO("tokens", "1 2 3", "1 2");
	NO("tokens", "1 2", "1 2 3");
	NO("tokens", "12 3", "1 23");
	NO("tokens", "1.0", "1");
	NO("tokens", "a", "A");
	NO("tokens", "", "a");
	NO("tokens", "a", "");
	NO("tokens", "ab", "a b");

	struct checker c = mk("tokens");
	ASSERT_TRUE(checker_accepts(&c, "a\0b c", 5, "a\0b\nc", 5));
	ASSERT_FALSE(checker_accepts(&c, "a\0b c", 5, "a b c", 5));
	ASSERT_FALSE(checker_accepts(&c, "\0", 1, "", 0));
}

/* ---- float ------------------------------------------------------------- */

TEST(checker_float_default)
{
	YES("float", "", "");
	YES("float", "1", "1");
	YES("float", "1.0", "1");
	YES("float", "1", "1.000000");
	YES("float", "0.1234567", "0.1234568");
	YES("float", "1e-7", "0");         /* abs 1e-6 */
	YES("float", "0", "1e-7");
	YES("float", "-1e-7", "1e-7");
	YES("float", "+2", "2");
	YES("float", "2.", "2");
	YES("float", ".5", "0.5");
	YES("float", "1E3", "1000");
	YES("float", "3.0000001\n4.9999999\n", "3 5");
	YES("float", "-0", "0");
	YES("float", "1e-400", "0");       /* underflow is a number */
	NO("float", "1e-5", "0");
	NO("float", "1.01", "1");
	NO("float", "1 2", "1 2 3");       /* counts */
	NO("float", "1 2 3", "1 2");
	NO("float", "1", "one");
	NO("float", "abc", "abd");
	YES("float", "abc 1.0000001", "abc 1");
	YES("float", "YES", "YES");
	NO("float", "yes", "YES");
	NO("float", "1,5", "1.5");
	NO("float", "1.5.5", "1.5");
	NO("float", "1e", "1");
	NO("float", "e1", "1");
	NO("float", "--1", "-1");
	NO("float", "1x", "1");
	NO("float", ".", "0");
	NO("float", "-", "0");
}

TEST(checker_float_relative)
{
	/* rel 1e-6 on large values */
	YES("float", "1000000.5", "1000000");
	YES("float", "123456789", "123456700");
	NO("float", "123456789", "123450000");
	YES("float", "1e20", "1.0000001e20");
	NO("float", "1e20", "1.00001e20");
	/* relative to the expected value */
	YES("float:rel=0.5", "150", "100");
	NO("float:rel=0.5", "100", "201");
	YES("float:rel=0.5", "201", "402");
	/* abs only */
	YES("float:abs=0.01", "1.005", "1");
	NO("float:abs=0.01", "1e6", "1.00001e6");
	/* rel only: no absolute slack around 0 */
	NO("float:rel=1e-3", "1e-9", "0");
	YES("float:rel=1e-3", "1000.5", "1000");
	/* zero tolerance: numeric equality only */
	YES("float:0", "1.0", "1");
	YES("float:0", "100", "1e2");
	NO("float:0", "1.0000001", "1");
	/* explicit tolerance */
	YES("float:1e-2", "3.14", "3.1415");
	NO("float:1e-9", "3.14", "3.1415");
}

TEST(checker_float_at_the_tolerance)
{
	/* exactly at the tolerance is a match, whichever way decimal to
	 * binary rounding goes (0.500001 - 0.5 is 1.00000000003e-6 as doubles) */
	YES("float", "0.500001", "0.5");
	YES("float", "0.499999", "0.5");
	YES("float", "0.100001", "0.1");
	YES("float", "0.300001", "0.3");
	YES("float:abs=1e-6", "2.000001", "2");
	YES("float:abs=1e-6", "1000000.000001", "1000000");
	YES("float:abs=0.01", "1.01", "1");
	YES("float:abs=0.01", "0.99", "1");
	YES("float:rel=1e-6", "1000001", "1000000");
	YES("float:rel=1e-6", "1000001.0", "1000000.0");
	/* just past it is not */
	NO("float", "0.5000011", "0.5");
	NO("float:abs=0.01", "1.0101", "1");
	NO("float:abs=1e-6", "1000000.0000011", "1000000");
	NO("float:rel=1e-6", "1000002", "1000000");
	/* integers beyond a double's 53 bits are subtracted exactly */
	NO("float:0", "12345678901234567891", "12345678901234567890");
	NO("float:abs=0,rel=0", "9007199254740993", "9007199254740992");
	YES("float:abs=1", "12345678901234567891", "12345678901234567890");
	NO("float:abs=1", "12345678901234567892", "12345678901234567890");
	YES("float:0", "-0", "0");
	YES("float:0", "007", "7");
	YES("float:0", "+12345678901234567890", "12345678901234567890");
	NO("float:0", "-12345678901234567890", "12345678901234567890");
	YES("float:0", "123456789012345678901234567890123456", "123456789012345678901234567890123456");
	NO("float:0", "123456789012345678901234567890123457", "123456789012345678901234567890123456");
}

TEST(checker_float_huge_and_special)
{
	/* huge numbers */
	YES("float", "1e308", "1e308");
	YES("float", "1.7976931348623157e308", "1.7976931348623157e308");
	NO("float", "1e308", "-1e308");    /* difference overflows */
	NO("float", "1e300", "1e308");
	YES("float", "123456789012345678901234567890", "1.2345678901234568e29");
	/* out of range: compared as strings */
	YES("float", "1e999", "1e999");
	NO("float", "1e999", "1e998");
	NO("float", "1e999", "inf");
	/* nan and inf compare as strings only */
	YES("float", "nan", "nan");
	YES("float", "inf", "inf");
	YES("float", "-inf", "-inf");
	NO("float", "nan", "NaN");
	NO("float", "inf", "infinity");
	NO("float", "nan", "0");
	NO("float", "inf", "1e308");
	/* hex is not a decimal number */
	NO("float", "0x10", "16");
	YES("float", "0x10", "0x10");
	/* a very long number token (> the stack copy) */
	char big[2000], exp[2010];
	memset(big, '0', sizeof(big));
	big[0] = '1';
	big[1] = '.';
	big[sizeof(big) - 1] = '\0';
	snprintf(exp, sizeof(exp), "1");
	ASSERT_TRUE(acc("float", big, exp));
	big[sizeof(big) - 2] = '5';
	ASSERT_TRUE(acc("float", big, exp));
	big[2] = '5';
	ASSERT_FALSE(acc("float", big, exp));
}

TEST(checker_float_nul)
{
	struct checker c = mk("float");
	ASSERT_FALSE(checker_accepts(&c, "1\0", 2, "1", 1));
	ASSERT_TRUE(checker_accepts(&c, "1\0", 2, "1\0", 2));
	ASSERT_FALSE(checker_accepts(&c, "1\0" "5", 3, "1", 1));
	/* a number right at the end of an unterminated buffer */
	ASSERT_TRUE(checker_accepts(&c, "2.50000019", 3, "2.5", 3));
	ASSERT_TRUE(checker_accepts(&c, "2.5", 3, "2.5000001", 9));
}

/* ---- large inputs -------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ~10 MB of "i i*0.5\r\n" lines, and the same without CR and with extra
 * trailing blanks. */
TEST(checker_large_10mb)
{
	size_t cap = 11u << 20;
	char *a = malloc(cap), *b = malloc(cap);
	size_t na = 0, nb = 0;
	ASSERT_NOT_NULL(a);
	ASSERT_NOT_NULL(b);
	for (long i = 0; na < (10u << 20); i++) {
		na += (size_t)snprintf(a + na, cap - na, "%ld %.1f\r\n", i, (double)i * 0.5);
		nb += (size_t)snprintf(b + nb, cap - nb, "%ld %.1f  \n", i, (double)i * 0.5);
	}
	ASSERT_GE(na, 10u << 20);

	struct checker lines = mk("lines"), tokens = mk("tokens"), flt = mk("float"),
		       exact = mk("exact");
	double t0 = now_s();
	ASSERT_TRUE(checker_accepts(&lines, a, na, b, nb));
	ASSERT_TRUE(checker_accepts(&tokens, a, na, b, nb));
	ASSERT_TRUE(checker_accepts(&flt, a, na, b, nb));
	ASSERT_FALSE(checker_accepts(&exact, a, na, b, nb));
	ASSERT_TRUE(checker_accepts(&exact, a, na, a, na));
	double dt = now_s() - t0;
	/* Linear: a few hundred ms at most even under ASan. */
	if (dt > 10.0)
		FAIL("too slow: %.2f s for 5 checks of 10 MB", dt);

	/* A difference near the end is found. */
	b[nb - 5] = b[nb - 5] == '0' ? '1' : '0';
	ASSERT_FALSE(checker_accepts(&lines, a, na, b, nb));
	ASSERT_FALSE(checker_accepts(&tokens, a, na, b, nb));

	/* One 10 MB line, one 10 MB token, one 10 MB run of blanks. */
	memset(a, 'x', 10u << 20);
	memset(b, 'x', 10u << 20);
	ASSERT_TRUE(checker_accepts(&lines, a, 10u << 20, b, 10u << 20));
	ASSERT_TRUE(checker_accepts(&tokens, a, 10u << 20, b, 10u << 20));
	ASSERT_TRUE(checker_accepts(&flt, a, 10u << 20, b, 10u << 20));
	ASSERT_FALSE(checker_accepts(&flt, a, 10u << 20, b, (10u << 20) - 1));
	memset(a, ' ', 10u << 20);
	ASSERT_TRUE(checker_accepts(&lines, a, 10u << 20, "", 0));
	ASSERT_TRUE(checker_accepts(&tokens, a, 10u << 20, "\n", 1));
	memset(a, '\n', 10u << 20);
	ASSERT_TRUE(checker_accepts(&lines, a, 10u << 20, "", 0));
	ASSERT_FALSE(checker_accepts(&lines, a, 10u << 20, "a", 1));
	/* 10 MB of digits as one number token */
	memset(a, '9', 10u << 20);
	ASSERT_FALSE(checker_accepts(&flt, a, 10u << 20, "1", 1));
	free(a);
	free(b);
}

/* Random outputs (the program's output is untrusted) from an alphabet of
 * digits, signs, dots, exponents, letters of nan/inf, whitespace of every
 * kind and NUL, each compared with itself and with a near copy.  Each
 * checker accepts its input against itself, and a stricter checker's yes
 * is a yes for the looser ones: exact => lines => tokens => float. */
TEST(checker_random_outputs_ordered)
{
	static const char alphabet[] = "0123456789.-+eEnaif \n\r\t\v\fxX\0";
	struct checker exact = mk("exact"), lines = mk("lines"), tokens = mk("tokens"),
		       flt = mk("float:0");
	srand(3);
	for (int i = 0; i < 20000; i++) {
		char a[64], b[64];
		size_t na = (size_t)(rand() % (int)sizeof(a)), nb = na;
		for (size_t j = 0; j < na; j++)
			a[j] = alphabet[(size_t)rand() % sizeof(alphabet)];
		memcpy(b, a, na);
		/* b: a itself, or a with one byte changed, added or removed */
		switch (rand() % 4) {
		case 0:
			break;
		case 1:
			if (nb)
				b[(size_t)rand() % nb] = alphabet[(size_t)rand() % sizeof(alphabet)];
			break;
		case 2:
			if (nb < sizeof(b))
				b[nb++] = alphabet[(size_t)rand() % sizeof(alphabet)];
			break;
		default:
			if (nb)
				nb--;
			break;
		}
		char qa[300], qb[300];
		const struct checker *order[] = { &exact, &lines, &tokens, &flt };
		for (size_t k = 0; k < 4; k++)
			if (!checker_accepts(order[k], a, na, a, na))
				FAIL("%s rejects its input against itself: \"%s\"",
				     checker_name(order[k]), test_quote(a, na, qa, sizeof(qa)));
		for (size_t k = 0; k + 1 < 4; k++)
			if (checker_accepts(order[k], a, na, b, nb) &&
			    !checker_accepts(order[k + 1], a, na, b, nb))
				FAIL("%s accepts but %s rejects: \"%s\" against \"%s\"",
				     checker_name(order[k]), checker_name(order[k + 1]),
				     test_quote(a, na, qa, sizeof(qa)), test_quote(b, nb, qb, sizeof(qb)));
	}
}
