/*
 * Reading integers from text, in one way everywhere: strict, canonical
 * decimal (no sign but a leading minus, no leading zeros, no spaces), so
 * that "007" or "1e3" is never taken for a number.
 */
#ifndef TOKENQ_UTIL_NUM_H
#define TOKENQ_UTIL_NUM_H

#include <stdint.h>

/* Strict decimal int64; 0, or -1 when s is NULL or not exactly one. */
int parse_i64(const char *s, int64_t *out);

#endif
