/*
 * The SQLite backend: the SQL primitives of store.h on one sqlite3
 * connection. The connection runs in WAL mode with synchronous=FULL, a busy
 * timeout and foreign keys; every write transaction is BEGIN IMMEDIATE so
 * that a transaction never fails half-way with SQLITE_BUSY on its first
 * write. Prepared statements are cached by the address of their SQL text.
 */
#include <pthread.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"
#include "util/num.h"

#define STMT_CACHE 48

/*
 * Writers of one database file in this process queue on a mutex, held from
 * BEGIN IMMEDIATE until the transaction ends, instead of polling SQLite's
 * busy handler, which is not fair between waiters (one writer could starve
 * past the busy timeout). Writers in other processes still meet the busy
 * timeout.
 */
struct file_lock {
	char *path;
	pthread_mutex_t mutex;
	int refs;
	struct file_lock *next;
};

static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static struct file_lock *file_locks;

static struct file_lock *file_lock_get(const char *path)
{
	struct file_lock *l;

	pthread_mutex_lock(&registry);
	for (l = file_locks; l != NULL; l = l->next)
		if (strcmp(l->path, path) == 0)
			break;
	if (l == NULL && (l = calloc(1, sizeof(*l))) != NULL) {
		if ((l->path = strdup(path)) == NULL) {
			free(l);
			l = NULL;
		} else {
			pthread_mutex_init(&l->mutex, NULL);
			l->next = file_locks;
			file_locks = l;
		}
	}
	if (l != NULL)
		l->refs++;
	pthread_mutex_unlock(&registry);
	return l;
}

static void file_lock_put(struct file_lock *l)
{
	struct file_lock **pp;

	if (l == NULL)
		return;
	pthread_mutex_lock(&registry);
	if (--l->refs == 0) {
		for (pp = &file_locks; *pp != l; pp = &(*pp)->next)
			;
		*pp = l->next;
		pthread_mutex_destroy(&l->mutex);
		free(l->path);
		free(l);
	}
	pthread_mutex_unlock(&registry);
}

struct sqlite_db {
	sqlite3 *db;
	struct file_lock *writers;
	bool writing;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE];
	int ncache;
};

/* Before a statement: a write transaction first waits for this process's other writers. */
static void writer_enter(struct sqlite_db *d, const char *sql)
{
	if (d->writers != NULL && !d->writing && strncmp(sql, "BEGIN IMMEDIATE", 15) == 0) {
		pthread_mutex_lock(&d->writers->mutex);
		d->writing = true;
	}
}

/* After a statement: once no transaction is open, let the next writer in. */
static void writer_leave(struct sqlite_db *d)
{
	if (d->writing && sqlite3_get_autocommit(d->db)) {
		d->writing = false;
		pthread_mutex_unlock(&d->writers->mutex);
	}
}

static int fail_from(struct sqlite_db *d, int rc, struct tq_error *err)
{
	int ext = d && d->db ? sqlite3_extended_errcode(d->db) : rc;
	const char *msg = d && d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_FULL:
		return tq_fail(err, TQ_STORAGE_FULL, "storage_full", "",
		               "the database file has no room to grow (disk full): %s", msg);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
		if ((ext & 0xff) == SQLITE_IOERR && (ext == SQLITE_IOERR_WRITE))
			return tq_fail(err, TQ_STORAGE_FULL, "storage_full", "",
			               "the database file could not be written: %s", msg);
		return tq_fail(err, TQ_UNAVAILABLE, "database_unavailable", "",
		               "the database file cannot be used now: %s", msg);
	case SQLITE_CONSTRAINT:
		return tq_fail(err, TQ_CONFLICT, "constraint", "", "%s", msg);
	default:
		return tq_fail(err, TQ_INTERNAL, "database_error", "", "%s", msg);
	}
}

static int run(struct sqlite_db *d, const char *sql, struct tq_error *err)
{
	char *msg = NULL;
	int rc;

	writer_enter(d, sql);
	rc = sqlite3_exec(d->db, sql, NULL, NULL, &msg);
	writer_leave(d);

	if (rc != SQLITE_OK) {
		tq_fail(err, TQ_INTERNAL, "database_error", "", "%s",
		        msg ? msg : sqlite3_errstr(rc));
		if ((rc & 0xff) != SQLITE_ERROR)
			fail_from(d, rc, err);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void sq_disconnect(void *h)
{
	struct sqlite_db *d = h;
	int i;

	if (d == NULL)
		return;
	for (i = 0; i < d->ncache; i++)
		sqlite3_finalize(d->cache[i].stmt);
	if (d->writing)
		pthread_mutex_unlock(&d->writers->mutex);
	sqlite3_close(d->db);
	file_lock_put(d->writers);
	free(d);
}

static int sq_connect(const char *url, const char *purpose, void **out, struct tq_error *err)
{
	(void)purpose;
	struct sqlite_db *d;
	const char *path = url + strlen("sqlite:");
	struct stat st;
	bool created;
	int rc;

	*out = NULL;
	if (sqlite3_libversion_number() < 3035000)
		return tq_fail(err, TQ_INTERNAL, "sqlite_too_old", "",
		               "SQLite %s is too old: tokenq needs 3.35 or later (UPSERT with "
		               "RETURNING)",
		               sqlite3_libversion());
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	d->writers = file_lock_get(path);
	/* Whether the file is new: never open() it here, since closing any
	 * descriptor of a file drops this process's SQLite locks on it. */
	created = stat(path, &st) != 0;
	rc = sqlite3_open_v2(
	    path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	/* A new database file is the owner's alone (it holds orders and key
	 * hashes); SQLite gives its -wal and -shm files the same mode. */
	if (rc == SQLITE_OK && created)
		chmod(path, 0600);
	if (rc != SQLITE_OK) {
		tq_fail(err, TQ_UNAVAILABLE, "database_unavailable", "",
		        "cannot open the SQLite database %s: %s", path,
		        d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
		sq_disconnect(d);
		return -1;
	}
	sqlite3_extended_result_codes(d->db, 1);
	sqlite3_busy_timeout(d->db, 10000);
	if (run(d, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
	        err) != 0) {
		sq_disconnect(d);
		return -1;
	}
	*out = d;
	return 0;
}

static sqlite3_stmt *prepare(struct sqlite_db *d, const char *sql, struct tq_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int i, rc;

	for (i = 0; i < d->ncache; i++)
		if (d->cache[i].sql == sql)
			return d->cache[i].stmt;
	rc = sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
	if (rc != SQLITE_OK) {
		fail_from(d, rc, err);
		return NULL;
	}
	if (d->ncache < STMT_CACHE) {
		d->cache[d->ncache].sql = sql;
		d->cache[d->ncache].stmt = stmt;
		d->ncache++;
	}
	return stmt;
}

static void unprepare(struct sqlite_db *d, sqlite3_stmt *stmt)
{
	int i;

	for (i = 0; i < d->ncache; i++)
		if (d->cache[i].stmt == stmt)
			return;
	sqlite3_finalize(stmt);
}

/* Binds "$1".."$n"; canonical integers are bound as integers. */
static int bind(sqlite3_stmt *stmt, int nparams, const char *const *params)
{
	int i, rc;

	for (i = 1; i <= sqlite3_bind_parameter_count(stmt); i++) {
		const char *name = sqlite3_bind_parameter_name(stmt, i);
		int64_t v;
		long k;
		char *end;

		if (name == NULL || name[0] != '$')
			return SQLITE_RANGE;
		k = strtol(name + 1, &end, 10);
		if (*end != '\0' || k < 1 || k > nparams)
			return SQLITE_RANGE;
		if (params[k - 1] == NULL)
			rc = sqlite3_bind_null(stmt, i);
		else if (parse_i64(params[k - 1], &v) == 0)
			rc = sqlite3_bind_int64(stmt, i, v);
		else
			rc = sqlite3_bind_text(stmt, i, params[k - 1], -1, SQLITE_STATIC);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static int step_rows(struct sqlite_db *d, sqlite3_stmt *stmt, int query, sql_row_fn row, void *ctx,
                     struct tq_error *err)
{
	const char *vals[32];
	int rc, i, n;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		n = sqlite3_column_count(stmt);
		if (n > 32)
			n = 32;
		for (i = 0; i < n; i++)
			vals[i] = (const char *)sqlite3_column_text(stmt, i);
		if (row != NULL && row(ctx, query, n, vals) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		return fail_from(d, rc, err);
	return 0;
}

static int step_all(struct sqlite_db *d, sqlite3_stmt *stmt, int query, sql_row_fn row, void *ctx,
                    struct tq_error *err)
{
	int result;

	writer_enter(d, sqlite3_sql(stmt));
	result = step_rows(d, stmt, query, row, ctx, err);
	writer_leave(d);
	return result;
}

static int sq_exec_many(void *h, const char *sql, int nparams, int nrows, const char *const *params,
                        sql_row_fn row, void *ctx, struct tq_error *err)
{
	struct sqlite_db *d = h;
	sqlite3_stmt *stmt = prepare(d, sql, err);
	int r, rc = 0;

	if (stmt == NULL)
		return -1;
	for (r = 0; r < nrows && rc == 0; r++) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		if (bind(stmt, nparams, params ? params + (size_t)r * (size_t)nparams : NULL) !=
		    SQLITE_OK)
			rc = tq_fail(err, TQ_INTERNAL, "database_error", "",
			             "parameters do not match the statement");
		else
			rc = step_all(d, stmt, r, row, ctx, err);
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	unprepare(d, stmt);
	return rc;
}

static int sq_exec(void *h, const char *sql, int nparams, const char *const *params, sql_row_fn row,
                   void *ctx, struct tq_error *err)
{
	return sq_exec_many(h, sql, nparams, 1, params, row, ctx, err);
}

static int sq_exec_batch(void *h, const struct sql_stmt *stmts, int n, sql_row_fn row, void *ctx,
                         struct tq_error *err)
{
	int i;

	for (i = 0; i < n; i++) {
		struct sqlite_db *d = h;
		sqlite3_stmt *stmt = prepare(d, stmts[i].sql, err);
		int rc;

		if (stmt == NULL)
			return -1;
		if (bind(stmt, stmts[i].nparams, stmts[i].params) != SQLITE_OK)
			rc = tq_fail(err, TQ_INTERNAL, "database_error", "",
			             "parameters do not match the statement");
		else
			rc = step_all(d, stmt, i, row, ctx, err);
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		unprepare(d, stmt);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int sq_script(void *h, const char *sql, struct tq_error *err)
{
	return run(h, sql, err);
}

static int sq_begin(void *h, bool write, struct tq_error *err)
{
	return run(h, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

static int sq_commit(void *h, struct tq_error *err)
{
	struct sqlite_db *d = h;

	if (run(d, "COMMIT", err) != 0) {
		if (!sqlite3_get_autocommit(d->db))
			run(d, "ROLLBACK", NULL);
		return -1;
	}
	return 0;
}

static void sq_rollback(void *h)
{
	struct sqlite_db *d = h;

	if (!sqlite3_get_autocommit(d->db))
		run(d, "ROLLBACK", NULL);
}

/*
 * Nothing to take up front: migrate.c applies each migration in its own
 * BEGIN IMMEDIATE transaction and re-reads the history inside it, and
 * SQLite's write lock lets one writer in at a time.
 */
static int sq_lock_migrations(void *h, struct tq_error *err)
{
	(void)h;
	(void)err;
	return 0;
}

static void sq_unlock_migrations(void *h)
{
	(void)h;
}

static int count_row(void *ctx, int query, int ncols, const char *const *vals)
{
	(void)query;
	if (ncols > 0 && vals[0] != NULL)
		*(int *)ctx = (int)strtol(vals[0], NULL, 10);
	return 0;
}

static int sq_count_tables(void *h, int *n, struct tq_error *err)
{
	static const char sql[] =
	    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
	*n = 0;
	return sq_exec(h, sql, 0, NULL, count_row, n, err);
}

static int sq_relation_exists(void *h, const char *name, bool *exists, struct tq_error *err)
{
	static const char sql[] = "SELECT count(*) FROM sqlite_master WHERE name = $1";
	const char *p[1] = {name};
	int n = 0;

	*exists = false;
	if (sq_exec(h, sql, 1, p, count_row, &n, err) != 0)
		return -1;
	*exists = n > 0;
	return 0;
}

const struct sql_backend sqlite_backend = {
    .name = "sqlite",
    .dialect = "sqlite",
    .features = 0,
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .exec = sq_exec,
    .exec_many = sq_exec_many,
    .exec_batch = sq_exec_batch,
    .begin_sql = "BEGIN IMMEDIATE",
    .script = sq_script,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .lock_migrations = sq_lock_migrations,
    .unlock_migrations = sq_unlock_migrations,
    .count_tables = sq_count_tables,
    .relation_exists = sq_relation_exists,
    .backup = sq_backup,
    .backup_check = sq_backup_check,
    .notify_sql = NULL,
    .fk_off = "PRAGMA foreign_keys=OFF",
    .fk_check = "PRAGMA foreign_key_check",
    .fk_on = "PRAGMA foreign_keys=ON",
};
