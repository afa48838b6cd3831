/*
 * The store contract suite: the read side.
 */
#include "contract.h"

/* ---- the read side ---- */

void test_reads(void **state)
{
	struct db *d = *state;
	struct order_input a, b;
	struct order *list, o;
	struct order_filter f;
	struct tq_error err;
	size_t n;
	int64_t ids[6], created[6], ahead;
	struct pace pace;
	int i, rc;

	make_input("A", NULL, &a);
	make_input("B", NULL, &b);
	for (i = 0; i < 6; i++) {
		struct issue_req r = issue1(d->c, i % 2 ? &b : &a, "2030-11-01", NULL, NULL, &rc);
		assert_int_equal(rc, 0);
		ids[i] = r.order_id;
		created[i] = r.now;
	}
	issue_ok(d->c, &a, "2030-11-02");
	/* A: ids[0], ids[2], ids[4] are numbers 1, 2, 3; A-001 was ready after 90 s */
	assert_int_equal(
	    orders_change(d->c, 1, ids[0], ST_READY, false, created[0] + 90000, &o, &err), 0);
	order_release(&o);

	memset(&f, 0, sizeof(f));
	f.venue_id = STORE_MAIN_VENUE;
	snprintf(f.business_date, sizeof(f.business_date), "2030-11-01");
	f.limit = 100;
	assert_int_equal(store_list_orders(d->c, &f, &list, &n, &err), 0);
	assert_int_equal(n, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(list[i].id, ids[i]);
		order_release(&list[i]);
	}
	free(list);
	f.queue = "A";
	f.status_set = 1u << ST_PENDING;
	assert_int_equal(store_list_orders(d->c, &f, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, ids[2]);
	assert_int_equal(list[1].id, ids[4]);
	for (i = 0; i < 2; i++)
		order_release(&list[i]);
	free(list);
	f.queue = NULL;
	f.status_set = 0;
	f.after_id = ids[1];
	f.limit = 2;
	assert_int_equal(store_list_orders(d->c, &f, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, ids[2]);
	assert_int_equal(list[1].id, ids[3]);
	for (i = 0; i < 2; i++)
		order_release(&list[i]);
	free(list);

	assert_int_equal(store_find_token(d->c, 1, "A", "2030-11-01", 3, &o, &err), 0);
	assert_int_equal(o.id, ids[4]);
	/* ahead: A-002 is PENDING, A-001 is READY */
	assert_int_equal(store_count_ahead(d->c, &o, &ahead, &err), 0);
	assert_int_equal(ahead, 1);
	order_release(&o);
	assert_int_equal(store_find_token(d->c, 1, "A", "2030-11-01", 4, &o, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	assert_int_equal(store_find_token(d->c, 1, "C", "2030-11-01", 1, &o, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	assert_int_equal(store_find_token(d->c, 1, "A", "2030-11-02", 1, &o, &err), 0);
	order_release(&o);

	assert_int_equal(store_recent_pace(d->c, 1, "B", "2030-11-01", &pace, &err), 0);
	assert_int_equal(pace.prep_seconds, -1);
	assert_int_equal(pace.gap_seconds, -1);
	assert_int_equal(store_recent_pace(d->c, 1, "A", "2030-11-01", &pace, &err), 0);
	assert_int_equal(pace.prep_seconds, 90);
	assert_int_equal(pace.gap_seconds, -1); /* one ready order: no gap yet */
	/* A-002 ready 45 s after A-001: the pace's gap */
	assert_int_equal(
	    orders_change(d->c, 1, ids[2], ST_READY, false, created[0] + 135000, &o, &err), 0);
	order_release(&o);
	assert_int_equal(store_recent_pace(d->c, 1, "A", "2030-11-01", &pace, &err), 0);
	assert_int_equal(pace.gap_seconds, 45);
	assert_int_equal(pace.prep_seconds, 135); /* the median of 90 and 135, upper */
	input_release(&a);
	input_release(&b);
}

/*
 * A connection that has run many different statements: past the backend's cache of
 * prepared statements, every operation must still run the statements it asked for.
 */
void test_many_statements(void **state)
{
	static char fill[64][40];
	struct db *d = *state;
	struct order_input in;
	struct issue_req r[3], *rp[3] = {&r[0], &r[1], &r[2]};
	struct tq_error err;
	struct order o;
	struct event *ev;
	size_t n;
	int i;

	for (i = 0; i < 64; i++) {
		snprintf(fill[i], sizeof(fill[i]), "SELECT %d AS filler", i);
		assert_int_equal(q1(d->c, fill[i], 0, NULL), i);
	}
	make_input("A", "after many statements", &in);
	assert_int_equal(issue_ok(d->c, &in, "2030-12-01"), 1);
	req_init(&r[0], &in, "2030-12-01", NULL, NULL);
	req_init(&r[1], &in, "2030-12-02", "many-statements", idem_body);
	req_init(&r[2], &in, "2030-12-01", NULL, NULL);
	tq_error_clear(&err);
	if (store_issue_batch(d->c, rp, 3, &err) != 0)
		fail_msg("a batch on a connection past its statement cache failed: %s", err.detail);
	for (i = 0; i < 3; i++)
		assert_int_equal(r[i].outcome, ISSUE_CREATED);
	assert_int_equal(r[0].sequence, 2);
	assert_int_equal(r[1].sequence, 1);
	assert_int_equal(r[2].sequence, 3);
	expect_gapless(d->c, "A", "2030-12-01", 3);
	expect_gapless(d->c, "A", "2030-12-02", 1);
	assert_int_equal(orders_change(d->c, 1, r[1].order_id, ST_READY, false, 1, &o, &err), 0);
	order_release(&o);
	assert_int_equal(store_order_history(d->c, 1, r[1].order_id, &ev, &n, &err), 0);
	assert_int_equal(n, 2);
	free(ev);
	assert_int_equal(count_events(d->c), 5);
	input_release(&in);
}
