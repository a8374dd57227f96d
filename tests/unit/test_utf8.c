/*
 * Unit tests for core/utf8: the strict validity rules and the lossy copy.
 */
#include <errno.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "test.h"

#define VALID(lit) ASSERT_TRUE(utf8_valid(lit, sizeof(lit) - 1))
#define INVALID(lit) ASSERT_FALSE(utf8_valid(lit, sizeof(lit) - 1))

TEST(utf8_valid_accepts_well_formed)
{
	VALID("");
	VALID("plain ascii, long enough for the fast path");
	VALID("a\0b");
	VALID("\x7f");
	VALID("\xc2\x80");                 /* U+0080 */
	VALID("\xdf\xbf");                 /* U+07FF */
	VALID("\xe0\xa0\x80");             /* U+0800 */
	VALID("\xed\x9f\xbf");             /* U+D7FF */
	VALID("\xee\x80\x80");             /* U+E000 */
	VALID("\xef\xbf\xbd");             /* U+FFFD */
	VALID("\xef\xbf\xbf");             /* U+FFFF */
	VALID("\xf0\x90\x80\x80");         /* U+10000 */
	VALID("\xf4\x8f\xbf\xbf");         /* U+10FFFF */
	VALID("h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST(utf8_valid_rejects_ill_formed)
{
	INVALID("\x80");                   /* lone continuation */
	INVALID("\xbf");
	INVALID("\xc0\x80");               /* overlong NUL */
	INVALID("\xc1\xbf");               /* overlong */
	INVALID("\xe0\x80\x80");           /* overlong 3-byte */
	INVALID("\xe0\x9f\xbf");
	INVALID("\xf0\x80\x80\x80");       /* overlong 4-byte */
	INVALID("\xf0\x8f\xbf\xbf");
	INVALID("\xed\xa0\x80");           /* U+D800 */
	INVALID("\xed\xbf\xbf");           /* U+DFFF */
	INVALID("\xed\xa0\xbd\xed\xb8\x80"); /* CESU-8 pair */
	INVALID("\xf4\x90\x80\x80");       /* U+110000 */
	INVALID("\xf5\x80\x80\x80");
	INVALID("\xff");
	INVALID("\xfe");
	INVALID("\xc3");                   /* truncated */
	INVALID("\xe2\x82");
	INVALID("\xf0\x9f\x98");
	INVALID("\xc3\x28");               /* bad continuation */
	INVALID("abcdefghijklmnop\x80");   /* after the fast path */
	/* Validity depends on len, not on a NUL terminator. */
	ASSERT_FALSE(utf8_valid("\xe2\x82\xac", 2));
	ASSERT_TRUE(utf8_valid("\xe2\x82\xac", 3));
}

TEST(utf8_decode_lengths)
{
	uint32_t cp = 0;
	ASSERT_EQ(utf8_decode("A", 1, &cp), 1);
	ASSERT_EQ(cp, 'A');
	ASSERT_EQ(utf8_decode("\xe2\x82\xac", 3, &cp), 3);
	ASSERT_EQ(cp, 0x20AC);
	ASSERT_EQ(utf8_decode("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	ASSERT_EQ(cp, 0x10FFFF);
	/* Maximal ill-formed subparts. */
	ASSERT_EQ(utf8_decode("\x80", 1, &cp), -1);
	ASSERT_EQ(utf8_decode("\xe2\x82", 2, &cp), -2);
	ASSERT_EQ(utf8_decode("\xe2\x82x", 3, &cp), -2);
	ASSERT_EQ(utf8_decode("\xf0\x9f\x98x", 4, &cp), -3);
	ASSERT_EQ(utf8_decode("\xed\xa0\x80", 3, &cp), -1);
	ASSERT_EQ(utf8_decode("\xf4\x90\x80\x80", 4, &cp), -1);
}

TEST(utf8_encode_round_trip)
{
	static const uint32_t cps[] = { 0, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF,
					0xE000, 0xFFFF, 0x10000, 0x10FFFF };
	for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		char out[4];
		int n = utf8_encode(cps[i], out);
		ASSERT_GT(n, 0);
		ASSERT_TRUE(utf8_valid(out, (size_t)n));
		uint32_t back = 0xFFFFFFFF;
		ASSERT_EQ(utf8_decode(out, (size_t)n, &back), n);
		ASSERT_EQ(back, cps[i]);
	}
	char out[4];
	ASSERT_EQ(utf8_encode(0xD800, out), 0);
	ASSERT_EQ(utf8_encode(0xDFFF, out), 0);
	ASSERT_EQ(utf8_encode(0x110000, out), 0);
}

static void check_lossy(const char *in, size_t inlen, const char *want)
{
	struct buf b;
	buf_init(&b, 0);
	ASSERT_EQ(utf8_append_lossy(&b, in, inlen), 0);
	ASSERT_MEM(b.data, b.len, want, strlen(want));
	ASSERT_TRUE(utf8_valid(b.data, b.len));
	buf_free(&b);
}

#define LOSSY(in, want) check_lossy(in, sizeof(in) - 1, want)
#define R UTF8_REPLACEMENT

TEST(utf8_lossy_replaces_each_subpart)
{
	LOSSY("", "");
	LOSSY("ok \xc3\xa9", "ok \xc3\xa9");
	LOSSY("a\xff" "b", "a" R "b");
	LOSSY("\x80\x80", R R);
	LOSSY("\xe2\x82" "x", R "x");        /* one subpart of two bytes */
	LOSSY("\xf0\x9f\x98", R);              /* truncated at the end */
	LOSSY("\xed\xa0\x80", R R R);          /* surrogate: three subparts */
	LOSSY("\xc0\xaf", R R);                /* overlong '/' */
	LOSSY("x\xf4\x90\x80\x80y", "x" R R R R "y");
	/* The example of Unicode section 3.9 (U+FFFD substitution). */
	LOSSY("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	      "a" R R R "b" R "c" R R "d");
}

TEST(utf8_lossy_keeps_nul)
{
	struct buf b;
	buf_init(&b, 0);
	ASSERT_EQ(utf8_append_lossy(&b, "a\0\xff", 3), 0);
	ASSERT_MEM(b.data, b.len, "a\0" R, 5);
	buf_free(&b);
}

TEST(utf8_lossy_cap_cuts_on_boundary)
{
	struct buf b;
	buf_init(&b, 4);
	/* "a" and the 3-byte euro fill the cap of 4; "b" is cut. */
	ASSERT_EQ(utf8_append_lossy(&b, "a\xe2\x82\xac" "b", 5), -ENOSPC);
	ASSERT_MEM(b.data, b.len, "a\xe2\x82\xac", 4);
	ASSERT_TRUE(b.truncated);
	buf_free(&b);

	buf_init(&b, 3);
	ASSERT_EQ(utf8_append_lossy(&b, "ab\xe2\x82\xac", 5), -ENOSPC);
	ASSERT_MEM(b.data, b.len, "ab", 2); /* no half character */
	ASSERT_TRUE(utf8_valid(b.data, b.len));
	buf_free(&b);

	buf_init(&b, 3);
	ASSERT_EQ(utf8_append_lossy(&b, "ab\xff", 3), -ENOSPC);
	ASSERT_MEM(b.data, b.len, "ab", 2); /* no half replacement */
	buf_free(&b);
}
