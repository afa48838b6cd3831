/*
 * Unit tests for the currency table (src/util/currency.h): which codes are
 * known, their minor units (0, 2, 3 and 4), and amounts as ticket text
 * (also the printed ticket's: src/print/escpos.c uses currency_amount).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/currency.h"

static void test_valid(void **state)
{
	static const char *const known[] = {"USD", "EUR", "INR", "JPY", "GBP", "KWD",
	                                    "CLF", "UYW", "XAF", "XCG", "ZWG", "AED"};
	static const char *const unknown[] = {"usd", "Usd", "US",  "USDD", "",    "ABC",
	                                      "XXX", "XAU", "XTS", "HRK",  "U$D", "US "};

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_true(currency_valid(known[i]));
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		assert_false(currency_valid(unknown[i]));
	assert_false(currency_valid(NULL));
}

static void test_minor_digits(void **state)
{
	static const char *const zero[] = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX",
	                                   "XAF", "XOF", "XPF", "PYG", "RWF", "KMF",
	                                   "GNF", "DJF", "BIF", "VUV", "UYI"};
	static const char *const three[] = {"BHD", "KWD", "OMR", "JOD", "IQD", "LYD", "TND"};
	static const char *const two[] = {"USD", "EUR", "INR", "GBP", "CHF", "MGA", "MRU"};

	(void)state;
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		assert_int_equal(currency_minor_digits(zero[i]), 0);
	for (size_t i = 0; i < sizeof(three) / sizeof(three[0]); i++)
		assert_int_equal(currency_minor_digits(three[i]), 3);
	for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
		assert_int_equal(currency_minor_digits(two[i]), 2);
	assert_int_equal(currency_minor_digits("CLF"), 4);
	assert_int_equal(currency_minor_digits("UYW"), 4);
	assert_int_equal(currency_minor_digits("ABC"), -1);
	assert_int_equal(currency_minor_digits("jpy"), -1);
	assert_int_equal(currency_minor_digits(NULL), -1);
}

static void test_amount(void **state)
{
	char out[48];

	(void)state;
	currency_amount(2250, 2, out);
	assert_string_equal(out, "22.50");
	currency_amount(5, 2, out);
	assert_string_equal(out, "0.05");
	currency_amount(-1999, 2, out);
	assert_string_equal(out, "-19.99");
	currency_amount(1200, 0, out);
	assert_string_equal(out, "1200");
	currency_amount(12345, 3, out);
	assert_string_equal(out, "12.345");
	currency_amount(1250, 3, out);
	assert_string_equal(out, "1.250");
	currency_amount(7, 4, out);
	assert_string_equal(out, "0.0007");
	currency_amount(700, 9, out); /* out of range: two decimals */
	assert_string_equal(out, "7.00");
	currency_amount(INT64_MIN, 2, out);
	assert_string_equal(out, "-92233720368547758.08");
	currency_amount(INT64_MIN, 0, out);
	assert_string_equal(out, "-9223372036854775808");
	currency_amount(INT64_MAX, 2, out);
	assert_string_equal(out, "92233720368547758.07");
}

static void test_format(void **state)
{
	char out[48];

	(void)state;
	currency_format(700, "USD", out);
	assert_string_equal(out, "USD 7.00");
	currency_format(700, "JPY", out);
	assert_string_equal(out, "JPY 700");
	currency_format(1250, "KWD", out);
	assert_string_equal(out, "KWD 1.250");
	currency_format(123456, "CLF", out);
	assert_string_equal(out, "CLF 12.3456");
	currency_format(-700, "USD", out);
	assert_string_equal(out, "USD -7.00");
	currency_format(-5, "JPY", out);
	assert_string_equal(out, "JPY -5");
	currency_format(0, "EUR", out);
	assert_string_equal(out, "EUR 0.00");
	currency_format(700, "ABC", out); /* unknown: the amount alone */
	assert_string_equal(out, "7.00");
	currency_format(700, NULL, out);
	assert_string_equal(out, "7.00");
	currency_format(INT64_MIN, "BHD", out);
	assert_string_equal(out, "BHD -9223372036854775.808");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_minor_digits),
	    cmocka_unit_test(test_amount),
	    cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
