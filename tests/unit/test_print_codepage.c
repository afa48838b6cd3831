/*
 * Unit tests for the printer code pages (src/print/codepage.h): UTF-8
 * decoding with its malformed cases, the bytes of known characters in
 * CP437 and CP858 (checked against the code page charts: the euro sign is
 * 0xD5 in CP858 only, 0x9B is the cent sign in CP437 and ø in CP858), and
 * what fits in which page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "print/codepage.h"

static void test_utf8_next(void **state)
{
	uint32_t c;

	(void)state;
	assert_int_equal(codepage_utf8_next("A", 1, &c), 1);
	assert_int_equal(c, 'A');
	assert_int_equal(codepage_utf8_next("\xc3\xa9", 2, &c), 2);
	assert_int_equal(c, 0xE9);
	assert_int_equal(codepage_utf8_next("\xe2\x82\xac", 3, &c), 3);
	assert_int_equal(c, 0x20AC);
	assert_int_equal(codepage_utf8_next("\xf0\x9f\x98\x80", 4, &c), 4);
	assert_int_equal(c, 0x1F600);
	/* Malformed: cut short, overlong, a surrogate, a stray continuation. */
	assert_int_equal(codepage_utf8_next("\xe2\x82", 2, &c), 0);
	assert_int_equal(c, 0xFFFD);
	assert_int_equal(codepage_utf8_next("\xc0\xaf", 2, &c), 0);
	assert_int_equal(codepage_utf8_next("\xed\xa0\x80", 3, &c), 0);
	assert_int_equal(codepage_utf8_next("\x80", 1, &c), 0);
	assert_int_equal(codepage_utf8_next("", 0, &c), 0);
}

static void test_bytes(void **state)
{
	(void)state;
	assert_int_equal(codepage_byte(CODEPAGE_CP437, 'a'), 'a');
	assert_int_equal(codepage_byte(CODEPAGE_CP437, 0xE9), 0x82); /* é */
	assert_int_equal(codepage_byte(CODEPAGE_CP858, 0xE9), 0x82);
	assert_int_equal(codepage_byte(CODEPAGE_CP437, 0xA2), 0x9B); /* ¢ */
	assert_int_equal(codepage_byte(CODEPAGE_CP858, 0xF8), 0x9B); /* ø */
	assert_int_equal(codepage_byte(CODEPAGE_CP858, 0xA2), 0xBD);
	assert_int_equal(codepage_byte(CODEPAGE_CP858, 0x20AC), 0xD5); /* € */
	assert_int_equal(codepage_byte(CODEPAGE_CP437, 0x20AC), -1);
	assert_int_equal(codepage_byte(CODEPAGE_CP437, 0xDF), 0xE1);   /* ß */
	assert_int_equal(codepage_byte(CODEPAGE_CP437, 0x2588), 0xDB); /* █ */
	assert_int_equal(codepage_byte(CODEPAGE_CP437, 0xA0), 0xFF);
	/* Controls never print as text, not even tab or line feed. */
	assert_int_equal(codepage_byte(CODEPAGE_CP437, '\n'), -1);
	assert_int_equal(codepage_byte(CODEPAGE_CP437, 0x1B), -1);
	assert_int_equal(codepage_byte(CODEPAGE_CP437, 0x7F), -1);
	assert_int_equal(codepage_byte(CODEPAGE_CP437, 0x85), -1);
	assert_int_equal(codepage_byte(CODEPAGE_CP858, 0x0627), -1); /* Arabic alef */
}

/* Every byte 0x80-0xFF of each page maps back from its character. */
static void test_tables_are_one_to_one(void **state)
{
	static const enum codepage pages[] = {CODEPAGE_CP437, CODEPAGE_CP858};
	size_t p;

	(void)state;
	for (p = 0; p < 2; p++) {
		int hits[256] = {0};
		uint32_t u;

		for (u = 0xA0; u < 0x2600; u++) {
			int b = codepage_byte(pages[p], u);

			if (b >= 0x80)
				hits[b]++;
		}
		for (int b = 0x80; b < 0x100; b++)
			assert_int_equal(hits[b], 1);
	}
}

static void test_fits_and_columns(void **state)
{
	static const char cafe[] = "Caf\xc3\xa9 \xe2\x82\xac";           /* Café € */
	static const char arabic[] = "\xd8\xa8\xd8\xaf\xd9\x88\xd9\x86"; /* بدون */

	(void)state;
	assert_true(codepage_fits(CODEPAGE_CP858, cafe, strlen(cafe)));
	assert_false(codepage_fits(CODEPAGE_CP437, cafe, strlen(cafe)));
	assert_false(codepage_fits(CODEPAGE_CP858, arabic, strlen(arabic)));
	assert_false(codepage_fits(CODEPAGE_CP858, "a\tb", 3));
	assert_false(codepage_fits(CODEPAGE_CP858, "\xc3", 1));
	assert_true(codepage_fits(CODEPAGE_CP858, "", 0));
	assert_int_equal(codepage_columns(CODEPAGE_CP858, cafe, strlen(cafe)), 6);
	assert_int_equal(codepage_columns(CODEPAGE_CP858, arabic, strlen(arabic)), 4);
}

/* Typographic marks become ASCII; letters never lose their accents. */
static void test_transliteration(void **state)
{
	static const char quote[] = "Don\xe2\x80\x99t \xe2\x80\x9cwait\xe2\x80\x9d \xe2\x80\x93 "
	                            "ok\xe2\x80\xa6"; /* Don’t “wait” – ok… */
	unsigned char out[CODEPAGE_MAX_BYTES];
	int known;

	(void)state;
	assert_true(codepage_fits(CODEPAGE_CP437, quote, strlen(quote)));
	assert_int_equal(codepage_columns(CODEPAGE_CP437, quote, strlen(quote)), 20);
	assert_int_equal(codepage_encode(CODEPAGE_CP437, 0x2026, out, &known), 3);
	assert_memory_equal(out, "...", 3);
	assert_int_equal(codepage_encode(CODEPAGE_CP858, 0x2019, out, &known), 1);
	assert_int_equal(out[0], '\'');
	assert_int_equal(codepage_encode(CODEPAGE_CP858, 0x200B, out, &known), 0);
	assert_true(known);
	/* Soft hyphen: CP858 has it, CP437 drops it. */
	assert_int_equal(codepage_encode(CODEPAGE_CP858, 0x00AD, out, &known), 1);
	assert_int_equal(out[0], 0xF0);
	assert_int_equal(codepage_encode(CODEPAGE_CP437, 0x00AD, out, &known), 0);
	assert_true(known);
	/* ő (Hungarian) and ł (Polish) are not in either page: no bytes. */
	assert_int_equal(codepage_encode(CODEPAGE_CP858, 0x0151, out, &known), 0);
	assert_false(known);
	assert_false(codepage_fits(CODEPAGE_CP858, "\xc5\x82", 2));
	assert_int_equal(codepage_encode(CODEPAGE_CP437, 0x20AC, out, &known), 0);
	assert_false(known);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_next),
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_tables_are_one_to_one),
	    cmocka_unit_test(test_fits_and_columns),
	    cmocka_unit_test(test_transliteration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
