/*
 * API keys: making one (a secret shown once, and its sha256, which is all
 * the store keeps) and knowing who a request is from (tq_authenticate in
 * tq.h).
 */
#ifndef TOKENQ_DOMAIN_KEYS_H
#define TOKENQ_DOMAIN_KEYS_H

#include <stdint.h>

/* Makes a new secret ("tq_" and 43 base64url characters, 256 bits) and its hash. 0 or -1. */
int keys_generate(char secret[64], char hash[65]);

#endif
