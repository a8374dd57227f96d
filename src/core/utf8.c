/*
 * utf8: strict UTF-8 validation, decoding and lossy copying (see utf8.h).
 *
 * The decoder follows the well-formed byte sequence table of the Unicode
 * standard (table 3-7): the second byte's range depends on the lead byte,
 * which is what rules out overlongs (E0 80..9F, F0 80..8F), surrogates
 * (ED A0..BF) and code points past U+10FFFF (F4 90..BF, F5..FF).
 */
#include "core/utf8.h"

#include <errno.h>

int utf8_decode(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	int n;
	unsigned char lo = 0x80, hi = 0xBF;
	uint32_t v;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return -1; /* continuation byte, C0, C1 or F5..FF */
	}
	for (int i = 1; i < n; i++) {
		if ((size_t)i >= len)
			return -i;
		unsigned char b = s[i];
		if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
			return -i;
		v = (v << 6) | (b & 0x3F);
	}
	*cp = v;
	return n;
}

int utf8_encode(uint32_t cp, char out[4])
{
	unsigned char *o = (unsigned char *)out;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp >= 0xD800 && cp <= 0xDFFF)
		return 0;
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	if (cp <= 0x10FFFF) {
		o[0] = (unsigned char)(0xF0 | (cp >> 18));
		o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (unsigned char)(0x80 | (cp & 0x3F));
		return 4;
	}
	return 0;
}

bool utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		/* ASCII fast path, eight bytes at a time. */
		while (i + 8 <= len) {
			uint64_t w;
			__builtin_memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		uint32_t cp;
		int n = utf8_decode(s + i, len - i, &cp);
		if (n < 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

/*
 * Appends valid UTF-8; when out's cap cuts it, the cut moves back to a
 * character boundary so the buffer stays valid.
 */
static int utf8_append_valid_prefix(struct buf *out, const char *s, size_t len)
{
	size_t room = buf_room(out);
	if (len <= room)
		return buf_append(out, s, len);
	size_t n = room;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	int rc = buf_append(out, s, n);
	out->truncated = true;
	return rc < 0 ? rc : -ENOSPC;
}

int utf8_append_lossy(struct buf *out, const char *s, size_t len)
{
	size_t i = 0, run = 0; /* s[run..i) is valid and not yet copied */
	while (i < len) {
		uint32_t cp;
		int n = utf8_decode(s + i, len - i, &cp);
		if (n > 0) {
			i += (size_t)n;
			continue;
		}
		if (i > run) {
			int rc = utf8_append_valid_prefix(out, s + run, i - run);
			if (rc < 0)
				return rc;
		}
		if (buf_room(out) < 3) {
			out->truncated = true;
			return -ENOSPC;
		}
		int rc = buf_append(out, UTF8_REPLACEMENT, 3);
		if (rc < 0)
			return rc;
		i += (size_t)-n;
		run = i;
	}
	if (i > run)
		return utf8_append_valid_prefix(out, s + run, i - run);
	return 0;
}
