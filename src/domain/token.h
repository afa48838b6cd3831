/*
 * Token text: the queue's prefix, a dash, and the day's number zero-padded
 * to the configured width, never cut, A-1000.
 */
#ifndef TOKENQ_TOKEN_H
#define TOKENQ_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAX 32 /* room for a 3-letter prefix and any int64 */

/* A queue prefix is 1 to 3 upper-case ASCII letters. */
bool token_prefix_valid(const char *prefix);

/* Writes the token for (prefix, seq) padded to digits (1..9). */
void token_format(char out[TOKEN_MAX], const char *prefix, int64_t seq, int digits);

/*
 * Reads "a-42", "A-042" or "TX-1000" in any letter case: the upper-cased
 * prefix goes to prefix, the number (1 or more) to seq. Returns 0, or -1 when
 * s is not a token.
 */
int token_parse(const char *s, char prefix[4], int64_t *seq);

#endif
