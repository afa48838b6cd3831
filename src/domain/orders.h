/*
 * The life of an order after it is issued: every rule about which change
 * may happen, in one place. The store records a change only if the order
 * is still as the rule saw it (store_record_change); a concurrent change in
 * between makes the rule be asked again with the order as it now is.
 */
#ifndef TOKENQ_DOMAIN_ORDERS_H
#define TOKENQ_DOMAIN_ORDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/*
 * Moves order id to status to (status_can_move), or with recall calls a
 * READY order out again, recording the event. TQ_NOT_FOUND, or TQ_CONFLICT
 * invalid_transition with a sentence naming the order's status. On success
 * out holds the order as it now is.
 */
int orders_change(struct store_conn *c, int venue, int64_t id, enum order_status to, bool recall,
                  int64_t now, struct order *out, struct tq_error *err);

#endif
