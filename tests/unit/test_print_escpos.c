/*
 * Unit tests for the ESC/POS encoder (src/print/escpos.h): the exact bytes
 * of each command, the QR code's length fields and limits, GS v 0 bands,
 * and the ticket's frame (ESC @ first, a partial cut last, no text
 * the code page lacks and no question marks, the buffer's limit honoured),
 * its amounts in the minor units of its currency.
 * The ticket's layout as a whole is compared with another encoder in the
 * print suite (tests/print).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "print/escpos.h"

#define assert_bytes(b, lit)                                                                       \
	do {                                                                                       \
		assert_int_equal((b)->len, sizeof(lit) - 1);                                       \
		assert_memory_equal((b)->data, lit, sizeof(lit) - 1);                              \
	} while (0)

static int setup(void **state)
{
	struct buf *b = malloc(sizeof(*b));

	if (b == NULL)
		return -1;
	buf_init(b, 1 << 20);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	buf_release(*state);
	free(*state);
	return 0;
}

static void test_simple_commands(void **state)
{
	struct buf *b = *state;

	assert_int_equal(escpos_init(b), 0);
	assert_bytes(b, "\x1b@\x1c.\x1bM\x00");
	buf_reset(b);
	assert_int_equal(escpos_codepage(b, CODEPAGE_CP858), 0);
	assert_int_equal(escpos_codepage(b, CODEPAGE_CP437), 0);
	assert_bytes(b, "\x1bt\x13\x1bt\x00");
	buf_reset(b);
	assert_int_equal(escpos_align(b, ESCPOS_CENTER), 0);
	assert_int_equal(escpos_align(b, ESCPOS_LEFT), 0);
	assert_int_equal(escpos_align(b, (enum escpos_align)3), -1);
	assert_bytes(b, "\x1b"
	                "a\x01\x1b"
	                "a\x00");
	buf_reset(b);
	assert_int_equal(escpos_size(b, 2, 2), 0); /* the double-size token */
	assert_int_equal(escpos_size(b, 1, 1), 0);
	assert_int_equal(escpos_size(b, 8, 8), 0);
	assert_int_equal(escpos_size(b, 0, 1), -1);
	assert_int_equal(escpos_size(b, 1, 9), -1);
	assert_bytes(b, "\x1d!\x11\x1d!\x00\x1d!\x77");
	buf_reset(b);
	assert_int_equal(escpos_bold(b, 1), 0);
	assert_int_equal(escpos_feed(b, 4), 0);
	assert_int_equal(escpos_feed(b, 256), -1);
	assert_int_equal(escpos_cut(b, 1), 0);
	assert_int_equal(escpos_cut(b, 0), 0);
	assert_bytes(b, "\x1b"
	                "E\x01\x1b"
	                "d\x04\x1dV\x01\x1dV\x00");
}

static void test_text_in_code_page(void **state)
{
	struct buf *b = *state;

	assert_int_equal(escpos_text(b, CODEPAGE_CP858, "Cr\xc3\xa8me 5\xe2\x82\xac", 11), 0);
	assert_bytes(b, "Cr\x8ame 5\xd5");
	/* All or nothing: no question marks, no half line. */
	assert_int_equal(escpos_text(b, CODEPAGE_CP437, "5\xe2\x82\xac", 4), -1);
	assert_int_equal(escpos_text(b, CODEPAGE_CP858, "a\x1b@", 3), -1);
	assert_bytes(b, "Cr\x8ame 5\xd5");
}

static void test_qr_lengths(void **state)
{
	struct buf *b = *state;
	char *big = malloc(7090);
	size_t n;

	assert_non_null(big);
	memset(big, 'x', 7090);
	assert_int_equal(escpos_qr(b, "http://t/o/1", 12, 6, ESCPOS_QR_M), 0);
	assert_bytes(b, "\x1d(k\x04\x00"
	                "1A2\x00" /* model 2 */
	                "\x1d(k\x03\x00"
	                "1C\x06" /* module 6 dots */
	                "\x1d(k\x03\x00"
	                "1E1" /* level M */
	                "\x1d(k\x0f\x00"
	                "1P0http://t/o/1" /* store: 12 + 3 */
	                "\x1d(k\x03\x00"
	                "1Q0"); /* print */
	/* A payload past 255 bytes: pL pH carry n + 3 little-endian. */
	buf_reset(b);
	assert_int_equal(escpos_qr(b, big, 300, 4, ESCPOS_QR_H), 0);
	assert_int_equal(b->len, 9 + 8 + 8 + 8 + 300 + 8);
	assert_memory_equal(b->data + 17,
	                    "\x1d(k\x03\x00"
	                    "1E3",
	                    8);
	assert_memory_equal(b->data + 25,
	                    "\x1d(k\x2f\x01"
	                    "1P0",
	                    8);
	/* The limits: 1 to 7089 bytes, module 1 to 16. */
	buf_reset(b);
	assert_int_equal(escpos_qr(b, big, 7089, 1, ESCPOS_QR_L), 0);
	n = b->len;
	assert_memory_equal(b->data + 25,
	                    "\x1d(k\xb4\x1b"
	                    "1P0",
	                    8); /* 7092 */
	assert_int_equal(escpos_qr(b, big, 7090, 1, ESCPOS_QR_L), -1);
	assert_int_equal(escpos_qr(b, big, 0, 1, ESCPOS_QR_L), -1);
	assert_int_equal(escpos_qr(b, big, 10, 17, ESCPOS_QR_L), -1);
	assert_int_equal(escpos_qr(b, big, 10, 0, ESCPOS_QR_L), -1);
	assert_int_equal(b->len, n);
	free(big);
}

static void test_raster_bands(void **state)
{
	struct buf *b = *state;
	struct raster_img img = {16, 1100, 2, calloc(2, 1100)};

	assert_non_null(img.bits);
	img.bits[0] = 0x80;
	img.bits[2 * 1024 + 1] = 0x01;
	assert_int_equal(escpos_raster(b, &img), 0);
	assert_int_equal(b->len, 8 + 2 * 1024 + 8 + 2 * 76);
	assert_memory_equal(b->data, "\x1dv0\x00\x02\x00\x00\x04", 8);
	assert_int_equal((unsigned char)b->data[8], 0x80);
	assert_memory_equal(b->data + 8 + 2048, "\x1dv0\x00\x02\x00\x4c\x00", 8);
	assert_int_equal((unsigned char)b->data[8 + 2048 + 8 + 1], 0x01);
	img.width = 12; /* not a whole number of bytes */
	assert_int_equal(escpos_raster(b, &img), -1);
	free(img.bits);
}

static const struct escpos_item items[] = {
    {"Masala tea", 2, 150},
    {"Croissant", 12, 125},
};

static struct escpos_ticket ticket(void)
{
	struct escpos_ticket t = {
	    .token = "A-042",
	    .queue_name = "Counter A",
	    .items = items,
	    .nitems = 2,
	    .total = 1800,
	    .currency = "EUR",
	    .created = "2026-12-04 08:15",
	    .qr_url = "http://tokenq.local/o/1",
	    .codepage = CODEPAGE_CP858,
	};
	return t;
}

static int contains(const struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i + n <= b->len; i++)
		if (memcmp(b->data + i, s, n) == 0)
			return 1;
	return 0;
}

static void test_ticket_frame(void **state)
{
	struct buf *b = *state;
	struct escpos_ticket t = ticket();

	assert_int_equal(escpos_write_ticket(&t, NULL, b), 0);
	assert_memory_equal(b->data, "\x1b@\x1c.\x1bM\x00\x1bt\x13", 10);
	assert_memory_equal(b->data + b->len - 6,
	                    "\x1b"
	                    "d\x04\x1dV\x01",
	                    6);
	assert_true(contains(b,
	                     "\x1d!\x11\x1b"
	                     "E\x01"
	                     "A-042\n",
	                     11)); /* double size */
	assert_true(contains(b, "2 x Masala tea", 14));
	assert_true(contains(b, "       3.00\n", 12));
	assert_true(contains(b, "EUR 18.00\n", 10));
	assert_true(contains(b, "1P0http://tokenq.local/o/1", 26));
	assert_false(contains(b, "?", 1));
}

/* Curly quotes and the ellipsis print as ASCII, wrapped by their columns. */
static void test_ticket_transliterates_marks(void **state)
{
	struct buf *b = *state;
	struct escpos_ticket t = ticket();
	char note[256];
	const char *want;

	/* 46 columns with the ellipsis as its 3, so " ab" must wrap (at 1 it would fit). */
	snprintf(note, sizeof(note), "%s\xe2\x80\x9cno\xe2\x80\x9d\xe2\x80\xa6 ab",
	         "Please, none of this, thank you ...... ");
	t.note = note;
	t.qr_url = NULL;
	assert_int_equal(escpos_write_ticket(&t, NULL, b), 0);
	want = "\nPlease, none of this, thank you ...... \"no\"...\nab\n";
	assert_true(contains(b, want, strlen(want)));
	assert_false(contains(b, "\x1dv0", 3));
}

/* A note's line breaks are kept; each line is text when the page holds it. */
static void test_ticket_note_lines(void **state)
{
	struct buf *b = *state;
	struct escpos_ticket t = ticket();
	const char *want = "08:15\nNo sugar\n\nExtra hot\n\n";

	t.note = "No sugar\r\n\nExtra hot\n";
	t.qr_url = NULL;
	assert_int_equal(escpos_write_ticket(&t, NULL, b), 0);
	assert_false(contains(b, want, strlen(want))); /* no blank line for the last \n */
	want = "08:15\nNo sugar\n\nExtra hot\n\x1b"
	       "d";
	assert_true(contains(b, want, strlen(want)));
	assert_false(contains(b, "\x1dv0", 3));
}

static void test_ticket_refusals(void **state)
{
	struct buf *b = *state;
	struct escpos_ticket t = ticket();
	struct buf small;

	/* Arabic without fonts: refused, not printed as question marks. */
	t.note = "\xd8\xa8\xd8\xaf\xd9\x88\xd9\x86";
	assert_int_equal(escpos_write_ticket(&t, NULL, b), -1);
	t = ticket();
	t.token = "";
	assert_int_equal(escpos_write_ticket(&t, NULL, b), -1);
	t = ticket();
	buf_init(&small, 64);
	assert_int_equal(escpos_write_ticket(&t, NULL, &small), -1);
	assert_true(small.len <= 64);
	buf_release(&small);
}

/* The currency's minor units place the decimal point of every amount; the
 * code goes with the total; no currency is USD, an unknown one refused. */
static void test_ticket_currency(void **state)
{
	static const struct {
		const char *currency, *item, *total;
	} cases[] = {
	    {"JPY", "         300\n", "   JPY 1800\n"}, {"KWD", "       0.300\n", "  KWD 1.800\n"},
	    {"CLF", "      0.0300\n", " CLF 0.1800\n"}, {NULL, "        3.00\n", "  USD 18.00\n"},
	    {"", "        3.00\n", "  USD 18.00\n"},
	};
	struct escpos_ticket t;
	struct buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b, 1 << 16);
		t = ticket();
		t.currency = cases[i].currency;
		assert_int_equal(escpos_write_ticket(&t, NULL, &b), 0);
		assert_true(contains(&b, "2 x Masala tea", 14));
		assert_true(contains(&b, cases[i].item, strlen(cases[i].item)));
		assert_true(contains(&b, cases[i].total, strlen(cases[i].total)));
		buf_release(&b);
	}
	buf_init(&b, 1 << 16);
	t = ticket();
	t.currency = "EURO";
	assert_int_equal(escpos_write_ticket(&t, NULL, &b), -1);
	t.currency = "eur";
	assert_int_equal(escpos_write_ticket(&t, NULL, &b), -1);
	buf_release(&b);
}

static void test_ticket_wraps_long_names(void **state)
{
	static const struct escpos_item longer[] = {
	    {"Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
	     "e with a very long name that needs wrapping",
	     1, 450},
	};
	struct buf *b = *state;
	struct escpos_ticket t = ticket();
	const char *line;

	t.items = longer;
	t.nitems = 1;
	assert_int_equal(escpos_write_ticket(&t, NULL, b), 0);
	line = "1 x Cr\x8ame br\x96l\x82"
	       "e with a very long           4.50\n";
	assert_true(contains(b, line, strlen(line)));
	assert_true(contains(b, "\n    name that needs wrapping\n", 30));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_simple_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_text_in_code_page, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qr_lengths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_raster_bands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ticket_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ticket_note_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ticket_transliterates_marks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ticket_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ticket_wraps_long_names, setup, teardown),
	    cmocka_unit_test(test_ticket_currency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
