/*
 * The store contract suite: API keys, and the store's own odds and ends.
 */
#include "contract.h"

/* ---- 8. API keys ---- */

void test_keys(void **state)
{
	struct db *d = *state;
	struct api_key k, *list;
	struct tq_error err;
	size_t n;
	int64_t id1, id2, id3, dup;
	bool any;
	char h1[65], h2[65], h3[65];

	sha256_hex("secret-1", 8, h1);
	sha256_hex("secret-2", 8, h2);
	sha256_hex("secret-3", 8, h3);
	assert_int_equal(store_key_any(d->c, &any, &err), 0);
	assert_false(any);
	assert_int_equal(store_key_list(d->c, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	free(list);

	assert_int_equal(store_key_create(d->c, ROLE_POS, 0, "till 1", h1, 1000, &id1, &err), 0);
	assert_true(id1 > 0);
	assert_int_equal(store_key_create(d->c, ROLE_STAFF, 0, NULL, h2, 2000, &id2, &err), 0);
	assert_int_equal(store_key_create(d->c, ROLE_ADMIN, 0, "till 1", h3, 3000, &id3, &err), 0);
	assert_true(id1 < id2 && id2 < id3);
	/* a hash is one key */
	assert_int_equal(store_key_create(d->c, ROLE_ADMIN, 0, "dup", h1, 4000, &dup, &err), -1);
	assert_int_equal(store_key_any(d->c, &any, &err), 0);
	assert_true(any);

	memset(&k, 0, sizeof(k));
	assert_int_equal(store_key_find(d->c, h1, &k, &err), 1);
	assert_int_equal(k.id, id1);
	assert_int_equal(k.role, ROLE_POS);
	assert_string_equal(k.label, "till 1");
	assert_int_equal(k.created_at, 1000);
	assert_int_equal(k.last_used_at, 0);
	assert_int_equal(k.revoked_at, 0);
	assert_int_equal(store_key_find(d->c, "0000", &k, &err), 0);

	assert_int_equal(store_key_touch(d->c, id1, 5000, &err), 0);
	assert_int_equal(store_key_find(d->c, h1, &k, &err), 1);
	assert_int_equal(k.last_used_at, 5000);

	assert_int_equal(store_key_list(d->c, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].id, id1);
	assert_int_equal(list[0].last_used_at, 5000);
	assert_int_equal(list[1].id, id2);
	assert_int_equal(list[1].role, ROLE_STAFF);
	assert_string_equal(list[1].label, "");
	assert_int_equal(list[2].role, ROLE_ADMIN);
	assert_string_equal(list[2].label, "till 1");
	free(list);

	/* revoking: the key stops working, the first time is kept, unknown ids are refused */
	assert_int_equal(store_key_revoke(d->c, id1, 6000, &err), 0);
	assert_int_equal(store_key_find(d->c, h1, &k, &err), 0);
	assert_int_equal(store_key_revoke(d->c, id1, 7000, &err), 0);
	tq_error_clear(&err);
	assert_int_equal(store_key_revoke(d->c, 999999, 7000, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	assert_int_equal(store_key_list(d->c, &list, &n, &err), 0);
	assert_int_equal(list[0].revoked_at, 6000);
	assert_int_equal(list[1].revoked_at, 0);
	free(list);
	assert_int_equal(store_key_any(d->c, &any, &err), 0);
	assert_true(any);
	assert_int_equal(store_key_revoke(d->c, id2, 8000, &err), 0);
	assert_int_equal(store_key_revoke(d->c, id3, 8000, &err), 0);
	assert_int_equal(store_key_any(d->c, &any, &err), 0);
	assert_false(any); /* protected mode again */

	assert_string_equal(role_name(ROLE_POS), "pos");
	assert_string_equal(role_name(ROLE_STAFF), "staff");
	assert_string_equal(role_name(ROLE_ADMIN), "admin");
	{
		enum role r;
		assert_int_equal(role_parse("staff", &r), 0);
		assert_int_equal(r, ROLE_STAFF);
		assert_int_equal(role_parse("Admin", &r), -1);
		assert_int_equal(role_parse("", &r), -1);
	}
}

/* ---- the store's own odds and ends ---- */

void test_open_and_ping(void **state)
{
	struct db *d = *state;
	struct store *s;
	struct tq_error err;
	int64_t v;

	assert_int_equal(store_ping(d->c, &err), 0);
	assert_string_equal(store_backend(d->s)->name, backend);
	assert_string_equal(store_url(d->s), d->url);
	assert_ptr_equal(store_conn_backend(d->c), store_backend(d->s));
	tq_error_clear(&err);
	assert_int_equal(store_open("mysql://x/y", &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.status, TQ_INVALID);
	store_free(NULL);
	store_disconnect(NULL);
	assert_int_equal(parse_i64("42", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_i64("-9223372036854775808", &v), 0);
	assert_int_equal(v, INT64_MIN);
	assert_int_equal(parse_i64("9223372036854775808", &v), -1);
	assert_int_equal(parse_i64("007", &v), -1);
	assert_int_equal(parse_i64("", &v), -1);
	assert_int_equal(parse_i64("1 ", &v), -1);
	assert_int_equal(parse_i64("-0", &v), -1);
	assert_int_equal(parse_i64("0", &v), 0);
}
