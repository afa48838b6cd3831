/*
 * What an order is and how one is checked (docs/api.md, POST /api/orders): 1 to 200 items
 * of {name, quantity, unit_price}, a total the server computes (a client's
 * own total must match), an optional note, and a queue.
 */
#ifndef TOKENQ_ORDER_H
#define TOKENQ_ORDER_H

#include <jansson.h>
#include <stdint.h>

#include "domain/bizdate.h"
#include "domain/error.h"
#include "domain/status.h"
#include "util/config.h"

#define ORDER_MAX_ITEMS 200
#define ITEM_NAME_MAX   120
#define ITEM_QTY_MAX    1000
#define ITEM_PRICE_MAX  100000000
#define ORDER_NOTE_MAX  500

/* A checked order, ready to be issued. Owns its strings; free with order_input_release. */
struct order_input {
	char queue[4];
	char *items_json; /* canonical [{"name":..,"quantity":..,"unit_price":..}] */
	int64_t total;
	char *note; /* NULL when absent */
};

/*
 * Checks body (a decoded JSON object) against every rule and fills in. On
 * success returns 0 and in owns two strings; on failure returns -1 with err
 * naming the code and the field, and in holds nothing.
 */
int order_validate(const json_t *body, const struct config *cfg, struct order_input *in,
                   struct tq_error *err);
void order_input_release(struct order_input *in);

/*
 * Counts the code points of a UTF-8 string and checks its characters: with
 * allow_breaks, tab, line feed and carriage return are allowed; no other
 * control character ever is. Returns the count, or -1.
 */
long text_length(const char *s, int allow_breaks);

/* A stored order, as the store reads it back. Free with order_release. */
struct order {
	int64_t id;
	char queue[4];
	char business_date[BIZDATE_LEN];
	int64_t sequence;
	enum order_status status;
	char *items_json;
	int64_t total;
	char *note;
	int64_t created_at; /* ms since the epoch */
	int64_t updated_at;
	int64_t ready_at; /* when it first became READY, or 0 */
};

void order_release(struct order *o);

#endif
