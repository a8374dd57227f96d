/*
 * utf8: strict UTF-8 validation and decoding.
 *
 * Program output and request bodies are arbitrary bytes, but JSON strings
 * must be valid UTF-8.  "Valid" here is the strict definition of RFC 3629:
 * shortest form only (no overlongs), no UTF-16 surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF.  The lossy copy replaces every maximal ill-formed
 * subpart with one U+FFFD, the policy of the Unicode standard (section 3.9)
 * and of WHATWG encoding, so every consumer sees the same replacement.
 */
#ifndef RUNCELL_CORE_UTF8_H
#define RUNCELL_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* True when s[0..len) is entirely valid UTF-8 (NUL bytes are valid). */
bool utf8_valid(const char *s, size_t len);

/*
 * Decodes one character at s (len > 0 bytes available).  On success stores
 * the code point and returns its length in bytes (1..4).  On an ill-formed
 * sequence returns the negated length of its maximal ill-formed subpart
 * (-1..-3), the number of bytes one U+FFFD replaces.
 */
int utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Encodes cp (<= 0x10FFFF, not a surrogate) into out; returns 1..4, 0 if cp is invalid. */
int utf8_encode(uint32_t cp, char out[4]);

/*
 * Appends s[0..len) to out with each ill-formed subpart replaced by U+FFFD.
 * Returns 0 or the buf_append error (-ENOSPC when out's cap was reached,
 * -ENOMEM); a cut never splits a character.
 */
int utf8_append_lossy(struct buf *out, const char *s, size_t len);

#endif
