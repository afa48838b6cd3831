/*
 * What an order is and how one is checked (docs/api.md, POST /api/orders): 1 to 200 items
 * of {name, quantity, unit_price}, a total the server computes (a client's
 * own total must match), an optional note, and a queue.
 */
#ifndef TOKENQ_ORDER_H
#define TOKENQ_ORDER_H

#include <jansson.h>
#include <stdint.h>

#include "store/record.h"
#include "util/config.h"
#include "util/error.h"

#define ORDER_MAX_ITEMS 200
#define ITEM_NAME_MAX   120
#define ITEM_QTY_MAX    1000
#define ITEM_PRICE_MAX  100000000
#define ORDER_NOTE_MAX  500

/*
 * Checks body (a decoded JSON object) against every rule and fills in. On
 * success returns 0 and in owns two strings; on failure returns -1 with err
 * naming the code and the field, and in holds nothing.
 */
int order_validate(const json_t *body, const struct config *cfg, struct order_input *in,
                   struct tq_error *err);

/*
 * Counts the code points of a UTF-8 string and checks its characters: with
 * allow_breaks, tab, line feed and carriage return are allowed; no other
 * control character ever is. Returns the count, or -1.
 */
long text_length(const char *s, int allow_breaks);
/* Whether s (UTF-8) holds only white space (Unicode White_Space), or nothing. */
int text_blank(const char *s);

#endif
