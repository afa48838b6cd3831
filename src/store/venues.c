/*
 * Venues: their rows, and the settings version that running servers watch
 * to know when what they cache of them is stale (see store.h). Every change
 * bumps the version and, on PostgreSQL, sends NOTIFY tokenq_settings in the
 * same transaction, so a server that hears it and reloads sees the change.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

#define VENUE_COLS                                                                                 \
	"id, slug, name, timezone, day_start, queues, digits, counters, language, currency, "      \
	"accent, logo_type, created_at, updated_at, (SELECT count(*) FROM webhook_endpoints w "    \
	"WHERE w.venue = venues.slug AND w.revoked_at IS NULL)"

struct venue_rows {
	struct venue_row *v;
	size_t n, cap;
	int bad;
};

static int venue_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct venue_rows *r = ctx;
	struct venue_row *v;

	(void)query;
	if (ncols < 15 || array_grow((void **)&r->v, sizeof(*r->v), r->n + 1, &r->cap) != 0) {
		r->bad = 1;
		return 1;
	}
	v = &r->v[r->n++];
	memset(v, 0, sizeof(*v));
	v->id = (int)store_i64(vals[0]);
	store_copy_str(v->slug, sizeof(v->slug), vals[1]);
	store_copy_str(v->name, sizeof(v->name), vals[2]);
	store_copy_str(v->timezone, sizeof(v->timezone), vals[3]);
	v->day_start = (int)store_i64(vals[4]);
	store_copy_str(v->queues, sizeof(v->queues), vals[5]);
	v->digits = (int)store_i64(vals[6]);
	store_copy_str(v->counters, sizeof(v->counters), vals[7]);
	store_copy_str(v->language, sizeof(v->language), vals[8]);
	store_copy_str(v->currency, sizeof(v->currency), vals[9]);
	store_copy_str(v->accent, sizeof(v->accent), vals[10]);
	store_copy_str(v->logo_type, sizeof(v->logo_type), vals[11]);
	v->created_at = store_i64(vals[12]);
	v->updated_at = store_i64(vals[13]);
	v->has_webhooks = store_i64(vals[14]) > 0;
	return 0;
}

static int venues_query(struct store_conn *c, const char *sql, int np, const char *const *p,
                        struct venue_rows *r, struct tq_error *err)
{
	if (sql_exec(c, sql, np, p, venue_row, r, err) != 0 || r->bad) {
		if (r->bad)
			tq_fail(err, TQ_INTERNAL, "database_error", "", "a venue row is damaged");
		free(r->v);
		r->v = NULL;
		return -1;
	}
	return 0;
}

int store_venue_list(struct store_conn *c, struct venue_row **out, size_t *n, struct tq_error *err)
{
	static const char sql[] = "SELECT " VENUE_COLS " FROM venues ORDER BY id";
	struct venue_rows r = {0};

	*out = NULL;
	*n = 0;
	if (venues_query(c, sql, 0, NULL, &r, err) != 0)
		return -1;
	*out = r.v;
	*n = r.n;
	return 0;
}

int store_venue_get(struct store_conn *c, const char *slug, struct venue_row *out,
                    struct tq_error *err)
{
	static const char sql[] = "SELECT " VENUE_COLS " FROM venues WHERE slug = $1";
	struct venue_rows r = {0};
	const char *p[1] = {slug};

	if (venues_query(c, sql, 1, p, &r, err) != 0)
		return -1;
	if (r.n == 0) {
		free(r.v);
		return tq_fail(err, TQ_NOT_FOUND, "unknown_venue", "", "there is no venue \"%s\"",
		               slug);
	}
	*out = r.v[0];
	free(r.v);
	return 0;
}

/* Tells running servers that settings changed: the version row, and NOTIFY. */
int store_settings_changed(struct store_conn *c, struct tq_error *err)
{
	static const char sql[] = "UPDATE settings_version SET version = version + 1 WHERE one = 1";

	if (sql_exec(c, sql, 0, NULL, NULL, NULL, err) != 0)
		return -1;
	if (c->be->settings_notify_sql != NULL &&
	    sql_exec(c, c->be->settings_notify_sql, 0, NULL, NULL, NULL, err) != 0)
		return -1;
	return 0;
}

/* The parameters of a venue's settings, $3 to $13, after the slug ($1) and a time ($2). */
static void settings_params(const struct venue_row *v, const char **p, struct numbuf *nb)
{
	p[2] = v->name;
	p[3] = v->timezone;
	p[4] = store_num(&nb[0], v->day_start);
	p[5] = v->queues;
	p[6] = store_num(&nb[1], v->digits);
	p[7] = v->counters;
	p[8] = v->language[0] ? v->language : NULL;
	p[9] = v->currency[0] ? v->currency : "USD";
	p[10] = v->accent[0] ? v->accent : NULL;
}

int store_venue_create(struct store_conn *c, struct venue_row *v, const char *logo, int64_t now,
                       struct tq_error *err)
{
	static const char exists_sql[] = "SELECT count(*) FROM venues WHERE slug = $1";
	static const char id_sql[] = "SELECT COALESCE(max(id), 0) + 1 FROM venues";
	static const char insert_sql[] =
	    "INSERT INTO venues (slug, created_at, updated_at, name, timezone, day_start, queues, "
	    "digits, counters, language, currency, accent, logo, logo_type, id) VALUES ($1, $2, "
	    "$2, "
	    "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING RETURNING "
	    "id";
	static const char counter_sql[] =
	    "INSERT INTO event_counters (venue_id, last, last_id) VALUES ($1, 0, 0)";
	struct numbuf nb[4];
	const char *p[14];
	int64_t n = 0, id = 0, got = 0;
	int tries;

	if (sql_begin(c, true, err) != 0)
		return -1;
	for (tries = 0; tries < 5; tries++) {
		if (sql_exec(c, exists_sql, 1, (const char *const[]){v->slug}, store_i64_row, &n,
		             err) != 0)
			goto fail;
		if (n > 0) {
			tq_fail(err, TQ_CONFLICT, "venue_exists", "slug",
			        "there is already a venue \"%s\"", v->slug);
			goto fail;
		}
		if (sql_exec(c, id_sql, 0, NULL, store_i64_row, &id, err) != 0)
			goto fail;
		if (id > STORE_VENUE_IDS - 1) {
			tq_fail(err, TQ_CONFLICT, "too_many_venues", "",
			        "an install holds at most %d venues", STORE_VENUE_IDS - 1);
			goto fail;
		}
		p[0] = v->slug;
		p[1] = store_num(&nb[2], now);
		settings_params(v, p, nb);
		p[11] = logo;
		p[12] = logo != NULL ? v->logo_type : NULL;
		p[13] = store_num(&nb[3], id);
		got = 0;
		if (sql_exec(c, insert_sql, 14, p, store_i64_row, &got, err) != 0)
			goto fail;
		if (got == id)
			break;
		/* Another server took this id or slug meanwhile: look again. */
	}
	if (got != id || got == 0) {
		tq_fail(err, TQ_UNAVAILABLE, "database_busy", "",
		        "venues are being created "
		        "elsewhere; try again");
		goto fail;
	}
	if (sql_exec(c, counter_sql, 1, (const char *const[]){p[13]}, NULL, NULL, err) != 0 ||
	    store_settings_changed(c, err) != 0 || sql_commit(c, err) != 0)
		goto fail;
	v->id = (int)id;
	v->created_at = v->updated_at = now;
	return 0;
fail:
	sql_rollback(c);
	return -1;
}

int store_venue_update(struct store_conn *c, const struct venue_row *v, bool set_logo,
                       const char *logo, int64_t now, struct tq_error *err)
{
	static const char sql[] =
	    "UPDATE venues SET updated_at = $2, name = $3, timezone = $4, day_start = $5, queues = "
	    "$6, digits = $7, counters = $8, language = $9, currency = $10, accent = $11 WHERE "
	    "slug "
	    "= $1 RETURNING id";
	static const char logo_sql[] =
	    "UPDATE venues SET logo = $2, logo_type = $3 WHERE slug = $1 RETURNING id";
	struct numbuf nb[3];
	const char *p[11];
	int64_t id = 0;

	p[0] = v->slug;
	p[1] = store_num(&nb[2], now);
	settings_params(v, p, nb);
	if (sql_begin(c, true, err) != 0)
		return -1;
	if (sql_exec(c, sql, 11, p, store_i64_row, &id, err) != 0)
		goto fail;
	if (id == 0) {
		tq_fail(err, TQ_NOT_FOUND, "unknown_venue", "", "there is no venue \"%s\"",
		        v->slug);
		goto fail;
	}
	if (set_logo) {
		const char *q[3] = {v->slug, logo, logo != NULL ? v->logo_type : NULL};
		if (sql_exec(c, logo_sql, 3, q, NULL, NULL, err) != 0)
			goto fail;
	}
	if (store_settings_changed(c, err) != 0 || sql_commit(c, err) != 0)
		goto fail;
	return 0;
fail:
	sql_rollback(c);
	return -1;
}

int store_venue_delete(struct store_conn *c, const char *slug, struct tq_error *err)
{
	static const char id_sql[] = "SELECT id FROM venues WHERE slug = $1";
	static const char orders_sql[] = "SELECT count(*) FROM orders WHERE venue_id = $1";
	static const char *const deletes[] = {
	    "DELETE FROM api_keys WHERE venue_id = $1",
	    "DELETE FROM webhook_endpoints WHERE venue = (SELECT slug FROM venues WHERE id = $1) "
	    "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.venue_id = $1)",
	    "DELETE FROM event_counters WHERE venue_id = $1",
	    "DELETE FROM venues WHERE id = $1",
	};
	struct numbuf nb;
	const char *p[1];
	int64_t id = 0, n = 0;
	size_t i;

	if (sql_begin(c, true, err) != 0)
		return -1;
	if (sql_exec(c, id_sql, 1, (const char *const[]){slug}, store_i64_row, &id, err) != 0)
		goto fail;
	if (id == 0) {
		tq_fail(err, TQ_NOT_FOUND, "unknown_venue", "", "there is no venue \"%s\"", slug);
		goto fail;
	}
	p[0] = store_num(&nb, id);
	if (sql_exec(c, orders_sql, 1, p, store_i64_row, &n, err) != 0)
		goto fail;
	if (n > 0 || id == STORE_MAIN_VENUE) {
		bool is_main = id == STORE_MAIN_VENUE; /* main is never deleted, orders or not */
		tq_fail(err, TQ_CONFLICT, is_main ? "venue_is_main" : "venue_has_orders", "",
		        is_main
		            ? "the venue \"%s\" is the install's first venue; it cannot be deleted"
		            : "the venue \"%s\" has orders, so it cannot be deleted",
		        slug);
		goto fail;
	}
	for (i = 0; i < sizeof(deletes) / sizeof(deletes[0]); i++)
		if (sql_exec(c, deletes[i], 1, p, NULL, NULL, err) != 0)
			goto fail;
	if (store_settings_changed(c, err) != 0 || sql_commit(c, err) != 0)
		goto fail;
	return 0;
fail:
	sql_rollback(c);
	return -1;
}

struct logo_row {
	char **b64;
	char *type;
	int found, oom;
};

static int logo_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct logo_row *r = ctx;

	(void)query;
	if (ncols < 2 || vals[0] == NULL || vals[1] == NULL)
		return 0;
	*r->b64 = strdup(vals[0]);
	if (*r->b64 == NULL) {
		r->oom = 1;
		return 1;
	}
	store_copy_str(r->type, 32, vals[1]);
	r->found = 1;
	return 0;
}

int store_venue_logo(struct store_conn *c, int venue, char **b64, char type[32],
                     struct tq_error *err)
{
	static const char sql[] = "SELECT logo, logo_type FROM venues WHERE id = $1";
	struct numbuf nb;
	const char *p[1] = {store_num(&nb, venue)};
	struct logo_row r = {b64, type, 0, 0};

	*b64 = NULL;
	type[0] = '\0';
	if (sql_exec(c, sql, 1, p, logo_row, &r, err) != 0) {
		free(*b64);
		*b64 = NULL;
		return -1;
	}
	if (r.oom)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	return r.found;
}

int store_settings_version(struct store_conn *c, int64_t *version, struct tq_error *err)
{
	static const char sql[] = "SELECT version FROM settings_version WHERE one = 1";

	*version = 0;
	return sql_exec(c, sql, 0, NULL, store_i64_row, version, err);
}
