/*
 * Base64 (RFC 4648, the standard alphabet with padding), for webhook
 * secrets and signatures, which the Standard Webhooks specification writes
 * in this alphabet.
 */
#ifndef TOKENQ_BASE64_H
#define TOKENQ_BASE64_H

#include <stddef.h>

/* The size of the text for n bytes, without the NUL. */
#define BASE64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes the base64 text of data and a NUL to out (of size outsz). Returns the length of
 * the text, or -1 if out is too small (then out holds an empty string when outsz > 0). */
long base64_encode(const void *data, size_t n, char *out, size_t outsz);

/* Decodes n characters of padded base64 into out (of size outsz). Returns the number of
 * bytes, or -1 for a character outside the alphabet, bad padding, a length that is not a
 * multiple of 4, or an out too small. */
long base64_decode(const char *text, size_t n, unsigned char *out, size_t outsz);

#endif
