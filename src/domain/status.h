/*
 * The life of an order: PENDING -> PREPARING -> READY -> COMPLETED, or
 * CANCELLED from any status that is not final. Moves go forward and may skip
 * steps; COMPLETED and CANCELLED are final.
 */
#ifndef TOKENQ_STATUS_H
#define TOKENQ_STATUS_H

#include <stdbool.h>

enum order_status { ST_PENDING, ST_PREPARING, ST_READY, ST_COMPLETED, ST_CANCELLED, ST_COUNT };

/* "PENDING" and so on. */
const char *status_name(enum order_status s);
/* Exact, case-sensitive; returns 0 or -1 for an unknown name. */
int status_parse(const char *name, enum order_status *out);
bool status_is_final(enum order_status s);
/* Whether an order in from may be moved to to (never to itself). */
bool status_can_move(enum order_status from, enum order_status to);

#endif
