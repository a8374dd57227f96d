/*
 * base64: the standard alphabet of RFC 4648 section 4 ('+', '/', '=').
 *
 * Encoding carries exact program output next to its lossy UTF-8 form in
 * JSON results; decoding takes file contents and stdin from API clients,
 * so it is strict: anything that is not canonical base64 is refused rather
 * than guessed at, and the decoded size is capped before any allocation.
 */
#ifndef RUNCELL_CORE_BASE64_H
#define RUNCELL_CORE_BASE64_H

#include <stddef.h>

#include "core/buf.h"

/* Length of the padded encoding of n bytes. */
size_t base64_encoded_len(size_t n);

/*
 * Appends the padded encoding of data[0..len) to out.  Returns 0,
 * -ENOSPC when out's cap cut it short (only whole 4-char groups are
 * written) or -ENOMEM.
 */
int base64_encode(struct buf *out, const void *data, size_t len);

/*
 * Appends the bytes encoded by s[0..len) to out.  Accepted: the standard
 * alphabet in groups of four, the final group padded with '=' or unpadded
 * (2 or 3 characters); the empty string.  Refused with -EINVAL (out left
 * as it was): whitespace, any other character, '=' anywhere but the end,
 * a dangling single character, nonzero unused bits in the last group
 * (non-canonical).  Refused with -E2BIG before anything is written: a
 * decoded size above max_out.  Also -ENOSPC/-ENOMEM from out.
 */
int base64_decode(struct buf *out, const char *s, size_t len, size_t max_out);

#endif
