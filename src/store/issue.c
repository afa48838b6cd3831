/*
 * Issuing orders: a batch of new orders in one transaction, with their
 * idempotency keys claimed, their queue-day counters moved forward and
 * their creation events recorded (see store_issue_batch in store.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"
#include "util/log.h"

/*
 * A batch is written in three round trips on PostgreSQL (libpq pipelines;
 * on SQLite the same statements run in-process):
 *   1. BEGIN and the claims of the idempotency keys (only when keys are given);
 *   2. [BEGIN,] each (venue, queue, day) counter moved forward by its number
 *      of orders, each venue's event ids taken, and the orders inserted with
 *      numbers computed from the counter row;
 *   3. the creation events, the keys' order ids, the NOTIFYs, and COMMIT.
 * The counter rows are locked from step 2 to the commit, so the numbers of
 * concurrent batches (from other servers) cannot interleave. A batch may
 * hold orders of several venues; every lock it takes is of one venue's
 * rows, taken in one order (counters by venue, queue and day, then event
 * counters by venue), so batches cannot deadlock and two venues share none.
 */

#define NOTIFY_MAX 4000 /* below PostgreSQL's 8000-byte limit on a payload */

struct batch {
	struct issue_req *const *reqs;
	size_t n;
	int *included;    /* per request: 1 while it is to be created */
	size_t *stmt_req; /* the request an order INSERT (or key claim) was for */
	size_t nstmt_req;
	size_t first_insert; /* index of the first order INSERT in its batch */
	size_t first_ids;    /* index of the first venue's event ids UPDATE */
	size_t version_stmt; /* index of the settings version's SELECT */
	int64_t version;     /* the settings version the batch read */
	int *venues;         /* the venues of the included orders, ascending */
	int64_t *vcount;     /* per venue: its orders in the batch */
	int64_t *vlast;      /* per venue: event_counters.last after taking the ids */
	size_t nvenues;
	char (*nums)[NUM_LEN];
	size_t nnums;
	char notify[NOTIFY_MAX]; /* the NOTIFY's payload: the venues written, "1,4,9" */
};

static const char *bnum(struct batch *b, int64_t v)
{
	char *s = b->nums[b->nnums++];

	snprintf(s, NUM_LEN, "%" PRId64, v);
	return s;
}

static int claimed_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct batch *b = ctx;

	(void)ncols;
	(void)vals;
	if (query >= 1 && (size_t)query - 1 < b->nstmt_req)
		b->included[b->stmt_req[query - 1]] = 1;
	return 0;
}

static int claim_keys(struct store_conn *c, struct batch *b, struct sql_stmt *st, const char **p,
                      struct tq_error *err)
{
	static const char sql[] =
	    "INSERT INTO idempotency_keys (venue_id, key, request_hash, created_at) VALUES ($4, "
	    "$1, $2, $3) ON CONFLICT (venue_id, key) DO NOTHING RETURNING key";
	size_t i, k = 0;

	st[0] = (struct sql_stmt){c->be->begin_sql, 0, NULL};
	for (i = 0; i < b->n; i++) {
		const struct issue_req *r = b->reqs[i];
		if (r->idem_key == NULL) {
			b->included[i] = 1;
			continue;
		}
		p[4 * k] = r->idem_key;
		p[4 * k + 1] = r->idem_hash;
		p[4 * k + 2] = bnum(b, r->now);
		p[4 * k + 3] = bnum(b, r->venue_id);
		b->stmt_req[k] = i;
		st[1 + k] = (struct sql_stmt){sql, 4, &p[4 * k]};
		k++;
	}
	b->nstmt_req = k;
	if (k == 0)
		return 0;
	return sql_exec_batch(c, st, (int)(k + 1), claimed_row, b, err);
}

static int group_cmp(const struct issue_req *a, const struct issue_req *b)
{
	int c = (a->venue_id > b->venue_id) - (a->venue_id < b->venue_id);

	if (c == 0)
		c = strcmp(a->in->queue, b->in->queue);
	return c != 0 ? c : strcmp(a->business_date, b->business_date);
}

static bool same_day_queue(const struct issue_req *a, const struct issue_req *b)
{
	return group_cmp(a, b) == 0;
}

/* The index of venue in b->venues. */
static size_t venue_index(const struct batch *b, int venue)
{
	size_t j;

	for (j = 0; j < b->nvenues && b->venues[j] != venue; j++)
		;
	return j;
}

/* Lists the venues of the included orders, ascending, with their counts. */
static void batch_venues(struct batch *b)
{
	size_t i, j;

	b->nvenues = 0;
	for (i = 0; i < b->n; i++) {
		int v = b->reqs[i]->venue_id;
		if (!b->included[i])
			continue;
		j = venue_index(b, v);
		if (j == b->nvenues) {
			for (j = b->nvenues; j > 0 && b->venues[j - 1] > v; j--) {
				b->venues[j] = b->venues[j - 1];
				b->vcount[j] = b->vcount[j - 1];
			}
			b->venues[j] = v;
			b->vcount[j] = 0;
			b->nvenues++;
		}
		b->vcount[j]++;
	}
}

static int insert_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct batch *b = ctx;
	size_t k;

	if ((size_t)query == b->version_stmt && ncols >= 1) {
		b->version = store_i64(vals[0]);
		return 0;
	}
	if ((size_t)query >= b->first_ids && (size_t)query < b->first_insert && ncols >= 1) {
		b->vlast[query - (int)b->first_ids] = store_i64(vals[0]); /* event ids' RETURNING */
		return 0;
	}
	if ((size_t)query < b->first_insert || ncols < 2)
		return 0;
	k = (size_t)query - b->first_insert;
	if (k < b->nstmt_req) {
		b->reqs[b->stmt_req[k]]->order_id = store_i64(vals[0]);
		b->reqs[b->stmt_req[k]]->sequence = store_i64(vals[1]);
	}
	return 0;
}

/*
 * Step 2: counters, event ids, orders. With begin, the statement list opens
 * the transaction too. A fault injected after the counters splits it.
 */
static int insert_orders(struct store_conn *c, struct batch *b, bool begin, struct sql_stmt *st,
                         const char **p, struct tq_error *err)
{
	static const char counter_sql[] =
	    "INSERT INTO counters (venue_id, queue, business_date, last) VALUES ($4, $1, $2, $3) "
	    "ON CONFLICT (venue_id, queue, business_date) DO UPDATE SET last = counters.last + "
	    "excluded.last RETURNING last";
	static const char version_sql[] = "SELECT version FROM settings_version WHERE one = 1";
	static const char order_sql[] =
	    "INSERT INTO orders (venue_id, queue, business_date, sequence, status, items, total, "
	    "note, created_at, updated_at) SELECT venue_id, queue, business_date, last - $3, "
	    "'PENDING', $4, $5, $6, $7, $7 FROM counters WHERE venue_id = $8 AND queue = $1 AND "
	    "business_date = $2 RETURNING id, sequence";
	size_t i, j, ns = 0, np = 0, split;
	int64_t *after = calloc(b->n + 1, sizeof(*after)); /* orders after each in its group */
	char *counted = calloc(b->n + 1, 1);

	if (after == NULL || counted == NULL) {
		free(after);
		free(counted);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	}
	if (begin)
		st[ns++] = (struct sql_stmt){c->be->begin_sql, 0, NULL};
	/* One upsert per (queue, day), taken in sorted order so that concurrent
	 * batches lock the counter rows in the same order and cannot deadlock. */
	for (i = 0; i < b->n; i++) {
		if (!b->included[i])
			continue;
		for (j = 0; j < b->n; j++)
			if (j > i && b->included[j] && same_day_queue(b->reqs[i], b->reqs[j]))
				after[i]++;
	}
	for (;;) {
		const struct issue_req *next = NULL;
		int64_t group = 0;
		for (i = 0; i < b->n; i++) {
			const struct issue_req *r = b->reqs[i];
			if (b->included[i] && !counted[i] &&
			    (next == NULL || group_cmp(r, next) < 0))
				next = r;
		}
		if (next == NULL)
			break;
		for (i = 0; i < b->n; i++) {
			if (b->included[i] && same_day_queue(b->reqs[i], next)) {
				counted[i] = 1;
				group++;
			}
		}
		p[np] = next->in->queue;
		p[np + 1] = next->business_date;
		p[np + 2] = bnum(b, group);
		p[np + 3] = bnum(b, next->venue_id);
		st[ns++] = (struct sql_stmt){counter_sql, 4, &p[np]};
		np += 4;
	}
	split = ns;
	b->version_stmt = ns;
	b->version = -1;
	st[ns++] = (struct sql_stmt){version_sql, 0, NULL};
	b->first_ids = ns;
	for (j = 0; j < b->nvenues; j++) {
		p[np] = bnum(b, b->venues[j]);
		p[np + 1] = bnum(b, b->vcount[j]);
		b->vlast[j] = -1;
		st[ns++] = (struct sql_stmt){store_event_ids_sql, 2, &p[np]};
		np += 2;
	}
	b->first_insert = ns;
	b->nstmt_req = 0;
	for (i = 0; i < b->n; i++) {
		const struct issue_req *r = b->reqs[i];
		if (!b->included[i])
			continue;
		p[np] = r->in->queue;
		p[np + 1] = r->business_date;
		p[np + 2] = bnum(b, after[i]); /* the number is the counter's last minus this */
		p[np + 3] = r->in->items_json;
		p[np + 4] = bnum(b, r->in->total);
		p[np + 5] = r->in->note;
		p[np + 6] = bnum(b, r->now);
		p[np + 7] = bnum(b, r->venue_id);
		st[ns++] = (struct sql_stmt){order_sql, 8, &p[np]};
		b->stmt_req[b->nstmt_req++] = i;
		np += 8;
	}
	free(after);
	free(counted);
	if (store_fault("after_counter")) {
		if (sql_exec_batch(c, st, (int)split, NULL, NULL, err) != 0)
			return -1;
		return sql_fault("after_counter", err);
	}
	if (sql_exec_batch(c, st, (int)ns, insert_row, b, err) != 0)
		return -1;
	for (i = 0; i < b->nstmt_req; i++)
		if (b->reqs[b->stmt_req[i]]->order_id <= 0 ||
		    b->reqs[b->stmt_req[i]]->sequence <= 0)
			return tq_fail(err, TQ_INTERNAL, "database_error", "",
			               "an order was not stored");
	for (j = 0; j < b->nvenues; j++)
		if (b->vlast[j] < b->vcount[j])
			return tq_fail(err, TQ_INTERNAL, "database_error", "",
			               "the event counter of venue %d is missing", b->venues[j]);
	return 0;
}

/*
 * Whether the webhook outbox is to be written for venue's orders: when the
 * venue had live endpoints in the settings its requests were checked
 * against, or when those settings have moved since (an endpoint may have
 * been made meanwhile: look, to be sure). A venue without endpoints, the
 * usual case, so costs its batch no statement.
 */
static bool outbox_wanted(const struct batch *b, int venue)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct issue_req *r = b->reqs[i];
		if (b->included[i] && r->venue_id == venue &&
		    (r->outbox || r->settings_version != b->version))
			return true;
	}
	return false;
}

/* Step 3: creation events, keys, NOTIFYs and COMMIT. */
static int finish_batch(struct store_conn *c, struct batch *b, struct sql_stmt *st, const char **p,
                        struct tq_error *err)
{
	static const char events_sql[] =
	    "INSERT INTO events (venue_id, id, order_id, kind, status, previous_status, at) "
	    "VALUES ($1, $2, $3, 'token', 'PENDING', NULL, $4)";
	static const char keys_sql[] =
	    "UPDATE idempotency_keys SET order_id = $2 WHERE venue_id = $3 AND key = $1";
	static const char print_sql[] = "INSERT INTO print_jobs (venue_id, order_id, next_at, "
	                                "queued_at) VALUES ($1, $2, $3, $3)";
	static const char commit_sql[] = "COMMIT";
	int64_t *next = calloc(b->nvenues + 1, sizeof(*next)); /* per venue: its next count */
	size_t i, j, ns = 0, np = 0;
	bool fail_before_commit = store_fault("after_events");

	if (next == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	for (j = 0; j < b->nvenues; j++)
		next[j] = b->vlast[j] - b->vcount[j] + 1;
	for (i = 0; i < b->n; i++) {
		const struct issue_req *r = b->reqs[i];
		if (!b->included[i])
			continue;
		j = venue_index(b, r->venue_id);
		p[np] = bnum(b, r->venue_id);
		p[np + 1] = bnum(b, store_event_id(r->venue_id, next[j]++));
		p[np + 2] = bnum(b, r->order_id);
		p[np + 3] = bnum(b, r->now);
		st[ns++] = (struct sql_stmt){events_sql, 4, &p[np]};
		np += 4;
		if (r->in->print) { /* the venue, order id and time, as the event has them */
			p[np] = p[np - 4];
			p[np + 1] = p[np - 2];
			p[np + 2] = p[np - 1];
			st[ns++] = (struct sql_stmt){print_sql, 3, &p[np]};
			np += 3;
		}
		if (r->idem_key != NULL) {
			p[np] = r->idem_key;
			p[np + 1] = bnum(b, r->order_id);
			p[np + 2] = bnum(b, r->venue_id);
			st[ns++] = (struct sql_stmt){keys_sql, 3, &p[np]};
			np += 3;
		}
	}
	free(next);
	for (j = 0; j < b->nvenues; j++) {
		size_t len = strlen(b->notify);
		if (outbox_wanted(b, b->venues[j])) {
			p[np] =
			    bnum(b, store_event_id(b->venues[j], b->vlast[j] - b->vcount[j] + 1));
			p[np + 1] = bnum(b, store_event_id(b->venues[j], b->vlast[j]));
			p[np + 2] = bnum(b, b->venues[j]);
			st[ns++] = (struct sql_stmt){store_outbox_sql, 3, &p[np]};
			np += 3;
		}
		snprintf(b->notify + len, NOTIFY_MAX - len, "%s%d", len ? "," : "", b->venues[j]);
	}
	/* One NOTIFY for the batch: its payload lists the venues written (all, when too many). */
	if (c->be->notify_sql != NULL) {
		p[np] = strlen(b->notify) >= NOTIFY_MAX - 8 ? "0" : b->notify;
		st[ns++] = (struct sql_stmt){c->be->notify_sql, 1, &p[np++]};
	}
	if (!fail_before_commit)
		st[ns++] = (struct sql_stmt){commit_sql, 0, NULL};
	if (sql_exec_batch(c, st, (int)ns, NULL, NULL, err) != 0)
		return -1;
	return sql_fault("after_events", err);
}

/* Answers a request whose key another transaction had claimed. */
static void answer_from_key(struct store_conn *c, struct issue_req *r)
{
	char hash[65];
	int64_t order_id = 0;
	int found = store_idem_find(c, r->venue_id, r->idem_key, hash, &order_id, &r->err);

	if (found < 0) {
		r->outcome = ISSUE_FAILED;
	} else if (found == 0 || order_id <= 0) {
		r->outcome = ISSUE_FAILED;
		tq_fail(&r->err, TQ_CONFLICT, "idempotency_key_in_use", "Idempotency-Key",
		        "another request with this Idempotency-Key is still running; retry");
	} else if (strcmp(hash, r->idem_hash) != 0) {
		r->outcome = ISSUE_FAILED;
		tq_fail(&r->err, TQ_INVALID, "idempotency_key_reused", "Idempotency-Key",
		        "this Idempotency-Key was used with another request body");
	} else {
		r->outcome = ISSUE_REPLAYED;
		r->order_id = order_id;
	}
}

int store_issue_batch(struct store_conn *c, struct issue_req *const *reqs, size_t n,
                      struct tq_error *err)
{
	struct batch b;
	struct sql_stmt *st = NULL;
	const char **p = NULL;
	size_t i, count = 0;
	bool begun = false;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	b.reqs = reqs;
	b.n = n;
	b.included = calloc(n + 1, sizeof(*b.included));
	b.stmt_req = calloc(n + 1, sizeof(*b.stmt_req));
	b.nums = calloc(12 * n + 8, sizeof(*b.nums));
	b.venues = calloc(n + 1, sizeof(*b.venues));
	b.vcount = calloc(n + 1, sizeof(*b.vcount));
	b.vlast = calloc(n + 1, sizeof(*b.vlast));
	st = calloc(6 * n + 8, sizeof(*st));
	p = calloc(18 * n + 16, sizeof(*p));
	if (b.included == NULL || b.stmt_req == NULL || b.nums == NULL || b.venues == NULL ||
	    b.vcount == NULL || b.vlast == NULL || st == NULL || p == NULL) {
		tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		reqs[i]->order_id = 0;
		reqs[i]->sequence = 0;
		reqs[i]->outcome = ISSUE_FAILED;
		tq_error_clear(&reqs[i]->err);
	}
	if (claim_keys(c, &b, st, p, err) != 0)
		goto rollback;
	begun = b.nstmt_req > 0;
	for (i = 0; i < n; i++)
		count += (size_t)b.included[i];
	if (count > 0) {
		batch_venues(&b);
		b.nnums = 0;
		if (insert_orders(c, &b, !begun, st, p, err) != 0)
			goto rollback;
		b.nnums = 0;
		if (finish_batch(c, &b, st, p, err) != 0)
			goto rollback;
	} else if (begun && sql_commit(c, err) != 0) {
		goto rollback;
	}
	for (i = 0; i < n; i++) {
		if (b.included[i])
			reqs[i]->outcome = ISSUE_CREATED;
		else
			answer_from_key(c, reqs[i]);
	}
	rc = 0;
	goto out;
rollback:
	sql_rollback(c);
	for (i = 0; i < n; i++) {
		reqs[i]->order_id = 0;
		reqs[i]->sequence = 0;
	}
out:
	free(b.included);
	free(b.stmt_req);
	free(b.nums);
	free(b.venues);
	free(b.vcount);
	free(b.vlast);
	free(st);
	free(p);
	return rc;
}

struct idem_row {
	char *hash;
	int64_t *order_id;
	int found;
};

static int idem_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct idem_row *r = ctx;

	(void)query;
	if (ncols < 2)
		return 1;
	store_copy_str(r->hash, 65, vals[0]);
	*r->order_id = store_i64(vals[1]);
	r->found = 1;
	return 0;
}

int store_idem_find(struct store_conn *c, int venue, const char *key, char hash[65],
                    int64_t *order_id, struct tq_error *err)
{
	static const char sql[] =
	    "SELECT request_hash, order_id FROM idempotency_keys WHERE venue_id = $2 AND key = $1";
	struct idem_row r = {hash, order_id, 0};
	struct numbuf nb;
	const char *p[2] = {key, store_num(&nb, venue)};

	*order_id = 0;
	hash[0] = '\0';
	if (sql_exec(c, sql, 2, p, idem_row, &r, err) != 0)
		return -1;
	return r.found;
}
