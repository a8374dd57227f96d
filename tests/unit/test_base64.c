/*
 * Unit tests for core/base64: RFC 4648 vectors, strict decoding, caps.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/base64.h"
#include "core/buf.h"
#include "test.h"

static const char *const base64_vectors[][2] = {
	{ "", "" },           { "f", "Zg==" },         { "fo", "Zm8=" },
	{ "foo", "Zm9v" },    { "foob", "Zm9vYg==" },  { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

TEST(base64_rfc4648_vectors)
{
	for (size_t i = 0; i < sizeof(base64_vectors) / sizeof(base64_vectors[0]); i++) {
		const char *plain = base64_vectors[i][0], *enc = base64_vectors[i][1];
		struct buf b;
		buf_init(&b, 0);
		ASSERT_EQ(base64_encode(&b, plain, strlen(plain)), 0);
		ASSERT_STR(b.data ? b.data : "", enc);
		ASSERT_EQ(base64_encoded_len(strlen(plain)), strlen(enc));
		buf_reset(&b);
		ASSERT_EQ(base64_decode(&b, enc, strlen(enc), 100), 0);
		ASSERT_MEM(b.data ? b.data : "", b.len, plain, strlen(plain));
		buf_free(&b);
	}
}

TEST(base64_binary_round_trip)
{
	unsigned char data[1000];
	unsigned seed = 1;
	for (size_t n = 0; n <= sizeof(data); n += (n < 20 ? 1 : 97)) {
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			data[i] = (unsigned char)(seed >> 16);
		}
		struct buf e, d;
		buf_init(&e, 0);
		buf_init(&d, 0);
		ASSERT_EQ(base64_encode(&e, data, n), 0);
		ASSERT_EQ(e.len, base64_encoded_len(n));
		ASSERT_EQ(base64_decode(&d, e.data, e.len, n), 0);
		ASSERT_MEM(d.data ? d.data : "", d.len, data, n);
		buf_free(&e);
		buf_free(&d);
	}
}

TEST(base64_all_byte_values)
{
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	struct buf e, d;
	buf_init(&e, 0);
	buf_init(&d, 0);
	ASSERT_EQ(base64_encode(&e, all, 256), 0);
	ASSERT_EQ(base64_decode(&d, e.data, e.len, 256), 0);
	ASSERT_MEM(d.data, d.len, all, 256);
	/* Both extra characters of the alphabet appear. */
	ASSERT_NOT_NULL(memchr(e.data, '+', e.len));
	ASSERT_NOT_NULL(memchr(e.data, '/', e.len));
	buf_free(&e);
	buf_free(&d);
}

TEST(base64_decode_accepts_unpadded)
{
	struct buf b;
	buf_init(&b, 0);
	ASSERT_EQ(base64_decode(&b, "Zg", 2, 10), 0);
	ASSERT_STR(b.data, "f");
	buf_reset(&b);
	ASSERT_EQ(base64_decode(&b, "Zm8", 3, 10), 0);
	ASSERT_STR(b.data, "fo");
	buf_free(&b);
}

static int decode_rc(const char *s)
{
	struct buf b;
	buf_init(&b, 0);
	int rc = base64_decode(&b, s, strlen(s), 1000);
	if (rc < 0 && b.len != 0)
		rc = -9999; /* a refused input must leave nothing behind */
	buf_free(&b);
	return rc;
}

TEST(base64_decode_rejects_garbage)
{
	static const char *const bad[] = {
		"Z", "Zm9vY", "Zg=", "Zg===", "Z===", "====", "=", "==",
		"Zm9v\n", " Zm9v", "Zm 9v", "Zm9v\r\n", "Zm-_", "Zm9v!", "Zm=v",
		"Zg==Zg==", "Zm9v=", "Zh==", "Zm9=", "Zg\x80=", "\xff\xff\xff\xff",
		"Zm8==", "Z=g=",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (decode_rc(bad[i]) != -EINVAL)
			FAIL("accepted or mishandled \"%s\": %d", bad[i], decode_rc(bad[i]));
	}
	/* NUL inside the input. */
	struct buf b;
	buf_init(&b, 0);
	ASSERT_EQ(base64_decode(&b, "Zm\0v", 4, 10), -EINVAL);
	ASSERT_EQ(b.len, 0);
	buf_free(&b);
}

TEST(base64_decode_output_cap)
{
	struct buf b;
	buf_init(&b, 0);
	ASSERT_EQ(base64_decode(&b, "Zm9vYmFy", 8, 5), -E2BIG);
	ASSERT_EQ(b.len, 0);
	ASSERT_EQ(base64_decode(&b, "Zm9vYmFy", 8, 6), 0);
	ASSERT_STR(b.data, "foobar");
	buf_free(&b);
	/* The buffer's own cap applies too. */
	buf_init(&b, 3);
	ASSERT_EQ(base64_decode(&b, "Zm9vYmFy", 8, 100), -ENOSPC);
	ASSERT_EQ(b.len, 3);
	buf_free(&b);
}

TEST(base64_encode_cap_whole_groups)
{
	struct buf b;
	buf_init(&b, 6);
	ASSERT_EQ(base64_encode(&b, "foobar", 6), -ENOSPC);
	ASSERT_STR(b.data, "Zm9v");
	ASSERT_TRUE(b.truncated);
	buf_free(&b);
	/* A long input crosses the internal chunk size. */
	char *big = malloc(3000);
	memset(big, 'A', 3000);
	buf_init(&b, 0);
	ASSERT_EQ(base64_encode(&b, big, 3000), 0);
	ASSERT_EQ(b.len, 4000);
	for (size_t i = 0; i < b.len; i += 4)
		ASSERT_MEM(b.data + i, 4, "QUFB", 4);
	buf_free(&b);
	free(big);
}
