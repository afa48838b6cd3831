/*
 * Unit tests for text images (src/print/raster.h) and printer addresses
 * (src/print/transport.h): the image's size and layout, right-to-left
 * text against the right edge, wrapping at the width, the refusals; the
 * address forms accepted and the ones refused with a sentence. The
 * shaping itself is compared with another renderer in the print suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "print/raster.h"
#include "print/transport.h"

/* The leftmost and rightmost black columns, or -1 for an empty image. */
static void ink(const struct raster_img *img, int *left, int *right)
{
	*left = *right = -1;
	for (int x = 0; x < img->width; x++)
		for (int y = 0; y < img->height; y++)
			if (raster_img_get(img, x, y)) {
				if (*left < 0)
					*left = x;
				*right = x;
				break;
			}
}

static int setup(void **state)
{
	struct raster_fonts *f;

	if (raster_fonts_open(&f, NULL) != 0)
		return -1; /* fonts-noto-core missing */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	raster_fonts_free(*state);
	return 0;
}

static void test_directions(void **state)
{
	static const char hebrew[] = "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"; /* שלום */
	struct raster_img img;
	int l, r;

	assert_int_equal(raster_text(*state, "Hello", 5, 26, 576, RASTER_START, &img), 0);
	assert_int_equal(img.width, 576);
	assert_int_equal(img.stride, 72);
	assert_int_equal(img.height % 8, 0);
	assert_true(img.height >= 26 && img.height <= 48);
	ink(&img, &l, &r);
	assert_true(l >= 0 && l < 4 && r < 100);
	raster_img_release(&img);

	assert_int_equal(raster_text(*state, hebrew, strlen(hebrew), 26, 576, RASTER_START, &img),
	                 0);
	ink(&img, &l, &r);
	assert_true(r > 570 && l > 400); /* right-to-left: against the right edge */
	raster_img_release(&img);

	assert_int_equal(raster_text(*state, "Hello", 5, 26, 576, RASTER_CENTER, &img), 0);
	ink(&img, &l, &r);
	assert_true(l > 200 && r < 376 && (l + r) / 2 > 278 && (l + r) / 2 < 298);
	raster_img_release(&img);
}

static void test_wraps_at_width(void **state)
{
	static const char text[] = "one two three four five six seven eight nine ten";
	struct raster_img one, wrapped;
	int l, r;

	assert_int_equal(raster_text(*state, "one", 3, 26, 160, RASTER_LEFT, &one), 0);
	assert_int_equal(raster_text(*state, text, strlen(text), 26, 160, RASTER_LEFT, &wrapped),
	                 0);
	assert_true(wrapped.height >= 4 * one.height - 8);
	ink(&wrapped, &l, &r);
	assert_true(r < 160);
	raster_img_release(&one);
	raster_img_release(&wrapped);
	assert_int_equal(raster_text(*state, "a\nb", 3, 26, 160, RASTER_LEFT, &wrapped), 0);
	assert_true(wrapped.height >= 2 * one.height - 8);
	raster_img_release(&wrapped);
}

static void test_refusals(void **state)
{
	static const char *const none[] = {"/nonexistent/font.ttf", NULL};
	struct raster_fonts *f = (struct raster_fonts *)1;
	struct raster_img img;

	assert_int_equal(raster_text(*state, "x", 1, 26, 570, RASTER_LEFT, &img), -1);
	assert_null(img.bits);
	assert_int_equal(raster_text(*state, "x", 1, 2, 576, RASTER_LEFT, &img), -1);
	assert_int_equal(raster_text(*state, "\xc3", 1, 26, 576, RASTER_LEFT, &img), -1);
	assert_int_equal(raster_fonts_open(&f, none), -1);
	assert_null(f);
	raster_fonts_free(NULL);
	assert_true(raster_fonts_count(*state) >= 5);
}

/* Empty lines are a line high; an image past RASTER_MAX_HEIGHT is refused. */
static void test_height_limit(void **state)
{
	char tall[1200];
	struct raster_img img;

	memset(tall, '\n', sizeof(tall));
	assert_int_equal(raster_text(*state, tall, 100, 26, 576, RASTER_LEFT, &img), 0);
	assert_int_equal(img.height, (101 * (26 + 6) + 7) / 8 * 8);
	raster_img_release(&img);
	assert_int_equal(raster_text(*state, tall, sizeof(tall), 26, 576, RASTER_LEFT, &img), -1);
	assert_null(img.bits);
}

static void test_addresses(void **state)
{
	struct transport_addr a;
	char err[200];

	(void)state;
	assert_int_equal(transport_addr_parse("tcp://192.168.1.50:9100", &a, err, sizeof(err)), 0);
	assert_false(a.is_device);
	assert_string_equal(a.host, "192.168.1.50");
	assert_string_equal(a.port, "9100");
	assert_int_equal(transport_addr_parse("tcp://[fe80::1]:9100", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "fe80::1");
	assert_int_equal(transport_addr_parse("tcp://kitchen-printer:9101", &a, err, sizeof(err)),
	                 0);
	assert_string_equal(a.host, "kitchen-printer");
	assert_int_equal(transport_addr_parse("/dev/usb/lp0", &a, err, sizeof(err)), 0);
	assert_true(a.is_device);
	assert_int_equal(transport_addr_parse("tcp://host", &a, err, sizeof(err)), -1);
	assert_string_equal(err, "the printer address needs a port: tcp://HOST:PORT");
	assert_int_equal(transport_addr_parse("tcp://host:0", &a, err, sizeof(err)), -1);
	assert_int_equal(transport_addr_parse("tcp://host:65536", &a, err, sizeof(err)), -1);
	assert_int_equal(transport_addr_parse("tcp://host:+80", &a, err, sizeof(err)), -1);
	assert_int_equal(transport_addr_parse("tcp://:9100", &a, err, sizeof(err)), -1);
	assert_int_equal(transport_addr_parse("tcp://fe80::1:9100", &a, err, sizeof(err)), -1);
	assert_int_equal(transport_addr_parse("http://host:9100", &a, err, sizeof(err)), -1);
	assert_int_equal(transport_addr_parse("", &a, err, sizeof(err)), -1);
	assert_string_equal(transport_status_name(TRANSPORT_PAPER_OUT), "paper_out");
	assert_string_equal(transport_status_name(TRANSPORT_TIMEOUT), "timeout");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_directions), cmocka_unit_test(test_wraps_at_width),
	    cmocka_unit_test(test_refusals),   cmocka_unit_test(test_height_limit),
	    cmocka_unit_test(test_addresses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
