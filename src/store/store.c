/*
 * The store operations, written once over the SQL primitives of a backend
 * (see store.h). Everything that decides what a day's numbers are, when an
 * event id is taken, and what an idempotency key means lives here, so
 * SQLite and PostgreSQL cannot drift apart.
 *
 * Why event ids follow commit order: every transaction that records events
 * takes its ids from the single event_counter row (UPDATE ... RETURNING),
 * and holds that row's lock until it commits. On PostgreSQL the lock is
 * released only once the transaction is committed and visible, so a later
 * writer cannot take a larger id until the earlier one is visible; on
 * SQLite one writer at a time holds the database. So ids are gapless, and a
 * reader that has seen id N has already been able to see every id below N.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/token.h"
#include "store/rows.h"
#include "store/store.h"
#include "util/log.h"

struct store {
	const struct sql_backend *be;
	char *url;
};

struct store_conn {
	struct store *s;
	const struct sql_backend *be;
	void *db;
};

#define ORDER_COLS                                                                                 \
	"id, queue, business_date, sequence, status, items, total, note, created_at, updated_at, " \
	"ready_at"

#define EVENT_COLS                                                                                 \
	"e.id, e.kind, e.order_id, o.queue, o.business_date, o.sequence, e.status, "               \
	"e.previous_status, e.at"

int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || !((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return -1;
	if ((s[0] == '0' && s[1] != '\0') || (s[0] == '-' && s[1] == '0'))
		return -1; /* not canonical: keep "007" text */
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

int64_t store_i64(const char *s)
{
	int64_t v = 0;

	if (s != NULL && parse_i64(s, &v) != 0)
		v = 0;
	return v;
}

int store_grow(void **v, size_t sz, size_t n, size_t *cap)
{
	void *nv;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	nv = realloc(*v, nc * sz);
	if (nv == NULL)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

enum event_kind store_event_kind(const char *s)
{
	return s != NULL && strcmp(s, "recall") == 0 ? EV_RECALL : EV_TOKEN;
}

/* ---- opening and connecting ---- */

int store_open(const char *url, struct store **out, struct tq_error *err)
{
	struct store *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->url = strdup(url)) == NULL) {
		free(s);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	}
	if (strncmp(url, "sqlite:", 7) == 0)
		s->be = &sqlite_backend;
	else if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
		s->be = &pg_backend;
	else {
		store_free(s);
		return tq_fail(err, TQ_INVALID, "invalid_database", "database",
		               "the database URL must start with postgres://, postgresql:// or "
		               "sqlite:");
	}
	*out = s;
	return 0;
}

void store_free(struct store *s)
{
	if (s == NULL)
		return;
	free(s->url);
	free(s);
}

const struct sql_backend *store_backend(const struct store *s)
{
	return s->be;
}

const char *store_url(const struct store *s)
{
	return s->url;
}

int store_connect(struct store *s, struct store_conn **out, struct tq_error *err)
{
	return store_connect_as(s, NULL, out, err);
}

int store_connect_as(struct store *s, const char *purpose, struct store_conn **out,
                     struct tq_error *err)
{
	struct store_conn *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	c->s = s;
	c->be = s->be;
	if (c->be->connect(s->url, purpose, &c->db, err) != 0) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void store_disconnect(struct store_conn *c)
{
	if (c == NULL)
		return;
	c->be->disconnect(c->db);
	free(c);
}

void *store_conn_db(struct store_conn *c)
{
	return c->db;
}

const struct sql_backend *store_conn_backend(struct store_conn *c)
{
	return c->be;
}

int store_exec(struct store_conn *c, const char *sql, int n, const char *const *p, sql_row_fn row,
               void *ctx, struct tq_error *err)
{
	return c->be->exec(c->db, sql, n, p, row, ctx, err);
}

int store_ping(struct store_conn *c, struct tq_error *err)
{
	static const char sql[] = "SELECT 1";

	return store_exec(c, sql, 0, NULL, NULL, NULL, err);
}

/* ---- fault injection ---- */

static char fault_point[64];

void store_fault_set(const char *point)
{
	snprintf(fault_point, sizeof(fault_point), "%s", point ? point : "");
}

bool store_fault(const char *point)
{
	const char *env = getenv("TOKENQ_FAULT");

	return strcmp(fault_point, point) == 0 || (env != NULL && strcmp(env, point) == 0);
}

static int fault(const char *point, struct tq_error *err)
{
	if (!store_fault(point))
		return 0;
	return tq_fail(err, TQ_INTERNAL, "injected_fault", "", "fault injected at %s", point);
}

/* ---- reading rows ---- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static int parse_order(const char *const *v, struct order *o)
{
	memset(o, 0, sizeof(*o));
	o->id = store_i64(v[0]);
	copy_str(o->queue, sizeof(o->queue), v[1]);
	copy_str(o->business_date, sizeof(o->business_date), v[2]);
	o->sequence = store_i64(v[3]);
	if (v[4] == NULL || status_parse(v[4], &o->status) != 0)
		return -1;
	o->items_json = dup_or_null(v[5]);
	o->total = store_i64(v[6]);
	o->note = dup_or_null(v[7]);
	o->created_at = store_i64(v[8]);
	o->updated_at = store_i64(v[9]);
	o->ready_at = store_i64(v[10]);
	return o->items_json == NULL ? -1 : 0;
}

struct order_rows {
	struct order *v;
	size_t n, cap;
	int bad;
};

static int order_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct order_rows *r = ctx;

	(void)query;
	if (ncols < 11) {
		r->bad = 1;
		return 1;
	}
	if (store_grow((void **)&r->v, sizeof(*r->v), r->n, &r->cap) != 0) {
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

static void order_rows_free(struct order_rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		order_release(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Runs an order query that should find one row: 0, or TQ_NOT_FOUND. */
static int one_order(struct store_conn *c, const char *sql, int n, const char *const *p,
                     struct order *out, struct tq_error *err)
{
	struct order_rows r = {0};

	if (store_exec(c, sql, n, p, order_row, &r, err) != 0) {
		order_rows_free(&r);
		return -1;
	}
	if (r.bad) {
		order_rows_free(&r);
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

int store_i64_row(void *ctx, int query, int ncols, const char *const *vals)
{
	(void)query;
	if (ncols > 0 && vals[0] != NULL)
		*(int64_t *)ctx = store_i64(vals[0]);
	return 0;
}

/* ---- issuing orders ---- */

/*
 * A batch is written in three round trips on PostgreSQL (libpq pipelines;
 * on SQLite the same statements run in-process):
 *   1. BEGIN and the claims of the idempotency keys (only when keys are given);
 *   2. [BEGIN,] each (queue, day) counter moved forward by its number of
 *      orders, the event ids taken, and the orders inserted with numbers
 *      computed from the counter row;
 *   3. the creation events, the keys' order ids, the NOTIFY, and COMMIT.
 * The counter rows are locked from step 2 to the commit, so the numbers of
 * concurrent batches (from other servers) cannot interleave.
 */

const char *store_num(struct numbuf *b, int64_t v)
{
	snprintf(b->s, sizeof(b->s), "%" PRId64, v);
	return b->s;
}

/* Takes n event ids (the last write before commit); returns the first. */
static int take_event_ids(struct store_conn *c, int64_t n, int64_t *first, struct tq_error *err)
{
	static const char sql[] = "UPDATE event_counter SET last = last + $1 WHERE one = 1 "
	                          "RETURNING last";
	struct numbuf nb;
	const char *p[1] = {store_num(&nb, n)};
	int64_t last = -1;

	if (store_exec(c, sql, 1, p, store_i64_row, &last, err) != 0)
		return -1;
	if (last < n)
		return tq_fail(err, TQ_INTERNAL, "database_error", "",
		               "the event counter is missing");
	*first = last - n + 1;
	return 0;
}

/*
 * The webhook outbox: a delivery for every live endpoint that wants events of
 * ids $1..$2, written by the statement after the events' own, in the same
 * transaction, so no event can be committed without its deliveries (and a
 * rolled-back one leaves none). With no endpoints it inserts nothing.
 */
static const char outbox_sql[] =
    "INSERT INTO webhook_deliveries (endpoint_id, event_id, next_at) "
    "SELECT w.id, e.id, e.at FROM events e JOIN webhook_endpoints w ON w.revoked_at IS NULL "
    "AND (w.events & CASE e.kind WHEN 'recall' THEN 2 WHEN 'transfer' THEN 4 ELSE 1 END) <> 0 "
    "WHERE e.id BETWEEN $1 AND $2";

static int notify(struct store_conn *c, struct tq_error *err)
{
	if (c->be->notify_sql == NULL)
		return 0;
	return store_exec(c, c->be->notify_sql, 0, NULL, NULL, NULL, err);
}

struct batch {
	struct issue_req *const *reqs;
	size_t n;
	int *included;    /* per request: 1 while it is to be created */
	size_t *stmt_req; /* the request an order INSERT (or key claim) was for */
	size_t nstmt_req;
	size_t first_insert; /* index of the first order INSERT in its batch */
	int64_t event_last;  /* event_counter.last after taking the ids */
	char (*nums)[NUM_LEN];
	size_t nnums;
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
	    "INSERT INTO idempotency_keys (key, request_hash, created_at) VALUES ($1, $2, $3) "
	    "ON CONFLICT (key) DO NOTHING RETURNING key";
	size_t i, k = 0;

	st[0] = (struct sql_stmt){c->be->begin_sql, 0, NULL};
	for (i = 0; i < b->n; i++) {
		const struct issue_req *r = b->reqs[i];
		if (r->idem_key == NULL) {
			b->included[i] = 1;
			continue;
		}
		p[3 * k] = r->idem_key;
		p[3 * k + 1] = r->idem_hash;
		p[3 * k + 2] = bnum(b, r->now);
		b->stmt_req[k] = i;
		st[1 + k] = (struct sql_stmt){sql, 3, &p[3 * k]};
		k++;
	}
	b->nstmt_req = k;
	if (k == 0)
		return 0;
	return c->be->exec_batch(c->db, st, (int)(k + 1), claimed_row, b, err);
}

static bool same_day_queue(const struct issue_req *a, const struct issue_req *b)
{
	return strcmp(a->in->queue, b->in->queue) == 0 &&
	       strcmp(a->business_date, b->business_date) == 0;
}

static int group_cmp(const struct issue_req *a, const struct issue_req *b)
{
	int c = strcmp(a->in->queue, b->in->queue);

	return c != 0 ? c : strcmp(a->business_date, b->business_date);
}

static int insert_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct batch *b = ctx;
	size_t k;

	if (query == (int)b->first_insert - 1 && ncols >= 1) {
		b->event_last = store_i64(vals[0]); /* the event counter's RETURNING */
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
static int insert_orders(struct store_conn *c, struct batch *b, size_t count, bool begin,
                         struct sql_stmt *st, const char **p, struct tq_error *err)
{
	static const char counter_sql[] =
	    "INSERT INTO counters (queue, business_date, last) VALUES ($1, $2, $3) "
	    "ON CONFLICT (queue, business_date) DO UPDATE SET last = counters.last + excluded.last "
	    "RETURNING last";
	static const char events_sql[] = "UPDATE event_counter SET last = last + $1 WHERE one = 1 "
	                                 "RETURNING last";
	static const char order_sql[] =
	    "INSERT INTO orders (queue, business_date, sequence, status, items, total, note, "
	    "created_at, updated_at) SELECT queue, business_date, last - $3, 'PENDING', $4, $5, "
	    "$6, "
	    "$7, $7 FROM counters WHERE queue = $1 AND business_date = $2 RETURNING id, sequence";
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
		st[ns++] = (struct sql_stmt){counter_sql, 3, &p[np]};
		np += 3;
	}
	split = ns;
	p[np] = bnum(b, (int64_t)count);
	st[ns++] = (struct sql_stmt){events_sql, 1, &p[np]};
	np += 1;
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
		st[ns++] = (struct sql_stmt){order_sql, 7, &p[np]};
		b->stmt_req[b->nstmt_req++] = i;
		np += 7;
	}
	free(after);
	free(counted);
	if (store_fault("after_counter")) {
		if (c->be->exec_batch(c->db, st, (int)split, NULL, NULL, err) != 0)
			return -1;
		return fault("after_counter", err);
	}
	if (c->be->exec_batch(c->db, st, (int)ns, insert_row, b, err) != 0)
		return -1;
	for (i = 0; i < b->nstmt_req; i++)
		if (b->reqs[b->stmt_req[i]]->order_id <= 0 ||
		    b->reqs[b->stmt_req[i]]->sequence <= 0)
			return tq_fail(err, TQ_INTERNAL, "database_error", "",
			               "an order was not stored");
	if (b->event_last < (int64_t)count)
		return tq_fail(err, TQ_INTERNAL, "database_error", "",
		               "the event counter is missing");
	return 0;
}

/* Step 3: creation events, keys, NOTIFY and COMMIT. */
static int finish_batch(struct store_conn *c, struct batch *b, size_t count, struct sql_stmt *st,
                        const char **p, struct tq_error *err)
{
	static const char events_sql[] =
	    "INSERT INTO events (id, order_id, kind, status, previous_status, at) "
	    "VALUES ($1, $2, 'token', 'PENDING', NULL, $3)";
	static const char keys_sql[] = "UPDATE idempotency_keys SET order_id = $2 WHERE key = $1";
	static const char commit_sql[] = "COMMIT";
	int64_t first = b->event_last - (int64_t)count + 1;
	size_t i, k = 0, ns = 0, np = 0;
	bool fail_before_commit = store_fault("after_events");

	for (i = 0; i < b->n; i++) {
		const struct issue_req *r = b->reqs[i];
		if (!b->included[i])
			continue;
		p[np] = bnum(b, first + (int64_t)k++);
		p[np + 1] = bnum(b, r->order_id);
		p[np + 2] = bnum(b, r->now);
		st[ns++] = (struct sql_stmt){events_sql, 3, &p[np]};
		np += 3;
		if (r->idem_key != NULL) {
			p[np] = r->idem_key;
			p[np + 1] = bnum(b, r->order_id);
			st[ns++] = (struct sql_stmt){keys_sql, 2, &p[np]};
			np += 2;
		}
	}
	p[np] = bnum(b, first);
	p[np + 1] = bnum(b, b->event_last);
	st[ns++] = (struct sql_stmt){outbox_sql, 2, &p[np]};
	np += 2;
	if (c->be->notify_sql != NULL)
		st[ns++] = (struct sql_stmt){c->be->notify_sql, 0, NULL};
	if (!fail_before_commit)
		st[ns++] = (struct sql_stmt){commit_sql, 0, NULL};
	if (c->be->exec_batch(c->db, st, (int)ns, NULL, NULL, err) != 0)
		return -1;
	return fault("after_events", err);
}

/* Answers a request whose key another transaction had claimed. */
static void answer_from_key(struct store_conn *c, struct issue_req *r)
{
	char hash[65];
	int64_t order_id = 0;
	int found = store_idem_find(c, r->idem_key, hash, &order_id, &r->err);

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
	b.nums = calloc(6 * n + 8, sizeof(*b.nums));
	st = calloc(3 * n + 8, sizeof(*st));
	p = calloc(12 * n + 16, sizeof(*p));
	if (b.included == NULL || b.stmt_req == NULL || b.nums == NULL || st == NULL || p == NULL) {
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
		b.nnums = 0;
		if (insert_orders(c, &b, count, !begun, st, p, err) != 0)
			goto rollback;
		b.nnums = 0;
		if (finish_batch(c, &b, count, st, p, err) != 0)
			goto rollback;
	} else if (begun && c->be->commit(c->db, err) != 0) {
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
	c->be->rollback(c->db);
	for (i = 0; i < n; i++) {
		reqs[i]->order_id = 0;
		reqs[i]->sequence = 0;
	}
out:
	free(b.included);
	free(b.stmt_req);
	free(b.nums);
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
	copy_str(r->hash, 65, vals[0]);
	*r->order_id = store_i64(vals[1]);
	r->found = 1;
	return 0;
}

int store_idem_find(struct store_conn *c, const char *key, char hash[65], int64_t *order_id,
                    struct tq_error *err)
{
	static const char sql[] =
	    "SELECT request_hash, order_id FROM idempotency_keys WHERE key = $1";
	struct idem_row r = {hash, order_id, 0};
	const char *p[1] = {key};

	*order_id = 0;
	hash[0] = '\0';
	if (store_exec(c, sql, 1, p, idem_row, &r, err) != 0)
		return -1;
	return r.found;
}

/* ---- reading and changing orders ---- */

int store_get_order(struct store_conn *c, int64_t id, struct order *out, struct tq_error *err)
{
	static const char sql[] = "SELECT " ORDER_COLS " FROM orders WHERE id = $1";
	struct numbuf nb;
	const char *p[1] = {store_num(&nb, id)};

	return one_order(c, sql, 1, p, out, err);
}

static int record_event(struct store_conn *c, int64_t order_id, const char *kind,
                        const char *status, const char *previous, int64_t now, struct tq_error *err)
{
	static const char sql[] =
	    "INSERT INTO events (id, order_id, kind, status, previous_status, "
	    "at) VALUES ($1, $2, $3, $4, $5, $6)";
	struct numbuf nb[3];
	int64_t id = 0;
	const char *p[6];

	if (take_event_ids(c, 1, &id, err) != 0)
		return -1;
	p[0] = store_num(&nb[0], id);
	p[1] = store_num(&nb[1], order_id);
	p[2] = kind;
	p[3] = status;
	p[4] = previous;
	p[5] = store_num(&nb[2], now);
	if (store_exec(c, sql, 6, p, NULL, NULL, err) != 0)
		return -1;
	return store_exec(c, outbox_sql, 2, (const char *const[]){p[0], p[0]}, NULL, NULL, err);
}

/* One attempt; returns 1 when a concurrent change means it must be tried again. */
static int change_once(struct store_conn *c, int64_t id, enum order_status to, bool recall,
                       int64_t now, struct order *out, struct tq_error *err)
{
	static const char move_sql[] =
	    "UPDATE orders SET status = $2, updated_at = $3, ready_at = CASE WHEN $2 = 'READY' AND "
	    "ready_at IS NULL THEN $3 ELSE ready_at END WHERE id = $1 AND status = $4 "
	    "RETURNING " ORDER_COLS;
	static const char recall_sql[] = "UPDATE orders SET updated_at = $2 WHERE id = $1 AND "
	                                 "status = 'READY' RETURNING " ORDER_COLS;
	struct order cur;
	struct numbuf nb[2];
	const char *p[4];
	int rc;

	if (c->be->begin(c->db, true, err) != 0)
		return -1;
	if (store_get_order(c, id, &cur, err) != 0)
		goto rollback;
	if (recall ? cur.status != ST_READY : !status_can_move(cur.status, to)) {
		if (recall)
			tq_fail(err, TQ_CONFLICT, "invalid_transition", "status",
			        "only a READY order can be recalled; this one is %s",
			        status_name(cur.status));
		else
			tq_fail(err, TQ_CONFLICT, "invalid_transition", "status",
			        "an order that is %s cannot become %s", status_name(cur.status),
			        status_name(to));
		order_release(&cur);
		goto rollback;
	}
	p[0] = store_num(&nb[0], id);
	if (recall) {
		p[1] = store_num(&nb[1], now);
		rc = one_order(c, recall_sql, 2, p, out, err);
	} else {
		p[1] = status_name(to);
		p[2] = store_num(&nb[1], now);
		p[3] = status_name(cur.status);
		rc = one_order(c, move_sql, 4, p, out, err);
	}
	if (rc != 0) {
		order_release(&cur);
		c->be->rollback(c->db);
		return err->status == TQ_NOT_FOUND ? 1 : -1;
	}
	if (record_event(c, id, recall ? "recall" : "token", status_name(out->status),
	                 status_name(cur.status), now, err) != 0 ||
	    notify(c, err) != 0) {
		order_release(&cur);
		order_release(out);
		goto rollback;
	}
	order_release(&cur);
	if (c->be->commit(c->db, err) != 0) {
		order_release(out);
		return -1;
	}
	return 0;
rollback:
	c->be->rollback(c->db);
	return -1;
}

int store_change_status(struct store_conn *c, int64_t id, enum order_status to, bool recall,
                        int64_t now, struct order *out, struct tq_error *err)
{
	int attempt, rc = -1;

	for (attempt = 0; attempt < 10; attempt++) {
		rc = change_once(c, id, to, recall, now, out, err);
		if (rc != 1)
			return rc;
	}
	return tq_fail(err, TQ_UNAVAILABLE, "database_unavailable", "",
	               "the order kept changing under concurrent updates; retry");
}

int store_list_orders(struct store_conn *c, const struct order_filter *f, struct order **out,
                      size_t *n, struct tq_error *err)
{
	static const char sql[] = "SELECT " ORDER_COLS " FROM orders WHERE business_date = $1 AND "
	                          "($2 = '' OR queue = $2) AND status IN ($3, $4, $5, $6, $7) AND "
	                          "id > $8 ORDER BY id LIMIT $9";
	struct order_rows r = {0};
	struct numbuf nb[2];
	const char *p[9];
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
	if (store_exec(c, sql, 9, p, order_row, &r, err) != 0 || r.bad) {
		if (r.bad)
			tq_fail(err, TQ_INTERNAL, "database_error", "", "an order row is damaged");
		order_rows_free(&r);
		return -1;
	}
	*out = r.v;
	*n = r.n;
	return 0;
}

int store_find_token(struct store_conn *c, const char *queue, const char *date, int64_t seq,
                     struct order *out, struct tq_error *err)
{
	static const char sql[] = "SELECT " ORDER_COLS " FROM orders WHERE queue = $1 AND "
	                          "business_date = $2 AND sequence = $3";
	struct numbuf nb;
	const char *p[3] = {queue, date, store_num(&nb, seq)};

	if (one_order(c, sql, 3, p, out, err) != 0) {
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
	    "SELECT count(*) FROM orders WHERE queue = $1 AND business_date = "
	    "$2 AND sequence < $3 AND status IN ('PENDING', 'PREPARING')";
	struct numbuf nb;
	const char *p[3] = {o->queue, o->business_date, store_num(&nb, o->sequence)};

	*ahead = 0;
	return store_exec(c, sql, 3, p, store_i64_row, ahead, err);
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

int store_recent_pace(struct store_conn *c, const char *queue, const char *date, struct pace *out,
                      struct tq_error *err)
{
	static const char sql[] =
	    "SELECT ready_at - created_at, ready_at FROM orders WHERE queue = "
	    "$1 AND business_date = $2 AND ready_at IS NOT NULL ORDER BY "
	    "ready_at DESC LIMIT 20";
	struct prep_rows r;
	const char *p[2] = {queue, date};
	int i;

	memset(&r, 0, sizeof(r));
	out->prep_seconds = out->gap_seconds = -1;
	if (store_exec(c, sql, 2, p, prep_row, &r, err) != 0)
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

/* ---- events ---- */

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
	if (ncols < 9)
		goto bad;
	if (store_grow((void **)&r->v, sizeof(*r->v), r->n, &r->cap) != 0)
		goto bad;
	e = &r->v[r->n];
	memset(e, 0, sizeof(*e));
	e->id = store_i64(vals[0]);
	e->kind = store_event_kind(vals[1]);
	e->order_id = store_i64(vals[2]);
	copy_str(e->queue, sizeof(e->queue), vals[3]);
	copy_str(e->business_date, sizeof(e->business_date), vals[4]);
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
	if (store_exec(c, sql, np, p, event_row, &r, err) != 0 || r.bad) {
		if (r.bad)
			tq_fail(err, TQ_INTERNAL, "database_error", "", "an event row is damaged");
		free(r.v);
		return -1;
	}
	*out = r.v;
	*n = r.n;
	return 0;
}

int store_last_event_id(struct store_conn *c, int64_t *id, struct tq_error *err)
{
	static const char sql[] = "SELECT last FROM event_counter WHERE one = 1";

	*id = 0;
	return store_exec(c, sql, 0, NULL, store_i64_row, id, err);
}

int store_events_after(struct store_conn *c, int64_t after_id, int limit, struct event **out,
                       size_t *n, struct tq_error *err)
{
	static const char sql[] = "SELECT " EVENT_COLS " FROM events e JOIN orders o ON o.id = "
	                          "e.order_id WHERE e.id > $1 ORDER BY e.id LIMIT $2";
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], after_id), store_num(&nb[1], limit)};

	return events_query(c, sql, 2, p, out, n, err);
}

int store_event_get(struct store_conn *c, int64_t id, struct event *out, struct tq_error *err)
{
	static const char sql[] = "SELECT " EVENT_COLS " FROM events e JOIN orders o ON o.id = "
	                          "e.order_id WHERE e.id = $1";
	struct numbuf nb;
	const char *p[1] = {store_num(&nb, id)};
	struct event *v;
	size_t n;

	if (events_query(c, sql, 1, p, &v, &n, err) != 0)
		return -1;
	if (n == 1)
		*out = v[0];
	free(v);
	if (n != 1)
		return tq_fail(err, TQ_NOT_FOUND, "not_found", "", "no event %" PRId64, id);
	return 0;
}

int store_order_history(struct store_conn *c, int64_t order_id, struct event **out, size_t *n,
                        struct tq_error *err)
{
	static const char sql[] = "SELECT " EVENT_COLS " FROM events e JOIN orders o ON o.id = "
	                          "e.order_id WHERE e.order_id = $1 ORDER BY e.id";
	struct numbuf nb;
	const char *p[1] = {store_num(&nb, order_id)};

	return events_query(c, sql, 1, p, out, n, err);
}

/* ---- API keys ---- */

static const char *const role_names[] = {"pos", "staff", "admin"};

const char *role_name(enum role r)
{
	return (unsigned)r <= ROLE_ADMIN ? role_names[r] : "unknown";
}

int role_parse(const char *name, enum role *out)
{
	int i;

	for (i = 0; i <= ROLE_ADMIN; i++) {
		if (strcmp(name, role_names[i]) == 0) {
			*out = (enum role)i;
			return 0;
		}
	}
	return -1;
}

int store_key_create(struct store_conn *c, enum role role, const char *label, const char *hash,
                     int64_t now, int64_t *id, struct tq_error *err)
{
	static const char sql[] =
	    "INSERT INTO api_keys (role, label, hash, created_at) VALUES ($1, "
	    "$2, $3, $4) RETURNING id";
	struct numbuf nb;
	const char *p[4] = {role_name(role), label, hash, store_num(&nb, now)};

	*id = 0;
	return store_exec(c, sql, 4, p, store_i64_row, id, err);
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
	if (ncols < 6)
		goto bad;
	if (store_grow((void **)&r->v, sizeof(*r->v), r->n, &r->cap) != 0)
		goto bad;
	k = &r->v[r->n];
	k->id = store_i64(vals[0]);
	if (vals[1] == NULL || role_parse(vals[1], &k->role) != 0)
		goto bad;
	copy_str(k->label, sizeof(k->label), vals[2]);
	k->created_at = store_i64(vals[3]);
	k->last_used_at = store_i64(vals[4]);
	k->revoked_at = store_i64(vals[5]);
	r->n++;
	return 0;
bad:
	r->bad = 1;
	return 1;
}

static int keys_query(struct store_conn *c, const char *sql, int np, const char *const *p,
                      struct key_rows *r, struct tq_error *err)
{
	if (store_exec(c, sql, np, p, key_row, r, err) != 0 || r->bad) {
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
	static const char sql[] = "SELECT id, role, label, created_at, last_used_at, revoked_at "
	                          "FROM api_keys ORDER BY id";
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
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], id), store_num(&nb[1], now)};
	int64_t found = 0;

	if (store_exec(c, sql, 2, p, store_i64_row, &found, err) != 0)
		return -1;
	if (found == 0)
		return tq_fail(err, TQ_NOT_FOUND, "not_found", "",
		               "there is no key with id %" PRId64, id);
	return 0;
}

int store_key_find(struct store_conn *c, const char *hash, struct api_key *out,
                   struct tq_error *err)
{
	static const char sql[] = "SELECT id, role, label, created_at, last_used_at, revoked_at "
	                          "FROM api_keys WHERE hash = $1 AND revoked_at IS NULL";
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

	if (store_exec(c, sql, 0, NULL, store_i64_row, &n, err) != 0)
		return -1;
	*any = n > 0;
	return 0;
}

int store_key_touch(struct store_conn *c, int64_t id, int64_t now, struct tq_error *err)
{
	static const char sql[] = "UPDATE api_keys SET last_used_at = $2 WHERE id = $1";
	struct numbuf nb[2];
	const char *p[2] = {store_num(&nb[0], id), store_num(&nb[1], now)};

	return store_exec(c, sql, 2, p, NULL, NULL, err);
}
