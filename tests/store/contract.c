/*
 * The store contract suite: what every backend promises ("One
 * contract test suite runs against both backends"), run against the backend
 * named by TOKENQ_TEST_BACKEND (sqlite or postgresql; PostgreSQL needs
 * TOKENQ_TEST_PG, the URL of a server on which databases may be created).
 *
 * Every test gets a fresh database (SQLite: a file in a temporary directory;
 * PostgreSQL: CREATE DATABASE, dropped WITH (FORCE) afterwards), migrated
 * with migrate_apply unless the test is about migrations. Concurrency is
 * real: pthreads, each with its own store_conn, released together by a
 * barrier. Results are checked in the database itself, with SQL run through
 * the backend's own primitives. Threads never assert: they record what
 * happened and the main thread checks it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "domain/issuer.h"
#include "domain/orders.h"
#include "domain/order.h"
#include "domain/status.h"
#include "store/migrate.h"
#include "store/reports.h"
#include "store/store-internal.h"
#include "store/store.h"
#include "util/config.h"
#include "util/embed.h"
#include "util/log.h"
#include "util/num.h"
#include "util/sha256.h"

static const char *backend;  /* "sqlite" or "postgresql" */
static const char *pg_admin; /* TOKENQ_TEST_PG */
static PGconn *admin;        /* for CREATE/DROP DATABASE */
static struct config cfg;    /* queues A..F */
static unsigned db_serial;

/* One test's database. */
struct db {
	char url[1200];
	char name[64]; /* PostgreSQL database */
	char dir[64];  /* SQLite temporary directory */
	struct store *s;
	struct store_conn *c;
};

static double seconds_since(int64_t start_ms)
{
	return (double)(mono_ms() - start_ms) / 1000.0;
}

/* ---- fresh databases ---- */

static int pg_admin_exec(const char *sql)
{
	PGresult *res = PQexec(admin, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "contract: %s: %s", sql, PQerrorMessage(admin));
	PQclear(res);
	return ok ? 0 : -1;
}

/* The admin URL with its database name replaced by name. */
static int pg_url(const char *name, char *out, size_t n)
{
	const char *scheme = strstr(pg_admin, "://");
	const char *path, *query;
	int len;

	if (scheme == NULL)
		return -1;
	path = strchr(scheme + 3, '/');
	query = strchr(scheme + 3, '?');
	if (path != NULL && query != NULL && query < path)
		path = NULL;
	if (path == NULL)
		len = snprintf(out, n, "%.*s/%s%s",
		               (int)(query ? (size_t)(query - pg_admin) : strlen(pg_admin)),
		               pg_admin, name, query ? query : "");
	else
		len = snprintf(out, n, "%.*s/%s%s", (int)(path - pg_admin), pg_admin, name,
		               query ? query : "");
	return len > 0 && (size_t)len < n ? 0 : -1;
}

static int db_create(struct db **out)
{
	struct db *d = calloc(1, sizeof(*d));
	char sql[128];

	*out = NULL;
	if (d == NULL)
		return -1;
	if (strcmp(backend, "sqlite") == 0) {
		snprintf(d->dir, sizeof(d->dir), "/tmp/tq-contract-XXXXXX");
		if (mkdtemp(d->dir) == NULL) {
			free(d);
			return -1;
		}
		snprintf(d->url, sizeof(d->url), "sqlite:%s/test.db", d->dir);
	} else {
		snprintf(d->name, sizeof(d->name), "tq_contract_%ld_%u", (long)getpid(),
		         ++db_serial);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", d->name);
		if (pg_admin_exec(sql) != 0 || pg_url(d->name, d->url, sizeof(d->url)) != 0) {
			free(d);
			return -1;
		}
	}
	*out = d;
	return 0;
}

static void db_destroy(struct db *d)
{
	char path[128], sql[160];
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	size_t i;

	if (d == NULL)
		return;
	store_disconnect(d->c);
	store_free(d->s);
	if (d->dir[0]) {
		for (i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/test.db%s", d->dir, suffixes[i]);
			unlink(path);
		}
		rmdir(d->dir);
	}
	if (d->name[0]) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->name);
		pg_admin_exec(sql);
	}
	free(d);
}

static int64_t test_started;

static int setup_empty(void **state)
{
	struct db *d;
	struct tq_error err;

	test_started = mono_ms();

	if (db_create(&d) != 0)
		return -1;
	if (store_open(d->url, &d->s, &err) != 0 || store_connect(d->s, &d->c, &err) != 0) {
		fprintf(stderr, "contract: cannot open %s: %s\n", d->url, err.detail);
		db_destroy(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int setup_migrated(void **state)
{
	struct tq_error err;
	int applied;

	if (setup_empty(state) != 0)
		return -1;
	if (migrate_apply(((struct db *)*state)->c, &applied, &err) != 0) {
		fprintf(stderr, "contract: migrate_apply: %s\n", err.detail);
		db_destroy(*state);
		return -1;
	}
	return 0;
}

static void inputs_free_leftovers(void);

static int teardown(void **state)
{
	inputs_free_leftovers();
	migrate_set_source(NULL);
	store_fault_set(NULL);
	db_destroy(*state);
	printf("  (%.2f s)\n", seconds_since(test_started));
	fflush(stdout);
	return 0;
}

/* ---- SQL through the backend's primitives ---- */

/* Up to 8 integers of the first row (-1 for NULL), and the number of rows. */
struct ints {
	int64_t v[8];
	int rows;
};

static int ints_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct ints *r = ctx;
	int i;

	(void)query;
	if (r->rows++ > 0)
		return 0;
	for (i = 0; i < ncols && i < 8; i++)
		r->v[i] = vals[i] ? strtoll(vals[i], NULL, 10) : -1;
	return 0;
}

/* sql must be a static array: the backends cache statements by its address. */
static struct ints q(struct store_conn *c, const char *sql, int np, const char *const *p)
{
	struct ints r;
	struct tq_error err;

	memset(&r, 0, sizeof(r));
	tq_error_clear(&err);
	if (store_conn_backend(c)->exec(store_conn_db(c), sql, np, p, ints_row, &r, &err) != 0)
		fail_msg("query failed: %s: %s", sql, err.detail);
	return r;
}

static int64_t q1(struct store_conn *c, const char *sql, int np, const char *const *p)
{
	return q(c, sql, np, p).v[0];
}

/* The orders of a queue and day carry exactly 1..n, each once, and the counter says n. */
static void expect_gapless(struct store_conn *c, const char *queue, const char *date, int64_t n)
{
	static const char orders_sql[] =
	    "SELECT count(*), count(DISTINCT sequence), min(sequence), max(sequence) FROM orders "
	    "WHERE queue = $1 AND business_date = $2";
	static const char counter_sql[] =
	    "SELECT last FROM counters WHERE queue = $1 AND business_date = $2";
	const char *p[2] = {queue, date};
	struct ints o = q(c, orders_sql, 2, p), k = q(c, counter_sql, 2, p);

	if (o.v[0] != n || o.v[1] != n || (n > 0 && (o.v[2] != 1 || o.v[3] != n)))
		fail_msg("%s %s: %" PRId64 " orders, %" PRId64 " distinct numbers from %" PRId64
		         " to %" PRId64 "; expected 1..%" PRId64,
		         queue, date, o.v[0], o.v[1], o.v[2], o.v[3], n);
	if (n == 0)
		assert_int_equal(k.rows, 0);
	else if (k.rows != 1 || k.v[0] != n)
		fail_msg("%s %s: the counter says %" PRId64 " (%d rows), expected %" PRId64, queue,
		         date, k.v[0], k.rows, n);
}

static int64_t count_orders(struct store_conn *c)
{
	static const char sql[] = "SELECT count(*) FROM orders";

	return q1(c, sql, 0, NULL);
}

static int64_t count_events(struct store_conn *c)
{
	static const char sql[] = "SELECT count(*) FROM events";

	return q1(c, sql, 0, NULL);
}

static int table_exists(struct store_conn *c, const char *table)
{
	static const char sqlite_sql[] =
	    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
	static const char pg_sql[] =
	    "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN "
	    "('pg_catalog', 'information_schema') AND table_name = $1";
	const char *p[1] = {table};

	return (int)q1(c, strcmp(backend, "sqlite") == 0 ? sqlite_sql : pg_sql, 1, p);
}

/* ---- orders to issue ---- */

/*
 * Inputs are made with make_input and released with input_release; what a failed test
 * left behind (cmocka leaves the test function at the failure) is freed by the teardown,
 * so that a failure does not also show up as a leak.
 */
static char *input_strings[256];

static void input_release(struct order_input *in)
{
	size_t i;

	for (i = 0; i < sizeof(input_strings) / sizeof(input_strings[0]); i++)
		if (input_strings[i] != NULL &&
		    (input_strings[i] == in->items_json || input_strings[i] == in->note))
			input_strings[i] = NULL;
	order_input_release(in);
}

static void inputs_free_leftovers(void)
{
	size_t i;

	for (i = 0; i < sizeof(input_strings) / sizeof(input_strings[0]); i++) {
		free(input_strings[i]);
		input_strings[i] = NULL;
	}
}

static void input_track(char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof(input_strings) / sizeof(input_strings[0]); i++) {
		if (input_strings[i] == NULL) {
			input_strings[i] = s;
			return;
		}
	}
}

/* A real order input, through order_validate. */
static void make_input(const char *queue, const char *note, struct order_input *in)
{
	struct tq_error err;
	json_t *body =
	    json_pack("{s:s, s:[{s:s, s:i, s:i}, {s:s, s:i, s:i}]}", "queue", queue, "items",
	              "name", "Masala tea", "quantity", 2, "unit_price", 150, "name",
	              "Samosa \xf0\x9f\xa5\x9f", "quantity", 1, "unit_price", 99);

	assert_non_null(body);
	if (note)
		json_object_set_new(body, "note", json_string(note));
	if (order_validate(body, &cfg, in, &err) != 0)
		fail_msg("order_validate: %s", err.detail);
	json_decref(body);
	input_track(in->items_json);
	input_track(in->note);
}

static void req_init(struct issue_req *r, const struct order_input *in, const char *date,
                     const char *key, const char *body)
{
	memset(r, 0, sizeof(*r));
	r->in = in;
	r->idem_key = key;
	if (key)
		sha256_hex(body, strlen(body), r->idem_hash);
	r->now = now_ms();
	snprintf(r->business_date, sizeof(r->business_date), "%.10s", date);
}

/* Issues one order on c; returns the outcome, with the number and id. */
static struct issue_req issue1(struct store_conn *c, const struct order_input *in, const char *date,
                               const char *key, const char *body, int *rc)
{
	struct issue_req r, *rp = &r;
	struct tq_error err;

	req_init(&r, in, date, key, body);
	tq_error_clear(&err);
	*rc = store_issue_batch(c, &rp, 1, &err);
	if (*rc != 0) {
		r.outcome = ISSUE_FAILED;
		r.err = err;
	}
	return r;
}

static int64_t issue_ok(struct store_conn *c, const struct order_input *in, const char *date)
{
	int rc;
	struct issue_req r = issue1(c, in, date, NULL, NULL, &rc);

	if (rc != 0 || r.outcome != ISSUE_CREATED)
		fail_msg("issue failed: %s", r.err.detail);
	assert_true(r.order_id > 0);
	return r.sequence;
}

/* ---- threads ---- */

static void run_threads(int n, void *(*fn)(void *), void *arr, size_t size)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	int i;

	assert_non_null(t);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fn, (char *)arr + (size_t)i * size),
		                 0);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* A thread that issues count orders, through the issuer or on its own connection. */
struct issuer_worker {
	struct db *db;
	struct issuer *is; /* NULL: store_issue_batch(n=1) on an own connection */
	const struct order_input *in;
	const char *date;
	const char *key, *body; /* Idempotency-Key and the body it hashes, or NULL */
	int count;
	pthread_barrier_t *bar;
	/* out, count entries each */
	int64_t *seq, *id, *lat;
	enum issue_outcome *outcome;
	enum tq_status *status;
	const char **code;
	char error[300];
};

static void *issue_thread(void *arg)
{
	struct issuer_worker *w = arg;
	struct store_conn *c = NULL;
	struct tq_error err;
	int i;

	tq_error_clear(&err);
	if (w->is == NULL && store_connect(w->db->s, &c, &err) != 0)
		snprintf(w->error, sizeof(w->error), "connect: %s", err.detail);
	pthread_barrier_wait(w->bar);
	for (i = 0; i < w->count; i++) {
		struct issue_req r, *rp = &r;
		int64_t t0 = mono_ms();

		req_init(&r, w->in, w->date, w->key, w->body);
		if (w->is != NULL) {
			issuer_issue(w->is, &r);
		} else if (c == NULL) {
			r.outcome = ISSUE_FAILED;
			r.err = err;
		} else if (store_issue_batch(c, &rp, 1, &err) != 0) {
			r.outcome = ISSUE_FAILED;
			r.err = err;
		}
		w->lat[i] = mono_ms() - t0;
		w->seq[i] = r.outcome == ISSUE_CREATED ? r.sequence : 0;
		w->id[i] = r.order_id;
		w->outcome[i] = r.outcome;
		w->status[i] = r.err.status;
		w->code[i] = r.err.code;
		if (r.outcome == ISSUE_FAILED && w->error[0] == '\0')
			snprintf(w->error, sizeof(w->error), "%s: %s",
			         r.err.code ? r.err.code : "?", r.err.detail);
	}
	store_disconnect(c);
	return NULL;
}

struct run_result {
	int created, replayed, failed;
	double seconds;
	int64_t p50, p99, max; /* latency of one order, ms */
	int64_t first_id;      /* the id of the first created order */
	char error[300];
};

/* Runs nthreads issuing threads of count orders each, released together; frees everything. */
static struct run_result run_issuers(struct db *d, struct issuer *is, int nthreads, int count,
                                     const struct order_input *in, const char *date,
                                     const char *key, const char *body, int64_t *seqs_out,
                                     int64_t *ids_out, enum tq_status *status_out,
                                     const char **code_out)
{
	struct issuer_worker *w = calloc((size_t)nthreads, sizeof(*w));
	pthread_barrier_t bar;
	struct run_result res;
	int64_t start, *lat = calloc((size_t)nthreads * (size_t)count, sizeof(int64_t));
	int i, k;

	memset(&res, 0, sizeof(res));
	assert_non_null(w);
	assert_non_null(lat);
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		w[i].db = d;
		w[i].is = is;
		w[i].in = in;
		w[i].date = date;
		w[i].key = key;
		w[i].body = body;
		w[i].count = count;
		w[i].bar = &bar;
		w[i].seq = calloc((size_t)count, sizeof(int64_t));
		w[i].id = calloc((size_t)count, sizeof(int64_t));
		w[i].lat = calloc((size_t)count, sizeof(int64_t));
		w[i].outcome = calloc((size_t)count, sizeof(enum issue_outcome));
		w[i].status = calloc((size_t)count, sizeof(enum tq_status));
		w[i].code = calloc((size_t)count, sizeof(const char *));
		assert_true(w[i].seq && w[i].id && w[i].lat && w[i].outcome && w[i].status &&
		            w[i].code);
	}
	{
		pthread_t *t = calloc((size_t)nthreads, sizeof(*t));
		assert_non_null(t);
		for (i = 0; i < nthreads; i++)
			assert_int_equal(pthread_create(&t[i], NULL, issue_thread, &w[i]), 0);
		/* connections are made before the barrier, so they are not timed */
		pthread_barrier_wait(&bar);
		start = mono_ms();
		for (i = 0; i < nthreads; i++)
			pthread_join(t[i], NULL);
		res.seconds = seconds_since(start);
		free(t);
	}
	pthread_barrier_destroy(&bar);
	for (i = 0; i < nthreads; i++) {
		for (k = 0; k < count; k++) {
			size_t at = (size_t)i * (size_t)count + (size_t)k;
			lat[at] = w[i].lat[k];
			if (w[i].outcome[k] == ISSUE_CREATED) {
				res.created++;
				if (res.first_id == 0)
					res.first_id = w[i].id[k];
			} else if (w[i].outcome[k] == ISSUE_REPLAYED)
				res.replayed++;
			else
				res.failed++;
			if (seqs_out)
				seqs_out[at] = w[i].seq[k];
			if (ids_out)
				ids_out[at] = w[i].id[k];
			if (status_out)
				status_out[at] =
				    w[i].outcome[k] == ISSUE_FAILED ? w[i].status[k] : TQ_OK;
			if (code_out)
				code_out[at] = w[i].code[k];
		}
		if (w[i].error[0] && res.error[0] == '\0')
			memcpy(res.error, w[i].error, sizeof(res.error));
		free(w[i].seq);
		free(w[i].id);
		free(w[i].lat);
		free(w[i].outcome);
		free(w[i].status);
		free(w[i].code);
	}
	free(w);
	k = nthreads * count;
	qsort(lat, (size_t)k, sizeof(lat[0]), cmp_i64);
	res.p50 = lat[k / 2];
	res.p99 = lat[(k * 99) / 100];
	res.max = lat[k - 1];
	free(lat);
	return res;
}

/* seqs holds exactly the numbers 1..n, each once. */
static void expect_permutation(const int64_t *seqs, int64_t n)
{
	unsigned char *seen = calloc((size_t)n + 1, 1);
	int64_t i;

	assert_non_null(seen);
	for (i = 0; i < n; i++) {
		if (seqs[i] < 1 || seqs[i] > n)
			fail_msg("number %" PRId64 " issued, outside 1..%" PRId64, seqs[i], n);
		if (seen[seqs[i]]++)
			fail_msg("number %" PRId64 " issued twice", seqs[i]);
	}
	free(seen);
}

/* ---- 1. throughput and gapless numbers under load ---- */

#define LOAD_THREADS 32
#define LOAD_EACH    250

static void test_load_issuer(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct issuer *is;
	struct tq_error err;
	struct run_result r;
	long long batches, orders;
	int64_t *seqs = calloc(LOAD_THREADS * LOAD_EACH, sizeof(int64_t));

	assert_non_null(seqs);
	make_input("A", "load", &in);
	assert_int_equal(issuer_start(d->s, &is, &err), 0);
	r = run_issuers(d, is, LOAD_THREADS, LOAD_EACH, &in, "2030-01-01", NULL, NULL, seqs, NULL,
	                NULL, NULL);
	issuer_counts(is, &batches, &orders);
	issuer_stop(is);
	printf("throughput %s issuer: %d orders in %.2f s = %.0f orders/s (%lld batches; latency "
	       "p50 %" PRId64 " ms, p99 %" PRId64 " ms, max %" PRId64 " ms)\n",
	       backend, r.created, r.seconds, r.created / r.seconds, batches, r.p50, r.p99, r.max);
	fflush(stdout);
	if (r.failed)
		fail_msg("%d of %d orders failed: %s", r.failed, LOAD_THREADS * LOAD_EACH, r.error);
	assert_int_equal(r.created, LOAD_THREADS * LOAD_EACH);
	assert_int_equal(orders, LOAD_THREADS * LOAD_EACH);
	expect_permutation(seqs, LOAD_THREADS * LOAD_EACH);
	expect_gapless(d->c, "A", "2030-01-01", LOAD_THREADS * LOAD_EACH);
	assert_int_equal(count_events(d->c), LOAD_THREADS * LOAD_EACH);
	input_release(&in);
	free(seqs);
}

/*
 * One order per transaction from 32 connections. Every such transaction waits for the
 * previous commit (the day counter and the event counter are held to commit), so this
 * runs at one commit at a time: TOKENQ_TEST_DIRECT_EACH orders per thread (default 25,
 * the full run is 250) keep the suite short.
 */
static void test_load_direct(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct run_result r;
	const char *env = getenv("TOKENQ_TEST_DIRECT_EACH");
	long each = env ? strtol(env, NULL, 10) : 25;
	int total;
	int64_t *seqs;

	if (each < 1 || each > 10000)
		each = 25;
	total = LOAD_THREADS * (int)each;
	seqs = calloc((size_t)total, sizeof(int64_t));
	assert_non_null(seqs);
	make_input("B", NULL, &in);
	r = run_issuers(d, NULL, LOAD_THREADS, (int)each, &in, "2030-01-02", NULL, NULL, seqs, NULL,
	                NULL, NULL);
	printf("throughput %s direct (one order per transaction, %d connections): %d orders in "
	       "%.2f s = %.0f orders/s (latency p50 %" PRId64 " ms, p99 %" PRId64
	       " ms, max %" PRId64 " ms)\n",
	       backend, LOAD_THREADS, r.created, r.seconds, r.created / r.seconds, r.p50, r.p99,
	       r.max);
	fflush(stdout);
	if (r.failed)
		fail_msg("%d of %d orders failed: %s", r.failed, total, r.error);
	expect_permutation(seqs, total);
	expect_gapless(d->c, "B", "2030-01-02", total);
	expect_gapless(d->c, "A", "2030-01-02", 0);
	assert_int_equal(count_events(d->c), total);
	input_release(&in);
	free(seqs);
}

/* ---- 2. the first order of a fresh day, from many connections at once ---- */

static void test_first_of_day(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct run_result r;
	int64_t seqs[64];

	make_input("C", NULL, &in);
	r = run_issuers(d, NULL, 64, 1, &in, "2031-01-01", NULL, NULL, seqs, NULL, NULL, NULL);
	printf("first of day: 64 orders from 64 connections in %.2f s (latency p50 %" PRId64
	       " ms, max %" PRId64 " ms)\n",
	       r.seconds, r.p50, r.max);
	if (r.failed)
		fail_msg("%d of 64 first orders of the day failed: %s", r.failed, r.error);
	assert_int_equal(r.created, 64);
	expect_permutation(seqs, 64);
	expect_gapless(d->c, "C", "2031-01-01", 64);
	expect_gapless(d->c, "C", "2031-01-02", 0);
	input_release(&in);
}

/* ---- 3. failures leave no gap ---- */

static void test_fault_no_gap(void **state)
{
	static const char keys_sql[] = "SELECT count(*) FROM idempotency_keys WHERE key = $1";
	static const char points[2][16] = {"after_counter", "after_events"};
	struct db *d = *state;
	struct order_input in;
	struct issue_req r;
	int rc, p;
	int64_t expect = 0;
	const char *kp[1] = {"fault-key"};

	make_input("A", NULL, &in);
	assert_int_equal(issue_ok(d->c, &in, "2030-03-01"), ++expect);
	for (p = 0; p < 2; p++) {
		/* fails, as a whole */
		store_fault_set(points[p]);
		r = issue1(d->c, &in, "2030-03-01", NULL, NULL, &rc);
		assert_int_equal(rc, -1);
		assert_int_not_equal(r.outcome, ISSUE_CREATED);
		assert_int_equal(r.order_id, 0);
		assert_string_equal(r.err.code, "injected_fault");
		expect_gapless(d->c, "A", "2030-03-01", expect);
		assert_int_equal(count_events(d->c), expect);
		/* the first order of a day: not even the counter row is left */
		r = issue1(d->c, &in, "2030-03-02", NULL, NULL, &rc);
		assert_int_equal(rc, -1);
		expect_gapless(d->c, "A", "2030-03-02", 0);
		/* a keyed request does not use its key up */
		r = issue1(d->c, &in, "2030-03-01", "fault-key", "body", &rc);
		assert_int_equal(rc, -1);
		assert_int_equal(q1(d->c, keys_sql, 1, kp), 0);
		/* and after it, the next number */
		store_fault_set(NULL);
		assert_int_equal(issue_ok(d->c, &in, "2030-03-01"), ++expect);
		expect_gapless(d->c, "A", "2030-03-01", expect);
		assert_int_equal(count_events(d->c), expect);
		/* the store still works after the failed transaction */
		assert_int_equal(store_ping(d->c, &r.err), 0);
	}
	assert_int_equal(issue_ok(d->c, &in, "2030-03-02"), 1);
	expect_gapless(d->c, "A", "2030-03-02", 1);
	r = issue1(d->c, &in, "2030-03-01", "fault-key", "body", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.outcome, ISSUE_CREATED); /* not a replay: the key was never used */
	assert_int_equal(r.sequence, ++expect);
	expect_gapless(d->c, "A", "2030-03-01", expect);
	input_release(&in);
}

/* A batch that fails in the issuer fails every order in it, and leaves no gap either. */
static void test_fault_issuer(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct issuer *is;
	struct issue_req r;
	struct tq_error err;

	make_input("A", NULL, &in);
	assert_int_equal(issuer_start(d->s, &is, &err), 0);
	req_init(&r, &in, "2030-04-01", NULL, NULL);
	issuer_issue(is, &r);
	assert_int_equal(r.outcome, ISSUE_CREATED);
	assert_int_equal(r.sequence, 1);
	store_fault_set("after_counter");
	req_init(&r, &in, "2030-04-01", NULL, NULL);
	issuer_issue(is, &r);
	assert_int_equal(r.outcome, ISSUE_FAILED);
	assert_int_not_equal(r.err.status, TQ_OK);
	store_fault_set("after_events");
	req_init(&r, &in, "2030-04-01", NULL, NULL);
	issuer_issue(is, &r);
	assert_int_equal(r.outcome, ISSUE_FAILED);
	store_fault_set(NULL);
	req_init(&r, &in, "2030-04-01", NULL, NULL);
	issuer_issue(is, &r);
	assert_int_equal(r.outcome, ISSUE_CREATED);
	assert_int_equal(r.sequence, 2);
	issuer_stop(is);
	expect_gapless(d->c, "A", "2030-04-01", 2);
	input_release(&in);
}

/* One batch holding orders of two queues and two days numbers each (queue, day) on its own. */
static void test_mixed_batch(void **state)
{
	static const char *const queues[10] = {"A", "B", "A", "A", "B", "A", "B", "A", "B", "A"};
	static const char *const dates[10] = {
	    "2030-05-01", "2030-05-01", "2030-05-02", "2030-05-01", "2030-05-02",
	    "2030-05-01", "2030-05-01", "2030-05-02", "2030-05-02", "2030-05-01"};
	struct db *d = *state;
	struct order_input a, b;
	struct issue_req reqs[10], *rp[10];
	struct tq_error err;
	int64_t next[2][2] = {{2, 1}, {1, 1}}; /* [queue A/B][day 1/2]: A 2030-05-01 has one */
	int i;

	make_input("A", NULL, &a);
	make_input("B", NULL, &b);
	assert_int_equal(issue_ok(d->c, &a, "2030-05-01"), 1);
	for (i = 0; i < 10; i++) {
		req_init(&reqs[i], queues[i][0] == 'A' ? &a : &b, dates[i], NULL, NULL);
		rp[i] = &reqs[i];
	}
	assert_int_equal(store_issue_batch(d->c, rp, 10, &err), 0);
	for (i = 0; i < 10; i++) {
		int qi = queues[i][0] == 'B', di = strcmp(dates[i], "2030-05-02") == 0;
		assert_int_equal(reqs[i].outcome, ISSUE_CREATED);
		/* in request order within each (queue, day) */
		assert_int_equal(reqs[i].sequence, next[qi][di]++);
	}
	expect_gapless(d->c, "A", "2030-05-01", 5);
	expect_gapless(d->c, "B", "2030-05-01", 2);
	expect_gapless(d->c, "A", "2030-05-02", 2);
	expect_gapless(d->c, "B", "2030-05-02", 2);
	input_release(&a);
	input_release(&b);
}

struct async_done {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
};

static void on_done(struct issue_req *req, void *ctx)
{
	struct async_done *a = ctx;

	(void)req;
	pthread_mutex_lock(&a->lock);
	a->done++;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

/* Through the issuer: many queued orders of two queues and two days, batched together. */
static void test_mixed_issuer(void **state)
{
	enum { N = 400 };
	struct db *d = *state;
	struct order_input in[2];
	struct issue_req *reqs = calloc(N, sizeof(*reqs));
	struct async_done a = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	struct issuer *is;
	struct tq_error err;
	long long batches, orders;
	int i;

	assert_non_null(reqs);
	make_input("A", NULL, &in[0]);
	make_input("B", NULL, &in[1]);
	assert_int_equal(issuer_start(d->s, &is, &err), 0);
	for (i = 0; i < N; i++)
		req_init(&reqs[i], &in[i % 2], (i / 2) % 2 ? "2030-06-02" : "2030-06-01", NULL,
		         NULL);
	for (i = 0; i < N; i++)
		issuer_submit(is, &reqs[i], on_done, &a);
	pthread_mutex_lock(&a.lock);
	while (a.done < N)
		pthread_cond_wait(&a.cond, &a.lock);
	pthread_mutex_unlock(&a.lock);
	issuer_counts(is, &batches, &orders);
	issuer_stop(is);
	for (i = 0; i < N; i++)
		if (reqs[i].outcome != ISSUE_CREATED)
			fail_msg("order %d: %s", i, reqs[i].err.detail);
	assert_int_equal(orders, N);
	/* group commit did put several orders in one transaction */
	if (batches >= N)
		fail_msg("%lld batches for %d queued orders: no group commit", batches, N);
	expect_gapless(d->c, "A", "2030-06-01", N / 4);
	expect_gapless(d->c, "A", "2030-06-02", N / 4);
	expect_gapless(d->c, "B", "2030-06-01", N / 4);
	expect_gapless(d->c, "B", "2030-06-02", N / 4);
	input_release(&in[0]);
	input_release(&in[1]);
	free(reqs);
}

/*
 * Two writers issue batches holding orders of two queues, one A first and B last, the
 * other B first and A last. Whatever order the requests come in, no batch may fail: a
 * deadlock between the two (each holding one day counter and waiting for the other's)
 * would fail one. Between its first and last order each batch has MID orders of days
 * only it uses, which widens the window in which the two can cross.
 */
#define MID 12

struct cross_worker {
	struct db *db;
	const struct order_input *first, *mid, *last;
	const char *mid_month; /* "2030-08" or "2030-09": its own days */
	pthread_barrier_t *bar;
	int rounds, failed, done;
	char error[300];
};

static void *cross_thread(void *arg)
{
	struct cross_worker *w = arg;
	struct store_conn *c = NULL;
	struct tq_error err;
	char dates[MID][BIZDATE_LEN];
	int i, k;

	for (k = 0; k < MID; k++)
		snprintf(dates[k], sizeof(dates[k]), "%.7s-%02d", w->mid_month, (k + 1) % 100);
	if (store_connect(w->db->s, &c, &err) != 0) {
		snprintf(w->error, sizeof(w->error), "connect: %s", err.detail);
		w->failed = w->rounds;
	}
	pthread_barrier_wait(w->bar);
	for (i = 0; c != NULL && i < w->rounds; i++) {
		struct issue_req r[MID + 2], *rp[MID + 2];

		for (k = 0; k < MID + 2; k++)
			rp[k] = &r[k];
		req_init(&r[0], w->first, "2030-07-01", NULL, NULL);
		for (k = 0; k < MID; k++)
			req_init(&r[k + 1], w->mid, dates[k], NULL, NULL);
		req_init(&r[MID + 1], w->last, "2030-07-01", NULL, NULL);
		if (store_issue_batch(c, rp, MID + 2, &err) != 0) {
			if (w->failed++ == 0)
				snprintf(w->error, sizeof(w->error), "%s", err.detail);
			break; /* one is enough to know, and each costs a deadlock_timeout */
		}
		w->done++;
	}
	store_disconnect(c);
	return NULL;
}

static void test_batches_cross_queues(void **state)
{
	enum { ROUNDS = 150 };
	struct db *d = *state;
	struct order_input a, b, c;
	struct cross_worker w[2];
	pthread_barrier_t bar;
	int i, failed = 0, done = 0;
	const char *error = "";

	make_input("A", NULL, &a);
	make_input("B", NULL, &b);
	make_input("C", NULL, &c);
	pthread_barrier_init(&bar, NULL, 2);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 2; i++) {
		w[i].db = d;
		w[i].first = i ? &b : &a;
		w[i].mid = &c;
		w[i].last = i ? &a : &b;
		w[i].mid_month = i ? "2030-09" : "2030-08";
		w[i].bar = &bar;
		w[i].rounds = ROUNDS;
	}
	run_threads(2, cross_thread, w, sizeof(w[0]));
	pthread_barrier_destroy(&bar);
	for (i = 0; i < 2; i++) {
		failed += w[i].failed;
		done += w[i].done;
		if (w[i].failed && !error[0])
			error = w[i].error;
	}
	expect_gapless(d->c, "A", "2030-07-01", done);
	expect_gapless(d->c, "B", "2030-07-01", done);
	expect_gapless(d->c, "C", "2030-08-01", w[0].done);
	expect_gapless(d->c, "C", "2030-09-12", w[1].done);
	if (failed)
		fail_msg("%d two-queue batches failed (%d committed); store.c take_numbers takes "
		         "the day counters in request order, so an A..B batch and a B..A batch "
		         "deadlock: %s",
		         failed, done, error);
	input_release(&a);
	input_release(&b);
	input_release(&c);
}

/* ---- 4. idempotency ---- */

static const char idem_body[] = "{\"items\":[{\"name\":\"Masala tea\",\"quantity\":2}]}";

static void test_idempotency_direct(void **state)
{
	static const char key_sql[] =
	    "SELECT count(*), min(order_id) FROM idempotency_keys WHERE key = $1";
	struct db *d = *state;
	struct order_input in;
	struct run_result r;
	struct issue_req again;
	int64_t ids[16];
	enum tq_status st[16];
	const char *codes[16];
	int i, rc;
	const char *p[1] = {"key-16-at-once"};
	struct ints k;

	make_input("D", NULL, &in);
	/*
	 * All replays, no idempotency_key_in_use: a claim that meets another's waits for it
	 * (PostgreSQL's ON CONFLICT waits for the inserting transaction; SQLite's BEGIN
	 * IMMEDIATE lets one writer in at a time), and answer_from_key reads the record only
	 * after its own commit, when the winner's record already names its order.
	 */
	r = run_issuers(d, NULL, 16, 1, &in, "2030-08-01", "key-16-at-once", idem_body, NULL, ids,
	                NULL, NULL);
	if (r.failed)
		fail_msg("%d of 16 failed: %s", r.failed, r.error);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.replayed, 15);
	for (i = 0; i < 16; i++)
		assert_int_equal(ids[i], r.first_id);
	assert_int_equal(count_orders(d->c), 1);
	expect_gapless(d->c, "D", "2030-08-01", 1);
	k = q(d->c, key_sql, 1, p);
	assert_int_equal(k.v[0], 1);
	assert_int_equal(k.v[1], r.first_id);

	/* a later retry with the same body: the same order again */
	again = issue1(d->c, &in, "2030-08-01", "key-16-at-once", idem_body, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(again.outcome, ISSUE_REPLAYED);
	assert_int_equal(again.order_id, r.first_id);
	/* the same key with another body */
	again = issue1(d->c, &in, "2030-08-01", "key-16-at-once", "{\"other\":1}", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(again.outcome, ISSUE_FAILED);
	assert_int_equal(again.err.status, TQ_INVALID);
	assert_string_equal(again.err.code, "idempotency_key_reused");
	assert_string_equal(again.err.field, "Idempotency-Key");
	/* ... also when 16 send it at once */
	r = run_issuers(d, NULL, 16, 1, &in, "2030-08-01", "key-16-at-once", "{\"x\":2}", NULL,
	                NULL, st, codes);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.replayed, 0);
	assert_int_equal(r.failed, 16);
	for (i = 0; i < 16; i++) {
		assert_int_equal(st[i], TQ_INVALID);
		assert_string_equal(codes[i], "idempotency_key_reused");
	}
	assert_int_equal(count_orders(d->c), 1);
	expect_gapless(d->c, "D", "2030-08-01", 1);
	input_release(&in);
}

/* The same key twice in one batch makes one order. */
static void test_idempotency_same_batch(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct issue_req r[3], *rp[3] = {&r[0], &r[1], &r[2]};
	struct tq_error err;

	make_input("D", NULL, &in);
	req_init(&r[0], &in, "2030-08-02", "twice", idem_body);
	req_init(&r[1], &in, "2030-08-02", NULL, NULL);
	req_init(&r[2], &in, "2030-08-02", "twice", idem_body);
	assert_int_equal(store_issue_batch(d->c, rp, 3, &err), 0);
	assert_int_equal(r[0].outcome, ISSUE_CREATED);
	assert_int_equal(r[1].outcome, ISSUE_CREATED);
	assert_int_equal(r[2].outcome, ISSUE_REPLAYED);
	assert_int_equal(r[2].order_id, r[0].order_id);
	expect_gapless(d->c, "D", "2030-08-02", 2);
	input_release(&in);
}

static void test_idempotency_issuer(void **state)
{
	static const char key_sql[] =
	    "SELECT count(*), min(order_id) FROM idempotency_keys WHERE key = $1";
	struct db *d = *state;
	struct order_input in;
	struct issuer *is;
	struct tq_error err;
	struct run_result r;
	int64_t ids[16];
	enum tq_status st[16];
	const char *codes[16];
	const char *p[1] = {"issuer-key"};
	int64_t order_id = 0;
	int round, i, in_use;

	make_input("E", NULL, &in);
	assert_int_equal(issuer_start(d->s, &is, &err), 0);
	for (round = 0; round < 3; round++) {
		r = run_issuers(d, is, 16, 1, &in, "2030-08-03", "issuer-key", idem_body, NULL, ids,
		                st, codes);
		/* one created (in the first round), the rest replays or 409 while in flight */
		assert_int_equal(r.created, round == 0 ? 1 : 0);
		if (round == 0)
			order_id = r.first_id;
		in_use = 0;
		for (i = 0; i < 16; i++) {
			if (st[i] == TQ_OK) {
				assert_int_equal(ids[i], order_id);
				continue;
			}
			if (st[i] != TQ_CONFLICT || strcmp(codes[i], "idempotency_key_in_use") != 0)
				fail_msg("request %d: status %d %s", i, st[i],
				         codes[i] ? codes[i] : "(null)");
			in_use++;
		}
		assert_int_equal(r.created + r.replayed + in_use, 16);
		printf("idempotency through the issuer, round %d: %d created, %d replayed, %d "
		       "in use\n",
		       round, r.created, r.replayed, in_use);
	}
	issuer_stop(is);
	assert_int_equal(count_orders(d->c), 1);
	expect_gapless(d->c, "E", "2030-08-03", 1);
	assert_int_equal(q(d->c, key_sql, 1, p).v[0], 1);
	input_release(&in);
}

/* ---- 5. event ids follow commit order ---- */

#define EV_WRITERS 8
#define EV_OPS     120

struct ev_shared {
	struct db *db;
	struct issuer *is;
	const struct order_input *in;
	int64_t ids[40]; /* orders whose status the writers move */
	int done;        /* writers finished (atomic) */
	pthread_barrier_t bar;
};

struct ev_writer {
	struct ev_shared *sh;
	unsigned seed;
	int created, moved, refused, failed;
	char error[300];
};

struct ev_reader {
	struct ev_shared *sh;
	int64_t last, seen, polls;
	int bad;
	char error[300];
};

static void *ev_writer_thread(void *arg)
{
	static const enum order_status targets[] = {ST_PREPARING, ST_READY, ST_COMPLETED,
	                                            ST_CANCELLED};
	struct ev_writer *w = arg;
	struct store_conn *c = NULL;
	struct tq_error err;
	int i;

	if (store_connect(w->sh->db->s, &c, &err) != 0) {
		snprintf(w->error, sizeof(w->error), "connect: %s", err.detail);
		w->failed++;
	}
	pthread_barrier_wait(&w->sh->bar);
	for (i = 0; c != NULL && i < EV_OPS; i++) {
		unsigned op = (unsigned)rand_r(&w->seed) % 4;
		struct issue_req r, *rp = &r;
		struct order o;
		int rc;

		tq_error_clear(&err);
		if (op == 0 || op == 1) {
			req_init(&r, w->sh->in, "2030-09-01", NULL, NULL);
			if (op == 0)
				issuer_issue(w->sh->is, &r);
			else if (store_issue_batch(c, &rp, 1, &err) != 0) {
				r.outcome = ISSUE_FAILED;
				r.err = err;
			}
			if (r.outcome == ISSUE_CREATED) {
				w->created++;
				continue;
			}
			err = r.err;
		} else {
			int64_t id = w->sh->ids[(unsigned)rand_r(&w->seed) % 40];
			bool recall = (unsigned)rand_r(&w->seed) % 5 == 0;
			enum order_status to = targets[(unsigned)rand_r(&w->seed) % 4];
			rc = orders_change(c, id, to, recall, now_ms(), &o, &err);
			if (rc == 0) {
				order_release(&o);
				w->moved++;
				continue;
			}
			if (err.status == TQ_CONFLICT &&
			    strcmp(err.code, "invalid_transition") == 0) {
				w->refused++;
				continue;
			}
		}
		if (w->failed++ == 0)
			snprintf(w->error, sizeof(w->error), "%s: %s", err.code ? err.code : "?",
			         err.detail);
	}
	store_disconnect(c);
	return NULL;
}

static void *ev_reader_thread(void *arg)
{
	struct ev_reader *rd = arg;
	struct store_conn *c = NULL;
	struct tq_error err;

	if (store_connect(rd->sh->db->s, &c, &err) != 0) {
		snprintf(rd->error, sizeof(rd->error), "connect: %s", err.detail);
		rd->bad = 1;
	}
	pthread_barrier_wait(&rd->sh->bar);
	while (c != NULL && !rd->bad) {
		int done = __atomic_load_n(&rd->sh->done, __ATOMIC_ACQUIRE);
		struct event *ev;
		size_t n, i;

		if (store_events_after(c, rd->last, 1000, &ev, &n, &err) != 0) {
			snprintf(rd->error, sizeof(rd->error), "events_after: %s", err.detail);
			rd->bad = 1;
			break;
		}
		rd->polls++;
		for (i = 0; i < n; i++) {
			if (ev[i].id != rd->last + 1) {
				snprintf(rd->error, sizeof(rd->error),
				         "after event %" PRId64 " the next one read was %" PRId64
				         " (poll %" PRId64 ")",
				         rd->last, ev[i].id, rd->polls);
				rd->bad = 1;
				break;
			}
			rd->last = ev[i].id;
			rd->seen++;
		}
		free(ev);
		if (done && n == 0)
			break;
		if (n == 0)
			usleep(200);
	}
	store_disconnect(c);
	return NULL;
}

struct ev_thread {
	int reader;
	union {
		struct ev_writer w;
		struct ev_reader r;
	} u;
};

static void *ev_thread(void *arg)
{
	struct ev_thread *t = arg;

	return t->reader ? ev_reader_thread(&t->u.r) : ev_writer_thread(&t->u.w);
}

static void test_event_order(void **state)
{
	static const char ev_sql[] = "SELECT count(*), min(id), max(id) FROM events";
	static const char counter_sql[] = "SELECT last FROM event_counter";
	static const char creation_sql[] =
	    "SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM events e WHERE e.order_id = "
	    "o.id AND e.previous_status IS NULL) <> 1";
	struct db *d = *state;
	struct order_input in;
	struct ev_shared sh;
	struct ev_thread *t = calloc(EV_WRITERS + 1, sizeof(*t));
	pthread_t th[EV_WRITERS + 1];
	struct tq_error err;
	struct ints e;
	int i, created = 40, moved = 0, failed = 0;

	assert_non_null(t);
	memset(&sh, 0, sizeof(sh));
	make_input("A", NULL, &in);
	sh.db = d;
	sh.in = &in;
	for (i = 0; i < 40; i++) {
		int rc;
		struct issue_req r = issue1(d->c, &in, "2030-09-01", NULL, NULL, &rc);
		assert_int_equal(rc, 0);
		sh.ids[i] = r.order_id;
	}
	assert_int_equal(issuer_start(d->s, &sh.is, &err), 0);
	pthread_barrier_init(&sh.bar, NULL, EV_WRITERS + 1);
	for (i = 0; i <= EV_WRITERS; i++) {
		t[i].reader = i == EV_WRITERS;
		if (t[i].reader)
			t[i].u.r.sh = &sh;
		else {
			t[i].u.w.sh = &sh;
			t[i].u.w.seed = 1234u + (unsigned)i;
		}
		assert_int_equal(pthread_create(&th[i], NULL, ev_thread, &t[i]), 0);
	}
	for (i = 0; i < EV_WRITERS; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&sh.done, 1, __ATOMIC_RELEASE);
	pthread_join(th[EV_WRITERS], NULL);
	issuer_stop(sh.is);
	pthread_barrier_destroy(&sh.bar);

	for (i = 0; i < EV_WRITERS; i++) {
		created += t[i].u.w.created;
		moved += t[i].u.w.moved;
		failed += t[i].u.w.failed;
		if (t[i].u.w.failed)
			fail_msg("writer %d: %d failures: %s", i, t[i].u.w.failed, t[i].u.w.error);
	}
	if (t[EV_WRITERS].u.r.bad)
		fail_msg("reader: %s", t[EV_WRITERS].u.r.error);
	assert_int_equal(failed, 0);
	assert_true(moved > 0);
	e = q(d->c, ev_sql, 0, NULL);
	/* ids 1..N without gaps, one per creation and per change */
	assert_int_equal(e.v[0], created + moved);
	assert_int_equal(e.v[1], 1);
	assert_int_equal(e.v[2], e.v[0]);
	assert_int_equal(q1(d->c, counter_sql, 0, NULL), e.v[0]);
	/* the reader saw every one exactly once, in order */
	assert_int_equal(t[EV_WRITERS].u.r.seen, e.v[0]);
	assert_int_equal(t[EV_WRITERS].u.r.last, e.v[0]);
	assert_int_equal(q1(d->c, creation_sql, 0, NULL), 0);
	expect_gapless(d->c, "A", "2030-09-01", created);
	{
		int64_t last;
		assert_int_equal(store_last_event_id(d->c, &last, &err), 0);
		assert_int_equal(last, e.v[0]);
	}
	input_release(&in);
	free(t);
}

/* ---- 6. status changes ---- */

static void expect_event(const struct event *e, enum event_kind kind, enum order_status st,
                         int prev, int64_t at)
{
	assert_int_equal(e->kind, kind);
	assert_int_equal(e->status, st);
	assert_int_equal(e->previous_status, prev);
	if (at >= 0)
		assert_int_equal(e->at, at);
}

static void expect_refused(struct store_conn *c, int64_t id, enum order_status to, bool recall)
{
	struct order o;
	struct tq_error err;

	tq_error_clear(&err);
	if (orders_change(c, id, to, recall, 5000000, &o, &err) == 0)
		fail_msg("order %" PRId64 ": %s to %s was allowed", id, recall ? "recall" : "move",
		         status_name(to));
	assert_int_equal(err.status, TQ_CONFLICT);
	assert_string_equal(err.code, "invalid_transition");
}

static void test_status_changes(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct order o;
	struct event *ev;
	struct tq_error err;
	size_t n;
	int64_t id, id2, before;
	int rc;
	struct issue_req r;

	make_input("A", "no onion", &in);
	r = issue1(d->c, &in, "2030-10-01", NULL, NULL, &rc);
	assert_int_equal(rc, 0);
	id = r.order_id;
	assert_int_equal(store_get_order(d->c, id, &o, &err), 0);
	assert_int_equal(o.status, ST_PENDING);
	assert_int_equal(o.sequence, 1);
	assert_string_equal(o.queue, "A");
	assert_string_equal(o.business_date, "2030-10-01");
	assert_string_equal(o.items_json, in.items_json);
	assert_int_equal(o.total, in.total);
	assert_string_equal(o.note, "no onion");
	assert_int_equal(o.created_at, r.now);
	assert_int_equal(o.updated_at, r.now);
	assert_int_equal(o.ready_at, 0);
	order_release(&o);

	expect_refused(d->c, id, ST_PENDING, false); /* to itself */
	expect_refused(d->c, id, ST_READY, true);    /* recall before READY */
	assert_int_equal(orders_change(d->c, id, ST_PREPARING, false, 1000, &o, &err), 0);
	assert_int_equal(o.status, ST_PREPARING);
	assert_int_equal(o.updated_at, 1000);
	assert_int_equal(o.ready_at, 0);
	order_release(&o);
	expect_refused(d->c, id, ST_PREPARING, false);
	expect_refused(d->c, id, ST_PENDING, false); /* backwards */
	expect_refused(d->c, id, ST_PREPARING, true);
	assert_int_equal(orders_change(d->c, id, ST_READY, false, 2000, &o, &err), 0);
	assert_int_equal(o.status, ST_READY);
	assert_int_equal(o.ready_at, 2000);
	order_release(&o);
	/* recall: an event, a new updated_at, the same status and ready_at */
	assert_int_equal(orders_change(d->c, id, ST_READY, true, 3000, &o, &err), 0);
	assert_int_equal(o.status, ST_READY);
	assert_int_equal(o.updated_at, 3000);
	assert_int_equal(o.ready_at, 2000);
	order_release(&o);
	expect_refused(d->c, id, ST_PREPARING, false);
	assert_int_equal(orders_change(d->c, id, ST_COMPLETED, false, 4000, &o, &err), 0);
	assert_int_equal(o.status, ST_COMPLETED);
	assert_int_equal(o.ready_at, 2000); /* set once */
	order_release(&o);
	expect_refused(d->c, id, ST_CANCELLED, false); /* final */
	expect_refused(d->c, id, ST_READY, true);

	assert_int_equal(store_order_history(d->c, id, &ev, &n, &err), 0);
	assert_int_equal(n, 5);
	expect_event(&ev[0], EV_TOKEN, ST_PENDING, -1, r.now);
	expect_event(&ev[1], EV_TOKEN, ST_PREPARING, ST_PENDING, 1000);
	expect_event(&ev[2], EV_TOKEN, ST_READY, ST_PREPARING, 2000);
	expect_event(&ev[3], EV_RECALL, ST_READY, ST_READY, 3000);
	expect_event(&ev[4], EV_TOKEN, ST_COMPLETED, ST_READY, 4000);
	assert_true(ev[0].id < ev[1].id && ev[1].id < ev[2].id && ev[2].id < ev[3].id &&
	            ev[3].id < ev[4].id);
	assert_int_equal(ev[4].order_id, id);
	assert_string_equal(ev[4].queue, "A");
	assert_string_equal(ev[4].business_date, "2030-10-01");
	assert_int_equal(ev[4].sequence, 1);
	free(ev);

	/* skips and cancellation */
	r = issue1(d->c, &in, "2030-10-01", NULL, NULL, &rc);
	id2 = r.order_id;
	assert_int_equal(r.sequence, 2);
	assert_int_equal(orders_change(d->c, id2, ST_READY, false, 6000, &o, &err), 0);
	assert_int_equal(o.ready_at, 6000);
	order_release(&o);
	assert_int_equal(orders_change(d->c, id2, ST_CANCELLED, false, 7000, &o, &err), 0);
	assert_int_equal(o.status, ST_CANCELLED);
	assert_int_equal(o.ready_at, 6000);
	order_release(&o);
	expect_refused(d->c, id2, ST_COMPLETED, false);
	r = issue1(d->c, &in, "2030-10-01", NULL, NULL, &rc);
	assert_int_equal(orders_change(d->c, r.order_id, ST_COMPLETED, false, 8000, &o, &err), 0);
	order_release(&o);

	/* unknown orders, and a refusal writes nothing */
	before = count_events(d->c);
	tq_error_clear(&err);
	assert_int_equal(orders_change(d->c, 999999, ST_READY, false, 1, &o, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	assert_int_equal(orders_change(d->c, 999999, ST_READY, true, 1, &o, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	assert_int_equal(store_get_order(d->c, 999999, &o, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	expect_refused(d->c, id, ST_READY, false);
	assert_int_equal(count_events(d->c), before);
	input_release(&in);
}

/* Concurrent PATCHes of one order to different targets never make an invalid chain. */
#define PATCH_THREADS 8
#define PATCH_ROUNDS  15

struct patch_shared {
	struct db *db;
	int64_t id; /* this round's order */
	pthread_barrier_t start, end;
};

struct patch_worker {
	struct patch_shared *sh;
	int index, ok, refused, failed;
	char error[300];
};

static void *patch_thread(void *arg)
{
	static const enum order_status targets[] = {ST_PREPARING, ST_READY, ST_COMPLETED,
	                                            ST_CANCELLED};
	struct patch_worker *w = arg;
	struct store_conn *c = NULL;
	struct tq_error err;
	struct order o;
	int round;

	if (store_connect(w->sh->db->s, &c, &err) != 0) {
		snprintf(w->error, sizeof(w->error), "connect: %s", err.detail);
		w->failed++;
	}
	for (round = 0; round < PATCH_ROUNDS; round++) {
		pthread_barrier_wait(&w->sh->start);
		if (c != NULL) {
			enum order_status to = targets[(w->index + round) % 4];
			if (orders_change(c, w->sh->id, to, false, now_ms(), &o, &err) == 0) {
				order_release(&o);
				w->ok++;
			} else if (err.status == TQ_CONFLICT &&
			           strcmp(err.code, "invalid_transition") == 0) {
				w->refused++;
			} else if (w->failed++ == 0) {
				snprintf(w->error, sizeof(w->error), "%s: %s", err.code,
				         err.detail);
			}
		}
		pthread_barrier_wait(&w->sh->end);
	}
	store_disconnect(c);
	return NULL;
}

static void test_concurrent_patches(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct patch_shared sh;
	struct patch_worker w[PATCH_THREADS];
	pthread_t th[PATCH_THREADS];
	struct tq_error err;
	int i, round, ok_before = 0;

	make_input("B", NULL, &in);
	memset(&sh, 0, sizeof(sh));
	memset(w, 0, sizeof(w));
	sh.db = d;
	pthread_barrier_init(&sh.start, NULL, PATCH_THREADS + 1);
	pthread_barrier_init(&sh.end, NULL, PATCH_THREADS + 1);
	for (i = 0; i < PATCH_THREADS; i++) {
		w[i].sh = &sh;
		w[i].index = i;
		assert_int_equal(pthread_create(&th[i], NULL, patch_thread, &w[i]), 0);
	}
	for (round = 0; round < PATCH_ROUNDS; round++) {
		struct event *ev;
		struct order o;
		size_t n, k;
		int rc, ok = 0;
		struct issue_req r = issue1(d->c, &in, "2030-10-02", NULL, NULL, &rc);

		if (rc != 0)
			break;
		sh.id = r.order_id;
		pthread_barrier_wait(&sh.start);
		pthread_barrier_wait(&sh.end);
		for (i = 0; i < PATCH_THREADS; i++)
			ok += w[i].ok;
		ok -= ok_before;
		ok_before += ok;
		/* the history is a valid chain from PENDING, one event per successful move */
		if (store_order_history(d->c, sh.id, &ev, &n, &err) != 0 ||
		    store_get_order(d->c, sh.id, &o, &err) != 0)
			break;
		if (n != (size_t)ok + 1)
			fail_msg("round %d: %d moves succeeded but the history has %zu events",
			         round, ok, n);
		if (ev[0].status != ST_PENDING || ev[0].previous_status != -1)
			fail_msg("round %d: the first event is not the creation", round);
		for (k = 1; k < n; k++) {
			if (ev[k].previous_status != (int)ev[k - 1].status ||
			    !status_can_move((enum order_status)ev[k].previous_status,
			                     ev[k].status))
				fail_msg("round %d: event %zu goes %s -> %s after %s", round, k,
				         ev[k].previous_status >= 0
				             ? status_name((enum order_status)ev[k].previous_status)
				             : "null",
				         status_name(ev[k].status), status_name(ev[k - 1].status));
		}
		assert_int_equal(o.status, ev[n - 1].status);
		assert_true(ok >= 1); /* someone always wins */
		free(ev);
		order_release(&o);
	}
	/* let the threads finish whatever rounds remain */
	for (; round < PATCH_ROUNDS; round++) {
		pthread_barrier_wait(&sh.start);
		pthread_barrier_wait(&sh.end);
	}
	for (i = 0; i < PATCH_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&sh.start);
	pthread_barrier_destroy(&sh.end);
	for (i = 0; i < PATCH_THREADS; i++)
		if (w[i].failed)
			fail_msg("thread %d: %s", i, w[i].error);
	input_release(&in);
}

/* ---- the read side ---- */

static void test_reads(void **state)
{
	struct db *d = *state;
	struct order_input a, b;
	struct order *list, o;
	struct order_filter f;
	struct tq_error err;
	size_t n;
	int64_t ids[6], created[6], ahead;
	struct pace pace;
	int i, rc;

	make_input("A", NULL, &a);
	make_input("B", NULL, &b);
	for (i = 0; i < 6; i++) {
		struct issue_req r = issue1(d->c, i % 2 ? &b : &a, "2030-11-01", NULL, NULL, &rc);
		assert_int_equal(rc, 0);
		ids[i] = r.order_id;
		created[i] = r.now;
	}
	issue_ok(d->c, &a, "2030-11-02");
	/* A: ids[0], ids[2], ids[4] are numbers 1, 2, 3; A-001 was ready after 90 s */
	assert_int_equal(orders_change(d->c, ids[0], ST_READY, false, created[0] + 90000, &o, &err),
	                 0);
	order_release(&o);

	memset(&f, 0, sizeof(f));
	snprintf(f.business_date, sizeof(f.business_date), "2030-11-01");
	f.limit = 100;
	assert_int_equal(store_list_orders(d->c, &f, &list, &n, &err), 0);
	assert_int_equal(n, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(list[i].id, ids[i]);
		order_release(&list[i]);
	}
	free(list);
	f.queue = "A";
	f.status_set = 1u << ST_PENDING;
	assert_int_equal(store_list_orders(d->c, &f, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, ids[2]);
	assert_int_equal(list[1].id, ids[4]);
	for (i = 0; i < 2; i++)
		order_release(&list[i]);
	free(list);
	f.queue = NULL;
	f.status_set = 0;
	f.after_id = ids[1];
	f.limit = 2;
	assert_int_equal(store_list_orders(d->c, &f, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, ids[2]);
	assert_int_equal(list[1].id, ids[3]);
	for (i = 0; i < 2; i++)
		order_release(&list[i]);
	free(list);

	assert_int_equal(store_find_token(d->c, "A", "2030-11-01", 3, &o, &err), 0);
	assert_int_equal(o.id, ids[4]);
	/* ahead: A-002 is PENDING, A-001 is READY */
	assert_int_equal(store_count_ahead(d->c, &o, &ahead, &err), 0);
	assert_int_equal(ahead, 1);
	order_release(&o);
	assert_int_equal(store_find_token(d->c, "A", "2030-11-01", 4, &o, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	assert_int_equal(store_find_token(d->c, "C", "2030-11-01", 1, &o, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	assert_int_equal(store_find_token(d->c, "A", "2030-11-02", 1, &o, &err), 0);
	order_release(&o);

	assert_int_equal(store_recent_pace(d->c, "B", "2030-11-01", &pace, &err), 0);
	assert_int_equal(pace.prep_seconds, -1);
	assert_int_equal(pace.gap_seconds, -1);
	assert_int_equal(store_recent_pace(d->c, "A", "2030-11-01", &pace, &err), 0);
	assert_int_equal(pace.prep_seconds, 90);
	assert_int_equal(pace.gap_seconds, -1); /* one ready order: no gap yet */
	/* A-002 ready 45 s after A-001: the pace's gap */
	assert_int_equal(
	    orders_change(d->c, ids[2], ST_READY, false, created[0] + 135000, &o, &err), 0);
	order_release(&o);
	assert_int_equal(store_recent_pace(d->c, "A", "2030-11-01", &pace, &err), 0);
	assert_int_equal(pace.gap_seconds, 45);
	assert_int_equal(pace.prep_seconds, 135); /* the median of 90 and 135, upper */
	input_release(&a);
	input_release(&b);
}

/*
 * A connection that has run many different statements: past the backend's cache of
 * prepared statements, every operation must still run the statements it asked for.
 */
static void test_many_statements(void **state)
{
	static char fill[64][40];
	struct db *d = *state;
	struct order_input in;
	struct issue_req r[3], *rp[3] = {&r[0], &r[1], &r[2]};
	struct tq_error err;
	struct order o;
	struct event *ev;
	size_t n;
	int i;

	for (i = 0; i < 64; i++) {
		snprintf(fill[i], sizeof(fill[i]), "SELECT %d AS filler", i);
		assert_int_equal(q1(d->c, fill[i], 0, NULL), i);
	}
	make_input("A", "after many statements", &in);
	assert_int_equal(issue_ok(d->c, &in, "2030-12-01"), 1);
	req_init(&r[0], &in, "2030-12-01", NULL, NULL);
	req_init(&r[1], &in, "2030-12-02", "many-statements", idem_body);
	req_init(&r[2], &in, "2030-12-01", NULL, NULL);
	tq_error_clear(&err);
	if (store_issue_batch(d->c, rp, 3, &err) != 0)
		fail_msg("a batch on a connection past its statement cache failed: %s", err.detail);
	for (i = 0; i < 3; i++)
		assert_int_equal(r[i].outcome, ISSUE_CREATED);
	assert_int_equal(r[0].sequence, 2);
	assert_int_equal(r[1].sequence, 1);
	assert_int_equal(r[2].sequence, 3);
	expect_gapless(d->c, "A", "2030-12-01", 3);
	expect_gapless(d->c, "A", "2030-12-02", 1);
	assert_int_equal(orders_change(d->c, r[1].order_id, ST_READY, false, 1, &o, &err), 0);
	order_release(&o);
	assert_int_equal(store_order_history(d->c, r[1].order_id, &ev, &n, &err), 0);
	assert_int_equal(n, 2);
	free(ev);
	assert_int_equal(count_events(d->c), 5);
	input_release(&in);
}

/* ---- the operations side: the day report and copying a database ---- */

/* Issues one order created at the instant at; returns its id. */
static int64_t issue_at(struct store_conn *c, const struct order_input *in, const char *date,
                        int64_t at)
{
	struct issue_req r, *rp = &r;
	struct tq_error err;

	req_init(&r, in, date, NULL, NULL);
	r.now = at;
	if (store_issue_batch(c, &rp, 1, &err) != 0 || r.outcome != ISSUE_CREATED)
		fail_msg("issue failed: %s", err.detail);
	return r.order_id;
}

static void move(struct store_conn *c, int64_t id, enum order_status to, int64_t at)
{
	struct order o;
	struct tq_error err;

	if (orders_change(c, id, to, false, at, &o, &err) != 0)
		fail_msg("order %" PRId64 " to %s: %s", id, status_name(to), err.detail);
	order_release(&o);
}

static int64_t utc_ms(int h, int m)
{
	return (int64_t)1922659200000LL + ((int64_t)h * 3600 + m * 60) * 1000; /* 2030-12-05 */
}

static void test_day_stats(void **state)
{
	struct db *d = *state;
	struct order_input a, b;
	struct day_stats st;
	struct tq_error err;
	int64_t o1, o2, o3, o5;
	int h;

	make_input("A", NULL, &a);
	make_input("B", NULL, &b);
	o1 = issue_at(d->c, &a, "2030-12-05", utc_ms(10, 15));
	o2 = issue_at(d->c, &a, "2030-12-05", utc_ms(10, 45));
	o3 = issue_at(d->c, &a, "2030-12-05", utc_ms(11, 5));
	issue_at(d->c, &a, "2030-12-05", utc_ms(13, 0));
	o5 = issue_at(d->c, &a, "2030-12-05", utc_ms(11, 30));
	issue_at(d->c, &b, "2030-12-05", utc_ms(12, 0));
	move(d->c, o1, ST_READY, utc_ms(10, 16)); /* 60 s */
	move(d->c, o2, ST_READY, utc_ms(10, 47)); /* 120 s */
	move(d->c, o2, ST_COMPLETED, utc_ms(11, 0));
	move(d->c, o3, ST_READY, utc_ms(11, 8)); /* 180 s, then cancelled */
	move(d->c, o3, ST_CANCELLED, utc_ms(11, 9));
	move(d->c, o5, ST_COMPLETED, utc_ms(11, 40)); /* never READY */

	assert_int_equal(reports_day_stats(d->c, "2030-12-05", "A", NULL, &st, &err), 0);
	assert_int_equal(st.orders, 5);
	assert_int_equal(st.by_status[ST_PENDING], 1);
	assert_int_equal(st.by_status[ST_PREPARING], 0);
	assert_int_equal(st.by_status[ST_READY], 1);
	assert_int_equal(st.by_status[ST_COMPLETED], 2);
	assert_int_equal(st.by_status[ST_CANCELLED], 1);
	assert_int_equal(st.revenue, 4 * a.total);
	assert_int_equal(st.prep_count, 3);
	assert_int_equal(st.prep_p50, 120);
	assert_int_equal(st.prep_p90, 180);
	assert_int_equal(st.prep_max, 180);
	for (h = 0; h < 24; h++)
		assert_int_equal(st.per_hour[h], h == 10 || h == 11 ? 2 : h == 13 ? 1 : 0);

	assert_int_equal(reports_day_stats(d->c, "2030-12-05", NULL, NULL, &st, &err), 0);
	assert_int_equal(st.orders, 6);
	assert_int_equal(st.revenue, 4 * a.total + b.total);
	assert_int_equal(st.per_hour[12], 1);

	assert_int_equal(reports_day_stats(d->c, "2030-12-06", NULL, NULL, &st, &err), 0);
	assert_int_equal(st.orders, 0);
	assert_int_equal(st.revenue, 0);
	assert_int_equal(st.prep_count, 0);
	assert_int_equal(st.prep_p50, -1);
	assert_int_equal(st.prep_max, -1);
	input_release(&a);
	input_release(&b);
}

/* A copy into another database of the same kind keeps ids, numbers and counters. */
static void test_copy_tables(void **state)
{
	static const char max_id_sql[] = "SELECT max(id) FROM orders";
	struct db *d = *state, *t;
	struct order_input a, b;
	struct tq_error err;
	struct issue_req r;
	struct api_key k;
	char hash[65], khash[65];
	int64_t id, last_event, src_max, order_id, key_id, n_src, n_dst;
	int i, rc, applied;

	make_input("A", "copy me", &a);
	make_input("B", NULL, &b);
	for (i = 0; i < 5; i++)
		issue_ok(d->c, i % 2 ? &b : &a, i < 3 ? "2030-12-07" : "2030-12-08");
	r = issue1(d->c, &a, "2030-12-07", "copy-key", idem_body, &rc);
	assert_int_equal(rc, 0);
	order_id = r.order_id;
	move(d->c, order_id, ST_READY, now_ms());
	sha256_hex("copy-secret", 11, khash);
	assert_int_equal(store_key_create(d->c, ROLE_STAFF, "copied", khash, 1000, &key_id, &err),
	                 0);
	src_max = q1(d->c, max_id_sql, 0, NULL);
	assert_int_equal(store_last_event_id(d->c, &last_event, &err), 0);

	assert_int_equal(db_create(&t), 0);
	assert_int_equal(store_open(t->url, &t->s, &err), 0);
	assert_int_equal(store_connect(t->s, &t->c, &err), 0);
	assert_int_equal(migrate_apply(t->c, &applied, &err), 0);
	assert_int_equal(store_conn_backend(t->c)->begin(store_conn_db(t->c), true, &err), 0);
	for (i = 0; reports_tables[i].name != NULL; i++) {
		const struct reports_table *tb = &reports_tables[i];
		struct reports_rows rows = {tb->ncols, 0, 0, NULL};
		const char *after[2] = {NULL, NULL};
		int kk;

		/* pages of 2 rows, as copy reads them */
		assert_int_equal(reports_page(d->c, tb, NULL, 2, &rows, &err), 0);
		while (rows.n > 0) {
			if (reports_write(t->c, tb, &rows, &err) != 0)
				fail_msg("writing %s: %s", tb->name, err.detail);
			if (rows.n < 2)
				break;
			for (kk = 0; kk < tb->nkey; kk++)
				after[kk] =
				    rows.vals[(rows.n - 1) * (size_t)tb->ncols + (size_t)kk];
			assert_int_equal(reports_page(d->c, tb, after, 2, &rows, &err), 0);
		}
		reports_rows_free(&rows);
	}
	assert_int_equal(reports_fix_sequences(t->c, &err), 0);
	assert_int_equal(store_conn_backend(t->c)->commit(store_conn_db(t->c), &err), 0);
	for (i = 0; reports_tables[i].name != NULL; i++) {
		assert_int_equal(reports_count(d->c, &reports_tables[i], &n_src, &err), 0);
		assert_int_equal(reports_count(t->c, &reports_tables[i], &n_dst, &err), 0);
		if (n_src != n_dst)
			fail_msg("%s: %" PRId64 " rows copied of %" PRId64, reports_tables[i].name,
			         n_dst, n_src);
	}
	expect_gapless(t->c, "A", "2030-12-07", 3);
	expect_gapless(t->c, "B", "2030-12-07", 1);
	expect_gapless(t->c, "A", "2030-12-08", 1);
	expect_gapless(t->c, "B", "2030-12-08", 1);
	/* the copy goes on where the source was: numbers, ids, events, keys */
	r = issue1(t->c, &a, "2030-12-07", NULL, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.sequence, 4);
	assert_true(r.order_id > src_max);
	assert_int_equal(store_last_event_id(t->c, &id, &err), 0);
	assert_int_equal(id, last_event + 1);
	assert_int_equal(store_idem_find(t->c, "copy-key", hash, &id, &err), 1);
	assert_int_equal(id, order_id);
	r = issue1(t->c, &a, "2030-12-07", "copy-key", idem_body, &rc);
	assert_int_equal(r.outcome, ISSUE_REPLAYED);
	assert_int_equal(r.order_id, order_id);
	assert_int_equal(store_key_find(t->c, khash, &k, &err), 1);
	assert_int_equal(k.id, key_id);
	assert_int_equal(store_key_create(t->c, ROLE_POS, NULL, "other", 2000, &id, &err), 0);
	assert_true(id > key_id);
	db_destroy(t);
	input_release(&a);
	input_release(&b);
}

/* ---- 7. migrations ---- */

static int count_builtins(struct store_conn *c)
{
	const struct embedded_file *f;
	char prefix[64];
	int n = 0;

	snprintf(prefix, sizeof(prefix), "migrations/%s/", store_conn_backend(c)->dialect);
	for (f = embedded_files; f->name != NULL; f++)
		if (strncmp(f->name, prefix, strlen(prefix)) == 0 &&
		    strcmp(f->name + strlen(f->name) - 4, ".sql") == 0)
			n++;
	return n;
}

static int64_t count_history(struct store_conn *c, int64_t *distinct)
{
	static const char sql[] = "SELECT count(*), count(DISTINCT version) FROM schema_migrations";
	struct ints r = q(c, sql, 0, NULL);

	if (distinct)
		*distinct = r.v[1];
	return r.v[0];
}

static const struct migration_info *find_version(const struct migration_info *v, size_t n,
                                                 int version)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].version == version)
			return &v[i];
	return NULL;
}

static void test_migrate_fresh(void **state)
{
	struct db *d = *state;
	struct migration_info *v;
	struct tq_error err;
	size_t n, i;
	int applied, nb = count_builtins(d->c);

	assert_true(nb >= 1);
	assert_int_equal(migrate_status(d->c, &v, &n, &err), 0);
	assert_int_equal(n, nb);
	for (i = 0; i < n; i++) {
		assert_int_equal(v[i].state, MIG_PENDING);
		assert_string_equal(v[i].applied_at, "");
	}
	free(v);
	assert_int_equal(migrate_apply(d->c, &applied, &err), 0);
	assert_int_equal(applied, nb);
	assert_int_equal(migrate_apply(d->c, &applied, &err), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(migrate_status(d->c, &v, &n, &err), 0);
	assert_int_equal(n, nb);
	for (i = 0; i < n; i++) {
		assert_int_equal(v[i].state, MIG_APPLIED);
		assert_int_equal(v[i].version, (int)i + 1);
		assert_true(v[i].applied_at[0] != '\0');
		assert_int_equal(strlen(v[i].checksum), 64);
	}
	assert_string_equal(v[0].name, "init");
	free(v);
	assert_int_equal(count_history(d->c, NULL), nb);
	assert_int_equal(migrate_for_serve(d->c, false, &err), 0);
}

struct mig_worker {
	struct db *db;
	pthread_barrier_t *bar;
	int rc, applied;
	char error[300];
};

static void *mig_thread(void *arg)
{
	struct mig_worker *w = arg;
	struct store_conn *c = NULL;
	struct tq_error err;

	w->rc = -1;
	if (store_connect(w->db->s, &c, &err) != 0)
		snprintf(w->error, sizeof(w->error), "connect: %s", err.detail);
	pthread_barrier_wait(w->bar);
	if (c != NULL) {
		w->rc = migrate_apply(c, &w->applied, &err);
		if (w->rc != 0)
			snprintf(w->error, sizeof(w->error), "%s", err.detail);
	}
	store_disconnect(c);
	return NULL;
}

static void test_migrate_concurrent(void **state)
{
	struct db *d = *state;
	struct mig_worker w[2];
	pthread_barrier_t bar;
	int64_t distinct;
	int nb = count_builtins(d->c), round;

	/* on the test's own fresh database, then on more fresh ones */
	for (round = 0; round < 2; round++) {
		struct db *fresh = d;
		struct tq_error err;

		if (round > 0) {
			assert_int_equal(db_create(&fresh), 0);
			assert_int_equal(store_open(fresh->url, &fresh->s, &err), 0);
			assert_int_equal(store_connect(fresh->s, &fresh->c, &err), 0);
		}
		memset(w, 0, sizeof(w));
		pthread_barrier_init(&bar, NULL, 2);
		w[0].db = w[1].db = fresh;
		w[0].bar = w[1].bar = &bar;
		run_threads(2, mig_thread, w, sizeof(w[0]));
		pthread_barrier_destroy(&bar);
		if (w[0].rc != 0 || w[1].rc != 0)
			fail_msg("concurrent migrate_apply: %s / %s", w[0].error, w[1].error);
		assert_int_equal(w[0].applied + w[1].applied, nb);
		assert_int_equal(count_history(fresh->c, &distinct), nb);
		assert_int_equal(distinct, nb);
		if (round > 0)
			db_destroy(fresh);
	}
}

/* Test sources: static, since migrate.c keeps the pointer until migrate_set_source(NULL). */
static struct embedded_file source[4];
static char source_names[4][96];

static void set_source(struct store_conn *c, const char *const *names, const char *const *texts,
                       int n)
{
	int i;

	memset(source, 0, sizeof(source));
	for (i = 0; i < n; i++) {
		snprintf(source_names[i], sizeof(source_names[i]), "migrations/%s/%s",
		         store_conn_backend(c)->dialect, names[i]);
		source[i].name = source_names[i];
		source[i].data = (const unsigned char *)texts[i];
		source[i].size = (int)strlen(texts[i]);
	}
	migrate_set_source(source);
}

static const char *real_init(struct store_conn *c)
{
	char name[96];
	const struct embedded_file *f;

	snprintf(name, sizeof(name), "migrations/%s/0001_init.sql", store_conn_backend(c)->dialect);
	f = embedded_find(name);
	assert_non_null(f);
	return (const char *)f->data;
}

static void test_migrate_failure(void **state)
{
	struct db *d = *state;
	const char *names[2] = {"0001_init.sql", "0002_broken.sql"};
	const char *texts[2] = {real_init(d->c),
	                        "CREATE TABLE half_done (a INTEGER); SELECT * FROM no_such_table;"};
	struct tq_error err;
	int applied, attempt;
	int64_t distinct;
	static const char max_sql[] = "SELECT max(version) FROM schema_migrations";

	set_source(d->c, names, texts, 2);
	for (attempt = 0; attempt < 2; attempt++) {
		tq_error_clear(&err);
		assert_int_equal(migrate_apply(d->c, &applied, &err), -1);
		assert_int_equal(applied, attempt == 0 ? 1 : 0);
		if (strstr(err.detail, "0002_broken") == NULL)
			fail_msg("the failure does not name the migration: %s", err.detail);
		if (strstr(err.detail, "no_such_table") == NULL)
			fail_msg("the failure does not give the database's error: %s", err.detail);
		assert_int_equal(table_exists(d->c, "half_done"), 0);
		assert_int_equal(table_exists(d->c, "orders"), 1);
		assert_int_equal(count_history(d->c, &distinct), 1);
		assert_int_equal(q1(d->c, max_sql, 0, NULL), 1);
	}
	/* serve refuses too, and names it */
	assert_int_equal(migrate_for_serve(d->c, true, &err), -1);
	assert_non_null(strstr(err.detail, "0002_broken"));
	assert_int_equal(table_exists(d->c, "half_done"), 0);
	migrate_set_source(NULL);
}

static void test_migrate_drift(void **state)
{
	struct db *d = *state;
	const char *names[1] = {"0001_init.sql"};
	const char *texts[1];
	struct migration_info *v;
	const struct migration_info *m;
	struct tq_error err;
	size_t n;
	int applied;
	char *edited;
	const char *init = real_init(d->c);
	static const char edit[] = "\n-- edited after release\n";

	assert_int_equal(migrate_apply(d->c, &applied, &err), 0);
	edited = malloc(strlen(init) + 32);
	assert_non_null(edited);
	memcpy(edited, init, strlen(init));
	memcpy(edited + strlen(init), edit, sizeof(edit));
	texts[0] = edited;
	set_source(d->c, names, texts, 1);
	assert_int_equal(migrate_status(d->c, &v, &n, &err), 0);
	m = find_version(v, n, 1);
	assert_non_null(m);
	assert_int_equal(m->state, MIG_DRIFTED);
	free(v);
	tq_error_clear(&err);
	assert_int_equal(migrate_for_serve(d->c, false, &err), -1);
	assert_int_equal(err.status, TQ_CONFLICT);
	assert_string_equal(err.code, "migration_drift");
	assert_int_equal(migrate_for_serve(d->c, true, &err), -1);
	assert_string_equal(err.code, "migration_drift");
	assert_int_equal(migrate_apply(d->c, &applied, &err), -1);
	assert_int_equal(applied, 0);
	migrate_set_source(NULL);
	free(edited);
	assert_int_equal(migrate_for_serve(d->c, false, &err), 0);
}

static void test_migrate_newer(void **state)
{
	static const char insert_sql[] = "INSERT INTO schema_migrations (version, name, checksum, "
	                                 "applied_at) VALUES ($1, $2, $3, "
	                                 "$4)";
	struct db *d = *state;
	struct migration_info *v;
	const struct migration_info *m;
	struct tq_error err;
	size_t n;
	int applied;
	const char *p[4] = {"9999", "from_the_future", "0000", "2031-01-01T00:00:00.000Z"};

	assert_int_equal(migrate_apply(d->c, &applied, &err), 0);
	assert_int_equal(
	    store_conn_backend(d->c)->exec(store_conn_db(d->c), insert_sql, 4, p, NULL, NULL, &err),
	    0);
	assert_int_equal(migrate_status(d->c, &v, &n, &err), 0);
	assert_int_equal(n, count_builtins(d->c) + 1);
	m = find_version(v, n, 9999);
	assert_non_null(m);
	assert_int_equal(m->state, MIG_UNKNOWN);
	assert_string_equal(m->name, "from_the_future");
	m = find_version(v, n, 1);
	assert_int_equal(m->state, MIG_APPLIED);
	free(v);
	tq_error_clear(&err);
	assert_int_equal(migrate_for_serve(d->c, false, &err), -1);
	assert_int_equal(err.status, TQ_CONFLICT);
	assert_string_equal(err.code, "database_newer");
	assert_int_equal(migrate_for_serve(d->c, true, &err), -1);
	assert_string_equal(err.code, "database_newer");
	assert_int_equal(migrate_apply(d->c, &applied, &err), -1);
}

static void test_migrate_serve_new(void **state)
{
	struct db *d = *state;
	struct migration_info *v;
	struct tq_error err;
	size_t n, i;

	assert_int_equal(migrate_for_serve(d->c, false, &err), 0);
	assert_int_equal(migrate_status(d->c, &v, &n, &err), 0);
	assert_int_equal(n, count_builtins(d->c));
	for (i = 0; i < n; i++)
		assert_int_equal(v[i].state, MIG_APPLIED);
	free(v);
	assert_int_equal(table_exists(d->c, "orders"), 1);
}

static void test_migrate_pending(void **state)
{
	struct db *d = *state;
	const char *names[2] = {"0001_init.sql", "0002_extra.sql"};
	const char *texts[2] = {real_init(d->c), "CREATE TABLE extra_stuff (a INTEGER);"};
	struct migration_info *v;
	struct tq_error err;
	size_t n;
	int applied;

	set_source(d->c, names, texts, 1);
	assert_int_equal(migrate_apply(d->c, &applied, &err), 0);
	assert_int_equal(applied, 1);
	set_source(d->c, names, texts, 2);
	assert_int_equal(migrate_status(d->c, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(find_version(v, n, 1)->state, MIG_APPLIED);
	assert_int_equal(find_version(v, n, 2)->state, MIG_PENDING);
	assert_string_equal(find_version(v, n, 2)->name, "extra");
	free(v);
	tq_error_clear(&err);
	assert_int_equal(migrate_for_serve(d->c, false, &err), -1);
	assert_int_equal(err.status, TQ_CONFLICT);
	assert_string_equal(err.code, "migrations_pending");
	if (strstr(err.detail, "0002_extra") == NULL)
		fail_msg("the refusal does not name the pending migration: %s", err.detail);
	assert_int_equal(table_exists(d->c, "extra_stuff"), 0);
	assert_int_equal(migrate_for_serve(d->c, true, &err), 0);
	assert_int_equal(table_exists(d->c, "extra_stuff"), 1);
	assert_int_equal(migrate_status(d->c, &v, &n, &err), 0);
	assert_int_equal(find_version(v, n, 2)->state, MIG_APPLIED);
	free(v);
	assert_int_equal(migrate_for_serve(d->c, false, &err), 0);
	migrate_set_source(NULL);
}

/*
 * A database that holds another program's tables is not brand-new: serve
 * refuses it until told to migrate, then tokenq's tables are made beside the
 * others, which are left alone.
 */
static void test_migrate_foreign(void **state)
{
	struct db *d = *state;
	struct tq_error err;

	assert_int_equal(
	    store_conn_backend(d->c)->script(
	        store_conn_db(d->c),
	        "CREATE TABLE customers (id INTEGER); INSERT INTO customers VALUES (7);", &err),
	    0);
	tq_error_clear(&err);
	assert_int_equal(migrate_for_serve(d->c, false, &err), -1);
	assert_string_equal(err.code, "migrations_pending");
	if (strstr(err.detail, "0001_init") == NULL)
		fail_msg("the refusal does not name the pending migration: %s", err.detail);
	assert_int_equal(table_exists(d->c, "orders"), 0);
	assert_int_equal(migrate_for_serve(d->c, true, &err), 0);
	assert_int_equal(table_exists(d->c, "orders"), 1);
	assert_int_equal(table_exists(d->c, "customers"), 1);
	assert_int_equal(migrate_for_serve(d->c, false, &err), 0);
}

/* A table tokenq must create, already there and another program's: refused,
 * naming it, and nothing of tokenq's is left behind. */
static void test_migrate_name_taken(void **state)
{
	struct db *d = *state;
	struct tq_error err;

	assert_int_equal(
	    store_conn_backend(d->c)->script(
	        store_conn_db(d->c), "CREATE TABLE orders (ref TEXT, amount INTEGER);", &err),
	    0);
	tq_error_clear(&err);
	assert_int_equal(migrate_for_serve(d->c, true, &err), -1);
	assert_string_equal(err.code, "name_taken");
	if (strstr(err.detail, "table named orders") == NULL)
		fail_msg("the refusal does not name the table: %s", err.detail);
	assert_int_equal(table_exists(d->c, "counters"), 0);
	assert_int_equal(table_exists(d->c, "schema_migrations"), 0);
}

/* ---- 8. API keys ---- */

static void test_keys(void **state)
{
	struct db *d = *state;
	struct api_key k, *list;
	struct tq_error err;
	size_t n;
	int64_t id1, id2, id3, dup;
	bool any;
	char h1[65], h2[65], h3[65];

	sha256_hex("secret-1", 8, h1);
	sha256_hex("secret-2", 8, h2);
	sha256_hex("secret-3", 8, h3);
	assert_int_equal(store_key_any(d->c, &any, &err), 0);
	assert_false(any);
	assert_int_equal(store_key_list(d->c, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	free(list);

	assert_int_equal(store_key_create(d->c, ROLE_POS, "till 1", h1, 1000, &id1, &err), 0);
	assert_true(id1 > 0);
	assert_int_equal(store_key_create(d->c, ROLE_STAFF, NULL, h2, 2000, &id2, &err), 0);
	assert_int_equal(store_key_create(d->c, ROLE_ADMIN, "till 1", h3, 3000, &id3, &err), 0);
	assert_true(id1 < id2 && id2 < id3);
	/* a hash is one key */
	assert_int_equal(store_key_create(d->c, ROLE_ADMIN, "dup", h1, 4000, &dup, &err), -1);
	assert_int_equal(store_key_any(d->c, &any, &err), 0);
	assert_true(any);

	memset(&k, 0, sizeof(k));
	assert_int_equal(store_key_find(d->c, h1, &k, &err), 1);
	assert_int_equal(k.id, id1);
	assert_int_equal(k.role, ROLE_POS);
	assert_string_equal(k.label, "till 1");
	assert_int_equal(k.created_at, 1000);
	assert_int_equal(k.last_used_at, 0);
	assert_int_equal(k.revoked_at, 0);
	assert_int_equal(store_key_find(d->c, "0000", &k, &err), 0);

	assert_int_equal(store_key_touch(d->c, id1, 5000, &err), 0);
	assert_int_equal(store_key_find(d->c, h1, &k, &err), 1);
	assert_int_equal(k.last_used_at, 5000);

	assert_int_equal(store_key_list(d->c, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].id, id1);
	assert_int_equal(list[0].last_used_at, 5000);
	assert_int_equal(list[1].id, id2);
	assert_int_equal(list[1].role, ROLE_STAFF);
	assert_string_equal(list[1].label, "");
	assert_int_equal(list[2].role, ROLE_ADMIN);
	assert_string_equal(list[2].label, "till 1");
	free(list);

	/* revoking: the key stops working, the first time is kept, unknown ids are refused */
	assert_int_equal(store_key_revoke(d->c, id1, 6000, &err), 0);
	assert_int_equal(store_key_find(d->c, h1, &k, &err), 0);
	assert_int_equal(store_key_revoke(d->c, id1, 7000, &err), 0);
	tq_error_clear(&err);
	assert_int_equal(store_key_revoke(d->c, 999999, 7000, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	assert_int_equal(store_key_list(d->c, &list, &n, &err), 0);
	assert_int_equal(list[0].revoked_at, 6000);
	assert_int_equal(list[1].revoked_at, 0);
	free(list);
	assert_int_equal(store_key_any(d->c, &any, &err), 0);
	assert_true(any);
	assert_int_equal(store_key_revoke(d->c, id2, 8000, &err), 0);
	assert_int_equal(store_key_revoke(d->c, id3, 8000, &err), 0);
	assert_int_equal(store_key_any(d->c, &any, &err), 0);
	assert_false(any); /* protected mode again */

	assert_string_equal(role_name(ROLE_POS), "pos");
	assert_string_equal(role_name(ROLE_STAFF), "staff");
	assert_string_equal(role_name(ROLE_ADMIN), "admin");
	{
		enum role r;
		assert_int_equal(role_parse("staff", &r), 0);
		assert_int_equal(r, ROLE_STAFF);
		assert_int_equal(role_parse("Admin", &r), -1);
		assert_int_equal(role_parse("", &r), -1);
	}
}

/* ---- the store's own odds and ends ---- */

static void test_open_and_ping(void **state)
{
	struct db *d = *state;
	struct store *s;
	struct tq_error err;
	int64_t v;

	assert_int_equal(store_ping(d->c, &err), 0);
	assert_string_equal(store_backend(d->s)->name, backend);
	assert_string_equal(store_url(d->s), d->url);
	assert_ptr_equal(store_conn_backend(d->c), store_backend(d->s));
	tq_error_clear(&err);
	assert_int_equal(store_open("mysql://x/y", &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.status, TQ_INVALID);
	store_free(NULL);
	store_disconnect(NULL);
	assert_int_equal(parse_i64("42", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_i64("-9223372036854775808", &v), 0);
	assert_int_equal(v, INT64_MIN);
	assert_int_equal(parse_i64("9223372036854775808", &v), -1);
	assert_int_equal(parse_i64("007", &v), -1);
	assert_int_equal(parse_i64("", &v), -1);
	assert_int_equal(parse_i64("1 ", &v), -1);
	assert_int_equal(parse_i64("-0", &v), -1);
	assert_int_equal(parse_i64("0", &v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name, setup) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(test_open_and_ping, setup_migrated),
	    T(test_load_issuer, setup_migrated),
	    T(test_load_direct, setup_migrated),
	    T(test_first_of_day, setup_migrated),
	    T(test_fault_no_gap, setup_migrated),
	    T(test_fault_issuer, setup_migrated),
	    T(test_mixed_batch, setup_migrated),
	    T(test_mixed_issuer, setup_migrated),
	    T(test_batches_cross_queues, setup_migrated),
	    T(test_idempotency_direct, setup_migrated),
	    T(test_idempotency_same_batch, setup_migrated),
	    T(test_idempotency_issuer, setup_migrated),
	    T(test_event_order, setup_migrated),
	    T(test_status_changes, setup_migrated),
	    T(test_concurrent_patches, setup_migrated),
	    T(test_reads, setup_migrated),
	    T(test_many_statements, setup_migrated),
	    T(test_day_stats, setup_migrated),
	    T(test_copy_tables, setup_migrated),
	    T(test_migrate_fresh, setup_empty),
	    T(test_migrate_concurrent, setup_empty),
	    T(test_migrate_failure, setup_empty),
	    T(test_migrate_drift, setup_empty),
	    T(test_migrate_newer, setup_empty),
	    T(test_migrate_serve_new, setup_empty),
	    T(test_migrate_pending, setup_empty),
	    T(test_migrate_foreign, setup_empty),
	    T(test_migrate_name_taken, setup_empty),
	    T(test_keys, setup_migrated),
#undef T
	};
	char err[256];
	int rc;

	setenv("TZ", "UTC", 1); /* the day report's hours are the process's clock hours */
	tzset();
	backend = getenv("TOKENQ_TEST_BACKEND");
	if (backend == NULL || *backend == '\0')
		backend = "sqlite";
	if (strcmp(backend, "sqlite") != 0 && strcmp(backend, "postgresql") != 0) {
		fprintf(stderr, "contract: TOKENQ_TEST_BACKEND must be sqlite or postgresql\n");
		return 2;
	}
	if (strcmp(backend, "postgresql") == 0) {
		pg_admin = getenv("TOKENQ_TEST_PG");
		if (pg_admin == NULL || *pg_admin == '\0') {
			fprintf(stderr,
			        "contract: TOKENQ_TEST_PG must name a PostgreSQL server "
			        "(postgres://user@host:port/db) for the postgresql backend\n");
			return 2;
		}
		admin = PQconnectdb(pg_admin);
		if (PQstatus(admin) != CONNECTION_OK) {
			fprintf(stderr, "contract: cannot connect to %s: %s", pg_admin,
			        PQerrorMessage(admin));
			PQfinish(admin);
			return 1;
		}
		PQclear(PQexec(admin, "SET client_min_messages = warning"));
	}
	if (config_parse_queues("A=Alpha,B=Bravo,C=Charlie,D=Delta,E=Echo,F=Foxtrot", &cfg, err,
	                        sizeof(err)) != 0) {
		fprintf(stderr, "contract: %s\n", err);
		return 1;
	}
	rc = cmocka_run_group_tests_name(backend, tests, NULL, NULL);
	PQfinish(admin);
	return rc;
}
