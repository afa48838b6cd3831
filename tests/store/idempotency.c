/*
 * The store contract suite: idempotency keys.
 */
#include "contract.h"

/* ---- 4. idempotency ---- */

const char idem_body[] = "{\"items\":[{\"name\":\"Masala tea\",\"quantity\":2}]}";

void test_idempotency_direct(void **state)
{
	static const char key_sql[] =
	    "SELECT count(*), min(order_id) FROM idempotency_keys WHERE key = $1";
	struct db *d = *state;
	struct order_input in;
	struct run_result r;
	struct issue_req again;
	int64_t ids[16];
	enum tq_status st[16];
	const char *codes[16];
	int i, rc;
	const char *p[1] = {"key-16-at-once"};
	struct ints k;

	make_input("D", NULL, &in);
	/*
	 * All replays, no idempotency_key_in_use: a claim that meets another's waits for it
	 * (PostgreSQL's ON CONFLICT waits for the inserting transaction; SQLite's BEGIN
	 * IMMEDIATE lets one writer in at a time), and answer_from_key reads the record only
	 * after its own commit, when the winner's record already names its order.
	 */
	r = run_issuers(d, NULL, 16, 1, &in, "2030-08-01", "key-16-at-once", idem_body, NULL, ids,
	                NULL, NULL);
	if (r.failed)
		fail_msg("%d of 16 failed: %s", r.failed, r.error);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.replayed, 15);
	for (i = 0; i < 16; i++)
		assert_int_equal(ids[i], r.first_id);
	assert_int_equal(count_orders(d->c), 1);
	expect_gapless(d->c, "D", "2030-08-01", 1);
	k = q(d->c, key_sql, 1, p);
	assert_int_equal(k.v[0], 1);
	assert_int_equal(k.v[1], r.first_id);

	/* a later retry with the same body: the same order again */
	again = issue1(d->c, &in, "2030-08-01", "key-16-at-once", idem_body, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(again.outcome, ISSUE_REPLAYED);
	assert_int_equal(again.order_id, r.first_id);
	/* the same key with another body */
	again = issue1(d->c, &in, "2030-08-01", "key-16-at-once", "{\"other\":1}", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(again.outcome, ISSUE_FAILED);
	assert_int_equal(again.err.status, TQ_INVALID);
	assert_string_equal(again.err.code, "idempotency_key_reused");
	assert_string_equal(again.err.field, "Idempotency-Key");
	/* ... also when 16 send it at once */
	r = run_issuers(d, NULL, 16, 1, &in, "2030-08-01", "key-16-at-once", "{\"x\":2}", NULL,
	                NULL, st, codes);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.replayed, 0);
	assert_int_equal(r.failed, 16);
	for (i = 0; i < 16; i++) {
		assert_int_equal(st[i], TQ_INVALID);
		assert_string_equal(codes[i], "idempotency_key_reused");
	}
	assert_int_equal(count_orders(d->c), 1);
	expect_gapless(d->c, "D", "2030-08-01", 1);
	input_release(&in);
}

/* The same key twice in one batch makes one order. */
void test_idempotency_same_batch(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct issue_req r[3], *rp[3] = {&r[0], &r[1], &r[2]};
	struct tq_error err;

	make_input("D", NULL, &in);
	req_init(&r[0], &in, "2030-08-02", "twice", idem_body);
	req_init(&r[1], &in, "2030-08-02", NULL, NULL);
	req_init(&r[2], &in, "2030-08-02", "twice", idem_body);
	assert_int_equal(store_issue_batch(d->c, rp, 3, &err), 0);
	assert_int_equal(r[0].outcome, ISSUE_CREATED);
	assert_int_equal(r[1].outcome, ISSUE_CREATED);
	assert_int_equal(r[2].outcome, ISSUE_REPLAYED);
	assert_int_equal(r[2].order_id, r[0].order_id);
	expect_gapless(d->c, "D", "2030-08-02", 2);
	input_release(&in);
}

void test_idempotency_issuer(void **state)
{
	static const char key_sql[] =
	    "SELECT count(*), min(order_id) FROM idempotency_keys WHERE key = $1";
	struct db *d = *state;
	struct order_input in;
	struct issuer *is;
	struct tq_error err;
	struct run_result r;
	int64_t ids[16];
	enum tq_status st[16];
	const char *codes[16];
	const char *p[1] = {"issuer-key"};
	int64_t order_id = 0;
	int round, i, in_use;

	make_input("E", NULL, &in);
	assert_int_equal(issuer_start(d->s, &is, &err), 0);
	for (round = 0; round < 3; round++) {
		r = run_issuers(d, is, 16, 1, &in, "2030-08-03", "issuer-key", idem_body, NULL, ids,
		                st, codes);
		/* one created (in the first round), the rest replays or 409 while in flight */
		assert_int_equal(r.created, round == 0 ? 1 : 0);
		if (round == 0)
			order_id = r.first_id;
		in_use = 0;
		for (i = 0; i < 16; i++) {
			if (st[i] == TQ_OK) {
				assert_int_equal(ids[i], order_id);
				continue;
			}
			if (st[i] != TQ_CONFLICT || strcmp(codes[i], "idempotency_key_in_use") != 0)
				fail_msg("request %d: status %d %s", i, st[i],
				         codes[i] ? codes[i] : "(null)");
			in_use++;
		}
		assert_int_equal(r.created + r.replayed + in_use, 16);
		printf("idempotency through the issuer, round %d: %d created, %d replayed, %d "
		       "in use\n",
		       round, r.created, r.replayed, in_use);
	}
	issuer_stop(is);
	assert_int_equal(count_orders(d->c), 1);
	expect_gapless(d->c, "E", "2030-08-03", 1);
	assert_int_equal(q(d->c, key_sql, 1, p).v[0], 1);
	input_release(&in);
}
