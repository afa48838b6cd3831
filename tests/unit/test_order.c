/*
 * Unit tests for order validation (src/domain/order.h): every limit of
 * the documented limits on both sides, the exact code and field of each refusal,
 * and the canonical items and total of what is accepted. Bodies are built
 * with jansson, as the HTTP layer would decode them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/order.h"
#include "util/config.h"

static struct config one_queue, three_queues;

static int setup(void **state)
{
	char err[256];

	(void)state;
	memset(&one_queue, 0, sizeof(one_queue));
	memset(&three_queues, 0, sizeof(three_queues));
	if (config_parse_queues("A=Orders", &one_queue, err, sizeof(err)) != 0 ||
	    config_parse_queues("A=Dine-in,B=Takeaway,TX=Tax desk", &three_queues, err,
	                        sizeof(err)) != 0)
		return -1;
	return 0;
}

/* A decoded JSON text, as the HTTP layer decodes bodies. */
static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);

	if (j == NULL)
		fail_msg("bad test JSON (%s): %s", e.text, text);
	return j;
}

/* n copies of unit; free() it. */
static char *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit), i;
	char *s = malloc(len * n + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[len * n] = '\0';
	return s;
}

/* {"items": [item]} with the members that are not NULL; steals the references. */
static json_t *item(json_t *name, json_t *quantity, json_t *unit_price)
{
	json_t *it = json_object();

	if (name)
		json_object_set_new(it, "name", name);
	if (quantity)
		json_object_set_new(it, "quantity", quantity);
	if (unit_price)
		json_object_set_new(it, "unit_price", unit_price);
	return it;
}

static json_t *body_of(json_t *it)
{
	json_t *b = json_object(), *items = json_array();

	json_array_append_new(items, it);
	json_object_set_new(b, "items", items);
	return b;
}

static json_t *named(const char *name)
{
	return body_of(item(json_string(name), json_integer(1), json_integer(100)));
}

/* Validates body (consumed) and expects a refusal with exactly this code and field. */
static void refused(const struct config *cfg, json_t *body, const char *code, const char *field)
{
	struct order_input in;
	struct tq_error err;
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc;

	memset(&in, 0x5a, sizeof(in));
	tq_error_clear(&err);
	rc = order_validate(body, cfg, &in, &err);
	if (rc != -1 || err.status != TQ_INVALID || err.code == NULL ||
	    strcmp(err.code, code) != 0 || strcmp(err.field, field) != 0) {
		fail_msg("%.300s: got rc %d status %d code %s field \"%s\" (%s); expected 422 %s "
		         "field \"%s\"",
		         text, rc, err.status, err.code ? err.code : "(null)", err.field,
		         err.detail, code, field);
	}
	assert_true(err.detail[0] != '\0');
	/* on failure in holds nothing */
	assert_null(in.items_json);
	assert_null(in.note);
	free(text);
	json_decref(body);
}

/* Validates body (consumed) and expects it accepted; checks what came out when asked. */
static void accepted_as(const struct config *cfg, json_t *body, const char *queue,
                        const char *items_json, int64_t total, const char *note)
{
	struct order_input in;
	struct tq_error err;
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

	tq_error_clear(&err);
	if (order_validate(body, cfg, &in, &err) != 0)
		fail_msg("%.300s: refused with %s field \"%s\": %s", text, err.code, err.field,
		         err.detail);
	assert_non_null(in.items_json);
	if (queue)
		assert_string_equal(in.queue, queue);
	if (items_json)
		assert_string_equal(in.items_json, items_json);
	if (total >= 0)
		assert_int_equal(in.total, total);
	if (note) {
		assert_non_null(in.note);
		assert_string_equal(in.note, note);
	}
	order_input_release(&in);
	assert_null(in.items_json);
	assert_null(in.note);
	order_input_release(&in); /* twice is harmless */
	free(text);
	json_decref(body);
}

static void accepted(const struct config *cfg, json_t *body)
{
	accepted_as(cfg, body, NULL, NULL, -1, NULL);
}

static void test_canonical(void **state)
{
	(void)state;
	accepted_as(&one_queue,
	            parse("{\"items\": [{\"unit_price\": 150, \"name\": \"Masala tea\", "
	                  "\"quantity\": 2}], \"total\": 300, \"note\": \"less sugar\"}"),
	            "A", "[{\"name\":\"Masala tea\",\"quantity\":2,\"unit_price\":150}]", 300,
	            "less sugar");
	accepted_as(
	    &three_queues,
	    parse("{\"queue\": \"TX\", \"items\": [{\"name\": \"Caf\\u00e9 \xf0\x9f\x8d\xb5\", "
	          "\"quantity\": 3, \"unit_price\": 99}, {\"name\": \"B\", \"quantity\": "
	          "1000, \"unit_price\": 100000000}]}"),
	    "TX",
	    "[{\"name\":\"Caf\xc3\xa9 \xf0\x9f\x8d\xb5\",\"quantity\":3,\"unit_price\":99},"
	    "{\"name\":\"B\",\"quantity\":1000,\"unit_price\":100000000}]",
	    3 * 99 + 1000LL * 100000000LL, NULL);
	/* a free item */
	accepted_as(&one_queue,
	            parse("{\"items\": [{\"name\": \"Water\", \"quantity\": 1, "
	                  "\"unit_price\": 0}], \"total\": 0}"),
	            "A", "[{\"name\":\"Water\",\"quantity\":1,\"unit_price\":0}]", 0, NULL);
}

static void test_items_count(void **state)
{
	json_t *b, *items;
	int i;

	(void)state;
	refused(&one_queue, parse("{}"), "invalid_field", "items");
	refused(&one_queue, parse("{\"items\": []}"), "invalid_field", "items");
	refused(&one_queue, parse("{\"items\": {}}"), "invalid_field", "items");
	refused(&one_queue, parse("{\"items\": null}"), "invalid_field", "items");
	refused(&one_queue, parse("{\"items\": \"tea\"}"), "invalid_field", "items");
	accepted(&one_queue, named("x"));
	for (i = 200; i <= 201; i++) {
		int k;
		b = json_object();
		items = json_array();
		for (k = 0; k < i; k++)
			json_array_append_new(items, item(json_string("Tea"), json_integer(1000),
			                                  json_integer(100000000)));
		json_object_set_new(b, "items", items);
		if (i == 200)
			accepted_as(&one_queue, b, "A", NULL, 200LL * 1000 * 100000000, NULL);
		else
			refused(&one_queue, b, "invalid_field", "items");
	}
}

static void test_name(void **state)
{
	static const char *const bad_names[] = {
	    "", " ", "   \t ", "\n", "a\nb", "a\tb", "a\rb",
	    "a\x01"
	    "b",
	    "a\x1f"
	    "b",
	    "a\x7f"
	    "b",
	    "\xc2\x80",
	    "a\xc2\x85"
	    "b",
	    "\xc2\x9f", "\x1b[31mred",
	    /* white space beyond ASCII is blank too */
	    "\xc2\xa0", "\xe3\x80\x80", " \xe2\x80\x83\xe2\x80\x8a ", "\xe2\x80\xa8",
	    "\xe2\x80\xa9", "\xe2\x80\xaf\xe2\x81\x9f", "\xe1\x9a\x80", "\xef\xbb\xbf"};
	char *s, *s2;
	size_t i;

	(void)state;
	accepted(&one_queue, named("x"));
	accepted(&one_queue, named("\xc3\xa9"));
	/* 120 and 121 code points, of 1, 2 and 4 bytes */
	s = repeat("a", 120);
	accepted(&one_queue, named(s));
	free(s);
	s = repeat("a", 121);
	refused(&one_queue, named(s), "invalid_item", "items[0].name");
	free(s);
	s = repeat("\xc3\xa9", 120); /* é: 240 bytes, 120 characters */
	accepted(&one_queue, named(s));
	free(s);
	s = repeat("\xc3\xa9", 121);
	refused(&one_queue, named(s), "invalid_item", "items[0].name");
	free(s);
	s = repeat("\xf0\x9f\x8d\xb5", 120); /* 🍵: 480 bytes, 120 characters */
	accepted(&one_queue, named(s));
	free(s);
	s = repeat("\xf0\x9f\x8d\xb5", 121);
	refused(&one_queue, named(s), "invalid_item", "items[0].name");
	free(s);
	s = repeat("a", 119);
	s2 = malloc(strlen(s) + 5);
	assert_non_null(s2);
	memcpy(s2, s, 119);
	memcpy(s2 + 119, "\xf0\x9f\x8d\xb5", 5);
	accepted(&one_queue, named(s2));
	free(s);
	free(s2);
	/* blank, or with control characters (C0, DEL, C1 such as U+0085) */
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		refused(&one_queue, named(bad_names[i]), "invalid_item", "items[0].name");
	/* not text, or missing */
	refused(&one_queue, body_of(item(json_integer(5), json_integer(1), json_integer(1))),
	        "invalid_item", "items[0].name");
	refused(&one_queue, body_of(item(json_null(), json_integer(1), json_integer(1))),
	        "invalid_item", "items[0].name");
	refused(&one_queue, body_of(item(NULL, json_integer(1), json_integer(1))), "invalid_item",
	        "items[0].name");
	/* spaces inside a name are fine */
	accepted(&one_queue, named("  Masala tea  "));
	accepted(&one_queue, named("Masala\xc2\xa0tea"));
	accepted(&one_queue,
	         named("\xe3\x80\x80\xe6\x8a\xb9\xe8\x8c\xb6")); /* ideographic space, then text */
}

static void test_quantity(void **state)
{
	(void)state;
	accepted(&one_queue, body_of(item(json_string("t"), json_integer(1), json_integer(5))));
	accepted(&one_queue, body_of(item(json_string("t"), json_integer(1000), json_integer(5))));
	refused(&one_queue, body_of(item(json_string("t"), json_integer(0), json_integer(5))),
	        "invalid_item", "items[0].quantity");
	refused(&one_queue, body_of(item(json_string("t"), json_integer(1001), json_integer(5))),
	        "invalid_item", "items[0].quantity");
	refused(&one_queue, body_of(item(json_string("t"), json_integer(-1), json_integer(5))),
	        "invalid_item", "items[0].quantity");
	refused(&one_queue, body_of(item(json_string("t"), json_real(2.0), json_integer(5))),
	        "invalid_item", "items[0].quantity");
	refused(&one_queue, body_of(item(json_string("t"), json_string("2"), json_integer(5))),
	        "invalid_item", "items[0].quantity");
	refused(&one_queue, body_of(item(json_string("t"), json_true(), json_integer(5))),
	        "invalid_item", "items[0].quantity");
	refused(&one_queue, body_of(item(json_string("t"), json_null(), json_integer(5))),
	        "invalid_item", "items[0].quantity");
	refused(&one_queue, body_of(item(json_string("t"), NULL, json_integer(5))), "invalid_item",
	        "items[0].quantity");
	refused(&one_queue,
	        parse("{\"items\": [{\"name\": \"t\", \"quantity\": 1e3, \"unit_price\": 1}]}"),
	        "invalid_item", "items[0].quantity");
	refused(&one_queue,
	        parse("{\"items\": [{\"name\": \"t\", \"quantity\": 2.0, \"unit_price\": 1}]}"),
	        "invalid_item", "items[0].quantity");
	refused(&one_queue,
	        parse("{\"items\": [{\"name\": \"t\", \"quantity\": 9223372036854775807, "
	              "\"unit_price\": 1}]}"),
	        "invalid_item", "items[0].quantity");
}

static void test_unit_price(void **state)
{
	(void)state;
	accepted(&one_queue, body_of(item(json_string("t"), json_integer(1), json_integer(0))));
	accepted(&one_queue,
	         body_of(item(json_string("t"), json_integer(1), json_integer(100000000))));
	refused(&one_queue, body_of(item(json_string("t"), json_integer(1), json_integer(-1))),
	        "invalid_item", "items[0].unit_price");
	refused(&one_queue,
	        body_of(item(json_string("t"), json_integer(1), json_integer(100000001))),
	        "invalid_item", "items[0].unit_price");
	refused(&one_queue, body_of(item(json_string("t"), json_integer(1), json_real(1.5))),
	        "invalid_item", "items[0].unit_price");
	refused(&one_queue, body_of(item(json_string("t"), json_integer(1), json_real(100.0))),
	        "invalid_item", "items[0].unit_price");
	refused(&one_queue, body_of(item(json_string("t"), json_integer(1), json_string("100"))),
	        "invalid_item", "items[0].unit_price");
	refused(&one_queue, body_of(item(json_string("t"), json_integer(1), json_false())),
	        "invalid_item", "items[0].unit_price");
	refused(&one_queue, body_of(item(json_string("t"), json_integer(1), NULL)), "invalid_item",
	        "items[0].unit_price");
}

static void test_item_shape(void **state)
{
	(void)state;
	/* an unknown member inside an item */
	refused(&one_queue,
	        parse("{\"items\": [{\"name\": \"t\", \"quantity\": 1, \"unit_price\": 1, "
	              "\"x\": 1}]}"),
	        "unknown_field", "items[0].x");
	refused(&one_queue,
	        parse("{\"items\": [{\"name\": \"t\", \"quantity\": 1, \"unit_price\": 1}, "
	              "{\"name\": \"u\", \"quantity\": 1, \"unit_price\": 1, \"price\": 2}]}"),
	        "unknown_field", "items[1].price");
	/* an entry that is not an object */
	refused(&one_queue, parse("{\"items\": [1]}"), "invalid_item", "items[0]");
	refused(&one_queue, parse("{\"items\": [null]}"), "invalid_item", "items[0]");
	refused(&one_queue, parse("{\"items\": [\"tea\"]}"), "invalid_item", "items[0]");
	refused(
	    &one_queue,
	    parse("{\"items\": [{\"name\": \"t\", \"quantity\": 1, \"unit_price\": 1}, [1, 2]]}"),
	    "invalid_item", "items[1]");
	refused(&one_queue, parse("{\"items\": [{}]}"), "invalid_item", "items[0].name");
	/* the index of the bad item is named */
	refused(&one_queue,
	        parse("{\"items\": [{\"name\": \"t\", \"quantity\": 1, \"unit_price\": 1}, "
	              "{\"name\": \"t\", \"quantity\": 1, \"unit_price\": 1}, "
	              "{\"name\": \"t\", \"quantity\": 0, \"unit_price\": 1}]}"),
	        "invalid_item", "items[2].quantity");
}

static void test_total(void **state)
{
	static const char items[] =
	    "\"items\": [{\"name\": \"t\", \"quantity\": 2, \"unit_price\": "
	    "150}, {\"name\": \"u\", \"quantity\": 3, \"unit_price\": 7}]";
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "{%s, \"total\": 321}", items);
	accepted_as(&one_queue, parse(text), "A", NULL, 321, NULL);
	snprintf(text, sizeof(text), "{%s}", items);
	accepted_as(&one_queue, parse(text), "A", NULL, 321, NULL);
	snprintf(text, sizeof(text), "{%s, \"total\": 320}", items);
	refused(&one_queue, parse(text), "total_mismatch", "total");
	snprintf(text, sizeof(text), "{%s, \"total\": 0}", items);
	refused(&one_queue, parse(text), "total_mismatch", "total");
	snprintf(text, sizeof(text), "{%s, \"total\": -321}", items);
	refused(&one_queue, parse(text), "total_mismatch", "total");
	snprintf(text, sizeof(text), "{%s, \"total\": 321.0}", items);
	refused(&one_queue, parse(text), "invalid_field", "total");
	snprintf(text, sizeof(text), "{%s, \"total\": \"321\"}", items);
	refused(&one_queue, parse(text), "invalid_field", "total");
	snprintf(text, sizeof(text), "{%s, \"total\": true}", items);
	refused(&one_queue, parse(text), "invalid_field", "total");
	snprintf(text, sizeof(text), "{%s, \"total\": null}", items);
	refused(&one_queue, parse(text), "invalid_field", "total");
	snprintf(text, sizeof(text), "{%s, \"total\": 3.21e2}", items);
	refused(&one_queue, parse(text), "invalid_field", "total");
}

static json_t *with_note(json_t *note)
{
	json_t *b = named("Tea");

	json_object_set_new(b, "note", note);
	return b;
}

static void test_note(void **state)
{
	static const char *const bad_notes[] = {"a\x01",
	                                        "\x7f",
	                                        "a\xc2\x85"
	                                        "b",
	                                        "\x0b",
	                                        "\x0c",
	                                        "\x1b",
	                                        "\xc2\x80"};
	char *s;
	size_t i;

	(void)state;
	s = repeat("\xc3\xa9", 500);
	accepted_as(&one_queue, with_note(json_string(s)), "A", NULL, -1, s);
	free(s);
	s = repeat("\xc3\xa9", 501);
	refused(&one_queue, with_note(json_string(s)), "invalid_field", "note");
	free(s);
	s = repeat("\xf0\x9f\x8d\xb5", 500);
	accepted_as(&one_queue, with_note(json_string(s)), "A", NULL, -1, s);
	free(s);
	s = repeat("\xf0\x9f\x8d\xb5", 501);
	refused(&one_queue, with_note(json_string(s)), "invalid_field", "note");
	free(s);
	s = repeat("n", 501);
	refused(&one_queue, with_note(json_string(s)), "invalid_field", "note");
	free(s);
	/* line breaks and tabs are fine, other control characters are not */
	accepted_as(&one_queue, with_note(json_string("line 1\nline 2\r\n\tindented")), "A", NULL,
	            -1, "line 1\nline 2\r\n\tindented");
	for (i = 0; i < sizeof(bad_notes) / sizeof(bad_notes[0]); i++)
		refused(&one_queue, with_note(json_string(bad_notes[i])), "invalid_field", "note");
	refused(&one_queue, with_note(json_integer(5)), "invalid_field", "note");
	refused(&one_queue, with_note(json_object()), "invalid_field", "note");
	/* null and absent are no note */
	{
		struct order_input in;
		struct tq_error err;
		json_t *b = with_note(json_null());

		assert_int_equal(order_validate(b, &one_queue, &in, &err), 0);
		assert_null(in.note);
		order_input_release(&in);
		json_decref(b);
		b = named("Tea");
		assert_int_equal(order_validate(b, &one_queue, &in, &err), 0);
		assert_null(in.note);
		order_input_release(&in);
		json_decref(b);
	}
}

static json_t *in_queue(json_t *queue)
{
	json_t *b = named("Tea");

	json_object_set_new(b, "queue", queue);
	return b;
}

static void test_queue(void **state)
{
	(void)state;
	/* one queue: it may be left out */
	accepted_as(&one_queue, named("Tea"), "A", NULL, -1, NULL);
	accepted_as(&one_queue, in_queue(json_string("A")), "A", NULL, -1, NULL);
	refused(&one_queue, in_queue(json_string("B")), "unknown_queue", "queue");
	/* several: it must be given */
	refused(&three_queues, named("Tea"), "invalid_field", "queue");
	accepted_as(&three_queues, in_queue(json_string("B")), "B", NULL, -1, NULL);
	accepted_as(&three_queues, in_queue(json_string("TX")), "TX", NULL, -1, NULL);
	refused(&three_queues, in_queue(json_string("C")), "unknown_queue", "queue");
	refused(&three_queues, in_queue(json_string("TXA")), "unknown_queue", "queue");
	/* malformed prefixes */
	refused(&three_queues, in_queue(json_string("a")), "invalid_field", "queue");
	refused(&three_queues, in_queue(json_string("tx")), "invalid_field", "queue");
	refused(&three_queues, in_queue(json_string("")), "invalid_field", "queue");
	refused(&three_queues, in_queue(json_string("ABCD")), "invalid_field", "queue");
	refused(&three_queues, in_queue(json_string("A-")), "invalid_field", "queue");
	refused(&three_queues, in_queue(json_integer(1)), "invalid_field", "queue");
	refused(&three_queues, in_queue(json_null()), "invalid_field", "queue");
	refused(&one_queue, in_queue(json_null()), "invalid_field", "queue");
	refused(&three_queues, in_queue(json_array()), "invalid_field", "queue");
}

static void test_unknown_member(void **state)
{
	json_t *b;

	(void)state;
	b = named("Tea");
	json_object_set_new(b, "customer", json_string("Ravi"));
	refused(&one_queue, b, "unknown_field", "customer");
	b = named("Tea");
	json_object_set_new(b, "Items", json_array());
	refused(&one_queue, b, "unknown_field", "Items");
	b = named("Tea");
	json_object_set_new(b, "id", json_integer(5));
	refused(&one_queue, b, "unknown_field", "id");
}

static void test_text_length(void **state)
{
	(void)state;
	assert_int_equal(text_length("", 0), 0);
	assert_int_equal(text_length("abc", 0), 3);
	assert_int_equal(text_length("\xc3\xa9\xf0\x9f\x8d\xb5\xe2\x82\xac", 0), 3);
	assert_int_equal(text_length("a\nb", 0), -1);
	assert_int_equal(text_length("a\nb", 1), 3);
	assert_int_equal(text_length("\t\r\n", 1), 3);
	assert_int_equal(text_length("\x01", 1), -1);
	assert_int_equal(text_length("\x7f", 1), -1);
	assert_int_equal(text_length("\xc2\x85", 1), -1);
	assert_int_equal(text_length("\xc2\xa0", 0), 1); /* NBSP is not a control character */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical),   cmocka_unit_test(test_items_count),
	    cmocka_unit_test(test_name),        cmocka_unit_test(test_quantity),
	    cmocka_unit_test(test_unit_price),  cmocka_unit_test(test_item_shape),
	    cmocka_unit_test(test_total),       cmocka_unit_test(test_note),
	    cmocka_unit_test(test_queue),       cmocka_unit_test(test_unknown_member),
	    cmocka_unit_test(test_text_length),
	};

	return cmocka_run_group_tests_name("order", tests, setup, NULL);
}
