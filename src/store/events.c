/*
 * Events: taking their ids, the webhook outbox written beside them, and
 * reading them back (after an id, one by id, an order's history).
 *
 * Why event ids follow commit order: every transaction that records events
 * of a venue takes their ids from that venue's event_counters row (UPDATE
 * ... RETURNING), and holds that row's lock until it commits. On PostgreSQL
 * the lock is released only once the transaction is committed and visible,
 * so a later writer cannot take a larger id of the venue until the earlier
 * one is visible; on SQLite one writer at a time holds the database. So a
 * reader that has seen id N of a venue has already been able to see every
 * id of that venue below N. Venues have a row each, so no lock is shared
 * between two venues; an id is the venue's count times 2^16 plus the venue
 * id (store_event_id), unique across the install.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

int64_t store_event_id(int venue, int64_t count)
{
	return count * STORE_VENUE_IDS + venue;
}

const char store_event_ids_sql[] =
    "UPDATE event_counters SET last = last + $2, last_id = (last + $2) * 65536 + venue_id "
    "WHERE venue_id = $1 RETURNING last";

int store_take_event_ids(struct store_conn *c, int venue, int64_t n, int64_t *first,
                         struct tq_error *err)
{
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], venue), store_num(&nb[1], n)};
	int64_t last = -1;

	if (sql_exec(c, store_event_ids_sql, 2, p, store_i64_row, &last, err) != 0)
		return -1;
	if (last < n)
		return tq_fail(err, TQ_INTERNAL, "database_error", "",
		               "the event counter is missing");
	*first = last - n + 1;
	return 0;
}

/*
 * The webhook outbox: a delivery for every live endpoint of venue $3 that
 * wants its events of ids $1..$2, written by the statement after the events'
 * own, in the same transaction, so no event can be committed without its
 * deliveries (and a rolled-back one leaves none). With no endpoints it
 * inserts nothing.
 */
const char store_outbox_sql[] =
    "INSERT INTO webhook_deliveries (venue_id, endpoint_id, event_id, next_at) "
    "SELECT e.venue_id, w.id, e.id, e.at FROM events e JOIN webhook_endpoints w ON "
    "w.revoked_at IS NULL AND w.venue = (SELECT slug FROM venues WHERE id = $3) "
    "AND (w.events & CASE e.kind WHEN 'recall' THEN 2 WHEN 'transfer' THEN 4 ELSE 1 END) <> 0 "
    "WHERE e.venue_id = $3 AND e.id BETWEEN $1 AND $2";

struct event_rows {
	struct event *v;
	size_t n, cap;
	int bad;
};

static int event_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct event_rows *r = ctx;
	struct event *e;
	enum order_status prev;

	(void)query;
	if (ncols < 10)
		goto bad;
	if (array_grow((void **)&r->v, sizeof(*r->v), r->n + 1, &r->cap) != 0)
		goto bad;
	e = &r->v[r->n];
	memset(e, 0, sizeof(*e));
	e->id = store_i64(vals[0]);
	e->kind = store_event_kind(vals[1]);
	e->order_id = store_i64(vals[2]);
	store_copy_str(e->queue, sizeof(e->queue), vals[3]);
	store_copy_str(e->business_date, sizeof(e->business_date), vals[4]);
	e->sequence = store_i64(vals[5]);
	if (vals[6] == NULL || status_parse(vals[6], &e->status) != 0)
		goto bad;
	e->previous_status = -1;
	if (vals[7] != NULL) {
		if (status_parse(vals[7], &prev) != 0)
			goto bad;
		e->previous_status = (int)prev;
	}
	e->at = store_i64(vals[8]);
	e->venue_id = (int)store_i64(vals[9]);
	r->n++;
	return 0;
bad:
	r->bad = 1;
	return 1;
}

static int events_query(struct store_conn *c, const char *sql, int np, const char *const *p,
                        struct event **out, size_t *n, struct tq_error *err)
{
	struct event_rows r = {0};

	*out = NULL;
	*n = 0;
	if (sql_exec(c, sql, np, p, event_row, &r, err) != 0 || r.bad) {
		if (r.bad)
			tq_fail(err, TQ_INTERNAL, "database_error", "", "an event row is damaged");
		free(r.v);
		return -1;
	}
	*out = r.v;
	*n = r.n;
	return 0;
}

int store_last_event_id(struct store_conn *c, int venue, int64_t *id, struct tq_error *err)
{
	static const char sql[] = "SELECT last_id FROM event_counters WHERE venue_id = $1";
	struct numbuf nb;
	const char *p[1] = {store_num(&nb, venue)};

	*id = 0;
	return sql_exec(c, sql, 1, p, store_i64_row, id, err);
}

int store_events_after(struct store_conn *c, int venue, int64_t after_id, int limit,
                       struct event **out, size_t *n, struct tq_error *err)
{
	static const char sql[] =
	    "SELECT " EVENT_COLS " FROM events e JOIN orders o ON o.venue_id = e.venue_id AND "
	    "o.id = e.order_id WHERE e.venue_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3";
	struct numbuf nb[3];
	const char *p[3] = {store_num(&nb[0], venue), store_num(&nb[1], after_id),
	                    store_num(&nb[2], limit)};

	return events_query(c, sql, 3, p, out, n, err);
}

int store_event_get(struct store_conn *c, int venue, int64_t id, struct event *out,
                    struct tq_error *err)
{
	static const char sql[] =
	    "SELECT " EVENT_COLS " FROM events e JOIN orders o ON o.venue_id = e.venue_id AND "
	    "o.id = e.order_id WHERE e.venue_id = $1 AND e.id = $2";
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], venue), store_num(&nb[1], id)};
	struct event *v;
	size_t n;

	if (events_query(c, sql, 2, p, &v, &n, err) != 0)
		return -1;
	if (n == 1)
		*out = v[0];
	free(v);
	if (n != 1)
		return tq_fail(err, TQ_NOT_FOUND, "not_found", "", "no event %" PRId64, id);
	return 0;
}

int store_order_history(struct store_conn *c, int venue, int64_t order_id, struct event **out,
                        size_t *n, struct tq_error *err)
{
	static const char sql[] =
	    "SELECT " EVENT_COLS " FROM events e JOIN orders o ON o.venue_id = e.venue_id AND "
	    "o.id = e.order_id WHERE e.venue_id = $1 AND e.order_id = $2 ORDER BY e.id";
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], venue), store_num(&nb[1], order_id)};

	return events_query(c, sql, 2, p, out, n, err);
}
