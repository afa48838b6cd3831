/*
 * Unit tests for token text (src/domain/token.h): formatting never cuts a
 * number, parsing is strict about everything but the prefix's letter case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/token.h"

static void expect_format(const char *prefix, int64_t seq, int digits, const char *want)
{
	char out[TOKEN_MAX];

	memset(out, 'x', sizeof(out));
	token_format(out, prefix, seq, digits);
	if (strcmp(out, want) != 0)
		fail_msg("token_format(%s, %lld, %d) = \"%s\", expected \"%s\"", prefix,
		         (long long)seq, digits, out, want);
}

static void test_format(void **state)
{
	(void)state;
	expect_format("A", 1, 3, "A-001");
	expect_format("A", 42, 3, "A-042");
	expect_format("A", 999, 3, "A-999");
	expect_format("A", 1000, 3, "A-1000"); /* never truncated */
	expect_format("A", 123456, 3, "A-123456");
	expect_format("A", 1, 1, "A-1");
	expect_format("A", 10, 1, "A-10");
	expect_format("A", 1, 9, "A-000000001");
	expect_format("A", 1234567890, 9, "A-1234567890");
	expect_format("TX", 42, 3, "TX-042");
	expect_format("ABC", 7, 4, "ABC-0007");
	expect_format("ABC", INT64_MAX, 9, "ABC-9223372036854775807"); /* fits TOKEN_MAX */
}

static void expect_parse(const char *s, const char *prefix, int64_t seq)
{
	char p[4] = "zzz";
	int64_t v = -7;

	if (token_parse(s, p, &v) != 0)
		fail_msg("token_parse(\"%s\") failed", s);
	assert_string_equal(p, prefix);
	assert_int_equal(v, seq);
}

static void expect_bad(const char *s)
{
	char p[4] = "zzz";
	int64_t v = -7;

	if (token_parse(s, p, &v) == 0)
		fail_msg("token_parse(\"%s\") accepted it as %s-%lld", s, p, (long long)v);
}

static void test_parse(void **state)
{
	(void)state;
	expect_parse("A-001", "A", 1);
	expect_parse("A-1", "A", 1);
	expect_parse("a-42", "A", 42);
	expect_parse("A-042", "A", 42);
	expect_parse("tx-1000", "TX", 1000);
	expect_parse("Tx-042", "TX", 42);
	expect_parse("tX-042", "TX", 42);
	expect_parse("ABC-999", "ABC", 999);
	expect_parse("abc-000000001", "ABC", 1);
	expect_parse("A-123456789012345678", "A", 123456789012345678LL); /* 18 digits */

	expect_bad("");
	expect_bad("A");
	expect_bad("A-");
	expect_bad("A-0");
	expect_bad("A-000");
	expect_bad("ABCD-1");
	expect_bad("A-1x");
	expect_bad("A-x1");
	expect_bad("-1");
	expect_bad("A--1");
	expect_bad("A-+1");
	expect_bad("A- 1");
	expect_bad(" A-1");
	expect_bad("A-1 ");
	expect_bad("A_1");
	expect_bad("A1");
	expect_bad("1-1");
	expect_bad("A1-1");
	expect_bad("\xc3\x89-1");            /* É */
	expect_bad("A-\xd9\xa1");            /* Arabic-Indic digit one */
	expect_bad("A-1234567890123456789"); /* 19 digits */
	expect_bad("A-99999999999999999999");
}

static void test_round_trip(void **state)
{
	static const char *const prefixes[] = {"A", "TX", "ABC"};
	static const int64_t seqs[] = {1, 9, 10, 99, 100, 999, 1000, 9999, 100000, 999999999};
	char out[TOKEN_MAX], p[4];
	int64_t v;
	size_t i, j;
	int d;

	(void)state;
	for (i = 0; i < 3; i++)
		for (j = 0; j < sizeof(seqs) / sizeof(seqs[0]); j++)
			for (d = 1; d <= 9; d++) {
				token_format(out, prefixes[i], seqs[j], d);
				assert_true(strlen(out) >= strlen(prefixes[i]) + 1 + (size_t)d);
				assert_int_equal(token_parse(out, p, &v), 0);
				assert_string_equal(p, prefixes[i]);
				assert_int_equal(v, seqs[j]);
			}
}

static void test_prefix_valid(void **state)
{
	(void)state;
	assert_true(token_prefix_valid("A"));
	assert_true(token_prefix_valid("TX"));
	assert_true(token_prefix_valid("ABC"));
	assert_true(token_prefix_valid("Z"));
	assert_false(token_prefix_valid(""));
	assert_false(token_prefix_valid("ABCD"));
	assert_false(token_prefix_valid("a"));
	assert_false(token_prefix_valid("Ab"));
	assert_false(token_prefix_valid("A1"));
	assert_false(token_prefix_valid("A-"));
	assert_false(token_prefix_valid(" A"));
	assert_false(token_prefix_valid("\xc3\x89"));
	assert_false(token_prefix_valid("@"));
	assert_false(token_prefix_valid("["));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_prefix_valid),
	};

	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
