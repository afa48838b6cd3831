/*
 * Order validation. Every refusal names its code and the member at fault,
 * in the documented order of checks (docs/api.md "Problem codes").
 */
#include <stdlib.h>
#include <string.h>

#include "domain/order.h"
#include "domain/token.h"

long text_length(const char *s, int allow_breaks)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	/* jansson has already checked that the string is valid UTF-8 without NUL. */
	while (*p) {
		unsigned c = *p;
		if (c < 0x20 || c == 0x7f) {
			if (!(allow_breaks && (c == '\t' || c == '\n' || c == '\r')))
				return -1;
		} else if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			return -1; /* C1 control characters, U+0080..U+009F */
		}
		if ((c & 0xc0) != 0x80)
			n++;
		p++;
	}
	return n;
}

int text_blank(const char *s)
{
	static const unsigned spaces[] = {0x85,   0xa0,   0x1680, 0x2028, 0x2029,
	                                  0x202f, 0x205f, 0x3000, 0xfeff};
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, len = 1, i;
		if (c >= 0xf0)
			c &= 0x07, len = 4;
		else if (c >= 0xe0)
			c &= 0x0f, len = 3;
		else if (c >= 0xc0)
			c &= 0x1f, len = 2;
		for (i = 1; i < len; i++)
			c = c << 6 | (p[i] & 0x3f);
		p += len;
		if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x2000 && c <= 0x200a))
			continue;
		for (i = 0; i < sizeof(spaces) / sizeof(spaces[0]) && spaces[i] != c; i++)
			;
		if (i == sizeof(spaces) / sizeof(spaces[0]))
			return 0;
	}
	return 1;
}

static int check_item(const json_t *item, size_t i, json_t *out, struct tq_error *err)
{
	const char *key;
	json_t *v;
	char f[96];
	long len;

	if (!json_is_object(item)) {
		snprintf(f, sizeof(f), "items[%zu]", i);
		return tq_fail(err, TQ_INVALID, "invalid_item", f, "%s must be an object", f);
	}
	json_object_foreach((json_t *)item, key, v)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "quantity") != 0 &&
		    strcmp(key, "unit_price") != 0) {
			snprintf(f, sizeof(f), "items[%zu].%.40s", i, key);
			return tq_fail(err, TQ_INVALID, "unknown_field", f,
			               "%s is not a member an item may have (name, quantity, "
			               "unit_price)",
			               f);
		}
	}
	v = json_object_get(item, "name");
	snprintf(f, sizeof(f), "items[%zu].name", i);
	if (!json_is_string(v) || (len = text_length(json_string_value(v), 0)) < 1 ||
	    len > ITEM_NAME_MAX || text_blank(json_string_value(v)))
		return tq_fail(err, TQ_INVALID, "invalid_item", f,
		               "%s must be text of 1 to %d characters, not blank and without "
		               "control characters",
		               f, ITEM_NAME_MAX);
	v = json_object_get(item, "quantity");
	snprintf(f, sizeof(f), "items[%zu].quantity", i);
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > ITEM_QTY_MAX)
		return tq_fail(err, TQ_INVALID, "invalid_item", f,
		               "%s must be an integer from 1 to %d", f, ITEM_QTY_MAX);
	v = json_object_get(item, "unit_price");
	snprintf(f, sizeof(f), "items[%zu].unit_price", i);
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > ITEM_PRICE_MAX)
		return tq_fail(err, TQ_INVALID, "invalid_item", f,
		               "%s must be an integer from 0 to %d (minor units)", f,
		               ITEM_PRICE_MAX);
	json_array_append_new(out,
	                      json_pack("{s:O, s:O, s:O}", "name", json_object_get(item, "name"),
	                                "quantity", json_object_get(item, "quantity"), "unit_price",
	                                json_object_get(item, "unit_price")));
	return 0;
}

static int check_queue(const json_t *body, const struct config *cfg, char queue[4],
                       struct tq_error *err)
{
	const json_t *q = json_object_get(body, "queue");
	const char *s;

	if (q == NULL) {
		if (cfg->nqueues == 1) {
			memcpy(queue, cfg->queues[0].prefix, 4);
			return 0;
		}
		return tq_fail(err, TQ_INVALID, "invalid_field", "queue",
		               "queue is required when several queues exist");
	}
	if (!json_is_string(q))
		return tq_fail(err, TQ_INVALID, "invalid_field", "queue",
		               "queue must be a prefix of 1 to 3 upper-case letters");
	s = json_string_value(q);
	if (!token_prefix_valid(s))
		return tq_fail(err, TQ_INVALID, "invalid_field", "queue",
		               "queue must be a prefix of 1 to 3 upper-case letters");
	if (config_queue(cfg, s) == NULL)
		return tq_fail(err, TQ_INVALID, "unknown_queue", "queue",
		               "queue %s is not configured", s);
	memcpy(queue, s, strlen(s) + 1);
	return 0;
}

int order_validate(const json_t *body, const struct config *cfg, struct order_input *in,
                   struct tq_error *err)
{
	const json_t *items, *note, *total;
	json_t *canon = NULL, *v;
	const char *key;
	int64_t sum = 0;
	size_t i;

	memset(in, 0, sizeof(*in));
	json_object_foreach((json_t *)body, key, v)
	{
		if (strcmp(key, "queue") != 0 && strcmp(key, "items") != 0 &&
		    strcmp(key, "total") != 0 && strcmp(key, "note") != 0 &&
		    strcmp(key, "print") != 0)
			return tq_fail(err, TQ_INVALID, "unknown_field", key,
			               "%.60s is not a member an order may have (queue, items, "
			               "total, note, print)",
			               key);
	}
	if (check_queue(body, cfg, in->queue, err) != 0)
		return -1;
	items = json_object_get(body, "items");
	if (!json_is_array(items) || json_array_size(items) < 1 ||
	    json_array_size(items) > ORDER_MAX_ITEMS)
		return tq_fail(err, TQ_INVALID, "invalid_field", "items",
		               "items must be an array of 1 to %d items", ORDER_MAX_ITEMS);
	canon = json_array();
	for (i = 0; i < json_array_size(items); i++) {
		const json_t *item = json_array_get(items, i);
		if (check_item(item, i, canon, err) != 0)
			goto fail;
		sum += json_integer_value(json_object_get(item, "quantity")) *
		       json_integer_value(json_object_get(item, "unit_price"));
	}
	note = json_object_get(body, "note");
	if (note != NULL && !json_is_null(note)) {
		long len = json_is_string(note) ? text_length(json_string_value(note), 1) : -1;
		if (len < 0 || len > ORDER_NOTE_MAX) {
			tq_fail(err, TQ_INVALID, "invalid_field", "note",
			        "note must be text of at most %d characters, without control "
			        "characters other than line breaks and tabs",
			        ORDER_NOTE_MAX);
			goto fail;
		}
	}
	v = json_object_get(body, "print");
	if (v != NULL && !json_is_boolean(v)) {
		tq_fail(err, TQ_INVALID, "invalid_field", "print", "print must be true or false");
		goto fail;
	}
	in->print = json_is_true(v);
	total = json_object_get(body, "total");
	if (total != NULL) {
		if (!json_is_integer(total)) {
			tq_fail(err, TQ_INVALID, "invalid_field", "total",
			        "total must be an integer in minor units");
			goto fail;
		}
		if (json_integer_value(total) != sum) {
			tq_fail(err, TQ_INVALID, "total_mismatch", "total",
			        "total is %lld but the items add up to %lld",
			        (long long)json_integer_value(total), (long long)sum);
			goto fail;
		}
	}
	in->items_json = json_dumps(canon, JSON_COMPACT | JSON_PRESERVE_ORDER);
	in->note = note != NULL && json_is_string(note) ? strdup(json_string_value(note)) : NULL;
	in->total = sum;
	json_decref(canon);
	if (in->items_json == NULL || (note != NULL && json_is_string(note) && in->note == NULL)) {
		order_input_release(in);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	}
	return 0;
fail:
	json_decref(canon);
	return -1;
}
