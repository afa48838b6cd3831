/*
 * API keys: only their sha256 is stored; found by that hash through a
 * unique index.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

int store_key_create(struct store_conn *c, enum role role, int venue, const char *label,
                     const char *hash, int64_t now, int64_t *id, struct tq_error *err)
{
	static const char sql[] =
	    "INSERT INTO api_keys (role, label, hash, created_at, venue_id) VALUES ($1, "
	    "$2, $3, $4, $5) RETURNING id";
	struct numbuf nb[2];
	const char *p[5] = {role_name(role), label, hash, store_num(&nb[0], now),
	                    venue > 0 ? store_num(&nb[1], venue) : NULL};

	*id = 0;
	return sql_exec(c, sql, 5, p, store_i64_row, id, err);
}

struct key_rows {
	struct api_key *v;
	size_t n, cap;
	int bad;
};

static int key_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct key_rows *r = ctx;
	struct api_key *k;

	(void)query;
	if (ncols < 7)
		goto bad;
	if (array_grow((void **)&r->v, sizeof(*r->v), r->n + 1, &r->cap) != 0)
		goto bad;
	k = &r->v[r->n];
	k->id = store_i64(vals[0]);
	if (vals[1] == NULL || role_parse(vals[1], &k->role) != 0)
		goto bad;
	store_copy_str(k->label, sizeof(k->label), vals[2]);
	k->created_at = store_i64(vals[3]);
	k->last_used_at = store_i64(vals[4]);
	k->revoked_at = store_i64(vals[5]);
	k->venue_id = (int)store_i64(vals[6]);
	r->n++;
	return 0;
bad:
	r->bad = 1;
	return 1;
}

static int keys_query(struct store_conn *c, const char *sql, int np, const char *const *p,
                      struct key_rows *r, struct tq_error *err)
{
	if (sql_exec(c, sql, np, p, key_row, r, err) != 0 || r->bad) {
		if (r->bad)
			tq_fail(err, TQ_INTERNAL, "database_error", "", "a key row is damaged");
		free(r->v);
		r->v = NULL;
		return -1;
	}
	return 0;
}

int store_key_list(struct store_conn *c, struct api_key **out, size_t *n, struct tq_error *err)
{
	static const char sql[] = "SELECT id, role, label, created_at, last_used_at, revoked_at, "
	                          "venue_id FROM api_keys ORDER BY id";
	struct key_rows r = {0};

	*out = NULL;
	*n = 0;
	if (keys_query(c, sql, 0, NULL, &r, err) != 0)
		return -1;
	*out = r.v;
	*n = r.n;
	return 0;
}

int store_key_revoke(struct store_conn *c, int64_t id, int64_t now, struct tq_error *err)
{
	static const char sql[] = "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE "
	                          "id = $1 RETURNING id";

	return store_revoke(c, sql, id, now, "key", err);
}

int store_key_find(struct store_conn *c, const char *hash, struct api_key *out,
                   struct tq_error *err)
{
	static const char sql[] = "SELECT id, role, label, created_at, last_used_at, revoked_at, "
	                          "venue_id FROM api_keys WHERE hash = $1 AND revoked_at IS NULL";
	struct key_rows r = {0};
	const char *p[1] = {hash};

	if (keys_query(c, sql, 1, p, &r, err) != 0)
		return -1;
	if (r.n == 0) {
		free(r.v);
		return 0;
	}
	*out = r.v[0];
	free(r.v);
	return 1;
}

int store_key_any(struct store_conn *c, bool *any, struct tq_error *err)
{
	static const char sql[] = "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL";
	int64_t n = 0;

	if (sql_exec(c, sql, 0, NULL, store_i64_row, &n, err) != 0)
		return -1;
	*any = n > 0;
	return 0;
}

int store_key_touch(struct store_conn *c, int64_t id, int64_t now, struct tq_error *err)
{
	static const char sql[] = "UPDATE api_keys SET last_used_at = $2 WHERE id = $1";
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], id), store_num(&nb[1], now)};

	return sql_exec(c, sql, 2, p, NULL, NULL, err);
}
