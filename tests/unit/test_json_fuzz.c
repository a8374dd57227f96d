/*
 * A fuzz smoke test for the json parser without libFuzzer: 20,000 inputs,
 * random bytes, random token soups and mutations of valid documents, each
 * in a buffer of exactly its size (so AddressSanitizer sees any over-read).
 * Every input must either parse, and then survive a write/re-parse/write
 * round trip byte for byte, or fail with -EINVAL/-E2BIG, a NULL tree, an
 * offset inside the input and a message.  JSON_FUZZ_SEED and
 * JSON_FUZZ_ITERATIONS override the defaults.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/utf8.h"
#include "test.h"

static uint64_t fuzz_state;

static uint64_t fuzz_next(void)
{
	/* xorshift64* */
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return fuzz_state * 2685821657736338717ull;
}

static size_t fuzz_below(size_t n)
{
	return n ? (size_t)(fuzz_next() % n) : 0;
}

static const char *const fuzz_seeds[] = {
	"{\"language\":\"python\",\"source\":\"print(1)\\n\",\"limits\":{\"cpu\":2,\"memory\":256}}",
	"[1,-2.5e10,true,false,null,\"x\\u00e9\\uD83D\\uDE00\",{\"a\":[[],{}]}]",
	"{\"files\":[{\"name\":\"main.c\",\"content\":\"int main(){}\"}],\"stdin\":\"\"}",
	"\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\\\ \\\" \\/ \\b\\f\\n\\r\\t\"",
	"[[[[[[[[[[[[1]]]]]]]]]]]]",
	"{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":null}}}}}",
	"-0.0e-0",
	"9223372036854775807",
	"{\"\":\"\",\"\\u0000\":0}",
	"  [ 1 , 2 , 3 ]  ",
};

static const char *const fuzz_tokens[] = {
	"{", "}", "[", "]", ":", ",", "\"", "\\", " ", "\n", "true", "false", "null",
	"0", "1", "-", "+", ".", "e", "E", "9", "\\u", "D83D", "DE00", "0000", "\\n",
	"\"k\"", "\xc3\xa9", "\xff", "\xed\xa0\x80", "\x00", "1e999", "01", "\t",
};

/* Appends a random mutation of in[0..len) to out. */
static void fuzz_mutate(struct buf *out, const char *in, size_t len)
{
	buf_append(out, in, len);
	int rounds = 1 + (int)fuzz_below(4);
	for (int r = 0; r < rounds; r++) {
		size_t n = out->len;
		size_t at = fuzz_below(n + 1);
		switch (fuzz_below(6)) {
		case 0: /* flip a byte */
			if (n)
				out->data[fuzz_below(n)] ^= (char)(1u << fuzz_below(8));
			break;
		case 1: { /* insert a random byte */
			char c = (char)fuzz_next();
			struct buf t;
			buf_init(&t, 0);
			buf_append(&t, out->data, at);
			buf_append(&t, &c, 1);
			buf_append(&t, out->data + at, n - at);
			buf_free(out);
			*out = t;
			break;
		}
		case 2: { /* delete a range */
			size_t k = fuzz_below(n - at + 1);
			memmove(out->data + at, out->data + at + k, n - at - k);
			out->len = n - k;
			break;
		}
		case 3: { /* duplicate a range */
			size_t k = fuzz_below(n - at + 1);
			struct buf t;
			buf_init(&t, 0);
			buf_append(&t, out->data, at + k);
			buf_append(&t, out->data + at, n - at);
			buf_free(out);
			*out = t;
			break;
		}
		case 4: { /* insert a token */
			const char *tok = fuzz_tokens[fuzz_below(sizeof(fuzz_tokens) / sizeof(fuzz_tokens[0]))];
			size_t tl = tok[0] ? strlen(tok) : 1;
			struct buf t;
			buf_init(&t, 0);
			buf_append(&t, out->data, at);
			buf_append(&t, tok, tl);
			buf_append(&t, out->data + at, n - at);
			buf_free(out);
			*out = t;
			break;
		}
		default: /* truncate */
			out->len = at;
			break;
		}
	}
}

static void fuzz_generate(struct buf *out)
{
	size_t nseeds = sizeof(fuzz_seeds) / sizeof(fuzz_seeds[0]);
	switch (fuzz_below(4)) {
	case 0: { /* random bytes */
		size_t n = fuzz_below(64);
		for (size_t i = 0; i < n; i++) {
			char c = (char)fuzz_next();
			buf_append(out, &c, 1);
		}
		break;
	}
	case 1: { /* token soup */
		size_t n = fuzz_below(40);
		for (size_t i = 0; i < n; i++) {
			const char *tok = fuzz_tokens[fuzz_below(sizeof(fuzz_tokens) / sizeof(fuzz_tokens[0]))];
			buf_append(out, tok, tok[0] ? strlen(tok) : 1);
		}
		break;
	}
	default: { /* mutated valid document */
		const char *seed = fuzz_seeds[fuzz_below(nseeds)];
		fuzz_mutate(out, seed, strlen(seed));
		break;
	}
	}
}

static void fuzz_write(const struct json_value *v, struct buf *out)
{
	struct json_writer w;
	json_writer_init(&w, out);
	int rc = json_value(&w, v);
	if (rc != 0)
		FAIL("writer failed on a parsed tree: %d", rc);
}

TEST(json_fuzz_smoke)
{
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	const char *e = getenv("JSON_FUZZ_SEED");
	if (e)
		seed = strtoull(e, NULL, 0);
	fuzz_state = seed ? seed : 1;
	long iterations = 20000;
	e = getenv("JSON_FUZZ_ITERATIONS");
	if (e && atol(e) > 0)
		iterations = atol(e);

	struct json_limits lim = { .max_input = 4096, .max_depth = 16, .max_string = 256 };
	long accepted = 0, einval = 0, e2big = 0;
	for (long it = 0; it < iterations; it++) {
		struct buf gen;
		buf_init(&gen, 0);
		fuzz_generate(&gen);
		/* Exactly sized, not NUL-terminated. */
		size_t len = gen.len;
		char *in = malloc(len ? len : 1);
		if (len)
			memcpy(in, gen.data, len);
		buf_free(&gen);

		struct json_value *v = (struct json_value *)1;
		struct json_error err;
		memset(&err, 0x55, sizeof(err));
		int rc = json_parse(in, len, &lim, &v, &err);
		char q[200];
		if (rc == 0) {
			accepted++;
			ASSERT_NOT_NULL(v);
			struct buf o1, o2;
			buf_init(&o1, 0);
			buf_init(&o2, 0);
			fuzz_write(v, &o1);
			if (!utf8_valid(o1.data, o1.len))
				FAIL("iteration %ld: writer emitted invalid UTF-8", it);
			struct json_value *v2;
			if (json_parse(o1.data, o1.len, &lim, &v2, &err) != 0)
				FAIL("iteration %ld (seed %llu): re-parse of \"%s\" failed: %s", it,
				     (unsigned long long)seed, test_quote(o1.data, o1.len, q, sizeof(q)),
				     err.message);
			fuzz_write(v2, &o2);
			if (o1.len != o2.len || memcmp(o1.data, o2.data, o1.len))
				FAIL("iteration %ld (seed %llu): round trip of \"%s\" differs", it,
				     (unsigned long long)seed, test_quote(in, len, q, sizeof(q)));
			json_free(v2);
			json_free(v);
			buf_free(&o1);
			buf_free(&o2);
		} else {
			if (rc == -EINVAL)
				einval++;
			else if (rc == -E2BIG)
				e2big++;
			else
				FAIL("iteration %ld (seed %llu): rc %d on \"%s\"", it,
				     (unsigned long long)seed, rc, test_quote(in, len, q, sizeof(q)));
			if (v != NULL)
				FAIL("iteration %ld: tree not NULL on error", it);
			if (err.offset > len)
				FAIL("iteration %ld: error offset %zu past input length %zu", it,
				     err.offset, len);
			size_t ml = strnlen(err.message, sizeof(err.message));
			if (ml == 0 || ml == sizeof(err.message))
				FAIL("iteration %ld: bad error message", it);
		}
		free(in);
	}
	ASSERT_EQ(accepted + einval + e2big, iterations);
	/* The generator must exercise both outcomes (and the limits). */
	if (iterations >= 10000) {
		ASSERT_GT(accepted, iterations / 50);
		ASSERT_GT(einval, iterations / 2);
		ASSERT_GT(e2big, 0);
	}
}

TEST(json_fuzz_every_prefix)
{
	/* Every prefix of every seed, each exactly sized: truncation anywhere. */
	for (size_t s = 0; s < sizeof(fuzz_seeds) / sizeof(fuzz_seeds[0]); s++) {
		size_t n = strlen(fuzz_seeds[s]);
		struct json_value *v;
		struct json_error err;
		ASSERT_EQ(json_parse(fuzz_seeds[s], n, NULL, &v, &err), 0);
		json_free(v);
		for (size_t k = 0; k < n; k++) {
			char *in = malloc(k ? k : 1);
			memcpy(in, fuzz_seeds[s], k);
			int rc = json_parse(in, k, NULL, &v, &err);
			/* Only number seeds have valid proper prefixes ("-0.0e-0" -> "-0"). */
			if (rc == 0)
				json_free(v);
			else
				ASSERT_LE(err.offset, k);
			ASSERT_TRUE(rc == 0 || rc == -EINVAL);
			free(in);
		}
	}
}
