/*
 * Print jobs over the backends' SQL primitives (see print_jobs.h). The
 * claim passes over rows another server has locked where the backend can
 * (FOR UPDATE SKIP LOCKED); on SQLite one writer at a time holds the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/print_jobs.h"
#include "store/store-internal.h"

#define JOB_COLS "id, order_id, state, attempts, last_error, queued_at, printed_at, venue_id"

static int job_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct print_job *j = ctx;

	(void)query;
	if (ncols < 8)
		return 1;
	memset(j, 0, sizeof(*j));
	j->id = store_i64(vals[0]);
	j->order_id = store_i64(vals[1]);
	j->state = store_i64(vals[2]) == 1 ? PRINT_PRINTED : PRINT_QUEUED;
	j->attempts = (int)store_i64(vals[3]);
	store_copy_str(j->last_error, sizeof(j->last_error), vals[4]);
	j->queued_at = store_i64(vals[5]);
	j->printed_at = store_i64(vals[6]);
	j->venue_id = (int)store_i64(vals[7]);
	return 0;
}

/* Runs a statement that yields at most one job: 1 with *out, or 0. */
static int one_job(struct store_conn *c, const char *sql, int n, const char *const *p,
                   struct print_job *out, struct tq_error *err)
{
	memset(out, 0, sizeof(*out));
	if (sql_exec(c, sql, n, p, job_row, out, err) != 0)
		return -1;
	return out->id != 0;
}

int store_print_enqueue(struct store_conn *c, int venue, int64_t order_id, int64_t now,
                        struct print_job *out, struct tq_error *err)
{
	static const char sql[] =
	    "INSERT INTO print_jobs (venue_id, order_id, next_at, queued_at) SELECT venue_id, id, "
	    "$2, $2 FROM orders WHERE venue_id = $3 AND id = $1 RETURNING " JOB_COLS;
	struct numbuf nb[3];
	const char *p[3] = {store_num(&nb[0], order_id), store_num(&nb[1], now),
	                    store_num(&nb[2], venue)};
	int rc = one_job(c, sql, 3, p, out, err);

	if (rc == 0)
		return tq_fail(err, TQ_NOT_FOUND, "not_found", "", "no such order");
	return rc < 0 ? -1 : 0;
}

int store_print_latest(struct store_conn *c, int venue, int64_t order_id, struct print_job *out,
                       struct tq_error *err)
{
	static const char sql[] = "SELECT " JOB_COLS " FROM print_jobs WHERE venue_id = $2 AND "
	                          "order_id = $1 ORDER BY id DESC LIMIT 1";
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], order_id), store_num(&nb[1], venue)};

	return one_job(c, sql, 2, p, out, err);
}

#define CLAIM_SQL                                                                                  \
	"SELECT " JOB_COLS                                                                         \
	" FROM print_jobs WHERE state = 0 AND next_at <= $1 AND lease_until < $1 "                 \
	"ORDER BY next_at, id LIMIT 1"

int store_print_claim(struct store_conn *c, int64_t now, int64_t lease_ms, struct print_job *out,
                      struct tq_error *err)
{
	static const char sql[] = CLAIM_SQL;
	static const char sql_skip_locked[] = CLAIM_SQL " FOR UPDATE SKIP LOCKED";
	static const char lease_sql[] =
	    "UPDATE print_jobs SET lease_until = $2 WHERE venue_id = $3 AND id = $1";
	struct numbuf nb[4];
	const char *p[1] = {store_num(&nb[0], now)};
	int rc;

	if (sql_begin(c, true, err) != 0)
		return -1;
	rc = one_job(c, sql_has(c, STORE_SKIP_LOCKED) ? sql_skip_locked : sql, 1, p, out, err);
	if (rc > 0) {
		const char *q[3] = {store_num(&nb[1], out->id), store_num(&nb[2], now + lease_ms),
		                    store_num(&nb[3], out->venue_id)};
		if (sql_exec(c, lease_sql, 3, q, NULL, NULL, err) != 0)
			rc = -1;
	}
	if (rc < 0) {
		sql_rollback(c);
		return -1;
	}
	if (sql_commit(c, err) != 0)
		return -1;
	return rc;
}

int store_print_record(struct store_conn *c, int venue, int64_t id, bool printed, const char *error,
                       int64_t now, int64_t next_at, struct tq_error *err)
{
	static const char sql[] =
	    "UPDATE print_jobs SET attempts = attempts + 1, lease_until = 0, state = $2, "
	    "last_error = $3, next_at = $4, printed_at = $5 WHERE venue_id = $6 AND id = $1 AND "
	    "state = 0";
	struct numbuf nb[4];
	const char *p[6] = {store_num(&nb[0], id),
	                    printed ? "1" : "0",
	                    printed ? NULL : error,
	                    store_num(&nb[1], next_at),
	                    printed ? store_num(&nb[2], now) : NULL,
	                    store_num(&nb[3], venue)};

	return sql_exec(c, sql, 6, p, NULL, NULL, err);
}
