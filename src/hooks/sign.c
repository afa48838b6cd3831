/*
 * Standard Webhooks signatures: the signed content is the message id, the
 * timestamp and the body joined by dots, MACed with the key that the
 * secret's base64 carries.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "hooks/sign.h"
#include "util/hmac.h"

static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

int hook_secret_new(char out[HOOK_SECRET_SIZE])
{
	unsigned char key[HOOK_KEY_BYTES];
	size_t got = 0;
	size_t pre = strlen(HOOK_SECRET_PREFIX);

	out[0] = '\0';
	while (got < sizeof(key)) {
		ssize_t n = getrandom(key + got, sizeof(key) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	memcpy(out, HOOK_SECRET_PREFIX, pre);
	if (base64_encode(key, sizeof(key), out + pre, HOOK_SECRET_SIZE - pre) < 0) {
		out[0] = '\0';
		wipe(key, sizeof(key));
		return -1;
	}
	wipe(key, sizeof(key));
	return 0;
}

long hook_secret_key(const char *secret, unsigned char key[HOOK_KEY_MAX])
{
	size_t pre = strlen(HOOK_SECRET_PREFIX);
	long n;

	if (secret == NULL)
		return -1;
	if (strncmp(secret, HOOK_SECRET_PREFIX, pre) == 0)
		secret += pre;
	n = base64_decode(secret, strlen(secret), key, HOOK_KEY_MAX);
	return n <= 0 ? -1 : n;
}

int hook_sign(const char *secret, const char *msg_id, int64_t timestamp, const void *body,
              size_t len, char sig[HOOK_SIGNATURE_SIZE])
{
	unsigned char key[HOOK_KEY_MAX], mac[32];
	struct hmac_sha256 h;
	char ts[24];
	long keylen = hook_secret_key(secret, key);
	int n;

	sig[0] = '\0';
	if (keylen < 0 || msg_id == NULL)
		return -1;
	n = snprintf(ts, sizeof(ts), "%" PRId64, timestamp);
	hmac_sha256_init(&h, key, (size_t)keylen);
	wipe(key, sizeof(key));
	hmac_sha256_update(&h, msg_id, strlen(msg_id));
	hmac_sha256_update(&h, ".", 1);
	hmac_sha256_update(&h, ts, (size_t)n);
	hmac_sha256_update(&h, ".", 1);
	hmac_sha256_update(&h, body, len);
	hmac_sha256_final(&h, mac);
	memcpy(sig, "v1,", 3);
	if (base64_encode(mac, sizeof(mac), sig + 3, HOOK_SIGNATURE_SIZE - 3) < 0) {
		sig[0] = '\0';
		return -1;
	}
	return 0;
}
