/*
 * Formatting and reading token text. Formatting is done here in C, never in
 * SQL: PostgreSQL's lpad() truncates ('1000' padded to 3 is '100').
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "domain/token.h"
#include "util/config.h"

bool token_prefix_valid(const char *prefix)
{
	return config_prefix_valid(prefix); /* the setting and the token share one rule */
}

void token_format(char out[TOKEN_MAX], const char *prefix, int64_t seq, int digits)
{
	snprintf(out, TOKEN_MAX, "%s-%0*lld", prefix, digits, (long long)seq);
}

int token_parse(const char *s, char prefix[4], int64_t *seq)
{
	size_t i = 0, ndig = 0;
	int64_t v = 0;

	while (i < 3 && isalpha((unsigned char)s[i]) && (unsigned char)s[i] < 128) {
		prefix[i] = (char)toupper((unsigned char)s[i]);
		i++;
	}
	prefix[i] = '\0';
	if (i == 0 || s[i] != '-')
		return -1;
	for (s += i + 1; *s; s++, ndig++) {
		if (*s < '0' || *s > '9' || ndig >= 18)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (ndig == 0 || v < 1)
		return -1;
	*seq = v;
	return 0;
}
