/*
 * Unit tests for SHA-256 (src/util/sha256.h): the FIPS 180-4 example
 * vectors, the padding boundaries around one block, and incremental
 * updates in every chunk size giving the same digest as one call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/sha256.h"

static void hex_of(const unsigned char d[32], char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
}

static void expect_hex(const void *data, size_t n, const char *want)
{
	char hex[65];

	memset(hex, 'x', sizeof(hex));
	sha256_hex(data, n, hex);
	assert_string_equal(hex, want);
}

static void test_vectors(void **state)
{
	(void)state;
	expect_hex("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_hex("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* the 448-bit message */
	expect_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* the 896-bit message */
	expect_hex(
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
	    "klmnopqrlmnopqrsmnopqrstnopqrstu",
	    112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
	unsigned char d[32];
	char hex[65], *a;
	struct sha256 s;
	int i;

	(void)state;
	/* in one call */
	a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	expect_hex(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
	/* and 1000 at a time */
	a = malloc(1000);
	assert_non_null(a);
	memset(a, 'a', 1000);
	sha256_init(&s);
	for (i = 0; i < 1000; i++)
		sha256_update(&s, a, 1000);
	free(a);
	sha256_final(&s, d);
	hex_of(d, hex);
	assert_string_equal(hex,
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the padding boundary (55/56 bytes) and the block size (64). */
static void test_boundaries(void **state)
{
	static const struct {
		size_t n;
		const char *hex;
	} v[] = {
	    {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
	    {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
	    {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
	    {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
	    {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
	    {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
	    {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
	    {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
	};
	unsigned char data[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)((i * 7 + 3) & 0xff);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		expect_hex(data, v[i].n, v[i].hex);
}

/* Feeding the same bytes in chunks of any size gives the same digest. */
static void test_incremental(void **state)
{
	unsigned char data[300], d[32];
	char one[65], hex[65];
	struct sha256 s;
	size_t chunk, off;

	(void)state;
	for (off = 0; off < sizeof(data); off++)
		data[off] = (unsigned char)(off * 31 + 1);
	sha256_hex(data, sizeof(data), one);
	for (chunk = 1; chunk <= 130; chunk++) {
		sha256_init(&s);
		sha256_update(&s, data, 0);
		for (off = 0; off < sizeof(data); off += chunk)
			sha256_update(&s, data + off,
			              chunk < sizeof(data) - off ? chunk : sizeof(data) - off);
		sha256_final(&s, d);
		hex_of(d, hex);
		if (strcmp(hex, one) != 0)
			fail_msg("chunks of %zu give %s, one call gives %s", chunk, hex, one);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_million_a),
	    cmocka_unit_test(test_boundaries),
	    cmocka_unit_test(test_incremental),
	};

	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
