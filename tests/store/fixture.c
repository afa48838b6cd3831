/*
 * The store contract suite: the fixture (a fresh database per test), SQL through the backend's
 * own primitives, and the order inputs the tests issue.
 */
#include "contract.h"

const char *backend;  /* "sqlite" or "postgresql" */
const char *pg_admin; /* TOKENQ_TEST_PG */
PGconn *admin;        /* for CREATE/DROP DATABASE */
struct config cfg;    /* queues A..F */
static unsigned db_serial;

double seconds_since(int64_t start_ms)
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

int db_create(struct db **out)
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

void db_destroy(struct db *d)
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

int setup_empty(void **state)
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

int setup_migrated(void **state)
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

int teardown(void **state)
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
struct ints q(struct store_conn *c, const char *sql, int np, const char *const *p)
{
	struct ints r;
	struct tq_error err;

	memset(&r, 0, sizeof(r));
	tq_error_clear(&err);
	if (store_conn_backend(c)->exec(store_conn_db(c), sql, np, p, ints_row, &r, &err) != 0)
		fail_msg("query failed: %s: %s", sql, err.detail);
	return r;
}

int64_t q1(struct store_conn *c, const char *sql, int np, const char *const *p)
{
	return q(c, sql, np, p).v[0];
}

/* The orders of a queue and day carry exactly 1..n, each once, and the counter says n. */
void expect_gapless(struct store_conn *c, const char *queue, const char *date, int64_t n)
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

int64_t count_orders(struct store_conn *c)
{
	static const char sql[] = "SELECT count(*) FROM orders";

	return q1(c, sql, 0, NULL);
}

int64_t count_events(struct store_conn *c)
{
	static const char sql[] = "SELECT count(*) FROM events";

	return q1(c, sql, 0, NULL);
}

int table_exists(struct store_conn *c, const char *table)
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

void input_release(struct order_input *in)
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
void make_input(const char *queue, const char *note, struct order_input *in)
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

void req_init(struct issue_req *r, const struct order_input *in, const char *date, const char *key,
              const char *body)
{
	memset(r, 0, sizeof(*r));
	r->venue_id = STORE_MAIN_VENUE;
	r->in = in;
	r->idem_key = key;
	if (key)
		sha256_hex(body, strlen(body), r->idem_hash);
	r->now = now_ms();
	snprintf(r->business_date, sizeof(r->business_date), "%.10s", date);
}

/* Issues one order on c; returns the outcome, with the number and id. */
struct issue_req issue1(struct store_conn *c, const struct order_input *in, const char *date,
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

int64_t issue_ok(struct store_conn *c, const struct order_input *in, const char *date)
{
	int rc;
	struct issue_req r = issue1(c, in, date, NULL, NULL, &rc);

	if (rc != 0 || r.outcome != ISSUE_CREATED)
		fail_msg("issue failed: %s", r.err.detail);
	assert_true(r.order_id > 0);
	return r.sequence;
}
