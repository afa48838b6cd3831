/*
 * Unit tests for the webhook retry schedule (src/hooks/backoff.h): the
 * ceiling doubling to its cap, every wait within [floor, ceiling] for
 * extreme random numbers, and whole schedules, with the smallest and the
 * largest draws, that keep retrying for at least 24 hours and then stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hooks/backoff.h"

#define SEC  1000
#define HOUR (3600 * SEC)

static void test_ceiling(void **state)
{
	(void)state;
	assert_int_equal(hook_backoff_ceiling(NULL, 1), 5 * SEC);
	assert_int_equal(hook_backoff_ceiling(NULL, 2), 10 * SEC);
	assert_int_equal(hook_backoff_ceiling(NULL, 3), 20 * SEC);
	assert_int_equal(hook_backoff_ceiling(NULL, 10), 2560 * SEC);
	assert_int_equal(hook_backoff_ceiling(NULL, 11), HOUR);
	assert_int_equal(hook_backoff_ceiling(NULL, 1000000), HOUR);
	assert_int_equal(hook_backoff_ceiling(NULL, 0), 5 * SEC);
}

static void test_delay_bounds(void **state)
{
	static const uint64_t r[] = {0, 1, 4999, 5000, 0x7fffffffffffffffu, UINT64_MAX};
	int attempt;
	size_t i;

	(void)state;
	for (attempt = 1; attempt < 64; attempt++)
		for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
			int64_t d = hook_backoff_delay(NULL, attempt, r[i]);

			assert_true(d >= 5 * SEC);
			assert_true(d <= hook_backoff_ceiling(NULL, attempt));
		}
	assert_int_equal(hook_backoff_delay(NULL, 1, 0), 5 * SEC);
	/* Full jitter: the draw spans the whole range. */
	assert_int_equal(hook_backoff_delay(NULL, 11, HOUR - 5 * SEC), HOUR);
}

/* Runs a schedule where every attempt fails at once, drawing rnd each time (UINT64_MAX:
 * the draw that gives the longest wait); returns attempts, *span the time from the first
 * attempt to the last. */
static int schedule(const struct hook_backoff *b, uint64_t rnd, int64_t *span)
{
	int64_t first = 1700000000000, now = first, next;
	int attempt = 1;

	for (;;) {
		uint64_t r =
		    rnd != UINT64_MAX
		        ? rnd
		        : (uint64_t)(hook_backoff_ceiling(b, attempt) - HOOK_BACKOFF_BASE_MS);

		if (hook_backoff_next(b, attempt, first, now, r, &next) != 0)
			break;
		assert_true(next > now);
		now = next;
		attempt++;
		assert_true(attempt < 100000);
	}
	assert_int_equal(next, 0);
	*span = now - first;
	return attempt;
}

static void test_period(void **state)
{
	int64_t span;
	int n;

	(void)state;
	/* The shortest waits: still 24 h of retries, then no more. */
	n = schedule(NULL, 0, &span);
	assert_int_equal(span, 24 * HOUR);
	assert_true(n > 1000);
	/* The longest waits: hourly once capped, about 35 attempts. */
	n = schedule(NULL, UINT64_MAX, &span);
	assert_int_equal(span, 24 * HOUR);
	assert_true(n >= 30 && n <= 40);
}

static void test_custom(void **state)
{
	struct hook_backoff b = {.base_ms = 100, .cap_ms = 400, .period_ms = 2000};
	int64_t next;

	(void)state;
	assert_int_equal(hook_backoff_ceiling(&b, 5), 400);
	assert_int_equal(hook_backoff_next(&b, 1, 0, 0, 0, &next), 0);
	assert_int_equal(next, 100);
	/* Capped at the end of the period, then given up. */
	assert_int_equal(hook_backoff_next(&b, 9, 0, 1950, 399, &next), 0);
	assert_int_equal(next, 2000);
	assert_int_equal(hook_backoff_next(&b, 10, 0, 2000, 0, &next), 1);
	assert_int_equal(next, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ceiling),
	    cmocka_unit_test(test_delay_bounds),
	    cmocka_unit_test(test_period),
	    cmocka_unit_test(test_custom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
