/*
 * HMAC-SHA256 after RFC 2104: H((K ^ opad) || H((K ^ ipad) || message)).
 */
#include <string.h>

#include "util/hmac.h"

static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t keylen)
{
	unsigned char k[64], ikey[64];
	size_t i;

	memset(k, 0, sizeof(k));
	if (keylen > sizeof(k)) {
		struct sha256 s;

		sha256_init(&s);
		sha256_update(&s, key, keylen);
		sha256_final(&s, k);
	} else if (keylen > 0) {
		memcpy(k, key, keylen);
	}
	for (i = 0; i < 64; i++) {
		ikey[i] = k[i] ^ 0x36;
		h->okey[i] = k[i] ^ 0x5c;
	}
	sha256_init(&h->inner);
	sha256_update(&h->inner, ikey, sizeof(ikey));
	wipe(k, sizeof(k));
	wipe(ikey, sizeof(ikey));
}

void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t n)
{
	sha256_update(&h->inner, data, n);
}

void hmac_sha256_final(struct hmac_sha256 *h, unsigned char out[32])
{
	unsigned char ih[32];
	struct sha256 outer;

	sha256_final(&h->inner, ih);
	sha256_init(&outer);
	sha256_update(&outer, h->okey, sizeof(h->okey));
	sha256_update(&outer, ih, sizeof(ih));
	sha256_final(&outer, out);
	wipe(h, sizeof(*h));
	wipe(&outer, sizeof(outer));
}

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, unsigned char out[32])
{
	struct hmac_sha256 h;

	hmac_sha256_init(&h, key, keylen);
	hmac_sha256_update(&h, data, n);
	hmac_sha256_final(&h, out);
}
