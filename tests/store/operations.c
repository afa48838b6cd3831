/*
 * The store contract suite: the operations side: the day report and copying a database.
 */
#include "contract.h"

/* ---- the operations side: the day report and copying a database ---- */

/* Issues one order created at the instant at; returns its id. */
static int64_t issue_at(struct store_conn *c, const struct order_input *in, const char *date,
                        int64_t at)
{
	struct issue_req r, *rp = &r;
	struct tq_error err;

	req_init(&r, in, date, NULL, NULL);
	r.now = at;
	if (store_issue_batch(c, &rp, 1, &err) != 0 || r.outcome != ISSUE_CREATED)
		fail_msg("issue failed: %s", err.detail);
	return r.order_id;
}

static void move(struct store_conn *c, int64_t id, enum order_status to, int64_t at)
{
	struct order o;
	struct tq_error err;

	if (orders_change(c, 1, id, to, false, at, &o, &err) != 0)
		fail_msg("order %" PRId64 " to %s: %s", id, status_name(to), err.detail);
	order_release(&o);
}

static int64_t utc_ms(int h, int m)
{
	return (int64_t)1922659200000LL + ((int64_t)h * 3600 + m * 60) * 1000; /* 2030-12-05 */
}

void test_day_stats(void **state)
{
	struct db *d = *state;
	struct order_input a, b;
	struct day_stats st;
	struct tq_error err;
	int64_t o1, o2, o3, o5;
	int h;

	make_input("A", NULL, &a);
	make_input("B", NULL, &b);
	o1 = issue_at(d->c, &a, "2030-12-05", utc_ms(10, 15));
	o2 = issue_at(d->c, &a, "2030-12-05", utc_ms(10, 45));
	o3 = issue_at(d->c, &a, "2030-12-05", utc_ms(11, 5));
	issue_at(d->c, &a, "2030-12-05", utc_ms(13, 0));
	o5 = issue_at(d->c, &a, "2030-12-05", utc_ms(11, 30));
	issue_at(d->c, &b, "2030-12-05", utc_ms(12, 0));
	move(d->c, o1, ST_READY, utc_ms(10, 16)); /* 60 s */
	move(d->c, o2, ST_READY, utc_ms(10, 47)); /* 120 s */
	move(d->c, o2, ST_COMPLETED, utc_ms(11, 0));
	move(d->c, o3, ST_READY, utc_ms(11, 8)); /* 180 s, then cancelled */
	move(d->c, o3, ST_CANCELLED, utc_ms(11, 9));
	move(d->c, o5, ST_COMPLETED, utc_ms(11, 40)); /* never READY */

	assert_int_equal(reports_day_stats(d->c, 1, "2030-12-05", "A", NULL, &st, &err), 0);
	assert_int_equal(st.orders, 5);
	assert_int_equal(st.by_status[ST_PENDING], 1);
	assert_int_equal(st.by_status[ST_PREPARING], 0);
	assert_int_equal(st.by_status[ST_READY], 1);
	assert_int_equal(st.by_status[ST_COMPLETED], 2);
	assert_int_equal(st.by_status[ST_CANCELLED], 1);
	assert_int_equal(st.revenue, 4 * a.total);
	assert_int_equal(st.prep_count, 3);
	assert_int_equal(st.prep_p50, 120);
	assert_int_equal(st.prep_p90, 180);
	assert_int_equal(st.prep_max, 180);
	for (h = 0; h < 24; h++)
		assert_int_equal(st.per_hour[h], h == 10 || h == 11 ? 2 : h == 13 ? 1 : 0);

	assert_int_equal(reports_day_stats(d->c, 1, "2030-12-05", NULL, NULL, &st, &err), 0);
	assert_int_equal(st.orders, 6);
	assert_int_equal(st.revenue, 4 * a.total + b.total);
	assert_int_equal(st.per_hour[12], 1);

	assert_int_equal(reports_day_stats(d->c, 1, "2030-12-06", NULL, NULL, &st, &err), 0);
	assert_int_equal(st.orders, 0);
	assert_int_equal(st.revenue, 0);
	assert_int_equal(st.prep_count, 0);
	assert_int_equal(st.prep_p50, -1);
	assert_int_equal(st.prep_max, -1);
	input_release(&a);
	input_release(&b);
}

/* A copy into another database of the same kind keeps ids, numbers and counters. */
void test_copy_tables(void **state)
{
	static const char max_id_sql[] = "SELECT max(id) FROM orders";
	struct db *d = *state, *t;
	struct order_input a, b;
	struct tq_error err;
	struct issue_req r;
	struct api_key k;
	char hash[65], khash[65];
	int64_t id, last_event, src_max, order_id, key_id, n_src, n_dst;
	int i, rc, applied;

	make_input("A", "copy me", &a);
	make_input("B", NULL, &b);
	for (i = 0; i < 5; i++)
		issue_ok(d->c, i % 2 ? &b : &a, i < 3 ? "2030-12-07" : "2030-12-08");
	r = issue1(d->c, &a, "2030-12-07", "copy-key", idem_body, &rc);
	assert_int_equal(rc, 0);
	order_id = r.order_id;
	move(d->c, order_id, ST_READY, now_ms());
	sha256_hex("copy-secret", 11, khash);
	assert_int_equal(
	    store_key_create(d->c, ROLE_STAFF, 0, "copied", khash, 1000, &key_id, &err), 0);
	src_max = q1(d->c, max_id_sql, 0, NULL);
	assert_int_equal(store_last_event_id(d->c, 1, &last_event, &err), 0);

	assert_int_equal(db_create(&t), 0);
	assert_int_equal(store_open(t->url, &t->s, &err), 0);
	assert_int_equal(store_connect(t->s, &t->c, &err), 0);
	assert_int_equal(migrate_apply(t->c, &applied, &err), 0);
	assert_int_equal(store_conn_backend(t->c)->begin(store_conn_db(t->c), true, &err), 0);
	for (i = 0; reports_tables[i].name != NULL; i++) {
		const struct reports_table *tb = &reports_tables[i];
		struct reports_rows rows = {tb->ncols, 0, 0, NULL};
		const char *after[3] = {NULL, NULL, NULL};
		int kk;

		/* pages of 2 rows, as copy reads them */
		assert_int_equal(reports_page(d->c, tb, NULL, 2, &rows, &err), 0);
		while (rows.n > 0) {
			if (reports_write(t->c, tb, &rows, &err) != 0)
				fail_msg("writing %s: %s", tb->name, err.detail);
			if (rows.n < 2)
				break;
			for (kk = 0; kk < tb->nkey; kk++)
				after[kk] =
				    rows.vals[(rows.n - 1) * (size_t)tb->ncols + (size_t)kk];
			assert_int_equal(reports_page(d->c, tb, after, 2, &rows, &err), 0);
		}
		reports_rows_free(&rows);
	}
	assert_int_equal(reports_fix_sequences(t->c, &err), 0);
	assert_int_equal(store_conn_backend(t->c)->commit(store_conn_db(t->c), &err), 0);
	for (i = 0; reports_tables[i].name != NULL; i++) {
		assert_int_equal(reports_count(d->c, &reports_tables[i], &n_src, &err), 0);
		assert_int_equal(reports_count(t->c, &reports_tables[i], &n_dst, &err), 0);
		if (n_src != n_dst)
			fail_msg("%s: %" PRId64 " rows copied of %" PRId64, reports_tables[i].name,
			         n_dst, n_src);
	}
	expect_gapless(t->c, "A", "2030-12-07", 3);
	expect_gapless(t->c, "B", "2030-12-07", 1);
	expect_gapless(t->c, "A", "2030-12-08", 1);
	expect_gapless(t->c, "B", "2030-12-08", 1);
	/* the copy goes on where the source was: numbers, ids, events, keys */
	r = issue1(t->c, &a, "2030-12-07", NULL, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.sequence, 4);
	assert_true(r.order_id > src_max);
	assert_int_equal(store_last_event_id(t->c, 1, &id, &err), 0);
	assert_int_equal(id, last_event + STORE_VENUE_IDS);
	assert_int_equal(store_idem_find(t->c, 1, "copy-key", hash, &id, &err), 1);
	assert_int_equal(id, order_id);
	r = issue1(t->c, &a, "2030-12-07", "copy-key", idem_body, &rc);
	assert_int_equal(r.outcome, ISSUE_REPLAYED);
	assert_int_equal(r.order_id, order_id);
	assert_int_equal(store_key_find(t->c, khash, &k, &err), 1);
	assert_int_equal(k.id, key_id);
	assert_int_equal(store_key_create(t->c, ROLE_POS, 0, NULL, "other", 2000, &id, &err), 0);
	assert_true(id > key_id);
	db_destroy(t);
	input_release(&a);
	input_release(&b);
}
