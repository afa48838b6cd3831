/*
 * Unit tests for webhook signing (src/hooks/sign.h) and what it rests on:
 * base64 (RFC 4648 vectors, strict decoding), HMAC-SHA256 (RFC 4231
 * vectors, a key longer than a block) and the Standard Webhooks
 * specification's published example signature; plus payloads and event
 * filters (src/hooks/payload.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hooks/payload.h"
#include "hooks/sign.h"
#include "util/base64.h"
#include "util/hmac.h"

static void test_base64_vectors(void **state)
{
	static const char *const want[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
	                                   "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char out[16];
	unsigned char back[16];
	size_t i;

	(void)state;
	for (i = 0; i < 7; i++) {
		assert_int_equal(base64_encode("foobar", i, out, sizeof(out)),
		                 (long)strlen(want[i]));
		assert_string_equal(out, want[i]);
		assert_int_equal(base64_decode(out, strlen(out), back, sizeof(back)), (long)i);
		assert_memory_equal(back, "foobar", i);
	}
	assert_int_equal(base64_encode("foobar", 6, out, 8), -1); /* needs 9 */
	assert_string_equal(out, "");
}

static void test_base64_strict(void **state)
{
	unsigned char b[16];

	(void)state;
	assert_int_equal(base64_decode("Zm9", 3, b, sizeof(b)), -1);    /* length */
	assert_int_equal(base64_decode("Zm9v\n", 5, b, sizeof(b)), -1); /* whitespace */
	assert_int_equal(base64_decode("Zm-v", 4, b, sizeof(b)), -1);   /* url alphabet */
	assert_int_equal(base64_decode("Zh==", 4, b, sizeof(b)), -1);   /* leftover bits */
	assert_int_equal(base64_decode("Z===", 4, b, sizeof(b)), -1);   /* too much padding */
	assert_int_equal(base64_decode("Zm=v", 4, b, sizeof(b)), -1);   /* padding inside */
	assert_int_equal(base64_decode("Zm9vYmFy", 8, b, 5), -1);       /* out too small */
	assert_int_equal(base64_decode("Zm9vYmFy", 8, b, 6), 6);
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_hmac_rfc4231(void **state)
{
	unsigned char key[131], mac[32];
	char h[65];
	struct hmac_sha256 ctx;

	(void)state;
	memset(key, 0x0b, 20);
	hmac_sha256(key, 20, "Hi There", 8, mac);
	hex(mac, 32, h);
	assert_string_equal(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	hex(mac, 32, h);
	assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	/* Test case 6: a key longer than the block is hashed first. */
	memset(key, 0xaa, sizeof(key));
	hmac_sha256(key, sizeof(key), "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	            mac);
	hex(mac, 32, h);
	assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

	/* Incremental updates agree with one call. */
	hmac_sha256_init(&ctx, "Jefe", 4);
	hmac_sha256_update(&ctx, "what do ya ", 11);
	hmac_sha256_update(&ctx, "want for nothing?", 17);
	hmac_sha256_final(&ctx, mac);
	hex(mac, 32, h);
	assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* The example in the Standard Webhooks specification and its reference libraries. */
static void test_sign_spec_vector(void **state)
{
	static const char body[] = "{\"test\": 2432232314}";
	char sig[HOOK_SIGNATURE_SIZE];

	(void)state;
	assert_int_equal(hook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	                           "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
	                           sig),
	                 0);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* The bare key signs the same; a different timestamp or body does not. */
	assert_int_equal(hook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	                           "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
	                           sig),
	                 0);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	hook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
	          1614265331, body, strlen(body), sig);
	assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	hook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
	          1614265330, body, strlen(body) - 1, sig);
	assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void test_sign_bad_secret(void **state)
{
	char sig[HOOK_SIGNATURE_SIZE];

	(void)state;
	assert_int_equal(hook_sign("whsec_not base64!", "m", 1, "x", 1, sig), -1);
	assert_string_equal(sig, "");
	assert_int_equal(hook_sign("whsec_", "m", 1, "x", 1, sig), -1);
	assert_int_equal(hook_sign(NULL, "m", 1, "x", 1, sig), -1);
}

static void test_secret_new(void **state)
{
	char a[HOOK_SECRET_SIZE], b[HOOK_SECRET_SIZE];
	unsigned char key[HOOK_KEY_MAX];

	(void)state;
	assert_int_equal(hook_secret_new(a), 0);
	assert_int_equal(hook_secret_new(b), 0);
	assert_true(strncmp(a, "whsec_", 6) == 0);
	assert_int_equal(strlen(a), HOOK_SECRET_SIZE - 1);
	assert_string_not_equal(a, b);
	assert_int_equal(hook_secret_key(a, key), HOOK_KEY_BYTES);
}

static void test_events(void **state)
{
	char why[200], list[64], type[HOOK_TYPE_SIZE];
	unsigned mask;

	(void)state;
	assert_int_equal(hook_events_parse(NULL, &mask, why, sizeof(why)), 0);
	assert_int_equal(mask, HOOK_EV_ALL);
	assert_int_equal(hook_events_parse("recall,token", &mask, why, sizeof(why)), 0);
	assert_int_equal(mask, HOOK_EV_TOKEN | HOOK_EV_RECALL);
	hook_events_format(mask, list, sizeof(list));
	assert_string_equal(list, "token,recall");
	assert_int_equal(hook_events_parse("token,ready", &mask, why, sizeof(why)), -1);
	assert_int_equal(mask, 0);
	assert_non_null(strstr(why, "\"ready\""));
	assert_int_equal(hook_events_parse("token,", &mask, why, sizeof(why)), -1);

	assert_int_equal(hook_event_type("token", "READY", type), 0);
	assert_string_equal(type, "token.ready");
	assert_int_equal(hook_event_type("recall", "READY", type), 0);
	assert_string_equal(type, "token.recall");
	assert_int_equal(hook_event_type("transfer", NULL, type), 0);
	assert_string_equal(type, "token.transfer");
	assert_int_equal(hook_event_type("token", NULL, type), -1);
	assert_int_equal(hook_event_type("party", "READY", type), -1);
}

static void test_payload(void **state)
{
	json_t *data = json_pack("{s:I, s:s}", "event_id", (json_int_t)1290, "status", "READY");
	size_t len;
	char *body;

	(void)state;
	body = hook_payload("token.ready", 1764231700511, data, &len);
	assert_non_null(body);
	assert_string_equal(body,
	                    "{\"type\":\"token.ready\",\"timestamp\":\"2025-11-27T08:21:40.511Z\","
	                    "\"data\":{\"event_id\":1290,\"status\":\"READY\"}}");
	assert_int_equal(len, strlen(body));
	assert_int_equal(data->refcount, 1); /* still only the caller's */
	free(body);
	json_decref(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_vectors),  cmocka_unit_test(test_base64_strict),
	    cmocka_unit_test(test_hmac_rfc4231),    cmocka_unit_test(test_sign_spec_vector),
	    cmocka_unit_test(test_sign_bad_secret), cmocka_unit_test(test_secret_new),
	    cmocka_unit_test(test_events),          cmocka_unit_test(test_payload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
