/*
 * Signing webhook deliveries after the Standard Webhooks specification
 * (standardwebhooks.com), so receivers verify them with that
 * specification's own libraries. Each delivery carries three headers:
 *
 *   webhook-id         the message id, the same on every retry of it
 *   webhook-timestamp  seconds since the epoch when this attempt was signed
 *   webhook-signature  "v1," + base64(HMAC-SHA256(key, id "." timestamp "." body))
 *
 * An endpoint's secret is "whsec_" + base64 of its key; the key is random
 * bytes from the kernel, made once when the endpoint is created and shown
 * to its owner once.
 */
#ifndef TOKENQ_HOOK_SIGN_H
#define TOKENQ_HOOK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "util/base64.h"

#define HOOK_SECRET_PREFIX "whsec_"
/* Key bytes in a new secret (the specification asks for 24 to 64). */
#define HOOK_KEY_BYTES 32
/* Room for a secret this module makes, with its NUL. */
#define HOOK_SECRET_SIZE (sizeof(HOOK_SECRET_PREFIX) + BASE64_LEN(HOOK_KEY_BYTES))
/* Room for one webhook-signature value ("v1," + 44 characters) with its NUL. */
#define HOOK_SIGNATURE_SIZE (3 + BASE64_LEN(32) + 1)
/* The longest key a secret may carry. */
#define HOOK_KEY_MAX 64

/* Writes a new secret to out (HOOK_SECRET_SIZE bytes). Returns 0, or -1 if the kernel
 * gave no random bytes (then out is an empty string). */
int hook_secret_new(char out[HOOK_SECRET_SIZE]);

/* Decodes a secret ("whsec_<base64>"; a bare base64 key is taken too) into key (of
 * HOOK_KEY_MAX bytes). Returns the key's length, or -1 if secret is not one. */
long hook_secret_key(const char *secret, unsigned char key[HOOK_KEY_MAX]);

/* Writes the webhook-signature value for one attempt to sig. Returns 0, or -1 if secret
 * is not a valid secret (then sig is an empty string). */
int hook_sign(const char *secret, const char *msg_id, int64_t timestamp, const void *body,
              size_t len, char sig[HOOK_SIGNATURE_SIZE]);

#endif
