/*
 * Orders: reading one, lists by filter, a token's order, the count ahead,
 * the queue's pace, and recording a status change with its event.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

int store_get_order(struct store_conn *c, int venue, int64_t id, struct order *out,
                    struct tq_error *err)
{
	static const char sql[] =
	    "SELECT " ORDER_COLS " FROM orders WHERE venue_id = $1 AND id = $2";
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], venue), store_num(&nb[1], id)};

	return store_one_order(c, sql, 2, p, out, err);
}

static int record_event(struct store_conn *c, int venue, int64_t order_id, const char *kind,
                        const char *status, const char *previous, int64_t now, struct tq_error *err)
{
	static const char sql[] =
	    "INSERT INTO events (venue_id, id, order_id, kind, status, previous_status, "
	    "at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
	struct numbuf nb[4];
	int64_t count = 0;
	const char *p[7];

	if (store_take_event_ids(c, venue, 1, &count, err) != 0)
		return -1;
	p[0] = store_num(&nb[0], venue);
	p[1] = store_num(&nb[1], store_event_id(venue, count));
	p[2] = store_num(&nb[2], order_id);
	p[3] = kind;
	p[4] = status;
	p[5] = previous;
	p[6] = store_num(&nb[3], now);
	if (sql_exec(c, sql, 7, p, NULL, NULL, err) != 0)
		return -1;
	return sql_exec(c, store_outbox_sql, 3, (const char *const[]){p[1], p[1], p[0]}, NULL, NULL,
	                err);
}

int store_record_change(struct store_conn *c, int venue, int64_t id, enum order_status from,
                        enum order_status to, bool recall, int64_t now, struct order *out,
                        struct tq_error *err)
{
	static const char move_sql[] =
	    "UPDATE orders SET status = $3, updated_at = $4, ready_at = CASE WHEN $3 = 'READY' AND "
	    "ready_at IS NULL THEN $4 ELSE ready_at END WHERE venue_id = $1 AND id = $2 AND "
	    "status = $5 RETURNING " ORDER_COLS;
	static const char recall_sql[] =
	    "UPDATE orders SET updated_at = $3 WHERE venue_id = $1 AND "
	    "id = $2 AND status = $4 RETURNING " ORDER_COLS;
	struct numbuf nb[3];
	const char *p[5];
	int rc;

	if (sql_begin(c, true, err) != 0)
		return -1;
	p[0] = store_num(&nb[0], venue);
	p[1] = store_num(&nb[1], id);
	if (recall) {
		p[2] = store_num(&nb[2], now);
		p[3] = status_name(from);
		rc = store_one_order(c, recall_sql, 4, p, out, err);
	} else {
		p[2] = status_name(to);
		p[3] = store_num(&nb[2], now);
		p[4] = status_name(from);
		rc = store_one_order(c, move_sql, 5, p, out, err);
	}
	if (rc != 0) {
		sql_rollback(c);
		return err->status == TQ_NOT_FOUND ? 1 : -1;
	}
	if (record_event(c, venue, id, recall ? "recall" : "token", status_name(out->status),
	                 status_name(from), now, err) != 0 ||
	    sql_notify(c, venue, err) != 0) {
		order_release(out);
		sql_rollback(c);
		return -1;
	}
	if (sql_commit(c, err) != 0) {
		order_release(out);
		return -1;
	}
	return 0;
}

int store_list_orders(struct store_conn *c, const struct order_filter *f, struct order **out,
                      size_t *n, struct tq_error *err)
{
	static const char sql[] = "SELECT " ORDER_COLS " FROM orders WHERE business_date = $1 AND "
	                          "($2 = '' OR queue = $2) AND status IN ($3, $4, $5, $6, $7) AND "
	                          "id > $8 AND venue_id = $10 ORDER BY id LIMIT $9";
	struct order_rows r = {0};
	struct numbuf nb[3];
	const char *p[10];
	int i, k = 0;

	*out = NULL;
	*n = 0;
	p[0] = f->business_date;
	p[1] = f->queue ? f->queue : "";
	for (i = 0; i < ST_COUNT; i++)
		if (f->status_set == 0 || (f->status_set & (1u << i)))
			p[2 + k++] = status_name((enum order_status)i);
	while (k < 5)
		p[2 + k++] = "";
	p[7] = store_num(&nb[0], f->after_id);
	p[8] = store_num(&nb[1], f->limit);
	p[9] = store_num(&nb[2], f->venue_id);
	if (sql_exec(c, sql, 10, p, store_order_row, &r, err) != 0 || r.bad) {
		if (r.bad)
			tq_fail(err, TQ_INTERNAL, "database_error", "", "an order row is damaged");
		store_order_rows_free(&r);
		return -1;
	}
	*out = r.v;
	*n = r.n;
	return 0;
}

int store_find_token(struct store_conn *c, int venue, const char *queue, const char *date,
                     int64_t seq, struct order *out, struct tq_error *err)
{
	static const char sql[] = "SELECT " ORDER_COLS " FROM orders WHERE venue_id = $4 AND "
	                          "queue = $1 AND business_date = $2 AND sequence = $3";
	struct numbuf nb[2];
	const char *p[4] = {queue, date, store_num(&nb[0], seq), store_num(&nb[1], venue)};

	if (store_one_order(c, sql, 4, p, out, err) != 0) {
		if (err->status == TQ_NOT_FOUND)
			tq_fail(err, TQ_NOT_FOUND, "not_found", "", "no such token on %s", date);
		return -1;
	}
	return 0;
}

int store_count_ahead(struct store_conn *c, const struct order *o, int64_t *ahead,
                      struct tq_error *err)
{
	static const char sql[] =
	    "SELECT count(*) FROM orders WHERE venue_id = $4 AND queue = $1 AND business_date = "
	    "$2 AND sequence < $3 AND status IN ('PENDING', 'PREPARING')";
	struct numbuf nb[2];
	const char *p[4] = {o->queue, o->business_date, store_num(&nb[0], o->sequence),
	                    store_num(&nb[1], o->venue_id)};

	*ahead = 0;
	return sql_exec(c, sql, 4, p, store_i64_row, ahead, err);
}

struct prep_rows {
	int64_t prep[20], ready[20];
	int n;
};

static int prep_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct prep_rows *r = ctx;

	(void)query;
	if (ncols > 1 && r->n < 20) {
		r->prep[r->n] = store_i64(vals[0]);
		r->ready[r->n] = store_i64(vals[1]);
		r->n++;
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int store_recent_pace(struct store_conn *c, int venue, const char *queue, const char *date,
                      struct pace *out, struct tq_error *err)
{
	static const char sql[] =
	    "SELECT ready_at - created_at, ready_at FROM orders WHERE venue_id = $3 AND queue = "
	    "$1 AND business_date = $2 AND ready_at IS NOT NULL ORDER BY "
	    "ready_at DESC LIMIT 20";
	struct prep_rows r;
	struct numbuf nb;
	const char *p[3] = {queue, date, store_num(&nb, venue)};
	int i;

	memset(&r, 0, sizeof(r));
	out->prep_seconds = out->gap_seconds = -1;
	if (sql_exec(c, sql, 3, p, prep_row, &r, err) != 0)
		return -1;
	if (r.n > 0) {
		qsort(r.prep, (size_t)r.n, sizeof(r.prep[0]), cmp_i64);
		out->prep_seconds = (r.prep[r.n / 2] + 500) / 1000;
	}
	if (r.n > 1) {
		/* newest first: the gaps between consecutive READYs */
		for (i = 0; i + 1 < r.n; i++)
			r.ready[i] = r.ready[i] - r.ready[i + 1];
		qsort(r.ready, (size_t)(r.n - 1), sizeof(r.ready[0]), cmp_i64);
		out->gap_seconds = (r.ready[(r.n - 1) / 2] + 500) / 1000;
	}
	return 0;
}
