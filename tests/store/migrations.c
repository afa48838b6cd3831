/*
 * The store contract suite: migrations.
 */
#include "contract.h"

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

void test_migrate_fresh(void **state)
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

void test_migrate_concurrent(void **state)
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

void test_migrate_failure(void **state)
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

void test_migrate_drift(void **state)
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

void test_migrate_newer(void **state)
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

void test_migrate_serve_new(void **state)
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

void test_migrate_pending(void **state)
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
void test_migrate_foreign(void **state)
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
void test_migrate_name_taken(void **state)
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
