/*
 * Fuzz target: the order body as POST /api/orders reads it. The first byte
 * picks one of a few queue configurations (parsed with config_parse_queues,
 * as at start-up); the rest is decoded with json_loadb(JSON_REJECT_DUPLICATES)
 * like req_json_body does, and an object goes through order_validate.
 *
 * Beyond "no crash, no leak, no undefined behaviour", it checks what the
 * contract promises of an accepted order: 1..200 items, each with a name of
 * 1..120 code points, quantity 1..1000, unit_price 0..100000000; the total is
 * the sum; a client total equals it; the canonical items are valid JSON; the
 * queue is configured. A refusal is always 422 with a code and, except for an
 * unknown top-level member's own name, a field.
 */
#include <jansson.h>

#include "domain/order.h"
#include "domain/token.h"
#include "fuzz_common.h"
#include "util/config.h"

static const char *const queue_specs[] = {
    "A=Orders",
    "A=Dine-in,B=Takeaway,TX=Tax desk",
    "Z=Zed",
    "ABC=Three letters,D=D\xc3\xa9j\xc3\xa0 vu",
};

static void check_accepted(const json_t *body, const struct config *cfg,
                           const struct order_input *in)
{
	json_error_t jerr;
	json_t *items = json_loads(in->items_json, JSON_REJECT_DUPLICATES, &jerr);
	const json_t *total = json_object_get(body, "total");
	const json_t *note = json_object_get(body, "note");
	size_t i, n;
	int64_t sum = 0;

	FUZZ_CHECK(items != NULL && json_is_array(items), "canonical items are not an array: %s",
	           in->items_json);
	n = json_array_size(items);
	FUZZ_CHECK(n >= 1 && n <= ORDER_MAX_ITEMS, "%zu items accepted", n);
	FUZZ_CHECK(n == json_array_size(json_object_get(body, "items")),
	           "canonical items differ in number from the body's");
	for (i = 0; i < n; i++) {
		const json_t *it = json_array_get(items, i);
		const json_t *name = json_object_get(it, "name");
		json_int_t q = json_integer_value(json_object_get(it, "quantity"));
		json_int_t p = json_integer_value(json_object_get(it, "unit_price"));
		long len;

		FUZZ_CHECK(json_object_size(it) == 3, "item %zu has %zu members", i,
		           json_object_size(it));
		FUZZ_CHECK(json_is_string(name), "item %zu name is not a string", i);
		len = text_length(json_string_value(name), 0);
		FUZZ_CHECK(len >= 1 && len <= ITEM_NAME_MAX, "item %zu name length %ld", i, len);
		FUZZ_CHECK(json_is_integer(json_object_get(it, "quantity")) && q >= 1 &&
		               q <= ITEM_QTY_MAX,
		           "item %zu quantity %lld", i, (long long)q);
		FUZZ_CHECK(json_is_integer(json_object_get(it, "unit_price")) && p >= 0 &&
		               p <= ITEM_PRICE_MAX,
		           "item %zu unit_price %lld", i, (long long)p);
		sum += q * p;
	}
	json_decref(items);
	FUZZ_CHECK(in->total == sum, "total %lld, items add up to %lld", (long long)in->total,
	           (long long)sum);
	FUZZ_CHECK(in->total >= 0, "negative total %lld", (long long)in->total);
	if (total != NULL)
		FUZZ_CHECK(json_is_integer(total) && json_integer_value(total) == sum,
		           "client total accepted but differs");
	FUZZ_CHECK(token_prefix_valid(in->queue) && config_queue(cfg, in->queue) != NULL,
	           "queue %s accepted but not configured", in->queue);
	if (note != NULL && !json_is_null(note)) {
		FUZZ_CHECK(in->note != NULL && strcmp(in->note, json_string_value(note)) == 0,
		           "note lost");
		FUZZ_CHECK(text_length(in->note, 1) <= ORDER_NOTE_MAX, "note too long");
	} else {
		FUZZ_CHECK(in->note == NULL, "note invented");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfgs[sizeof(queue_specs) / sizeof(queue_specs[0])];
	static int ready;
	const size_t ncfg = sizeof(queue_specs) / sizeof(queue_specs[0]);
	struct order_input in;
	struct tq_error err;
	json_error_t jerr;
	json_t *body;
	const struct config *cfg;
	char msg[512];

	if (!ready) {
		size_t i;
		for (i = 0; i < ncfg; i++) {
			cfgs[i].token_digits = 3;
			FUZZ_CHECK(
			    config_parse_queues(queue_specs[i], &cfgs[i], msg, sizeof(msg)) == 0,
			    "%s", msg);
		}
		ready = 1;
	}
	if (size < 1 || size > 70000)
		return 0;
	cfg = &cfgs[data[0] % ncfg];
	body = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL || !json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	tq_error_clear(&err);
	if (order_validate(body, cfg, &in, &err) == 0) {
		check_accepted(body, cfg, &in);
		order_input_release(&in);
	} else {
		FUZZ_CHECK(err.status == TQ_INVALID, "refusal with status %d (%s)", err.status,
		           err.code ? err.code : "-");
		FUZZ_CHECK(err.code != NULL && err.code[0] != '\0', "refusal without a code");
		FUZZ_CHECK(in.items_json == NULL && in.note == NULL, "a refusal left strings");
		FUZZ_CHECK(strlen(err.detail) < sizeof(err.detail), "detail not terminated");
	}
	json_decref(body);
	return 0;
}
