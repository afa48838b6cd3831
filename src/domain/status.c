/*
 * The transition table (docs/api.md, PATCH /api/orders/{id}/status).
 */
#include <string.h>

#include "domain/status.h"

static const char *const names[ST_COUNT] = {"PENDING", "PREPARING", "READY", "COMPLETED",
                                            "CANCELLED"};

const char *status_name(enum order_status s)
{
	return (unsigned)s < ST_COUNT ? names[s] : "UNKNOWN";
}

int status_parse(const char *name, enum order_status *out)
{
	int i;

	for (i = 0; i < ST_COUNT; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum order_status)i;
			return 0;
		}
	}
	return -1;
}

bool status_is_final(enum order_status s)
{
	return s == ST_COMPLETED || s == ST_CANCELLED;
}

bool status_can_move(enum order_status from, enum order_status to)
{
	if ((unsigned)from >= ST_COUNT || (unsigned)to >= ST_COUNT || status_is_final(from))
		return false;
	if (to == ST_CANCELLED)
		return true;
	/* Forward along PENDING < PREPARING < READY < COMPLETED, skipping allowed. */
	return to > from;
}
