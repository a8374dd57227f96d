/*
 * Unit tests for core/buf: growth, the hard cap, printf, steal.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/buf.h"
#include "test.h"

TEST(buf_append_grows)
{
	struct buf b;
	buf_init(&b, 0);
	ASSERT_EQ(b.len, 0);
	for (int i = 0; i < 10000; i++)
		ASSERT_EQ(buf_append(&b, "abc", 3), 0);
	ASSERT_EQ(b.len, 30000);
	ASSERT_EQ(b.data[b.len], '\0');
	ASSERT_MEM(b.data + 29997, 3, "abc", 3);
	ASSERT_FALSE(b.truncated);
	ASSERT_EQ(buf_room(&b), SIZE_MAX);
	buf_free(&b);
	ASSERT_NULL(b.data);
	ASSERT_EQ(b.len, 0);
}

TEST(buf_cap_truncates)
{
	struct buf b;
	buf_init(&b, 5);
	ASSERT_EQ(buf_append(&b, "abc", 3), 0);
	ASSERT_EQ(buf_room(&b), 2);
	ASSERT_EQ(buf_append(&b, "defg", 4), -ENOSPC);
	ASSERT_TRUE(b.truncated);
	ASSERT_STR(b.data, "abcde");
	ASSERT_EQ(buf_room(&b), 0);
	ASSERT_EQ(buf_append(&b, "x", 1), -ENOSPC);
	ASSERT_EQ(b.len, 5);
	buf_reset(&b);
	ASSERT_EQ(b.len, 0);
	ASSERT_FALSE(b.truncated);
	ASSERT_EQ(b.cap, 5);
	ASSERT_STR(b.data, "");
	buf_free(&b);
	ASSERT_EQ(b.cap, 5);
}

TEST(buf_holds_nul_bytes)
{
	struct buf b;
	buf_init(&b, 0);
	ASSERT_EQ(buf_append(&b, "a\0b", 3), 0);
	ASSERT_EQ(b.len, 3);
	ASSERT_MEM(b.data, b.len, "a\0b", 3);
	buf_free(&b);
}

TEST(buf_printf_small_and_big)
{
	struct buf b;
	buf_init(&b, 0);
	ASSERT_EQ(buf_printf(&b, "%d-%s", 42, "x"), 0);
	ASSERT_STR(b.data, "42-x");
	char *big = malloc(5001);
	memset(big, 'z', 5000);
	big[5000] = '\0';
	ASSERT_EQ(buf_printf(&b, "[%s]", big), 0);
	ASSERT_EQ(b.len, 4 + 5002);
	ASSERT_EQ(b.data[4], '[');
	ASSERT_EQ(b.data[b.len - 1], ']');
	free(big);
	buf_free(&b);
}

TEST(buf_printf_respects_cap)
{
	struct buf b;
	buf_init(&b, 4);
	ASSERT_EQ(buf_printf(&b, "%s", "hello"), -ENOSPC);
	ASSERT_STR(b.data, "hell");
	ASSERT_TRUE(b.truncated);
	buf_free(&b);
}

TEST(buf_steal_hands_over)
{
	struct buf b;
	buf_init(&b, 100);
	buf_puts(&b, "data");
	size_t len = 0;
	char *p = buf_steal(&b, &len);
	ASSERT_NOT_NULL(p);
	ASSERT_EQ(len, 4);
	ASSERT_STR(p, "data");
	ASSERT_NULL(b.data);
	ASSERT_EQ(b.len, 0);
	ASSERT_EQ(b.cap, 100);
	free(p);
	/* Stealing an empty buffer still yields a valid string. */
	p = buf_steal(&b, &len);
	ASSERT_NOT_NULL(p);
	ASSERT_EQ(len, 0);
	ASSERT_STR(p, "");
	free(p);
}

TEST(buf_cut_keeps_head_and_marks)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, "0123456789");
	ASSERT_FALSE(b.truncated);
	buf_cut(&b, 20000);		/* longer than it is: nothing changes */
	ASSERT_EQ(b.len, 10000);
	ASSERT_FALSE(b.truncated);
	buf_cut(&b, 12);
	ASSERT_EQ(b.len, 12);
	ASSERT_STR(b.data, "012345678901");
	ASSERT_TRUE(b.truncated);
	ASSERT_EQ(b.alloc, 13);		/* the rest was given back */
	buf_cut(&b, 0);
	ASSERT_EQ(b.len, 0);
	ASSERT_STR(b.data, "");
	buf_free(&b);
}
