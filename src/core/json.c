/*
 * json: writer and strict bounded parser (see json.h).
 *
 * The parser is a recursive descent whose recursion depth is the nesting
 * depth, which the limits cap before each descent.  Strings are read in two
 * passes: the first validates escapes and UTF-8 and measures the decoded
 * length (so the limit is checked before allocating), the second decodes.
 * Every partially built tree stays consistent (counts cover only
 * initialized elements), so any error path frees it with json_free.
 * Numbers are converted in the C locale whatever the process locale is.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "core/json.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/utf8.h"

/* ------------------------------------------------------------------ */
/* C-locale number conversion                                          */

static locale_t json_c_locale;
static pthread_once_t json_locale_once = PTHREAD_ONCE_INIT;

static void json_locale_init(void)
{
	json_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static double json_strtod(const char *s, char **end)
{
	pthread_once(&json_locale_once, json_locale_init);
	if (json_c_locale)
		return strtod_l(s, end, json_c_locale);
	return strtod(s, end);
}

/* ------------------------------------------------------------------ */
/* Tree                                                                */

static void json_clear(struct json_value *v)
{
	switch (v->type) {
	case JSON_STRING:
		free(v->u.str.s);
		break;
	case JSON_ARRAY:
		for (size_t i = 0; i < v->u.arr.n; i++)
			json_clear(&v->u.arr.items[i]);
		free(v->u.arr.items);
		break;
	case JSON_OBJECT:
		for (size_t i = 0; i < v->u.obj.n; i++) {
			free(v->u.obj.members[i].key);
			json_clear(&v->u.obj.members[i].value);
		}
		free(v->u.obj.members);
		break;
	default:
		break;
	}
	memset(v, 0, sizeof(*v));
}

void json_free(struct json_value *root)
{
	if (!root)
		return;
	json_clear(root);
	free(root);
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */

struct json_parser {
	const unsigned char *s;
	size_t len;
	size_t pos;
	unsigned depth;
	unsigned max_depth;
	size_t max_string;
	struct json_error *err;
};

__attribute__((format(printf, 4, 5)))
static int json_fail(struct json_parser *p, int rc, size_t offset, const char *fmt, ...)
{
	if (p->err) {
		p->err->offset = offset;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Describes the byte at offset for an error message. */
static int json_fail_unexpected(struct json_parser *p, const char *what)
{
	if (p->pos >= p->len)
		return json_fail(p, -EINVAL, p->pos, "unexpected end of input, expected %s", what);
	unsigned char c = p->s[p->pos];
	if (c > 0x20 && c < 0x7F)
		return json_fail(p, -EINVAL, p->pos, "unexpected character '%c', expected %s", c, what);
	return json_fail(p, -EINVAL, p->pos, "unexpected byte 0x%02X, expected %s", c, what);
}

static void json_skip_ws(struct json_parser *p)
{
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int json_hex4(const unsigned char *s)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = s[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * Reads the \uXXXX escape at s[i] (s[i] == '\\', s[i+1] == 'u'), with its
 * low surrogate if it is a high one.  Returns the bytes consumed (6 or
 * 12) and the code point, or a negative errno after json_fail.
 */
static int json_read_u_escape(struct json_parser *p, size_t i, uint32_t *cp)
{
	if (p->len - i < 6)
		return json_fail(p, -EINVAL, i, "truncated \\u escape");
	int hi = json_hex4(p->s + i + 2);
	if (hi < 0)
		return json_fail(p, -EINVAL, i, "invalid hex digits in \\u escape");
	if (hi >= 0xDC00 && hi <= 0xDFFF)
		return json_fail(p, -EINVAL, i, "lone low surrogate \\u%04X", (unsigned)hi);
	if (hi < 0xD800 || hi > 0xDBFF) {
		*cp = (uint32_t)hi;
		return 6;
	}
	if (p->len - i < 12 || p->s[i + 6] != '\\' || p->s[i + 7] != 'u')
		return json_fail(p, -EINVAL, i, "lone high surrogate \\u%04X", (unsigned)hi);
	int lo = json_hex4(p->s + i + 8);
	if (lo < 0)
		return json_fail(p, -EINVAL, i + 6, "invalid hex digits in \\u escape");
	if (lo < 0xDC00 || lo > 0xDFFF)
		return json_fail(p, -EINVAL, i, "high surrogate \\u%04X not followed by a low one",
				 (unsigned)hi);
	*cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
	return 12;
}

/* p->pos is at the opening quote; on success it moves past the closing one. */
static int json_parse_string(struct json_parser *p, char **out, size_t *out_len)
{
	size_t start = p->pos;
	size_t i = start + 1;
	size_t decoded = 0;
	bool escapes = false;

	/* Pass 1: validate and measure. */
	for (;;) {
		if (i >= p->len)
			return json_fail(p, -EINVAL, start, "unterminated string");
		unsigned char c = p->s[i];
		if (c == '"')
			break;
		if (c == '\\') {
			escapes = true;
			if (i + 1 >= p->len)
				return json_fail(p, -EINVAL, start, "unterminated string");
			unsigned char e = p->s[i + 1];
			if (e == 'u') {
				uint32_t cp;
				int n = json_read_u_escape(p, i, &cp);
				if (n < 0)
					return n;
				char tmp[4];
				decoded += (size_t)utf8_encode(cp, tmp);
				i += (size_t)n;
			} else if (e && strchr("\"\\/bfnrt", e)) {
				decoded++;
				i += 2;
			} else {
				if (e > 0x20 && e < 0x7F)
					return json_fail(p, -EINVAL, i, "invalid escape '\\%c'", e);
				return json_fail(p, -EINVAL, i, "invalid escape (byte 0x%02X)", e);
			}
		} else if (c < 0x20) {
			return json_fail(p, -EINVAL, i,
					 "unescaped control character 0x%02X in string", c);
		} else if (c < 0x80) {
			decoded++;
			i++;
		} else {
			uint32_t cp;
			int n = utf8_decode((const char *)p->s + i, p->len - i, &cp);
			if (n < 0)
				return json_fail(p, -EINVAL, i, "invalid UTF-8 in string");
			decoded += (size_t)n;
			i += (size_t)n;
		}
		if (decoded > p->max_string)
			return json_fail(p, -E2BIG, start, "string longer than %zu bytes",
					 p->max_string);
	}
	size_t end = i; /* closing quote */

	/* Pass 2: decode what pass 1 accepted. */
	char *s = malloc(decoded + 1);
	if (!s)
		return json_fail(p, -ENOMEM, start, "out of memory");
	if (!escapes) {
		memcpy(s, p->s + start + 1, decoded);
	} else {
		size_t o = 0;
		for (i = start + 1; i < end;) {
			unsigned char c = p->s[i];
			if (c != '\\') {
				s[o++] = (char)c;
				i++;
				continue;
			}
			unsigned char e = p->s[i + 1];
			if (e == 'u') {
				uint32_t cp = 0;
				int n = json_read_u_escape(p, i, &cp);
				o += (size_t)utf8_encode(cp, s + o);
				i += (size_t)n;
				continue;
			}
			switch (e) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			default: c = e; break; /* " \ / */
			}
			s[o++] = (char)c;
			i += 2;
		}
	}
	s[decoded] = '\0';
	*out = s;
	*out_len = decoded;
	p->pos = end + 1;
	return 0;
}

static bool json_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int json_parse_number(struct json_parser *p, struct json_value *out)
{
	size_t start = p->pos, i = start;
	const unsigned char *s = p->s;
	bool neg = false, integral = true, overflow = false;
	uint64_t mag = 0;

	if (i < p->len && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= p->len || !json_is_digit(s[i]))
		return json_fail(p, -EINVAL, i, "invalid number: expected a digit");
	if (s[i] == '0') {
		i++;
		if (i < p->len && json_is_digit(s[i]))
			return json_fail(p, -EINVAL, start, "invalid number: leading zero");
	} else {
		while (i < p->len && json_is_digit(s[i])) {
			unsigned d = s[i] - '0';
			if (mag > (UINT64_MAX - d) / 10)
				overflow = true;
			else
				mag = mag * 10 + d;
			i++;
		}
	}
	if (i < p->len && s[i] == '.') {
		integral = false;
		i++;
		if (i >= p->len || !json_is_digit(s[i]))
			return json_fail(p, -EINVAL, i, "invalid number: expected a digit after '.'");
		while (i < p->len && json_is_digit(s[i]))
			i++;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		integral = false;
		i++;
		if (i < p->len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= p->len || !json_is_digit(s[i]))
			return json_fail(p, -EINVAL, i, "invalid number: expected a digit in exponent");
		while (i < p->len && json_is_digit(s[i]))
			i++;
	}

	size_t n = i - start;
	char small[64];
	char *copy = n < sizeof(small) ? small : malloc(n + 1);
	if (!copy)
		return json_fail(p, -ENOMEM, start, "out of memory");
	memcpy(copy, s + start, n);
	copy[n] = '\0';
	double d = json_strtod(copy, NULL);
	if (copy != small)
		free(copy);
	if (!isfinite(d))
		return json_fail(p, -EINVAL, start, "number out of range");

	out->type = JSON_NUMBER;
	out->u.num.d = d;
	out->u.num.is_int = false;
	if (integral && !overflow) {
		if (!neg && mag <= (uint64_t)INT64_MAX) {
			out->u.num.i = (int64_t)mag;
			out->u.num.is_int = true;
		} else if (neg && mag <= (uint64_t)INT64_MAX + 1) {
			out->u.num.i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
			out->u.num.is_int = true;
		}
	} else if (!integral && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
		   (double)(int64_t)d == d) {
		/* 1.0, 1e3, 1e16: integral values written as decimals, in the
		 * int64 range as digits are (1e16 was a double, and "must be
		 * an integer" where 10000000000000000 was "above the maximum"). */
		out->u.num.i = (int64_t)d;
		out->u.num.is_int = true;
	}
	p->pos = i;
	return 0;
}

static int json_parse_value(struct json_parser *p, struct json_value *out);

static int json_enter(struct json_parser *p)
{
	if (p->depth >= p->max_depth)
		return json_fail(p, -E2BIG, p->pos, "nesting deeper than %u levels", p->max_depth);
	p->depth++;
	p->pos++;
	return 0;
}

/* Grows *items (of size elem) to hold one more than n; returns 0 or -ENOMEM. */
static int json_grow(void **items, size_t *alloc, size_t n, size_t elem)
{
	if (n < *alloc)
		return 0;
	size_t na = *alloc ? *alloc * 2 : 4;
	if (na > SIZE_MAX / elem)
		return -ENOMEM;
	void *q = realloc(*items, na * elem);
	if (!q)
		return -ENOMEM;
	*items = q;
	*alloc = na;
	return 0;
}

static int json_parse_array(struct json_parser *p, struct json_value *out)
{
	int rc = json_enter(p);
	if (rc < 0)
		return rc;
	out->type = JSON_ARRAY;
	size_t alloc = 0;
	json_skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		void *items = out->u.arr.items;
		if (json_grow(&items, &alloc, out->u.arr.n, sizeof(struct json_value)) < 0)
			return json_fail(p, -ENOMEM, p->pos, "out of memory");
		out->u.arr.items = items;
		struct json_value *v = &out->u.arr.items[out->u.arr.n++];
		memset(v, 0, sizeof(*v));
		rc = json_parse_value(p, v);
		if (rc < 0)
			return rc;
		json_skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			json_skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ']')
				return json_fail(p, -EINVAL, p->pos, "trailing comma in array");
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == ']') {
			p->pos++;
			break;
		}
		return json_fail_unexpected(p, "',' or ']'");
	}
	p->depth--;
	return 0;
}

static int json_key_cmp(const void *a, const void *b)
{
	const struct json_member *x = *(const struct json_member *const *)a;
	const struct json_member *y = *(const struct json_member *const *)b;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	int c = memcmp(x->key, y->key, x->key_len);
	if (c)
		return c;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int json_fail_duplicate(struct json_parser *p, const struct json_member *m)
{
	char shown[41];
	size_t n = 0;
	for (size_t i = 0; i < m->key_len && n < sizeof(shown) - 1; i++) {
		unsigned char c = (unsigned char)m->key[i];
		shown[n++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
	}
	shown[n] = '\0';
	return json_fail(p, -EINVAL, m->offset, "duplicate key \"%s\"", shown);
}

static int json_check_duplicates(struct json_parser *p, const struct json_value *obj)
{
	size_t n = obj->u.obj.n;
	const struct json_member *m = obj->u.obj.members;
	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (m[i].key_len == m[j].key_len &&
				    !memcmp(m[i].key, m[j].key, m[i].key_len))
					return json_fail_duplicate(p, &m[i]);
		return 0;
	}
	const struct json_member **idx = malloc(n * sizeof(*idx));
	if (!idx)
		return json_fail(p, -ENOMEM, p->pos, "out of memory");
	for (size_t i = 0; i < n; i++)
		idx[i] = &m[i];
	qsort(idx, n, sizeof(*idx), json_key_cmp);
	int rc = 0;
	const struct json_member *dup = NULL;
	for (size_t i = 1; i < n; i++) {
		if (idx[i]->key_len == idx[i - 1]->key_len &&
		    !memcmp(idx[i]->key, idx[i - 1]->key, idx[i]->key_len)) {
			/* Report the earliest second occurrence in the input. */
			if (!dup || idx[i]->offset < dup->offset)
				dup = idx[i];
		}
	}
	if (dup)
		rc = json_fail_duplicate(p, dup);
	free(idx);
	return rc;
}

static int json_parse_object(struct json_parser *p, struct json_value *out)
{
	int rc = json_enter(p);
	if (rc < 0)
		return rc;
	out->type = JSON_OBJECT;
	size_t alloc = 0;
	json_skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		json_skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != '"') {
			if (p->pos < p->len && p->s[p->pos] == '}' && out->u.obj.n)
				return json_fail(p, -EINVAL, p->pos, "trailing comma in object");
			return json_fail_unexpected(p, "a string key");
		}
		size_t key_offset = p->pos;
		char *key;
		size_t key_len;
		rc = json_parse_string(p, &key, &key_len);
		if (rc < 0)
			return rc;
		void *members = out->u.obj.members;
		if (json_grow(&members, &alloc, out->u.obj.n, sizeof(struct json_member)) < 0) {
			free(key);
			return json_fail(p, -ENOMEM, p->pos, "out of memory");
		}
		out->u.obj.members = members;
		struct json_member *m = &out->u.obj.members[out->u.obj.n++];
		memset(m, 0, sizeof(*m));
		m->key = key;
		m->key_len = key_len;
		m->offset = key_offset;
		json_skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':')
			return json_fail_unexpected(p, "':' after key");
		p->pos++;
		rc = json_parse_value(p, &m->value);
		if (rc < 0)
			return rc;
		json_skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '}') {
			p->pos++;
			break;
		}
		return json_fail_unexpected(p, "',' or '}'");
	}
	p->depth--;
	return json_check_duplicates(p, out);
}

static int json_parse_literal(struct json_parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return json_fail_unexpected(p, "a value");
	p->pos += n;
	return 0;
}

static int json_parse_value(struct json_parser *p, struct json_value *out)
{
	json_skip_ws(p);
	if (p->pos >= p->len)
		return json_fail_unexpected(p, "a value");
	unsigned char c = p->s[p->pos];
	int rc;
	switch (c) {
	case '{':
		return json_parse_object(p, out);
	case '[':
		return json_parse_array(p, out);
	case '"':
		rc = json_parse_string(p, &out->u.str.s, &out->u.str.len);
		if (rc == 0)
			out->type = JSON_STRING;
		return rc;
	case 't':
		rc = json_parse_literal(p, "true");
		if (rc == 0) {
			out->type = JSON_BOOL;
			out->u.boolean = true;
		}
		return rc;
	case 'f':
		rc = json_parse_literal(p, "false");
		if (rc == 0) {
			out->type = JSON_BOOL;
			out->u.boolean = false;
		}
		return rc;
	case 'n':
		rc = json_parse_literal(p, "null");
		if (rc == 0)
			out->type = JSON_NULL;
		return rc;
	default:
		if (c == '-' || json_is_digit(c))
			return json_parse_number(p, out);
		return json_fail_unexpected(p, "a value");
	}
}

int json_parse(const char *text, size_t len, const struct json_limits *limits,
	       struct json_value **out, struct json_error *err)
{
	struct json_parser p = { .s = (const unsigned char *)text, .len = len, .err = err };
	size_t max_input = limits && limits->max_input ? limits->max_input : JSON_DEFAULT_MAX_INPUT;
	p.max_depth = limits && limits->max_depth ? limits->max_depth : JSON_DEFAULT_MAX_DEPTH;
	if (p.max_depth > JSON_MAX_DEPTH_CAP)
		p.max_depth = JSON_MAX_DEPTH_CAP;
	p.max_string = limits && limits->max_string ? limits->max_string : max_input;
	*out = NULL;
	if (err) {
		err->offset = 0;
		err->message[0] = '\0';
	}
	if (len > max_input)
		return json_fail(&p, -E2BIG, max_input, "input larger than %zu bytes", max_input);
	if (!text && len)
		return json_fail(&p, -EINVAL, 0, "no input");

	struct json_value *root = calloc(1, sizeof(*root));
	if (!root)
		return json_fail(&p, -ENOMEM, 0, "out of memory");
	int rc = json_parse_value(&p, root);
	if (rc == 0) {
		json_skip_ws(&p);
		if (p.pos < p.len)
			rc = json_fail_unexpected(&p, "end of input");
	}
	if (rc < 0) {
		json_free(root);
		return rc;
	}
	*out = root;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT || !key)
		return NULL;
	size_t n = strlen(key);
	for (size_t i = 0; i < obj->u.obj.n; i++) {
		const struct json_member *m = &obj->u.obj.members[i];
		if (m->key_len == n && !memcmp(m->key, key, n))
			return &m->value;
	}
	return NULL;
}

const struct json_value *json_at(const struct json_value *arr, size_t i)
{
	if (!arr || arr->type != JSON_ARRAY || i >= arr->u.arr.n)
		return NULL;
	return &arr->u.arr.items[i];
}

size_t json_len(const struct json_value *v)
{
	if (!v)
		return 0;
	if (v->type == JSON_ARRAY)
		return v->u.arr.n;
	if (v->type == JSON_OBJECT)
		return v->u.obj.n;
	return 0;
}

const char *json_type_name(enum json_type t)
{
	switch (t) {
	case JSON_NULL: return "null";
	case JSON_BOOL: return "boolean";
	case JSON_NUMBER: return "number";
	case JSON_STRING: return "string";
	case JSON_ARRAY: return "array";
	case JSON_OBJECT: return "object";
	}
	return "unknown";
}

static const struct json_value *json_member_typed(const struct json_value *obj, const char *key,
						  enum json_type t, int *rc)
{
	const struct json_value *v = json_get(obj, key);
	if (!v || v->type == JSON_NULL) {
		*rc = -ENOENT;
		return NULL;
	}
	if (v->type != t) {
		*rc = -EINVAL;
		return NULL;
	}
	*rc = 0;
	return v;
}

int json_get_str(const struct json_value *obj, const char *key, const char **out, size_t *len)
{
	int rc;
	const struct json_value *v = json_member_typed(obj, key, JSON_STRING, &rc);
	if (v) {
		*out = v->u.str.s;
		if (len)
			*len = v->u.str.len;
	}
	return rc;
}

int json_get_i64(const struct json_value *obj, const char *key, int64_t *out)
{
	int rc;
	const struct json_value *v = json_member_typed(obj, key, JSON_NUMBER, &rc);
	if (!v)
		return rc;
	if (!v->u.num.is_int)
		return -EINVAL;
	*out = v->u.num.i;
	return 0;
}

int json_get_f64(const struct json_value *obj, const char *key, double *out)
{
	int rc;
	const struct json_value *v = json_member_typed(obj, key, JSON_NUMBER, &rc);
	if (v)
		*out = v->u.num.d;
	return rc;
}

int json_get_bool(const struct json_value *obj, const char *key, bool *out)
{
	int rc;
	const struct json_value *v = json_member_typed(obj, key, JSON_BOOL, &rc);
	if (v)
		*out = v->u.boolean;
	return rc;
}

const struct json_value *json_get_object(const struct json_value *obj, const char *key)
{
	const struct json_value *v = json_get(obj, key);
	return v && v->type == JSON_OBJECT ? v : NULL;
}

const struct json_value *json_get_array(const struct json_value *obj, const char *key)
{
	const struct json_value *v = json_get(obj, key);
	return v && v->type == JSON_ARRAY ? v : NULL;
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */

void json_writer_init(struct json_writer *w, struct buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

int json_writer_error(const struct json_writer *w)
{
	return w->err;
}

static int json_put(struct json_writer *w, const char *s, size_t n)
{
	if (w->err)
		return w->err;
	int rc = buf_append(w->out, s, n);
	if (rc < 0)
		w->err = rc;
	return w->err;
}

static int json_misuse(struct json_writer *w)
{
	if (!w->err)
		w->err = -EINVAL;
	return w->err;
}

/* Separator and state before any value. */
static int json_before_value(struct json_writer *w)
{
	if (w->err)
		return w->err;
	if (w->depth == 0)
		return 0;
	if (w->is_object[w->depth]) {
		if (!w->after_key)
			return json_misuse(w);
		w->after_key = false;
		return 0;
	}
	if (w->has_items[w->depth])
		json_put(w, ",", 1);
	w->has_items[w->depth] = true;
	return w->err;
}

static int json_begin(struct json_writer *w, bool object)
{
	if (json_before_value(w))
		return w->err;
	if (w->depth >= JSON_WRITER_MAX_DEPTH)
		return json_misuse(w);
	w->depth++;
	w->is_object[w->depth] = object;
	w->has_items[w->depth] = false;
	return json_put(w, object ? "{" : "[", 1);
}

static int json_end(struct json_writer *w, bool object)
{
	if (w->err)
		return w->err;
	if (w->depth == 0 || w->is_object[w->depth] != object || w->after_key)
		return json_misuse(w);
	w->depth--;
	return json_put(w, object ? "}" : "]", 1);
}

int json_begin_object(struct json_writer *w) { return json_begin(w, true); }
int json_end_object(struct json_writer *w) { return json_end(w, true); }
int json_begin_array(struct json_writer *w) { return json_begin(w, false); }
int json_end_array(struct json_writer *w) { return json_end(w, false); }

/* The quoted, escaped string; no separator handling. */
static int json_put_string(struct json_writer *w, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	json_put(w, "\"", 1);
	size_t run = 0, i = 0; /* s[run..i) needs no escaping */
	while (i < len && !w->err) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80) {
			uint32_t cp;
			int n = utf8_decode(s + i, len - i, &cp);
			if (n > 0) {
				i += (size_t)n;
				continue;
			}
			json_put(w, s + run, i - run);
			json_put(w, UTF8_REPLACEMENT, 3);
			i += (size_t)-n;
			run = i;
			continue;
		}
		json_put(w, s + run, i - run);
		char esc[6] = { '\\', 0, 0, 0, 0, 0 };
		size_t en = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			en = 6;
			break;
		}
		json_put(w, esc, en);
		i++;
		run = i;
	}
	json_put(w, s + run, i - run);
	return json_put(w, "\"", 1);
}

int json_key(struct json_writer *w, const char *key)
{
	if (w->err)
		return w->err;
	if (!key || w->depth == 0 || !w->is_object[w->depth] || w->after_key)
		return json_misuse(w);
	if (w->has_items[w->depth])
		json_put(w, ",", 1);
	w->has_items[w->depth] = true;
	json_put_string(w, key, strlen(key));
	json_put(w, ":", 1);
	w->after_key = true;
	return w->err;
}

int json_string_len(struct json_writer *w, const char *s, size_t len)
{
	if (json_before_value(w))
		return w->err;
	return json_put_string(w, s, len);
}

int json_string(struct json_writer *w, const char *s)
{
	if (!s)
		return json_null(w);
	return json_string_len(w, s, strlen(s));
}

int json_int(struct json_writer *w, int64_t v)
{
	if (json_before_value(w))
		return w->err;
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	return json_put(w, tmp, (size_t)n);
}

int json_uint(struct json_writer *w, uint64_t v)
{
	if (json_before_value(w))
		return w->err;
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	return json_put(w, tmp, (size_t)n);
}

int json_double(struct json_writer *w, double v)
{
	if (!isfinite(v))
		return json_null(w);
	if (json_before_value(w))
		return w->err;
	char tmp[40];
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		/* A locale with a decimal comma must not leak into JSON. */
		for (int i = 0; i < n; i++)
			if (tmp[i] == ',')
				tmp[i] = '.';
		if (json_strtod(tmp, NULL) == v)
			break;
	}
	return json_put(w, tmp, (size_t)n);
}

int json_bool(struct json_writer *w, bool v)
{
	if (json_before_value(w))
		return w->err;
	return v ? json_put(w, "true", 4) : json_put(w, "false", 5);
}

int json_null(struct json_writer *w)
{
	if (json_before_value(w))
		return w->err;
	return json_put(w, "null", 4);
}

int json_raw(struct json_writer *w, const char *json, size_t len)
{
	if (json_before_value(w))
		return w->err;
	return json_put(w, json, len);
}

int json_value(struct json_writer *w, const struct json_value *v)
{
	switch (v->type) {
	case JSON_NULL:
		return json_null(w);
	case JSON_BOOL:
		return json_bool(w, v->u.boolean);
	case JSON_NUMBER:
		if (v->u.num.is_int)
			return json_int(w, v->u.num.i);
		return json_double(w, v->u.num.d);
	case JSON_STRING:
		return json_string_len(w, v->u.str.s, v->u.str.len);
	case JSON_ARRAY:
		if (json_begin_array(w))
			return w->err;
		for (size_t i = 0; i < v->u.arr.n && !w->err; i++)
			json_value(w, &v->u.arr.items[i]);
		return json_end_array(w);
	case JSON_OBJECT:
		if (json_begin_object(w))
			return w->err;
		for (size_t i = 0; i < v->u.obj.n && !w->err; i++) {
			const struct json_member *m = &v->u.obj.members[i];
			/* Keys may hold NULs, so not json_key. */
			if (w->after_key || !w->is_object[w->depth])
				return json_misuse(w);
			if (w->has_items[w->depth])
				json_put(w, ",", 1);
			w->has_items[w->depth] = true;
			json_put_string(w, m->key, m->key_len);
			json_put(w, ":", 1);
			w->after_key = true;
			json_value(w, &m->value);
		}
		return json_end_object(w);
	}
	return json_misuse(w);
}

int json_field_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	return json_string(w, s);
}

int json_field_int(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	return json_int(w, v);
}

int json_field_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	return json_uint(w, v);
}

int json_field_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	return json_bool(w, v);
}

int json_field_null(struct json_writer *w, const char *key)
{
	json_key(w, key);
	return json_null(w);
}

int json_write_bytes_field(struct json_writer *w, const char *key, const void *data, size_t len)
{
	json_key(w, key);
	json_string_len(w, data, len);
	if (w->err || utf8_valid(data, len))
		return w->err;
	/* The key plus "_base64", escaped like any key. */
	size_t kn = strlen(key);
	char small[64];
	char *k64 = kn + 8 <= sizeof(small) ? small : malloc(kn + 8);
	if (!k64) {
		w->err = -ENOMEM;
		return w->err;
	}
	memcpy(k64, key, kn);
	memcpy(k64 + kn, "_base64", 8);
	json_key(w, k64);
	if (k64 != small)
		free(k64);
	if (json_before_value(w))
		return w->err;
	json_put(w, "\"", 1);
	if (!w->err) {
		int rc = base64_encode(w->out, data, len);
		if (rc < 0)
			w->err = rc;
	}
	return json_put(w, "\"", 1);
}
