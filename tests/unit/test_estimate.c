/*
 * Unit tests for the waiting-time estimate (src/domain/estimate.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "domain/estimate.h"

static void test_no_history_is_unknown(void **state)
{
	struct pace p = {-1, -1};

	(void)state;
	assert_int_equal(estimate_seconds(&p, 0, 0), -1);
	assert_int_equal(estimate_seconds(&p, 600, 5), -1);
}

static void test_what_is_left_of_the_usual_time(void **state)
{
	struct pace p = {300, 60};

	(void)state;
	assert_int_equal(estimate_seconds(&p, 0, 0), 300);
	assert_int_equal(estimate_seconds(&p, 120, 0), 180);
	/* nearly done: never "now" while not READY */
	assert_int_equal(estimate_seconds(&p, 299, 0), 60);
}

static void test_grows_with_the_tokens_ahead(void **state)
{
	struct pace p = {300, 60};
	int64_t last = -1;
	int ahead;

	(void)state;
	for (ahead = 0; ahead < 10; ahead++) {
		int64_t e = estimate_seconds(&p, 0, ahead);
		assert_true(e > last);
		last = e;
	}
	assert_int_equal(estimate_seconds(&p, 0, 3), 300 + 3 * 60);
}

static void test_a_late_order_is_not_promised_a_minute(void **state)
{
	/* 1.5 h in progress where 5 minutes is usual: at least the lateness */
	struct pace p = {300, 60};
	int64_t waited = 90 * 60;

	(void)state;
	assert_true(estimate_seconds(&p, waited, 0) >= waited - 300);
	/* and the longer it waits, the longer the estimate */
	assert_true(estimate_seconds(&p, waited + 600, 0) > estimate_seconds(&p, waited, 0));
}

static void test_one_ready_order_paces_by_its_prep_time(void **state)
{
	struct pace p = {120, -1};

	(void)state;
	assert_int_equal(estimate_seconds(&p, 0, 2), 120 + 2 * 120);
}

static void test_odd_inputs(void **state)
{
	struct pace p = {300, 30};

	(void)state;
	assert_int_equal(estimate_seconds(&p, -5, -1), 300);
	/* a short pace floors "nearly done" at one step, not a minute */
	assert_int_equal(estimate_seconds(&p, 299, 0), 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_history_is_unknown),
	    cmocka_unit_test(test_what_is_left_of_the_usual_time),
	    cmocka_unit_test(test_grows_with_the_tokens_ahead),
	    cmocka_unit_test(test_a_late_order_is_not_promised_a_minute),
	    cmocka_unit_test(test_one_ready_order_paces_by_its_prep_time),
	    cmocka_unit_test(test_odd_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
