/*
 * Filling in struct tq_error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"

int tq_fail(struct tq_error *err, enum tq_status status, const char *code, const char *field,
            const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->status = status;
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return -1;
}

void tq_error_clear(struct tq_error *err)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	err->status = TQ_OK;
}
