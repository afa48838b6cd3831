/*
 * Webhook endpoints and the outbox, over the backends' SQL primitives (see
 * webhooks.h). The outbox rows themselves are written beside the events
 * (store_outbox_sql, events.c), in the event's transaction; this file
 * reads and leases them for the dispatcher
 * and records what became of each attempt.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"
#include "store/webhooks.h"

/* ---- endpoints ---- */

#define ENDPOINT_COLS "id, venue, url, events, allow_private, created_at, revoked_at, failing_since"

struct endpoint_rows {
	struct webhook *v;
	size_t n, cap;
	int oom;
};

static int endpoint_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct endpoint_rows *r = ctx;
	struct webhook *w;

	(void)query;
	if (ncols < 8 || array_grow((void **)&r->v, sizeof(*r->v), r->n + 1, &r->cap) != 0) {
		r->oom = 1;
		return 1;
	}
	w = &r->v[r->n++];
	memset(w, 0, sizeof(*w));
	w->id = store_i64(vals[0]);
	snprintf(w->venue, sizeof(w->venue), "%s", vals[1] ? vals[1] : "main");
	snprintf(w->url, sizeof(w->url), "%s", vals[2] ? vals[2] : "");
	w->events = (unsigned)store_i64(vals[3]);
	w->allow_private = store_i64(vals[4]) != 0;
	w->created_at = store_i64(vals[5]);
	w->revoked_at = store_i64(vals[6]);
	w->failing_since = store_i64(vals[7]);
	return 0;
}

int store_webhook_create(struct store_conn *c, const struct webhook *w, const char *secret,
                         int64_t now, int64_t *id, struct tq_error *err)
{
	static const char sql[] =
	    "INSERT INTO webhook_endpoints (venue, url, secret, events, allow_private, created_at) "
	    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
	struct numbuf nb[2];
	const char *p[6] = {w->venue[0] ? w->venue : "main",
	                    w->url,
	                    secret,
	                    store_num(&nb[0], w->events),
	                    w->allow_private ? "1" : "0",
	                    store_num(&nb[1], now)};

	*id = 0;
	/* With the settings version moved, servers know the venue has endpoints now. */
	if (sql_begin(c, true, err) != 0)
		return -1;
	if (sql_exec(c, sql, 6, p, store_i64_row, id, err) != 0 ||
	    store_settings_changed(c, err) != 0)
		goto fail;
	if (*id <= 0) {
		tq_fail(err, TQ_INTERNAL, "database_error", "", "the webhook was not stored");
		goto fail;
	}
	return sql_commit(c, err);
fail:
	sql_rollback(c);
	return -1;
}

int store_webhook_list(struct store_conn *c, struct webhook **out, size_t *n, struct tq_error *err)
{
	static const char sql[] = "SELECT " ENDPOINT_COLS " FROM webhook_endpoints ORDER BY id";
	struct endpoint_rows r = {0};

	*out = NULL;
	*n = 0;
	if (sql_exec(c, sql, 0, NULL, endpoint_row, &r, err) != 0 || r.oom) {
		free(r.v);
		return r.oom ? tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory") : -1;
	}
	*out = r.v;
	*n = r.n;
	return 0;
}

int store_webhook_get(struct store_conn *c, int64_t id, struct webhook *out, struct tq_error *err)
{
	static const char sql[] = "SELECT " ENDPOINT_COLS " FROM webhook_endpoints WHERE id = $1";
	struct endpoint_rows r = {0};
	struct numbuf nb;
	const char *p[1] = {store_num(&nb, id)};

	if (sql_exec(c, sql, 1, p, endpoint_row, &r, err) != 0 || r.oom) {
		free(r.v);
		return r.oom ? tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory") : -1;
	}
	if (r.n == 1)
		*out = r.v[0];
	free(r.v);
	if (r.n != 1)
		return tq_fail(err, TQ_NOT_FOUND, "not_found", "",
		               "there is no webhook with id %" PRId64, id);
	return 0;
}

int store_webhook_revoke(struct store_conn *c, int64_t id, int64_t now, struct tq_error *err)
{
	static const char sql[] = "UPDATE webhook_endpoints SET revoked_at = COALESCE(revoked_at, "
	                          "$2) WHERE id = $1 RETURNING id";

	if (sql_begin(c, true, err) != 0)
		return -1;
	if (store_revoke(c, sql, id, now, "webhook", err) != 0 ||
	    store_settings_changed(c, err) != 0) {
		sql_rollback(c);
		return -1;
	}
	return sql_commit(c, err);
}

/* ---- deliveries, for people ---- */

struct delivery_rows {
	struct webhook_delivery_row *v;
	size_t n, cap;
	int oom;
};

static int delivery_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct delivery_rows *r = ctx;
	struct webhook_delivery_row *d;

	(void)query;
	if (ncols < 7 || array_grow((void **)&r->v, sizeof(*r->v), r->n + 1, &r->cap) != 0) {
		r->oom = 1;
		return 1;
	}
	d = &r->v[r->n++];
	memset(d, 0, sizeof(*d));
	d->id = store_i64(vals[0]);
	d->event_id = store_i64(vals[1]);
	d->state = (enum webhook_state)store_i64(vals[2]);
	d->attempts = (int)store_i64(vals[3]);
	d->next_at = store_i64(vals[4]);
	d->kind = store_event_kind(vals[5]);
	if (vals[6] == NULL || status_parse(vals[6], &d->status) != 0)
		d->status = ST_PENDING;
	return 0;
}

struct attempt_rows {
	struct webhook_delivery_row *v;
	size_t n;
	size_t at; /* the delivery the last row went to */
	int oom;
};

static int attempt_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct attempt_rows *r = ctx;
	struct webhook_delivery_row *d;
	struct webhook_attempt_row *a;
	int64_t id;

	(void)query;
	if (ncols < 6)
		return 0;
	id = store_i64(vals[0]);
	while (r->at < r->n && r->v[r->at].id < id)
		r->at++;
	if (r->at == r->n || r->v[r->at].id != id)
		return 0;
	d = &r->v[r->at];
	a = realloc(d->attempt, (d->n_attempt + 1) * sizeof(*a));
	if (a == NULL) {
		r->oom = 1;
		return 1;
	}
	d->attempt = a;
	a = &a[d->n_attempt++];
	memset(a, 0, sizeof(*a));
	a->attempt = (int)store_i64(vals[1]);
	a->started_at = store_i64(vals[2]);
	a->duration_ms = store_i64(vals[3]);
	a->status = (int)store_i64(vals[4]);
	snprintf(a->error, sizeof(a->error), "%s", vals[5] ? vals[5] : "");
	return 0;
}

int store_webhook_deliveries(struct store_conn *c, int64_t endpoint_id, int limit,
                             struct webhook_delivery_row **out, size_t *n, struct tq_error *err)
{
	static const char sql[] =
	    "SELECT * FROM (SELECT d.id, d.event_id, d.state, d.attempts, d.next_at, e.kind, "
	    "e.status FROM webhook_deliveries d JOIN events e ON e.venue_id = d.venue_id AND e.id "
	    "= d.event_id WHERE d.venue_id = (SELECT v.id FROM venues v JOIN webhook_endpoints w "
	    "ON w.venue = v.slug WHERE w.id = $1) AND d.endpoint_id = $1 ORDER BY d.id DESC LIMIT "
	    "$2) latest ORDER BY id";
	static const char attempts_sql[] =
	    "SELECT a.delivery_id, a.attempt, a.started_at, a.duration_ms, a.status, a.error FROM "
	    "webhook_attempts a JOIN webhook_deliveries d ON d.venue_id = a.venue_id AND d.id = "
	    "a.delivery_id WHERE d.venue_id = (SELECT v.id FROM venues v JOIN webhook_endpoints w "
	    "ON w.venue = v.slug WHERE w.id = $1) AND d.endpoint_id = $1 AND d.id >= $2 ORDER BY "
	    "a.delivery_id, a.attempt";
	struct delivery_rows r = {0};
	struct attempt_rows ar = {0};
	struct numbuf nb[3];
	const char *p[2] = {store_num(&nb[0], endpoint_id), store_num(&nb[1], limit)};

	*out = NULL;
	*n = 0;
	if (sql_exec(c, sql, 2, p, delivery_row, &r, err) != 0 || r.oom)
		goto fail;
	if (r.n > 0) {
		const char *q[2] = {p[0], store_num(&nb[2], r.v[0].id)};
		ar.v = r.v;
		ar.n = r.n;
		if (sql_exec(c, attempts_sql, 2, q, attempt_row, &ar, err) != 0 || ar.oom) {
			r.oom = ar.oom;
			goto fail;
		}
	}
	*out = r.v;
	*n = r.n;
	return 0;
fail:
	store_webhook_deliveries_free(r.v, r.n);
	return r.oom ? tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory") : -1;
}

void store_webhook_deliveries_free(struct webhook_delivery_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n && v != NULL; i++)
		free(v[i].attempt);
	free(v);
}

/* ---- the dispatcher's side ---- */

struct claim_rows {
	struct webhook_claim *out;
	int max, n;
	int oom;
};

static int claim_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct claim_rows *r = ctx;
	struct webhook_claim *w;

	(void)query;
	if (ncols < 9 || r->n >= r->max)
		return 0;
	w = &r->out[r->n];
	memset(w, 0, sizeof(*w));
	w->delivery_id = store_i64(vals[0]);
	w->endpoint_id = store_i64(vals[1]);
	w->event_id = store_i64(vals[2]);
	w->attempts = (int)store_i64(vals[3]);
	w->first_try_at = store_i64(vals[4]);
	w->allow_private = store_i64(vals[5]) != 0;
	w->url = strdup(vals[6] ? vals[6] : "");
	w->secret = strdup(vals[7] ? vals[7] : "");
	w->venue_id = (int)store_i64(vals[8]);
	if (w->url == NULL || w->secret == NULL) {
		free(w->url);
		free(w->secret);
		r->oom = 1;
		return 1;
	}
	r->n++;
	return 0;
}

static void claims_free(struct webhook_claim *v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(v[i].url);
		free(v[i].secret);
		v[i].url = v[i].secret = NULL;
	}
}

/*
 * The head of each live endpoint's line, driven from the endpoints (few) so a long
 * backlog costs nothing here; the partial index webhook_deliveries_pending answers each
 * min(). On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED: a server claiming
 * at the same moment passes over them instead of waiting, and once this transaction
 * commits their lease keeps every other server off them until it ends. On SQLite the
 * write transaction itself keeps other claimers out.
 */
#define CLAIM_SQL                                                                                  \
	"SELECT d.id, d.endpoint_id, d.event_id, d.attempts, d.first_try_at, w.allow_private, "    \
	"w.url, w.secret, d.venue_id FROM webhook_endpoints w JOIN webhook_deliveries d ON d.id "  \
	"= (SELECT "                                                                               \
	"min(h.id) FROM webhook_deliveries h WHERE h.endpoint_id = w.id AND h.state = 0) WHERE "   \
	"w.revoked_at IS NULL AND d.next_at <= $1 AND d.lease_until <= $1 ORDER BY d.id LIMIT $2"

int store_webhook_claim(struct store_conn *c, int max, int64_t now, int64_t lease_ms,
                        struct webhook_claim *out, int *n, struct tq_error *err)
{
	static const char sql[] = CLAIM_SQL;
	static const char sql_skip_locked[] = CLAIM_SQL " FOR UPDATE OF d SKIP LOCKED";
	static const char lease_sql[] =
	    "UPDATE webhook_deliveries SET lease_until = $2 WHERE venue_id = $3 AND id = $1";
	struct claim_rows r = {out, max, 0, 0};
	struct numbuf nb[3];
	const char *p[2] = {store_num(&nb[0], now), store_num(&nb[1], max)};
	const char *until = store_num(&nb[2], now + lease_ms);
	int i;

	*n = 0;
	if (sql_begin(c, true, err) != 0)
		return -1;
	if (sql_exec(c, sql_has(c, STORE_SKIP_LOCKED) ? sql_skip_locked : sql, 2, p, claim_row, &r,
	             err) != 0 ||
	    r.oom)
		goto fail;
	for (i = 0; i < r.n; i++) {
		struct numbuf ib[2];
		const char *q[3] = {store_num(&ib[0], out[i].delivery_id), until,
		                    store_num(&ib[1], out[i].venue_id)};
		if (sql_exec(c, lease_sql, 3, q, NULL, NULL, err) != 0)
			goto fail;
	}
	if (sql_commit(c, err) != 0)
		goto fail_committed;
	*n = r.n;
	return 0;
fail:
	sql_rollback(c);
fail_committed:
	claims_free(out, r.n);
	if (r.oom)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	return -1;
}

int store_webhook_record(struct store_conn *c, const struct webhook_record *r, struct tq_error *err)
{
	static const char delivery_sql[] =
	    "UPDATE webhook_deliveries SET state = $2, attempts = $3, next_at = $4, first_try_at = "
	    "COALESCE(first_try_at, $5), lease_until = 0, done_at = CASE WHEN $2 = 0 THEN NULL "
	    "ELSE CAST($6 AS BIGINT) END WHERE venue_id = $7 AND id = $1";
	static const char attempt_sql[] =
	    "INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status, "
	    "error, response, venue_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO "
	    "NOTHING";
	static const char ok_sql[] =
	    "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS "
	    "NOT NULL";
	static const char failing_sql[] = "UPDATE webhook_endpoints SET failing_since = "
	                                  "COALESCE(failing_since, $2) WHERE id = $1";
	struct numbuf nb[10];
	const char *venue = store_num(&nb[9], r->venue_id);
	const char *state = r->state == WEBHOOK_DELIVERED  ? "1"
	                    : r->state == WEBHOOK_GIVEN_UP ? "2"
	                                                   : "0";
	const char *did = store_num(&nb[0], r->delivery_id),
	           *eid = store_num(&nb[1], r->endpoint_id);
	const char *now = store_num(&nb[2], r->now), *attempt = store_num(&nb[3], r->attempt);
	const char *pd[7] = {did,
	                     state,
	                     attempt,
	                     store_num(&nb[4], r->state == WEBHOOK_PENDING ? r->next_at : r->now),
	                     store_num(&nb[5], r->first_try_at),
	                     now,
	                     venue};
	const char *pa[8] = {did,
	                     attempt,
	                     store_num(&nb[6], r->started_at),
	                     store_num(&nb[7], r->duration_ms),
	                     r->status > 0 ? store_num(&nb[8], r->status) : NULL,
	                     r->error,
	                     r->response,
	                     venue};
	const char *pe[2] = {eid, now};

	if (sql_begin(c, true, err) != 0)
		return -1;
	if (sql_exec(c, delivery_sql, 7, pd, NULL, NULL, err) != 0 ||
	    sql_exec(c, attempt_sql, 8, pa, NULL, NULL, err) != 0)
		goto fail;
	if (r->state == WEBHOOK_DELIVERED && sql_exec(c, ok_sql, 1, pe, NULL, NULL, err) != 0)
		goto fail;
	if (r->state == WEBHOOK_GIVEN_UP && sql_exec(c, failing_sql, 2, pe, NULL, NULL, err) != 0)
		goto fail;
	return sql_commit(c, err);
fail:
	sql_rollback(c);
	return -1;
}

int store_webhook_release(struct store_conn *c, int venue, int64_t delivery_id,
                          struct tq_error *err)
{
	static const char sql[] = "UPDATE webhook_deliveries SET lease_until = 0 WHERE venue_id = "
	                          "$2 AND id = $1 AND state = 0";
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], delivery_id), store_num(&nb[1], venue)};

	return sql_exec(c, sql, 2, p, NULL, NULL, err);
}
