/*
 * The transition table (docs/api.md, PATCH /api/orders/{id}/status).
 */
#include <string.h>

#include "domain/status.h"

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
