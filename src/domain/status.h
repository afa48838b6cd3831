/*
 * The life of an order: PENDING -> PREPARING -> READY -> COMPLETED, or
 * CANCELLED from any status that is not final. Moves go forward and may skip
 * steps; COMPLETED and CANCELLED are final.
 */
#ifndef TOKENQ_STATUS_H
#define TOKENQ_STATUS_H

#include <stdbool.h>

#include "store/record.h"

bool status_is_final(enum order_status s);
/* Whether an order in from may be moved to to (never to itself). */
bool status_can_move(enum order_status from, enum order_status to);

#endif
