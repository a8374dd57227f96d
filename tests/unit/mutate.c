/*
 * mutate: random edits of a valid input, for the tests that throw
 * near-valid requests at a parser.  rand() drives it, so a test that seeds
 * it with srand() gets the same inputs on every run.
 */
#include <stdlib.h>

#include "test.h"

size_t test_mutate(char *buf, size_t cap, const char *seed, const char *const *tokens,
		   size_t ntokens, bool printable)
{
	size_t len = strlen(seed);
	if (len >= cap)
		len = cap - 1;
	memcpy(buf, seed, len);
	for (int e = 0, edits = 1 + rand() % 4; e < edits; e++) {
		size_t at = len ? (size_t)rand() % len : 0;
		switch (rand() % 4) {
		case 0: /* one byte changed */
			if (len)
				buf[at] = printable ? (char)(32 + rand() % 95) : (char)rand();
			break;
		case 1: { /* a token inserted; "" stands for one NUL byte */
			const char *tk = tokens[(size_t)rand() % ntokens];
			size_t tl = *tk ? strlen(tk) : 1;
			if (len + tl < cap) {
				memmove(buf + at + tl, buf + at, len - at);
				memcpy(buf + at, tk, tl);
				len += tl;
			}
			break;
		}
		case 2: { /* a run of up to 8 bytes deleted */
			size_t n = (size_t)rand() % 8 + 1;
			if (at + n > len)
				n = len - at;
			memmove(buf + at, buf + at + n, len - at - n);
			len -= n;
			break;
		}
		default: /* cut short */
			len = at;
			break;
		}
	}
	return len;
}
