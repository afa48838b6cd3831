/*
 * Strict decimal integers (see num.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "util/num.h"

int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || !((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return -1;
	if ((s[0] == '0' && s[1] != '\0') || (s[0] == '-' && s[1] == '0'))
		return -1; /* not canonical: keep "007" text */
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}
