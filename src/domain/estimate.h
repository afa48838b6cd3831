/*
 * The waiting-time estimate shown to a customer (eta_seconds).
 *
 * It is made from the queue's own recent past: how long its latest orders
 * took from creation to READY, and how far apart they turned READY (the
 * pace of the line). It grows with the tokens ahead, and it never promises
 * less than the time already waited suggests: an order already later than
 * usual is told the line runs that much slower.
 */
#ifndef TOKENQ_DOMAIN_ESTIMATE_H
#define TOKENQ_DOMAIN_ESTIMATE_H

#include <stdint.h>

#include "store/record.h"

/*
 * Seconds until an order PENDING or PREPARING for waited seconds, with ahead
 * tokens before it, is likely READY; -1 when the queue has no history.
 */
int64_t estimate_seconds(const struct pace *p, int64_t waited, int64_t ahead);

#endif
