/*
 * Unit tests for the json writer: structure, commas, escaping, numbers,
 * misuse, the bytes field with its base64 twin.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json.h"
#include "test.h"

TEST(json_write_object_and_commas)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_begin_object(&w);
	json_field_string(&w, "status", "ok");
	json_field_int(&w, "exit_code", 0);
	json_field_null(&w, "signal");
	json_field_bool(&w, "stdout_truncated", false);
	json_field_uint(&w, "big", UINT64_MAX);
	json_key(&w, "list");
	json_begin_array(&w);
	json_int(&w, -1);
	json_bool(&w, true);
	json_begin_object(&w);
	json_end_object(&w);
	json_begin_array(&w);
	json_end_array(&w);
	json_null(&w);
	json_end_array(&w);
	ASSERT_EQ(json_end_object(&w), 0);
	ASSERT_STR(b.data, "{\"status\":\"ok\",\"exit_code\":0,\"signal\":null,"
			   "\"stdout_truncated\":false,\"big\":18446744073709551615,"
			   "\"list\":[-1,true,{},[],null]}");
	buf_free(&b);
}

TEST(json_write_int_extremes)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_begin_array(&w);
	json_int(&w, INT64_MIN);
	json_int(&w, INT64_MAX);
	json_uint(&w, 0);
	json_end_array(&w);
	ASSERT_EQ(json_writer_error(&w), 0);
	ASSERT_STR(b.data, "[-9223372036854775808,9223372036854775807,0]");
	buf_free(&b);
}

TEST(json_write_doubles)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_begin_array(&w);
	json_double(&w, 0.1);
	json_double(&w, 1.5);
	json_double(&w, 1e300);
	json_double(&w, NAN);
	json_double(&w, INFINITY);
	json_double(&w, 1.0 / 3.0);
	json_end_array(&w);
	ASSERT_EQ(json_writer_error(&w), 0);
	ASSERT_STR(b.data, "[0.1,1.5,1e+300,null,null,0.3333333333333333]");
	buf_free(&b);
}

TEST(json_write_string_escapes)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	static const char in[] = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f\0end";
	json_string_len(&w, in, sizeof(in) - 1);
	ASSERT_EQ(json_writer_error(&w), 0);
	ASSERT_STR(b.data, "\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\\u0000end\"");
	buf_free(&b);
}

TEST(json_write_string_unicode_and_invalid)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_begin_array(&w);
	json_string(&w, "caf\xc3\xa9 \xf0\x9f\x98\x80");
	json_string(&w, "bad\xff\xfe!");
	json_string(&w, "\xed\xa0\x80");
	json_string(&w, NULL);
	json_end_array(&w);
	ASSERT_EQ(json_writer_error(&w), 0);
	ASSERT_STR(b.data, "[\"caf\xc3\xa9 \xf0\x9f\x98\x80\",\"bad\xef\xbf\xbd\xef\xbf\xbd!\","
			   "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\",null]");
	buf_free(&b);
}

TEST(json_write_key_escaped)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_begin_object(&w);
	json_field_int(&w, "a\"b\n", 1);
	json_end_object(&w);
	ASSERT_STR(b.data, "{\"a\\\"b\\n\":1}");
	buf_free(&b);
}

TEST(json_write_misuse_is_sticky)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;

	json_writer_init(&w, &b);
	json_begin_object(&w);
	ASSERT_EQ(json_int(&w, 1), -EINVAL); /* value without key */
	ASSERT_EQ(json_end_object(&w), -EINVAL);
	ASSERT_EQ(json_writer_error(&w), -EINVAL);

	buf_reset(&b);
	json_writer_init(&w, &b);
	json_begin_array(&w);
	ASSERT_EQ(json_key(&w, "k"), -EINVAL); /* key in array */

	buf_reset(&b);
	json_writer_init(&w, &b);
	ASSERT_EQ(json_end_array(&w), -EINVAL); /* nothing open */

	buf_reset(&b);
	json_writer_init(&w, &b);
	json_begin_object(&w);
	json_key(&w, "k");
	ASSERT_EQ(json_end_object(&w), -EINVAL); /* key without value */

	buf_reset(&b);
	json_writer_init(&w, &b);
	json_begin_object(&w);
	json_key(&w, "k");
	ASSERT_EQ(json_key(&w, "j"), -EINVAL); /* two keys */

	buf_reset(&b);
	json_writer_init(&w, &b);
	json_begin_array(&w);
	ASSERT_EQ(json_end_object(&w), -EINVAL); /* mismatched end */

	buf_reset(&b);
	json_writer_init(&w, &b);
	for (int i = 0; i < JSON_WRITER_MAX_DEPTH; i++)
		ASSERT_EQ(json_begin_array(&w), 0);
	ASSERT_EQ(json_begin_array(&w), -EINVAL); /* too deep */
	buf_free(&b);
}

TEST(json_write_cap_reports_enospc)
{
	struct buf b;
	buf_init(&b, 10);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_begin_object(&w);
	json_field_string(&w, "key", "a long value");
	ASSERT_EQ(json_end_object(&w), -ENOSPC);
	ASSERT_EQ(json_writer_error(&w), -ENOSPC);
	ASSERT_LE(b.len, 10);
	buf_free(&b);
}

TEST(json_write_top_level_sequence)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_int(&w, 1);
	json_string(&w, "x");
	ASSERT_EQ(json_writer_error(&w), 0);
	ASSERT_STR(b.data, "1\"x\"");
	buf_free(&b);
}

TEST(json_write_bytes_field_valid)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_begin_object(&w);
	json_write_bytes_field(&w, "stdout", "hi\n", 3);
	json_write_bytes_field(&w, "stderr", "", 0);
	json_write_bytes_field(&w, "nul", "a\0b", 3);
	json_end_object(&w);
	ASSERT_EQ(json_writer_error(&w), 0);
	ASSERT_STR(b.data, "{\"stdout\":\"hi\\n\",\"stderr\":\"\",\"nul\":\"a\\u0000b\"}");
	buf_free(&b);
}

TEST(json_write_bytes_field_invalid_adds_base64)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_begin_object(&w);
	json_write_bytes_field(&w, "stdout", "a\xff\n", 3);
	json_field_int(&w, "after", 1);
	json_end_object(&w);
	ASSERT_EQ(json_writer_error(&w), 0);
	ASSERT_STR(b.data, "{\"stdout\":\"a\xef\xbf\xbd\\n\",\"stdout_base64\":\"Yf8K\",\"after\":1}");

	/* A long key takes the heap path for "<key>_base64". */
	char key[100];
	memset(key, 'k', 99);
	key[99] = '\0';
	buf_reset(&b);
	json_writer_init(&w, &b);
	json_begin_object(&w);
	json_write_bytes_field(&w, key, "\x80", 1);
	json_end_object(&w);
	ASSERT_EQ(json_writer_error(&w), 0);
	ASSERT_NOT_NULL(strstr(b.data, "kkk_base64\":\"gA==\"}"));
	buf_free(&b);
}
