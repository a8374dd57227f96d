/*
 * checker: decides whether a program's output matches the expected one.
 *
 * Every checker works on (pointer, length) pairs: outputs may hold NUL
 * bytes and are not NUL-terminated, so nothing here reads past the given
 * lengths, and nothing copies a whole output.  Each checker is a single
 * linear pass over both outputs.
 *
 * Whitespace everywhere means the six C-locale bytes space, \t, \n, \r,
 * \v, \f.  A NUL byte is an ordinary byte, not whitespace.
 *
 * lines:  both outputs are split on '\n'; each line loses its trailing
 *         space, \t, \r, \v, \f (so CRLF == LF); trailing empty lines are
 *         dropped from both; the remaining lines must be equal.  Leading
 *         whitespace matters.  Equivalently: strip every trailing
 *         whitespace byte (including '\n') from the end of each output,
 *         then compare line by line with each line right-trimmed.
 * tokens: the sequences of maximal non-whitespace runs must be equal.
 * float:  tokens; when both tokens are decimal numbers (an optional sign,
 *         digits with at most one '.', at least one digit, an optional
 *         exponent e/E [sign] digits) that strtod in the C locale parses
 *         whole to finite values a (output) and b (expected), they match
 *         when a == b, |a-b| <= abs_tol or |a-b| <= rel_tol * |b|, give
 *         or take a few units in the last place of a double (rounding
 *         from decimal); two integers of up to 36 digits are subtracted
 *         exactly.  Any
 *         other pair of tokens (nan, inf, hex, 1e999 which overflows,
 *         words) must be equal as strings.  Token counts must match.
 *
 * Spec strings (checker_parse): "exact", "lines", "tokens", "float"
 * (abs = rel = 1e-6), "float:X" (abs = rel = X), "float:abs=X,rel=Y",
 * "float:abs=X", "float:rel=Y" (keys in either order, each at most once;
 * a key left out is 0, i.e. that test is not used: "float:abs=1e-9" is a
 * pure absolute tolerance).  Tolerances are decimal numbers as above,
 * finite and >= 0.  NULL means lines.  Anything else is -EINVAL, and *out
 * is then left unchanged.
 */
#include "judge/checker.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_FLOAT_TOL 1e-6

static inline bool is_ws(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' ||
	       ch == '\f';
}

/* Trailing whitespace within a line ('\n' never occurs inside one). */
static inline bool is_line_ws(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool mem_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* ---- the C locale, for strtod_l ---------------------------------------- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t get_c_locale(void)
{
	pthread_once(&c_locale_once, c_locale_init);
	return c_locale;
}

/* ---- numbers ----------------------------------------------------------- */

/* True when s[0..n) is a plain decimal number:
 * [+-] digits [. digits] | [+-] . digits, then optionally [eE] [+-] digits. */
static bool is_decimal(const char *s, size_t n)
{
	size_t i = 0, digits = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (digits == 0)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp_digits = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, exp_digits++;
		if (exp_digits == 0)
			return false;
	}
	return i == n;
}

/* Parses s[0..n) as a finite decimal number in the C locale.  Copies only
 * this token (to the stack when short).  Returns false for anything that
 * is not a whole, finite decimal number. */
static bool parse_number(const char *s, size_t n, double *out)
{
	char small[256];
	char *tmp = small, *end;
	locale_t loc;
	double v;
	bool ok;

	if (n == 0 || !is_decimal(s, n))
		return false;
	loc = get_c_locale();
	if (loc == (locale_t)0)
		return false;
	if (n >= sizeof(small)) {
		tmp = malloc(n + 1);
		if (!tmp)
			return false;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtod_l(tmp, &end, loc);
	/* ERANGE with a finite result is an underflow towards 0: keep it;
	 * an overflow gives +-HUGE_VAL and fails isfinite below. */
	ok = end == tmp + n && isfinite(v);
	if (tmp != small)
		free(tmp);
	if (ok)
		*out = v;
	return ok;
}

/* Parses s[0..n) when it is a plain integer ([+-] digits) of at most 36
 * significant digits, which __int128 holds exactly. */
static bool parse_integer(const char *s, size_t n, __int128 *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i == n)
		return false;
	while (i + 1 < n && s[i] == '0')
		i++;
	if (n - i > 36)
		return false;
	__int128 v = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/* Tolerances are met when the difference is within the larger of
 * abs_tol and rel_tol * |expected|, give or take what decimal-to-binary
 * rounding puts into a double: a few units in the last place of the
 * numbers and of that bound (0.500001 against 0.5 is 1.00000000003e-6
 * apart as doubles, yet within abs = 1e-6).  Integers of up to 36 digits
 * are subtracted exactly first, so 12345678901234567891 and ...890 differ
 * by 1 even where doubles cannot tell them apart. */
#define FLOAT_SLACK (4 * DBL_EPSILON)

static bool floats_match(const struct checker *c, const char *a, size_t alen,
			 const char *b, size_t blen)
{
	double x, y, d;

	if (mem_eq(a, alen, b, blen))
		return true;
	__int128 ix, iy;
	if (parse_integer(a, alen, &ix) && parse_integer(b, blen, &iy)) {
		if (ix == iy)
			return true;
		long double diff = (long double)(ix > iy ? ix - iy : iy - ix);
		long double bound = fmaxl(c->abs_tol, c->rel_tol * fabsl((long double)iy));
		return diff <= bound * (1 + FLOAT_SLACK);
	}
	if (!parse_number(a, alen, &x) || !parse_number(b, blen, &y))
		return false;
	if (x == y)
		return true;
	d = fabs(x - y);
	if (!isfinite(d)) /* e.g. 1e308 vs -1e308 */
		return false;
	double bound = fmax(c->abs_tol, c->rel_tol * fabs(y));
	return d <= bound + FLOAT_SLACK * (fmax(fabs(x), fabs(y)) + bound);
}

/* ---- checkers ---------------------------------------------------------- */

/* Next token at or after *pos in s[0..n): sets *tok and *tok_len, advances
 * *pos past it.  Returns false when only whitespace is left. */
static bool next_token(const char *s, size_t n, size_t *pos, const char **tok,
		       size_t *tok_len)
{
	size_t i = *pos, start;

	while (i < n && is_ws((unsigned char)s[i]))
		i++;
	if (i == n) {
		*pos = i;
		return false;
	}
	start = i;
	while (i < n && !is_ws((unsigned char)s[i]))
		i++;
	*tok = s + start;
	*tok_len = i - start;
	*pos = i;
	return true;
}

static bool check_tokens(const struct checker *c, const char *out, size_t out_len,
			 const char *exp, size_t exp_len)
{
	size_t po = 0, pe = 0;

	for (;;) {
		const char *to = NULL, *te = NULL;
		size_t lo = 0, le = 0;
		bool ho = next_token(out, out_len, &po, &to, &lo);
		bool he = next_token(exp, exp_len, &pe, &te, &le);

		if (!ho || !he)
			return ho == he; /* token counts must match */
		if (c->kind == CHECKER_FLOAT) {
			if (!floats_match(c, to, lo, te, le))
				return false;
		} else if (!mem_eq(to, lo, te, le)) {
			return false;
		}
	}
}

/* Length of s[0..n) without its trailing whitespace (trailing empty lines
 * and the last line's trailing blanks). */
static size_t rstrip_all(const char *s, size_t n)
{
	while (n > 0 && is_ws((unsigned char)s[n - 1]))
		n--;
	return n;
}

/* The line starting at *pos in s[0..n): its right-trimmed length; advances
 * *pos past the '\n' (or to n). */
static size_t next_line(const char *s, size_t n, size_t *pos, const char **line)
{
	size_t start = *pos, end;
	const char *nl = memchr(s + start, '\n', n - start);

	end = nl ? (size_t)(nl - s) : n;
	*pos = nl ? end + 1 : n;
	*line = s + start;
	while (end > start && is_line_ws((unsigned char)s[end - 1]))
		end--;
	return end - start;
}

static bool check_lines(const char *out, size_t out_len, const char *exp, size_t exp_len)
{
	size_t no = rstrip_all(out, out_len), ne = rstrip_all(exp, exp_len);
	size_t po = 0, pe = 0;

	/* After rstrip_all each side is empty or ends in a non-blank byte, so
	 * both run out of lines together exactly when they have as many. */
	while (po < no && pe < ne) {
		const char *lo, *le;
		size_t llo = next_line(out, no, &po, &lo);
		size_t lle = next_line(exp, ne, &pe, &le);
		if (!mem_eq(lo, llo, le, lle))
			return false;
	}
	return po >= no && pe >= ne;
}

bool checker_accepts(const struct checker *c, const char *out, size_t out_len,
		     const char *expected, size_t expected_len)
{
	static const struct checker lines = { CHECKER_LINES, 0, 0 };

	if (!c)
		c = &lines;
	if (!out)
		out_len = 0;
	if (!expected)
		expected_len = 0;
	switch (c->kind) {
	case CHECKER_EXACT:
		return mem_eq(out, out_len, expected, expected_len);
	case CHECKER_LINES:
		return check_lines(out, out_len, expected, expected_len);
	case CHECKER_TOKENS:
	case CHECKER_FLOAT:
		return check_tokens(c, out, out_len, expected, expected_len);
	}
	return false;
}

/* ---- specs ------------------------------------------------------------- */

static int parse_tol(const char *s, size_t n, double *out)
{
	double v;

	if (!parse_number(s, n, &v) || !(v >= 0))
		return -EINVAL;
	/* a tolerance too small for a double (1e-400) is not silently 0 */
	for (size_t i = 0; v == 0 && i < n && s[i] != 'e' && s[i] != 'E'; i++)
		if (s[i] >= '1' && s[i] <= '9')
			return -EINVAL;
	*out = v == 0 ? 0.0 : v; /* -0 -> 0 */
	return 0;
}

static int parse_float_args(const char *s, struct checker *c)
{
	bool have_abs = false, have_rel = false;

	if (*s == '\0')
		return -EINVAL;
	if (strchr(s, '=') == NULL) {
		if (parse_tol(s, strlen(s), &c->abs_tol) < 0)
			return -EINVAL;
		c->rel_tol = c->abs_tol;
		return 0;
	}
	c->abs_tol = 0;
	c->rel_tol = 0;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		double *dst;

		if (n > 4 && strncmp(s, "abs=", 4) == 0 && !have_abs) {
			dst = &c->abs_tol;
			have_abs = true;
		} else if (n > 4 && strncmp(s, "rel=", 4) == 0 && !have_rel) {
			dst = &c->rel_tol;
			have_rel = true;
		} else {
			return -EINVAL;
		}
		if (parse_tol(s + 4, n - 4, dst) < 0)
			return -EINVAL;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

int checker_parse(const char *spec, struct checker *out)
{
	struct checker c = { CHECKER_LINES, 0, 0 };

	if (!out)
		return -EINVAL;
	if (spec == NULL || strcmp(spec, "lines") == 0) {
		c.kind = CHECKER_LINES;
	} else if (strcmp(spec, "exact") == 0) {
		c.kind = CHECKER_EXACT;
	} else if (strcmp(spec, "tokens") == 0) {
		c.kind = CHECKER_TOKENS;
	} else if (strcmp(spec, "float") == 0) {
		c.kind = CHECKER_FLOAT;
		c.abs_tol = c.rel_tol = DEFAULT_FLOAT_TOL;
	} else if (strncmp(spec, "float:", 6) == 0) {
		c.kind = CHECKER_FLOAT;
		if (parse_float_args(spec + 6, &c) < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	*out = c;
	return 0;
}

const char *checker_name(const struct checker *c)
{
	if (!c)
		return "lines";
	switch (c->kind) {
	case CHECKER_EXACT:
		return "exact";
	case CHECKER_LINES:
		return "lines";
	case CHECKER_TOKENS:
		return "tokens";
	case CHECKER_FLOAT:
		return "float";
	}
	return "unknown";
}
