/*
 * SHA-256 (FIPS 180-4), for migration checksums, API key hashes and the
 * fingerprints of idempotent request bodies. Small enough to carry instead
 * of a crypto library.
 */
#ifndef TOKENQ_SHA256_H
#define TOKENQ_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char block[64];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[32]);

/* Writes the lower-case hex digest of data (64 characters and a NUL) to hex. */
void sha256_hex(const void *data, size_t n, char hex[65]);

#endif
