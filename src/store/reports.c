/*
 * The operations queries (see reports.h): the day report, and the tables as
 * `tokenq copy` reads and writes them. Portable SQL with $N parameters over
 * the backend primitives, every statement a static string (backends cache
 * prepared statements by its address).
 *
 * The day report reads the day's orders in one statement, so its numbers
 * agree with each other, and computes in C what SQL would compute
 * differently on each backend: nearest-rank percentiles, and the local
 * clock hour, which only the process knows (TZ is the venue's zone).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/reports.h"
#include "store/store-internal.h"
#include "util/array.h"
#include "util/tz.h"

/* ---- the day report ---- */

struct stats_rows {
	struct day_stats *st;
	const struct tz *zone;
	int64_t *prep; /* ms, one per order that reached READY */
	size_t nprep, cap;
	int bad;
};

static int stats_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct stats_rows *r = ctx;
	enum order_status status;
	int64_t total, created, ready;
	time_t secs;
	struct tm tm;

	(void)query;
	if (ncols < 4 || vals[0] == NULL || status_parse(vals[0], &status) != 0) {
		r->bad = 1;
		return 1;
	}
	total = store_i64(vals[1]);
	created = store_i64(vals[2]);
	r->st->orders++;
	r->st->by_status[status]++;
	if (status != ST_CANCELLED)
		r->st->revenue += total;
	secs = (time_t)tz_wall(r->zone, created / 1000);
	if (gmtime_r(&secs, &tm) != NULL && tm.tm_hour >= 0 && tm.tm_hour < 24)
		r->st->per_hour[tm.tm_hour]++;
	if (vals[3] == NULL)
		return 0;
	ready = store_i64(vals[3]);
	if (array_grow((void **)&r->prep, sizeof(*r->prep), r->nprep + 1, &r->cap) != 0) {
		r->bad = 2;
		return 1;
	}
	/* Servers with skewed clocks could record READY before creation. */
	r->prep[r->nprep++] = ready > created ? ready - created : 0;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank percentile p of n sorted values, in whole seconds. */
static int64_t rank_seconds(const int64_t *sorted, size_t n, unsigned p)
{
	size_t rank = (p * n + 99) / 100;

	if (rank < 1)
		rank = 1;
	return (sorted[rank - 1] + 500) / 1000;
}

int reports_day_stats(struct store_conn *c, int venue, const char *date, const char *queue,
                      const struct tz *zone, struct day_stats *out, struct tq_error *err)
{
	static const char sql[] =
	    "SELECT status, total, created_at, ready_at FROM orders WHERE "
	    "venue_id = $3 AND business_date = $1 AND ($2 = '' OR queue = $2)";
	struct numbuf nb;
	const char *p[3] = {date, queue ? queue : "", store_num(&nb, venue)};
	struct stats_rows r = {out, zone ? zone : tz_utc(), NULL, 0, 0, 0};

	memset(out, 0, sizeof(*out));
	out->prep_p50 = out->prep_p90 = out->prep_max = -1;
	if (sql_exec(c, sql, 3, p, stats_row, &r, err) != 0)
		goto fail;
	if (r.bad) {
		if (r.bad == 2)
			tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
		else
			tq_fail(err, TQ_INTERNAL, "database_error", "", "an order row is damaged");
		goto fail;
	}
	out->prep_count = (int64_t)r.nprep;
	if (r.nprep > 0) {
		qsort(r.prep, r.nprep, sizeof(r.prep[0]), cmp_i64);
		out->prep_p50 = rank_seconds(r.prep, r.nprep, 50);
		out->prep_p90 = rank_seconds(r.prep, r.nprep, 90);
		out->prep_max = rank_seconds(r.prep, r.nprep, 100);
	}
	free(r.prep);
	return 0;
fail:
	free(r.prep);
	memset(out, 0, sizeof(*out));
	return -1;
}

/* ---- copying tables ---- */

/* clang-format off */
const struct reports_table reports_tables[] = {
	{"venues", "venues", 15, 1, {"0", NULL},
	 "SELECT id, slug, name, timezone, day_start, queues, digits, counters, language, "
	 "currency, accent, logo, logo_type, created_at, updated_at FROM venues WHERE id > $1 "
	 "ORDER BY id LIMIT $2",
	 "INSERT INTO venues (id, slug, name, timezone, day_start, queues, digits, counters, "
	 "language, currency, accent, logo, logo_type, created_at, updated_at) VALUES ($1, $2, $3, "
	 "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO UPDATE SET "
	 "slug = excluded.slug, name = excluded.name, timezone = excluded.timezone, day_start = "
	 "excluded.day_start, queues = excluded.queues, digits = excluded.digits, counters = "
	 "excluded.counters, language = excluded.language, currency = excluded.currency, accent = "
	 "excluded.accent, logo = excluded.logo, logo_type = excluded.logo_type, created_at = "
	 "excluded.created_at, updated_at = excluded.updated_at",
	 "SELECT count(*) FROM venues",
	 "SELECT count(*) FROM venues WHERE id <> 1", false},
	{"orders", "orders", 12, 1, {"0", NULL},
	 "SELECT id, venue_id, queue, business_date, sequence, status, items, total, note, "
	 "created_at, updated_at, ready_at FROM orders WHERE id > $1 ORDER BY id LIMIT $2",
	 "INSERT INTO orders (id, venue_id, queue, business_date, sequence, status, items, total, "
	 "note, created_at, updated_at, ready_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
	 "$11, $12)",
	 "SELECT count(*) FROM orders",
	 "SELECT count(*) FROM orders", false},
	{"events", "events", 7, 1, {"0", NULL},
	 "SELECT id, venue_id, order_id, kind, status, previous_status, at FROM events WHERE id > "
	 "$1 ORDER BY id LIMIT $2",
	 "INSERT INTO events (id, venue_id, order_id, kind, status, previous_status, at) VALUES "
	 "($1, $2, $3, $4, $5, $6, $7)",
	 "SELECT count(*) FROM events",
	 "SELECT count(*) FROM events", false},
	{"idempotency_keys", "idempotency records", 5, 2, {"0", ""},
	 "SELECT venue_id, key, request_hash, order_id, created_at FROM idempotency_keys WHERE "
	 "(venue_id, key) > ($1, $2) ORDER BY venue_id, key LIMIT $3",
	 "INSERT INTO idempotency_keys (venue_id, key, request_hash, order_id, created_at) VALUES "
	 "($1, $2, $3, $4, $5)",
	 "SELECT count(*) FROM idempotency_keys",
	 "SELECT count(*) FROM idempotency_keys", false},
	{"counters", "counters", 4, 3, {"0", "", ""},
	 "SELECT venue_id, queue, business_date, last FROM counters WHERE (venue_id, queue, "
	 "business_date) > ($1, $2, $3) ORDER BY venue_id, queue, business_date LIMIT $4",
	 "INSERT INTO counters (venue_id, queue, business_date, last) VALUES ($1, $2, $3, $4)",
	 "SELECT count(*) FROM counters",
	 "SELECT count(*) FROM counters", false},
	{"api_keys", "keys", 8, 1, {"0", NULL},
	 "SELECT id, role, label, hash, created_at, last_used_at, revoked_at, venue_id FROM "
	 "api_keys WHERE id > $1 ORDER BY id LIMIT $2",
	 "INSERT INTO api_keys (id, role, label, hash, created_at, last_used_at, revoked_at, "
	 "venue_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	 "SELECT count(*) FROM api_keys",
	 "SELECT count(*) FROM api_keys", false},
	{"webhook_endpoints", "webhook endpoints", 9, 1, {"0", NULL},
	 "SELECT id, venue, url, secret, events, allow_private, created_at, revoked_at, "
	 "failing_since FROM webhook_endpoints WHERE id > $1 ORDER BY id LIMIT $2",
	 "INSERT INTO webhook_endpoints (id, venue, url, secret, events, allow_private, "
	 "created_at, revoked_at, failing_since) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
	 "SELECT count(*) FROM webhook_endpoints",
	 "SELECT count(*) FROM webhook_endpoints", false},
	/* A delivery leased by a server on the source is free again on the target. */
	{"webhook_deliveries", "webhook deliveries", 10, 1, {"0", NULL},
	 "SELECT id, venue_id, endpoint_id, event_id, state, attempts, next_at, first_try_at, 0, "
	 "done_at FROM webhook_deliveries WHERE id > $1 ORDER BY id LIMIT $2",
	 "INSERT INTO webhook_deliveries (id, venue_id, endpoint_id, event_id, state, attempts, "
	 "next_at, first_try_at, lease_until, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
	 "$10)",
	 "SELECT count(*) FROM webhook_deliveries",
	 "SELECT count(*) FROM webhook_deliveries", false},
	{"webhook_attempts", "webhook attempts", 8, 2, {"0", "0"},
	 "SELECT delivery_id, attempt, venue_id, started_at, duration_ms, status, error, response "
	 "FROM webhook_attempts WHERE (delivery_id, attempt) > ($1, $2) ORDER BY delivery_id, "
	 "attempt LIMIT $3",
	 "INSERT INTO webhook_attempts (delivery_id, attempt, venue_id, started_at, duration_ms, "
	 "status, error, response) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	 "SELECT count(*) FROM webhook_attempts",
	 "SELECT count(*) FROM webhook_attempts", false},
	/* A job leased by a server on the source is free again on the target. */
	{"print_jobs", "print jobs", 10, 1, {"0", NULL},
	 "SELECT id, venue_id, order_id, state, attempts, last_error, next_at, 0, queued_at, "
	 "printed_at FROM print_jobs WHERE id > $1 ORDER BY id LIMIT $2",
	 "INSERT INTO print_jobs (id, venue_id, order_id, state, attempts, last_error, next_at, "
	 "lease_until, queued_at, printed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
	 "SELECT count(*) FROM print_jobs",
	 "SELECT count(*) FROM print_jobs", false},
	/* Main's row is made by the migration: the copy sets its value. */
	{"event_counters", "event counters", 3, 1, {"0", NULL},
	 "SELECT venue_id, last, last_id FROM event_counters WHERE venue_id > $1 ORDER BY venue_id "
	 "LIMIT $2",
	 "INSERT INTO event_counters (venue_id, last, last_id) VALUES ($1, $2, $3) ON CONFLICT "
	 "(venue_id) DO UPDATE SET last = excluded.last, last_id = excluded.last_id",
	 "SELECT count(*) FROM event_counters",
	 "SELECT count(*) FROM event_counters WHERE last <> 0", false},
	/* Written by migrating the target; between databases of one kind the
	 * copy keeps the source's names, checksums and times. */
	{"schema_migrations", "migrations", 4, 1, {"0", NULL},
	 "SELECT version, name, checksum, applied_at FROM schema_migrations WHERE version > $1 "
	 "ORDER BY version LIMIT $2",
	 "UPDATE schema_migrations SET name = $2, checksum = $3, applied_at = $4 WHERE version = $1",
	 "SELECT count(*) FROM schema_migrations",
	 NULL, true},
	{NULL, NULL, 0, 0, {NULL, NULL}, NULL, NULL, NULL, NULL, false},
};
/* clang-format on */

static int count_row(void *ctx, int query, int ncols, const char *const *vals)
{
	(void)query;
	if (ncols > 0)
		*(int64_t *)ctx = store_i64(vals[0]);
	return 0;
}

int reports_count(struct store_conn *c, const struct reports_table *t, int64_t *n,
                  struct tq_error *err)
{
	*n = 0;
	return sql_exec(c, t->count_sql, 0, NULL, count_row, n, err);
}

int reports_occupied(struct store_conn *c, const struct reports_table *t, int64_t *n,
                     struct tq_error *err)
{
	*n = 0;
	if (t->occupied_sql == NULL)
		return 0;
	return sql_exec(c, t->occupied_sql, 0, NULL, count_row, n, err);
}

void reports_rows_free(struct reports_rows *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n * (size_t)r->ncols; i++)
		free(r->vals[i]);
	free(r->vals);
	r->vals = NULL;
	r->n = r->cap = 0;
}

struct page_ctx {
	struct reports_rows rows;
	int bad;
};

static int page_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct page_ctx *pc = ctx;
	struct reports_rows *r = &pc->rows;
	size_t base;
	int i;

	(void)query;
	if (ncols != r->ncols)
		goto bad;
	/* One element is a row: ncols values. */
	if (array_grow((void **)&r->vals, (size_t)r->ncols * sizeof(*r->vals), r->n + 1, &r->cap) !=
	    0)
		goto bad;
	base = r->n * (size_t)r->ncols;
	for (i = 0; i < ncols; i++) {
		r->vals[base + (size_t)i] = NULL;
		if (vals[i] != NULL && (r->vals[base + (size_t)i] = strdup(vals[i])) == NULL) {
			while (i-- > 0)
				free(r->vals[base + (size_t)i]);
			goto bad;
		}
	}
	r->n++;
	return 0;
bad:
	pc->bad = 1;
	return 1;
}

int reports_page(struct store_conn *c, const struct reports_table *t, const char *const *after,
                 int limit, struct reports_rows *out, struct tq_error *err)
{
	struct page_ctx pc = {{t->ncols, 0, 0, NULL}, 0};
	const char *p[4];
	char lim[24];
	int i;

	for (i = 0; i < t->nkey; i++)
		p[i] = after ? after[i] : t->start[i];
	snprintf(lim, sizeof(lim), "%d", limit);
	p[t->nkey] = lim;
	if (sql_exec(c, t->page_sql, t->nkey + 1, p, page_row, &pc, err) != 0)
		goto fail;
	if (pc.bad) {
		tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory reading %s", t->name);
		goto fail;
	}
	/* after may point into out: it is freed only now that the query is done. */
	reports_rows_free(out);
	*out = pc.rows;
	return 0;
fail:
	reports_rows_free(&pc.rows);
	return -1;
}

int reports_write(struct store_conn *c, const struct reports_table *t,
                  const struct reports_rows *rows, struct tq_error *err)
{
	size_t i, n = rows->n * (size_t)t->ncols;
	const char **p;
	int rc;

	if (rows->n == 0)
		return 0;
	p = calloc(n, sizeof(*p));
	if (p == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	for (i = 0; i < n; i++)
		p[i] = rows->vals[i];
	rc = sql_exec_many(c, t->write_sql, t->ncols, (int)rows->n, p, NULL, NULL, err);
	free(p);
	return rc;
}

int reports_fix_sequences(struct store_conn *c, struct tq_error *err)
{
	static const char orders_sql[] = "SELECT setval(pg_get_serial_sequence('orders', 'id'), "
	                                 "COALESCE(max(id), 0) + 1, false) FROM orders";
	static const char keys_sql[] = "SELECT setval(pg_get_serial_sequence('api_keys', 'id'), "
	                               "COALESCE(max(id), 0) + 1, false) FROM api_keys";

	static const char hooks_sql[] =
	    "SELECT setval(pg_get_serial_sequence('webhook_endpoints', 'id'), "
	    "COALESCE(max(id), 0) + 1, false) FROM webhook_endpoints";
	static const char deliveries_sql[] =
	    "SELECT setval(pg_get_serial_sequence('webhook_deliveries', 'id'), "
	    "COALESCE(max(id), 0) + 1, false) FROM webhook_deliveries";
	static const char print_sql[] = "SELECT setval(pg_get_serial_sequence('print_jobs', 'id'), "
	                                "COALESCE(max(id), 0) + 1, false) FROM print_jobs";

	if (!sql_has(c, STORE_SEQUENCES))
		return 0;
	if (sql_exec(c, orders_sql, 0, NULL, NULL, NULL, err) != 0 ||
	    sql_exec(c, keys_sql, 0, NULL, NULL, NULL, err) != 0 ||
	    sql_exec(c, hooks_sql, 0, NULL, NULL, NULL, err) != 0 ||
	    sql_exec(c, deliveries_sql, 0, NULL, NULL, NULL, err) != 0 ||
	    sql_exec(c, print_sql, 0, NULL, NULL, NULL, err) != 0)
		return -1;
	return 0;
}
