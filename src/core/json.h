/*
 * json: a streaming writer and a strict, bounded parser (RFC 8259).
 *
 * The writer builds results and API responses in a struct buf: it places
 * commas itself, escapes strings, and never emits invalid UTF-8 (ill-formed
 * bytes become U+FFFD; json_write_bytes_field also keeps the exact bytes in
 * base64).  Errors are sticky: every call returns the first error so far,
 * so a caller may write a whole object and check once at the end.
 *
 * The parser reads untrusted request bodies into a small tree.  It is
 * strict (no comments, no trailing commas, no BOM, no NaN/Infinity, no
 * leading zeros, no raw control characters, no invalid UTF-8, no lone
 * surrogates) and bounded by caller-given limits on input size, nesting
 * depth and string length, so hostile input costs at most a few dozen
 * bytes of memory per input byte and never recurses deeper than the depth
 * limit.  Duplicate keys in an object are rejected (an API must not have
 * to guess which one the client meant).  Numbers outside the range of a
 * double (1e400) are rejected; integral numbers that fit an int64 are also
 * kept exactly as int64 (so 9007199254740993 survives).
 */
#ifndef RUNCELL_CORE_JSON_H
#define RUNCELL_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* ------------------------------------------------------------------ */
/* Tree                                                                */

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_member;

struct json_value {
	enum json_type type;
	union {
		bool boolean;
		struct {
			double d;     /* always set */
			int64_t i;    /* set when is_int */
			bool is_int;  /* integral and within int64 */
		} num;
		struct {
			char *s;      /* NUL-terminated; may hold NULs (\u0000) */
			size_t len;
		} str;
		struct {
			struct json_value *items;
			size_t n;
		} arr;
		struct {
			struct json_member *members; /* in input order */
			size_t n;
		} obj;
	} u;
};

struct json_member {
	char *key;          /* NUL-terminated; may hold NULs */
	size_t key_len;
	size_t offset;      /* byte offset of the key in the input */
	struct json_value value;
};

/* ------------------------------------------------------------------ */
/* Parser                                                              */

#define JSON_DEFAULT_MAX_INPUT (1u << 20)
#define JSON_DEFAULT_MAX_DEPTH 64
#define JSON_MAX_DEPTH_CAP 1000

struct json_limits {
	size_t max_input;    /* bytes; 0 means JSON_DEFAULT_MAX_INPUT */
	unsigned max_depth;  /* arrays/objects nested; 0 means 64, at most 1000 */
	size_t max_string;   /* decoded bytes of one string or key; 0 means max_input */
};

struct json_error {
	size_t offset;       /* byte offset in the input where parsing stopped */
	char message[128];   /* human-readable, without the offset */
};

/*
 * Parses text[0..len) (need not be NUL-terminated) into a tree stored in
 * *out, to be released with json_free.  limits may be NULL (defaults).
 * Returns 0; -EINVAL for malformed input; -E2BIG when a limit is exceeded;
 * -ENOMEM.  On error *out is NULL and err (if not NULL) holds the offset
 * and a message.
 */
int json_parse(const char *text, size_t len, const struct json_limits *limits,
	       struct json_value **out, struct json_error *err);

/* Frees a tree returned by json_parse (only its root; NULL is fine). */
void json_free(struct json_value *root);

/* ------------------------------------------------------------------ */
/* Lookups                                                             */

/* Member key of an object, or NULL (also when obj is not an object). */
const struct json_value *json_get(const struct json_value *obj, const char *key);
/* Element i of an array, or NULL. */
const struct json_value *json_at(const struct json_value *arr, size_t i);
/* Elements of an array or members of an object; 0 for anything else. */
size_t json_len(const struct json_value *v);
const char *json_type_name(enum json_type t);

/*
 * Typed member getters: 0 with *out set; -ENOENT when the key is missing
 * or null (optional fields may be sent as null); -EINVAL when the member
 * has another type (for json_get_i64: not an integral number in int64).
 * *out is left alone on error, so it may be preset to a default.
 */
int json_get_str(const struct json_value *obj, const char *key,
		 const char **out, size_t *len);
int json_get_i64(const struct json_value *obj, const char *key, int64_t *out);
int json_get_f64(const struct json_value *obj, const char *key, double *out);
int json_get_bool(const struct json_value *obj, const char *key, bool *out);
/* The member if it is an object / an array, else NULL. */
const struct json_value *json_get_object(const struct json_value *obj, const char *key);
const struct json_value *json_get_array(const struct json_value *obj, const char *key);

/* ------------------------------------------------------------------ */
/* Writer                                                              */

#define JSON_WRITER_MAX_DEPTH 64

struct json_writer {
	struct buf *out;
	int err;            /* first error: -EINVAL (misuse), -ENOSPC, -ENOMEM */
	unsigned depth;
	bool after_key;     /* a key was written; its value comes next */
	bool is_object[JSON_WRITER_MAX_DEPTH + 1];
	bool has_items[JSON_WRITER_MAX_DEPTH + 1];
};

void json_writer_init(struct json_writer *w, struct buf *out);
/* The first error so far, 0 if none. */
int json_writer_error(const struct json_writer *w);

/*
 * Each call returns the writer's first error so far.  A value inside an
 * object must follow json_key; a key outside an object, a missing value,
 * or an unbalanced end is misuse (-EINVAL).  At depth 0 several values may
 * follow each other (no separator is written between them).
 */
int json_begin_object(struct json_writer *w);
int json_end_object(struct json_writer *w);
int json_begin_array(struct json_writer *w);
int json_end_array(struct json_writer *w);
int json_key(struct json_writer *w, const char *key);
/*
 * Strings are escaped: '"' and '\' with a backslash, \n \r \t \b \f by
 * their short forms, every other byte below 0x20 (NUL included) as \u00XX.
 * Ill-formed UTF-8 is replaced by U+FFFD.  json_string(w, NULL) writes null.
 */
int json_string(struct json_writer *w, const char *s);
int json_string_len(struct json_writer *w, const char *s, size_t len);
int json_int(struct json_writer *w, int64_t v);
int json_uint(struct json_writer *w, uint64_t v);
/* Shortest form that reads back to the same double; null if not finite. */
int json_double(struct json_writer *w, double v);
int json_bool(struct json_writer *w, bool v);
int json_null(struct json_writer *w);
/* Writes text the caller vouches is one valid JSON value (e.g. a result
 * this program wrote and stored) without parsing it again. */
int json_raw(struct json_writer *w, const char *json, size_t len);
/* Writes a parsed tree back out. */
int json_value(struct json_writer *w, const struct json_value *v);

/* key + value in one call. */
int json_field_string(struct json_writer *w, const char *key, const char *s);
int json_field_int(struct json_writer *w, const char *key, int64_t v);
int json_field_uint(struct json_writer *w, const char *key, uint64_t v);
int json_field_bool(struct json_writer *w, const char *key, bool v);
int json_field_null(struct json_writer *w, const char *key);

/*
 * Writes "key": <data as a string>.  When data is not valid UTF-8 the
 * string has U+FFFD in place of each ill-formed subpart and a second
 * field "key_base64": "<base64 of the exact bytes>" follows.
 */
int json_write_bytes_field(struct json_writer *w, const char *key,
			   const void *data, size_t len);

#endif
