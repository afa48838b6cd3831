/*
 * HMAC-SHA256 (RFC 2104 over FIPS 180-4), for signing webhook deliveries.
 * Built on util/sha256 so tokenq carries no crypto library for it.
 */
#ifndef TOKENQ_HMAC_H
#define TOKENQ_HMAC_H

#include <stddef.h>

#include "util/sha256.h"

struct hmac_sha256 {
	struct sha256 inner;
	unsigned char okey[64];
};

/* Starts a MAC under key (any length; longer than 64 bytes is hashed first). */
void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t keylen);
void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t n);
/* Writes the 32-byte MAC to out and wipes the key material from h. */
void hmac_sha256_final(struct hmac_sha256 *h, unsigned char out[32]);

/* The MAC of one buffer. */
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, unsigned char out[32]);

#endif
