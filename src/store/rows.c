/*
 * Rows: integers as text parameters and back, and decoding the order rows
 * that several store files read (see store-internal.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"
#include "util/num.h"

int64_t store_i64(const char *s)
{
	int64_t v = 0;

	if (s != NULL && parse_i64(s, &v) != 0)
		v = 0;
	return v;
}

enum event_kind store_event_kind(const char *s)
{
	return s != NULL && strcmp(s, "recall") == 0 ? EV_RECALL : EV_TOKEN;
}

const char *store_num(struct numbuf *b, int64_t v)
{
	snprintf(b->s, sizeof(b->s), "%" PRId64, v);
	return b->s;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void store_copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static int parse_order(const char *const *v, struct order *o)
{
	memset(o, 0, sizeof(*o));
	o->id = store_i64(v[0]);
	store_copy_str(o->queue, sizeof(o->queue), v[1]);
	store_copy_str(o->business_date, sizeof(o->business_date), v[2]);
	o->sequence = store_i64(v[3]);
	if (v[4] == NULL || status_parse(v[4], &o->status) != 0)
		return -1;
	o->items_json = dup_or_null(v[5]);
	o->total = store_i64(v[6]);
	o->note = dup_or_null(v[7]);
	o->created_at = store_i64(v[8]);
	o->updated_at = store_i64(v[9]);
	o->ready_at = store_i64(v[10]);
	o->venue_id = (int)store_i64(v[11]);
	return o->items_json == NULL ? -1 : 0;
}

int store_order_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct order_rows *r = ctx;

	(void)query;
	if (ncols < 12) {
		r->bad = 1;
		return 1;
	}
	if (array_grow((void **)&r->v, sizeof(*r->v), r->n + 1, &r->cap) != 0) {
		r->bad = 1;
		return 1;
	}
	if (parse_order(vals, &r->v[r->n]) != 0) {
		order_release(&r->v[r->n]);
		r->bad = 1;
		return 1;
	}
	r->n++;
	return 0;
}

void store_order_rows_free(struct order_rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		order_release(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int store_one_order(struct store_conn *c, const char *sql, int n, const char *const *p,
                    struct order *out, struct tq_error *err)
{
	struct order_rows r = {0};

	if (sql_exec(c, sql, n, p, store_order_row, &r, err) != 0) {
		store_order_rows_free(&r);
		return -1;
	}
	if (r.bad) {
		store_order_rows_free(&r);
		return tq_fail(err, TQ_INTERNAL, "database_error", "", "an order row is damaged");
	}
	if (r.n == 0) {
		free(r.v);
		return tq_fail(err, TQ_NOT_FOUND, "not_found", "", "no such order");
	}
	*out = r.v[0];
	for (size_t i = 1; i < r.n; i++)
		order_release(&r.v[i]);
	free(r.v);
	return 0;
}

int store_revoke(struct store_conn *c, const char *sql, int64_t id, int64_t now, const char *what,
                 struct tq_error *err)
{
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], id), store_num(&nb[1], now)};
	int64_t found = 0;

	if (sql_exec(c, sql, 2, p, store_i64_row, &found, err) != 0)
		return -1;
	if (found == 0)
		return tq_fail(err, TQ_NOT_FOUND, "not_found", "",
		               "there is no %s with id %" PRId64, what, id);
	return 0;
}

int store_i64_row(void *ctx, int query, int ncols, const char *const *vals)
{
	(void)query;
	if (ncols > 0 && vals[0] != NULL)
		*(int64_t *)ctx = store_i64(vals[0]);
	return 0;
}
