/*
 * base64: RFC 4648 encoding and strict decoding (see base64.h).
 *
 * The decoder validates the whole input before appending anything, so a
 * refused input never leaves partial bytes in the caller's buffer.
 */
#include "core/base64.h"

#include <errno.h>
#include <stdint.h>

static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

int base64_encode(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	char chunk[256];
	size_t used = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = len - i;
		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		chunk[used++] = base64_alphabet[(v >> 18) & 63];
		chunk[used++] = base64_alphabet[(v >> 12) & 63];
		chunk[used++] = left > 1 ? base64_alphabet[(v >> 6) & 63] : '=';
		chunk[used++] = left > 2 ? base64_alphabet[v & 63] : '=';
		if (used == sizeof(chunk) || i + 3 >= len) {
			size_t room = buf_room(out);
			if (room < used) {
				int rc = buf_append(out, chunk, room / 4 * 4);
				out->truncated = true;
				return rc == -ENOMEM ? rc : -ENOSPC;
			}
			int rc = buf_append(out, chunk, used);
			if (rc < 0)
				return rc;
			used = 0;
		}
	}
	return 0;
}

static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(struct buf *out, const char *s, size_t len, size_t max_out)
{
	const unsigned char *p = (const unsigned char *)s;
	/* Strip the padding of the last group. */
	size_t n = len;
	if (len % 4 == 0 && len > 0) {
		if (p[len - 1] == '=') {
			n--;
			if (p[len - 2] == '=')
				n--;
		}
	}
	if (n % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (base64_value(p[i]) < 0)
			return -EINVAL;
	/* Canonical form: the unused low bits of the last group are zero. */
	if (n % 4 == 2 && (base64_value(p[n - 1]) & 0x0F))
		return -EINVAL;
	if (n % 4 == 3 && (base64_value(p[n - 1]) & 0x03))
		return -EINVAL;
	size_t outlen = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (outlen > max_out)
		return -E2BIG;

	unsigned char chunk[192];
	size_t used = 0;
	for (size_t i = 0; i < n; i += 4) {
		size_t left = n - i;
		uint32_t v = 0;
		for (size_t k = 0; k < 4; k++)
			v = (v << 6) | (k < left ? (uint32_t)base64_value(p[i + k]) : 0);
		chunk[used++] = (unsigned char)(v >> 16);
		if (left > 2)
			chunk[used++] = (unsigned char)(v >> 8);
		if (left > 3)
			chunk[used++] = (unsigned char)v;
		if (used + 3 > sizeof(chunk) || i + 4 >= n) {
			int rc = buf_append(out, chunk, used);
			if (rc < 0)
				return rc;
			used = 0;
		}
	}
	return 0;
}
