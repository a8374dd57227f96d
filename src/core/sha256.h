/*
 * sha256: FIPS 180-4 SHA-256, for cache keys and checksums.
 */
#ifndef RUNCELL_CORE_SHA256_H
#define RUNCELL_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, unsigned char digest[32]);
/* 64 lowercase hex characters and a NUL. */
void sha256_hex(const unsigned char digest[32], char hex[65]);

#endif
