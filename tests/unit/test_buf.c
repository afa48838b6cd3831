/*
 * Unit tests for the bounded buffer (src/util/buf.h): the limit is never
 * passed, a failed append keeps the old contents, data stays NUL-terminated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"

static void expect_content(const struct buf *b, const char *want)
{
	assert_int_equal(b->len, strlen(want));
	assert_non_null(b->data);
	assert_memory_equal(b->data, want, b->len);
	assert_int_equal(b->data[b->len], '\0');
	assert_true(b->len <= b->max);
}

static void test_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_adds(&b, "hello"), 0);
	expect_content(&b, "hello");
	assert_int_equal(buf_adds(&b, "world!"), -1); /* 11 > 10 */
	expect_content(&b, "hello");
	assert_int_equal(buf_adds(&b, "world"), 0); /* exactly 10 */
	expect_content(&b, "helloworld");
	assert_int_equal(buf_adds(&b, ""), 0);
	expect_content(&b, "helloworld");
	assert_int_equal(buf_add(&b, "x", 1), -1);
	expect_content(&b, "helloworld");
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	expect_content(&b, "helloworld");
	assert_int_equal(buf_add(&b, "x", SIZE_MAX), -1); /* no overflow in the check */
	expect_content(&b, "helloworld");
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 10);
	buf_release(&b); /* twice is fine */
}

static void test_printf(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 16);
	assert_int_equal(buf_printf(&b, "%s-%03d", "A", 7), 0);
	expect_content(&b, "A-007");
	assert_int_equal(buf_printf(&b, "%s", "0123456789a"), 0); /* 5 + 11 = 16 */
	expect_content(&b, "A-0070123456789a");
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	expect_content(&b, "A-0070123456789a");
	buf_reset(&b);
	expect_content(&b, "");
	assert_int_equal(buf_printf(&b, "%s", "0123456789abcdefg"), -1); /* 17 */
	expect_content(&b, "");
	assert_int_equal(buf_printf(&b, "%s", "0123456789abcdef"), 0);
	expect_content(&b, "0123456789abcdef");
	buf_release(&b);
}

static void test_growth(void **state)
{
	char chunk[1000];
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 100000);
	for (i = 0; i < 100; i++) {
		memset(chunk, (int)('a' + i % 26), sizeof(chunk));
		assert_int_equal(buf_add(&b, chunk, sizeof(chunk)), 0);
	}
	assert_int_equal(b.len, 100000);
	assert_int_equal(buf_add(&b, "z", 1), -1);
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.data[b.len], '\0');
	for (i = 0; i < 100; i++) {
		memset(chunk, (int)('a' + i % 26), sizeof(chunk));
		assert_memory_equal(b.data + i * 1000, chunk, 1000);
	}
	assert_true(b.cap <= b.max + 1);
	buf_release(&b);
}

static void test_detach(void **state)
{
	struct buf b;
	size_t len = 99;
	char *p;

	(void)state;
	buf_init(&b, 64);
	p = buf_detach(&b, &len); /* empty: still a string to free */
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	assert_int_equal(buf_adds(&b, "token A-001"), 0);
	p = buf_detach(&b, &len);
	assert_string_equal(p, "token A-001");
	assert_int_equal(len, 11);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 64);
	free(p);
	/* the buffer is usable again */
	assert_int_equal(buf_adds(&b, "again"), 0);
	expect_content(&b, "again");
	p = buf_detach(&b, NULL);
	assert_string_equal(p, "again");
	free(p);
}

static void test_zero_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_add(&b, "a", 1), -1);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_add(&b, "", 0), 0);
	expect_content(&b, "");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limit),      cmocka_unit_test(test_printf),
	    cmocka_unit_test(test_growth),     cmocka_unit_test(test_detach),
	    cmocka_unit_test(test_zero_limit),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
