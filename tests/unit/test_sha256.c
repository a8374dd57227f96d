/*
 * Unit tests for core/sha256: FIPS 180-4 / NIST vectors, padding
 * boundaries, incremental updates split at every offset.
 */
#include <stdlib.h>

#include "core/sha256.h"
#include "test.h"

static void sha256_hex_of(const void *data, size_t len, char hex[65])
{
	struct sha256 s;
	unsigned char d[32];
	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, d);
	sha256_hex(d, hex);
}

TEST(sha256_nist_vectors)
{
	static const char *const v[][2] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char hex[65];
		sha256_hex_of(v[i][0], strlen(v[i][0]), hex);
		ASSERT_STR(hex, v[i][1]);
	}
}

TEST(sha256_million_a)
{
	/* One shot, and in uneven chunks. */
	size_t n = 1000000;
	char *a = malloc(n);
	ASSERT_NOT_NULL(a);
	memset(a, 'a', n);
	char hex[65];
	sha256_hex_of(a, n, hex);
	ASSERT_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	struct sha256 s;
	unsigned char d[32];
	sha256_init(&s);
	for (size_t off = 0, step = 1; off < n; step = step * 7 % 1000 + 1) {
		size_t k = step < n - off ? step : n - off;
		sha256_update(&s, a + off, k);
		off += k;
	}
	sha256_final(&s, d);
	sha256_hex(d, hex);
	ASSERT_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* Every length 0..129 of 'a' (all padding cases around 55/56/63/64 and
 * two blocks), chained: sha256(hex(sha256('a'*0)) || ... ), value from
 * Python's hashlib. */
TEST(sha256_padding_boundaries)
{
	char a[130];
	memset(a, 'a', sizeof(a));
	struct sha256 chain;
	sha256_init(&chain);
	for (size_t n = 0; n < sizeof(a); n++) {
		char hex[65];
		sha256_hex_of(a, n, hex);
		sha256_update(&chain, hex, 64);
	}
	unsigned char d[32];
	char hex[65];
	sha256_final(&chain, d);
	sha256_hex(d, hex);
	ASSERT_STR(hex, "c665ed20ef30f158e90c7e921d8182bc0943c4b087a82f64a18d417bcdfadce7");
}

TEST(sha256_incremental_every_offset)
{
	unsigned char msg[300];
	unsigned seed = 12345;
	for (size_t i = 0; i < sizeof(msg); i++) {
		seed = seed * 1103515245 + 12345;
		msg[i] = (unsigned char)(seed >> 16);
	}
	for (size_t len = 0; len <= sizeof(msg); len += (len < 140 ? 1 : 23)) {
		char want[65];
		sha256_hex_of(msg, len, want);
		/* Two pieces split at every offset. */
		for (size_t cut = 0; cut <= len; cut++) {
			struct sha256 s;
			unsigned char d[32];
			char hex[65];
			sha256_init(&s);
			sha256_update(&s, msg, cut);
			sha256_update(&s, msg + cut, len - cut);
			sha256_final(&s, d);
			sha256_hex(d, hex);
			if (strcmp(hex, want))
				FAIL("len %zu split at %zu: %s != %s", len, cut, hex, want);
		}
		/* Byte by byte, with empty updates in between. */
		struct sha256 s;
		unsigned char d[32];
		char hex[65];
		sha256_init(&s);
		for (size_t i = 0; i < len; i++) {
			sha256_update(&s, msg + i, 1);
			sha256_update(&s, msg, 0);
		}
		sha256_final(&s, d);
		sha256_hex(d, hex);
		ASSERT_STR(hex, want);
	}
}

TEST(sha256_reuse_after_init)
{
	struct sha256 s;
	unsigned char d[32];
	char hex[65];
	sha256_init(&s);
	sha256_update(&s, "garbage", 7);
	sha256_final(&s, d);
	sha256_init(&s);
	sha256_update(&s, "abc", 3);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	ASSERT_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
