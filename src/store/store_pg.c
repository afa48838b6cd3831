/*
 * The PostgreSQL backend: the SQL primitives of store.h over one libpq
 * connection. Sessions run at READ COMMITTED with a lock_timeout and an
 * idle_in_transaction_session_timeout, so that one stuck session cannot
 * hold a day's counter. Statements are prepared once per connection and
 * cached by the address of their SQL text; exec_many sends its rows in one
 * libpq pipeline, one round trip for the lot. A connection found broken is
 * reset on its next use, and until then every call answers TQ_UNAVAILABLE.
 */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

#define STMT_CACHE     48
#define MIGRATION_LOCK "7420117"

struct pg_db {
	PGconn *conn;
	struct {
		const char *sql;
		char name[16];
	} cache[STMT_CACHE];
	int ncache;
};

static const char session_sql[] = "SET lock_timeout = '5s';"
                                  "SET idle_in_transaction_session_timeout = '60s';"
                                  "SET statement_timeout = '60s';"
                                  "SET default_transaction_isolation = 'read committed';"
                                  "SET client_min_messages = 'warning';";

/* Whether the server ended the session (SQLSTATE 57P01-57P03, or class 08). */
static bool session_ended(const char *state)
{
	return state != NULL && (strncmp(state, "57P0", 4) == 0 || strncmp(state, "08", 2) == 0);
}

static int fail_res(struct pg_db *d, PGresult *res, struct tq_error *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char buf[200];

	if (msg == NULL) {
		snprintf(buf, sizeof(buf), "%s", PQerrorMessage(d->conn));
		buf[strcspn(buf, "\n")] = '\0';
		msg = buf;
	}
	if (state != NULL && strcmp(state, "08P01") == 0) /* a protocol violation is our bug */
		return tq_fail(err, TQ_INTERNAL, "database_error", "", "%s (SQLSTATE %s)", msg,
		               state);
	if (PQstatus(d->conn) != CONNECTION_OK || state == NULL || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0 || strncmp(state, "53", 2) == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0)
		return tq_fail(err, TQ_UNAVAILABLE, "database_unavailable", "",
		               "the database cannot be reached now: %s", msg);
	if (strncmp(state, "23", 2) == 0)
		return tq_fail(err, TQ_CONFLICT, "constraint", "", "%s", msg);
	return tq_fail(err, TQ_INTERNAL, "database_error", "", "%s (SQLSTATE %s)", msg, state);
}

/* The server's notices (and the FATAL of a closing connection) are not for stderr. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int session_setup(struct pg_db *d, struct tq_error *err)
{
	PGresult *res;
	int rc = 0;

	PQsetNoticeProcessor(d->conn, quiet, NULL);
	res = PQexec(d->conn, session_sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = fail_res(d, res, err);
	PQclear(res);
	d->ncache = 0;
	return rc;
}

/*
 * Makes sure the connection is up, resetting a broken one.
 *
 * Between transactions the server sends nothing of its own accord but when
 * it ends the session (pg_terminate_backend, a shutdown, a failover, an idle
 * timeout): it writes a FATAL error and closes. So a connection that is idle
 * and has anything to read is finished, whatever PQstatus says yet (libpq
 * notices the end only when it next reads, inside our next statement): it
 * is reset now, before a statement is spent on it.
 */
static int ensure(struct pg_db *d, struct tq_error *err)
{
	if (PQstatus(d->conn) == CONNECTION_OK) {
		struct pollfd p = {PQsocket(d->conn), POLLIN, 0};
		if (PQtransactionStatus(d->conn) != PQTRANS_IDLE || poll(&p, 1, 0) <= 0)
			return 0;
	}
	PQreset(d->conn);
	if (PQstatus(d->conn) != CONNECTION_OK)
		return fail_res(d, NULL, err);
	return session_setup(d, err);
}

static void pg_disconnect(void *h)
{
	struct pg_db *d = h;

	if (d == NULL)
		return;
	PQfinish(d->conn);
	free(d);
}

/* purpose names the connection in pg_stat_activity: application_name tokenq/PURPOSE. */
static int pg_connect(const char *url, const char *purpose, void **out, struct tq_error *err)
{
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[] = {url, "5", NULL, NULL};
	char app[64];
	struct pg_db *d = calloc(1, sizeof(*d));

	*out = NULL;
	snprintf(app, sizeof(app), "tokenq%s%.40s", purpose ? "/" : "", purpose ? purpose : "");
	vals[2] = app;
	if (d == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	d->conn = PQconnectdbParams(keys, vals, 1);
	if (d->conn == NULL || PQstatus(d->conn) != CONNECTION_OK) {
		fail_res(d, NULL, err);
		pg_disconnect(d);
		return -1;
	}
	if (session_setup(d, err) != 0) {
		pg_disconnect(d);
		return -1;
	}
	*out = d;
	return 0;
}

/* The name of sql prepared on this connection; "" (unnamed) once the cache is full. */
static const char *prepare(struct pg_db *d, const char *sql, int nparams, struct tq_error *err)
{
	const char *name = "";
	PGresult *res;
	int i;

	for (i = 0; i < d->ncache; i++)
		if (d->cache[i].sql == sql)
			return d->cache[i].name;
	if (d->ncache < STMT_CACHE) {
		snprintf(d->cache[d->ncache].name, sizeof(d->cache[d->ncache].name), "tq%d",
		         d->ncache);
		name = d->cache[d->ncache].name;
	}
	res = PQprepare(d->conn, name, sql, nparams, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fail_res(d, res, err);
		PQclear(res);
		return NULL;
	}
	PQclear(res);
	if (*name)
		d->cache[d->ncache++].sql = sql;
	return name;
}

static int rows(PGresult *res, int query, sql_row_fn row, void *ctx)
{
	const char *vals[32];
	int r, c, nr = PQntuples(res), nc = PQnfields(res);

	if (nc > 32)
		nc = 32;
	for (r = 0; r < nr && row != NULL; r++) {
		for (c = 0; c < nc; c++)
			vals[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
		if (row(ctx, query, nc, vals) != 0)
			break;
	}
	return 0;
}

static int ok_status(PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/*
 * A statement that cannot have had an effect may be retried once on a fresh
 * connection when the session was ended under it: one sent on a connection
 * that was idle (outside a transaction) and that is the first of a
 * transaction (BEGIN) or only reads. A write is never retried: it may have
 * committed before the session ended.
 */
static bool harmless(const char *sql)
{
	return strncmp(sql, "BEGIN", 5) == 0 ||
	       (strncmp(sql, "SELECT ", 7) == 0 && strstr(sql, "pg_notify(") == NULL &&
	        strstr(sql, "pg_advisory") == NULL && strstr(sql, "nextval(") == NULL &&
	        strstr(sql, " FOR UPDATE") == NULL);
}

/* After a failure on a connection that was idle: reset it when the session
 * was ended, and say whether the statement may be sent again. */
static bool retry_after_loss(struct pg_db *d, bool idle_before, const char *state)
{
	if (!idle_before || (PQstatus(d->conn) == CONNECTION_OK && !session_ended(state)))
		return false;
	PQreset(d->conn);
	if (PQstatus(d->conn) != CONNECTION_OK)
		return false;
	return session_setup(d, NULL) == 0;
}

/* The SQLSTATE of a result, copied (results are cleared before it is used). */
static void state_of(PGresult *res, char state[6])
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	snprintf(state, 6, "%s", s ? s : "");
}

static int exec_once(struct pg_db *d, const char *sql, int nparams, const char *const *params,
                     int query, sql_row_fn row, void *ctx, struct tq_error *err)
{
	const char *name;
	PGresult *res;
	char state[6];
	bool idle;
	int rc, attempt;

	for (attempt = 0;; attempt++) {
		if (ensure(d, err) != 0 || (name = prepare(d, sql, nparams, err)) == NULL)
			return -1;
		idle = PQtransactionStatus(d->conn) == PQTRANS_IDLE;
		res = PQexecPrepared(d->conn, name, nparams, params, NULL, NULL, 0);
		if (ok_status(res)) {
			rows(res, query, row, ctx);
			PQclear(res);
			return 0;
		}
		rc = fail_res(d, res, err);
		state_of(res, state);
		PQclear(res);
		if (attempt > 0 || !harmless(sql) || !retry_after_loss(d, idle, state))
			return rc;
	}
}

static int pg_exec(void *h, const char *sql, int nparams, const char *const *params, sql_row_fn row,
                   void *ctx, struct tq_error *err)
{
	return exec_once(h, sql, nparams, params, 0, row, ctx, err);
}

/*
 * Sends n statements in one libpq pipeline and reads every result up to the
 * sync, even after an error: one round trip for the lot. After a failed
 * statement the server skips the rest (they answer PIPELINE_ABORTED).
 * *nok counts the statements that succeeded; state gets the first error's
 * SQLSTATE.
 */
static int pipeline_once(struct pg_db *d, const struct sql_stmt *stmts, int n, sql_row_fn row,
                         void *ctx, struct tq_error *err, int *nok, char state[6])
{
	const char *names[64];
	PGresult *res;
	int i, rc = 0;

	*nok = 0;
	state[0] = '\0';
	if (ensure(d, err) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		/* Prepared before the pipeline. A statement the cache has no room
		 * for is prepared unnamed, and the next one would replace it: then
		 * the batch goes one statement at a time. */
		const char *name = prepare(d, stmts[i].sql, stmts[i].nparams, err);
		if (name == NULL)
			return -1;
		if (*name == '\0' || i >= 64) {
			for (i = 0; i < n; i++) {
				if (exec_once(d, stmts[i].sql, stmts[i].nparams, stmts[i].params, i,
				              row, ctx, err) != 0)
					return -1;
				++*nok;
			}
			return 0;
		}
		names[i] = name;
	}
	if (!PQenterPipelineMode(d->conn))
		return fail_res(d, NULL, err);
	for (i = 0; i < n && rc == 0; i++) {
		if (!PQsendQueryPrepared(d->conn, names[i], stmts[i].nparams, stmts[i].params, NULL,
		                         NULL, 0))
			rc = fail_res(d, NULL, err);
	}
	if (!PQpipelineSync(d->conn) && rc == 0)
		rc = fail_res(d, NULL, err);
	i = 0;
	while ((res = PQgetResult(d->conn)) != NULL || PQstatus(d->conn) == CONNECTION_OK) {
		ExecStatusType st;
		if (res == NULL) {
			i++; /* the end of one statement's results */
			continue;
		}
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (ok_status(res)) {
			++*nok;
			if (rc == 0)
				rows(res, i, row, ctx);
		} else if (rc == 0 && *nok < n) {
			rc = fail_res(d, res, err);
			state_of(res, state);
		}
		PQclear(res);
	}
	/* Lost after every statement answered (a COMMIT among them): it all happened. */
	if (PQstatus(d->conn) != CONNECTION_OK && rc == 0 && *nok < n)
		rc = fail_res(d, NULL, err);
	PQexitPipelineMode(d->conn);
	return rc;
}

/* Whether a pipeline that failed before its first statement succeeded may be
 * sent again: it opens a transaction, or it only reads. */
static bool harmless_batch(const struct sql_stmt *stmts, int n)
{
	int i;

	if (strncmp(stmts[0].sql, "BEGIN", 5) == 0)
		return true;
	for (i = 0; i < n; i++)
		if (!harmless(stmts[i].sql))
			return false;
	return true;
}

static int pg_exec_batch(void *h, const struct sql_stmt *stmts, int n, sql_row_fn row, void *ctx,
                         struct tq_error *err)
{
	struct pg_db *d = h;
	char state[6];
	bool idle;
	int rc, nok;

	if (n == 1)
		return pg_exec(h, stmts[0].sql, stmts[0].nparams, stmts[0].params, row, ctx, err);
	if (n == 0)
		return 0;
	idle = PQstatus(d->conn) != CONNECTION_OK || PQtransactionStatus(d->conn) == PQTRANS_IDLE;
	rc = pipeline_once(d, stmts, n, row, ctx, err, &nok, state);
	if (rc != 0 && nok == 0 && harmless_batch(stmts, n) && retry_after_loss(d, idle, state))
		rc = pipeline_once(d, stmts, n, row, ctx, err, &nok, state);
	return rc;
}

static int pg_exec_many(void *h, const char *sql, int nparams, int nrows, const char *const *params,
                        sql_row_fn row, void *ctx, struct tq_error *err)
{
	struct sql_stmt *stmts;
	int i, rc;

	if (nrows <= 1)
		return nrows == 1 ? pg_exec(h, sql, nparams, params, row, ctx, err) : 0;
	stmts = calloc((size_t)nrows, sizeof(*stmts));
	if (stmts == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	for (i = 0; i < nrows; i++) {
		stmts[i].sql = sql;
		stmts[i].nparams = nparams;
		stmts[i].params = params + (size_t)i * (size_t)nparams;
	}
	rc = pg_exec_batch(h, stmts, nrows, row, ctx, err);
	free(stmts);
	return rc;
}

static int simple(struct pg_db *d, const char *sql, struct tq_error *err)
{
	bool idle = PQtransactionStatus(d->conn) == PQTRANS_IDLE;
	PGresult *res;
	char state[6];
	int rc = 0, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (ensure(d, err) != 0)
			return -1;
		res = PQexec(d->conn, sql);
		rc = ok_status(res) ? 0 : fail_res(d, res, err);
		state_of(res, state);
		PQclear(res);
		if (rc == 0 || !harmless(sql) || !retry_after_loss(d, idle, state))
			break;
	}
	return rc;
}

static int pg_script(void *h, const char *sql, struct tq_error *err)
{
	return simple(h, sql, err);
}

static int pg_begin(void *h, bool write, struct tq_error *err)
{
	return simple(h, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
}

static int pg_commit(void *h, struct tq_error *err)
{
	struct pg_db *d = h;
	PGresult *res = PQexec(d->conn, "COMMIT");
	int rc = 0;

	/* A COMMIT of an aborted transaction answers ROLLBACK, not an error. */
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = fail_res(d, res, err);
	else if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
		rc = tq_fail(err, TQ_INTERNAL, "database_error", "",
		             "the transaction was rolled back");
	PQclear(res);
	return rc;
}

static void pg_rollback(void *h)
{
	struct pg_db *d = h;

	if (PQstatus(d->conn) == CONNECTION_OK && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
		PQclear(PQexec(d->conn, "ROLLBACK"));
}

static int pg_lock_migrations(void *h, struct tq_error *err)
{
	return simple(h, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")", err);
}

static void pg_unlock_migrations(void *h)
{
	simple(h, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")", NULL);
}

static int count_row(void *ctx, int query, int ncols, const char *const *vals)
{
	(void)query;
	if (ncols > 0 && vals[0] != NULL)
		*(int *)ctx = (int)strtol(vals[0], NULL, 10);
	return 0;
}

static int pg_count_tables(void *h, int *n, struct tq_error *err)
{
	static const char sql[] = "SELECT count(*) FROM information_schema.tables "
	                          "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
	                          "AND table_type = 'BASE TABLE'";
	*n = 0;
	return pg_exec(h, sql, 0, NULL, count_row, n, err);
}

static int pg_relation_exists(void *h, const char *name, bool *exists, struct tq_error *err)
{
	static const char sql[] = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
	                          "c.relnamespace WHERE n.nspname = current_schema() AND c.relname "
	                          "= $1";
	const char *p[1] = {name};
	int n = 0;

	*exists = false;
	if (pg_exec(h, sql, 1, p, count_row, &n, err) != 0)
		return -1;
	*exists = n > 0;
	return 0;
}

/* The LISTEN connection: a plain PGconn that only waits for notifications. */
static int pg_listen(const char *url, void **out, struct tq_error *err)
{
	struct pg_db *d;
	PGresult *res;

	if (pg_connect(url, "listen", out, err) != 0)
		return -1;
	d = *out;
	res = PQexec(d->conn, "LISTEN tokenq_events; LISTEN tokenq_settings");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fail_res(d, res, err);
		PQclear(res);
		pg_disconnect(d);
		*out = NULL;
		return -1;
	}
	PQclear(res);
	return 0;
}

static int pg_listen_fd(void *h)
{
	return PQsocket(((struct pg_db *)h)->conn);
}

static int pg_listen_drain(void *h, store_heard_fn heard, void *ctx)
{
	struct pg_db *d = h;
	PGnotify *n;
	int count = 0;

	if (!PQconsumeInput(d->conn) || PQstatus(d->conn) != CONNECTION_OK)
		return -1;
	while ((n = PQnotifies(d->conn)) != NULL) {
		count++;
		if (heard != NULL)
			heard(ctx,
			      strcmp(n->relname, "tokenq_settings") == 0 ? STORE_HEARD_SETTINGS
			                                                 : STORE_HEARD_EVENTS,
			      (int)store_i64(n->extra));
		PQfreemem(n);
	}
	return count;
}

const struct sql_backend pg_backend = {
    .name = "postgresql",
    .dialect = "postgres",
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .exec = pg_exec,
    .exec_many = pg_exec_many,
    .exec_batch = pg_exec_batch,
    .begin_sql = "BEGIN",
    .script = pg_script,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .lock_migrations = pg_lock_migrations,
    .unlock_migrations = pg_unlock_migrations,
    .count_tables = pg_count_tables,
    .relation_exists = pg_relation_exists,
    .backup = pg_backup,
    .backup_check = pg_backup_check,
    .features = STORE_LISTEN | STORE_SKIP_LOCKED | STORE_MANY_WRITERS | STORE_SEQUENCES,
    .notify_sql = "SELECT pg_notify('tokenq_events', $1)",
    .settings_notify_sql = "SELECT pg_notify('tokenq_settings', '')",
    .listen = pg_listen,
    .listen_fd = pg_listen_fd,
    .listen_drain = pg_listen_drain,
    .listen_close = pg_disconnect,
};
