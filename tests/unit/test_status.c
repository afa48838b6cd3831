/*
 * Unit tests for the status machine (src/domain/status.h), against the
 * whole 5x5 transition table written out by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "domain/status.h"

/* allowed[from][to], straight from the documented rules: forward moves with skips, CANCELLED from
 * any non-final status, never to itself, nothing from COMPLETED or CANCELLED. */
/* clang-format off */
static const int allowed[ST_COUNT][ST_COUNT] = {
	/*                PENDING PREPARING READY COMPLETED CANCELLED */
	[ST_PENDING]   = {0,      1,        1,    1,        1},
	[ST_PREPARING] = {0,      0,        1,    1,        1},
	[ST_READY]     = {0,      0,        0,    1,        1},
	[ST_COMPLETED] = {0,      0,        0,    0,        0},
	[ST_CANCELLED] = {0,      0,        0,    0,        0},
};
/* clang-format on */

static void test_transition_table(void **state)
{
	int from, to;

	(void)state;
	for (from = 0; from < ST_COUNT; from++)
		for (to = 0; to < ST_COUNT; to++)
			if (status_can_move((enum order_status)from, (enum order_status)to) !=
			    (allowed[from][to] != 0))
				fail_msg("%s -> %s: expected %s",
				         status_name((enum order_status)from),
				         status_name((enum order_status)to),
				         allowed[from][to] ? "allowed" : "refused");
}

static void test_rules(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < ST_COUNT; s++) {
		/* never to itself */
		assert_false(status_can_move((enum order_status)s, (enum order_status)s));
		/* CANCELLED from anything that is not final */
		assert_int_equal(status_can_move((enum order_status)s, ST_CANCELLED),
		                 !status_is_final((enum order_status)s));
		/* nothing goes back to PENDING */
		assert_false(status_can_move((enum order_status)s, ST_PENDING));
	}
	assert_true(status_is_final(ST_COMPLETED));
	assert_true(status_is_final(ST_CANCELLED));
	assert_false(status_is_final(ST_PENDING));
	assert_false(status_is_final(ST_PREPARING));
	assert_false(status_is_final(ST_READY));
	/* out-of-range values are refused, not read past the table */
	assert_false(status_can_move(ST_COUNT, ST_READY));
	assert_false(status_can_move(ST_PENDING, ST_COUNT));
	assert_false(status_can_move((enum order_status) - 1, ST_READY));
}

static void test_names(void **state)
{
	static const char *const names[ST_COUNT] = {"PENDING", "PREPARING", "READY", "COMPLETED",
	                                            "CANCELLED"};
	static const char *const bad[] = {"pending", "Pending", "PENDING ", " READY",
	                                  "",        "READ",    "READYY",   "CANCELED",
	                                  "DONE",    "UNKNOWN", "ready",    "Completed"};
	enum order_status st;
	size_t i;

	(void)state;
	for (i = 0; i < ST_COUNT; i++) {
		assert_string_equal(status_name((enum order_status)i), names[i]);
		st = ST_COUNT;
		assert_int_equal(status_parse(names[i], &st), 0);
		assert_int_equal(st, i);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (status_parse(bad[i], &st) == 0)
			fail_msg("status_parse(\"%s\") accepted it", bad[i]);
	assert_string_equal(status_name(ST_COUNT), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transition_table),
	    cmocka_unit_test(test_rules),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
