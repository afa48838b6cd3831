/*
 * Inside the store: the backend table and what the store's own files share.
 * Code outside src/store/ (and its contract tests) uses only store.h; the
 * include check in `make test` (scripts/check-layers.sh) refuses any other
 * file that includes this one.
 *
 * A backend is a const table of SQL primitives (like sqlite3_io_methods):
 * connect, execute a parameterised statement, execute one statement for many
 * parameter rows (a libpq pipeline on PostgreSQL), begin/commit/rollback,
 * the migration lock, listening for other servers' commits, and backups.
 * The store operations are written once over these primitives, so both
 * backends keep the same promises by construction; the SQL they run is
 * portable ($N parameters, ON CONFLICT ... RETURNING, integers for times).
 *
 * Every call into a backend goes through the sql_* wrappers below (sql.c):
 * that is where the asserts and the fault injection live.
 */
#ifndef TOKENQ_STORE_INTERNAL_H
#define TOKENQ_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/array.h"
#include "util/buf.h"

/* Called for each result row; vals[i] is NULL for SQL NULL. Non-zero stops. */
typedef int (*sql_row_fn)(void *ctx, int query, int ncols, const char *const *vals);

/* One statement of a batch (see exec_batch). */
struct sql_stmt {
	const char *sql; /* a string constant, as for exec */
	int nparams;
	const char *const *params;
};

struct sql_backend {
	const char *name;    /* "sqlite" or "postgresql", as /healthz says */
	const char *dialect; /* the folder under migrations/ */
	unsigned features;   /* STORE_* bits (store.h) */
	/* purpose names the connection where the database can show it
	 * (PostgreSQL's application_name: tokenq/PURPOSE); may be NULL. */
	int (*connect)(const char *url, const char *purpose, void **db, struct tq_error *err);
	void (*disconnect)(void *db);
	/* One statement; params are text (NULL for NULL). sql must be a string
	 * constant: backends cache prepared statements by its address. */
	int (*exec)(void *db, const char *sql, int nparams, const char *const *params,
	            sql_row_fn row, void *ctx, struct tq_error *err);
	/* The same statement for nrows rows of nparams parameters each; row()
	 * gets the row's index as query. */
	int (*exec_many)(void *db, const char *sql, int nparams, int nrows,
	                 const char *const *params, sql_row_fn row, void *ctx,
	                 struct tq_error *err);
	/* Different statements in order, in one round trip where the backend
	 * can (a libpq pipeline); row() gets the statement's index as query.
	 * The first failure stops the rest. */
	int (*exec_batch)(void *db, const struct sql_stmt *stmts, int n, sql_row_fn row, void *ctx,
	                  struct tq_error *err);
	/* The statement that opens a write transaction, for use in a batch. */
	const char *begin_sql;
	/* Several statements without parameters (migrations). */
	int (*script)(void *db, const char *sql, struct tq_error *err);
	int (*begin)(void *db, bool write, struct tq_error *err);
	int (*commit)(void *db, struct tq_error *err);
	void (*rollback)(void *db);
	/* Serialises migrations across processes; held until unlock. */
	int (*lock_migrations)(void *db, struct tq_error *err);
	void (*unlock_migrations)(void *db);
	/* Tables in the database (0 for a brand-new one). */
	int (*count_tables)(void *db, int *n, struct tq_error *err);
	/* Whether a table, index or sequence of this name exists where tokenq
	 * creates its own (PostgreSQL: the current schema). */
	int (*relation_exists)(void *db, const char *name, bool *exists, struct tq_error *err);
	/* Migrations that rebuild a table (SQLite cannot alter a constraint)
	 * run with foreign keys off: fk_off before the migration's transaction,
	 * fk_check (rows are violations) before its commit, fk_on after it.
	 * NULL where the backend alters constraints in place. */
	const char *fk_off, *fk_check, *fk_on;
	/* A statement run in each event-writing transaction to wake other
	 * servers (PostgreSQL NOTIFY), or NULL; its one parameter is the venue
	 * whose events were written. settings_notify_sql, without parameters,
	 * is run by each change of a venue's settings. */
	const char *notify_sql;
	const char *settings_notify_sql;

	/* With STORE_LISTEN: a dedicated connection that hears other servers'
	 * commits. listen_fd is the socket to poll; listen_drain consumes what
	 * arrived, telling heard() of each, and returns how many notifications,
	 * or -1 when the connection is lost (close it and listen again). */
	int (*listen)(const char *url, void **l, struct tq_error *err);
	int (*listen_fd)(void *l);
	int (*listen_drain)(void *l, store_heard_fn heard, void *ctx);
	void (*listen_close)(void *l);

	/* A consistent copy of the database at url into the file path (which
	 * exists, empty), made while servers write; then, once the caller has
	 * synced it, a read-back check. kind says how, for the summary. 0, or
	 * -1 with one sentence (no final stop) in why. */
	int (*backup)(const char *url, const char *path, struct buf *why);
	int (*backup_check)(const char *path, const char **kind, struct buf *why);
};

/* The backends' backups (backup.c). */
int sq_backup(const char *url, const char *path, struct buf *why);
int sq_backup_check(const char *path, const char **kind, struct buf *why);
int pg_backup(const char *url, const char *path, struct buf *why);
int pg_backup_check(const char *path, const char **kind, struct buf *why);

extern const struct sql_backend sqlite_backend;
extern const struct sql_backend pg_backend;

struct store {
	const struct sql_backend *be;
	char *url;
};

struct store_conn {
	struct store *s;
	const struct sql_backend *be;
	void *db;
};

/* The backend behind a store or a connection (for the store and its tests). */
const struct sql_backend *store_backend(const struct store *s);
const struct sql_backend *store_conn_backend(struct store_conn *c);
void *store_conn_db(struct store_conn *c);

/* ---- the wrappers (sql.c): every call into a backend ---- */

int sql_exec(struct store_conn *c, const char *sql, int n, const char *const *p, sql_row_fn row,
             void *ctx, struct tq_error *err);
int sql_exec_many(struct store_conn *c, const char *sql, int nparams, int nrows,
                  const char *const *p, sql_row_fn row, void *ctx, struct tq_error *err);
int sql_exec_batch(struct store_conn *c, const struct sql_stmt *stmts, int n, sql_row_fn row,
                   void *ctx, struct tq_error *err);
int sql_script(struct store_conn *c, const char *sql, struct tq_error *err);
int sql_begin(struct store_conn *c, bool write, struct tq_error *err);
int sql_commit(struct store_conn *c, struct tq_error *err);
void sql_rollback(struct store_conn *c);
int sql_lock_migrations(struct store_conn *c, struct tq_error *err);
void sql_unlock_migrations(struct store_conn *c);
int sql_count_tables(struct store_conn *c, int *n, struct tq_error *err);
int sql_relation_exists(struct store_conn *c, const char *name, bool *exists, struct tq_error *err);
/* Runs the backend's NOTIFY statement, when it has one. */
int sql_notify(struct store_conn *c, int venue, struct tq_error *err);
/* Whether the connection's backend has STORE_* feature f. */
bool sql_has(struct store_conn *c, unsigned f);

/* Fails with TQ_INTERNAL injected_fault while the fault point is set (see store_fault). */
int sql_fault(const char *point, struct tq_error *err);

/* ---- rows: integers as text parameters and back, shared decoders ---- */

#define NUM_LEN 24

/* Text parameters for integers, kept alive for a statement: one per number. */
struct numbuf {
	char s[NUM_LEN];
};

const char *store_num(struct numbuf *b, int64_t v);
/* The integer in s, or 0 for NULL or anything that is not one. */
int64_t store_i64(const char *s);
/* A row callback storing the first column of the last row in *(int64_t *)ctx. */
int store_i64_row(void *ctx, int query, int ncols, const char *const *vals);
/* Copies src (NULL as "") into dst of size n, cut to fit. */
void store_copy_str(char *dst, size_t n, const char *src);
/*
 * Revokes row id with sql ("UPDATE ... SET revoked_at = COALESCE(revoked_at,
 * $2) WHERE id = $1 RETURNING id"): TQ_NOT_FOUND "there is no WHAT with id
 * N" when there is no such row.
 */
int store_revoke(struct store_conn *c, const char *sql, int64_t id, int64_t now, const char *what,
                 struct tq_error *err);
/* "recall" or anything else ("token"), as the events table stores it. */
enum event_kind store_event_kind(const char *s);

#define ORDER_COLS                                                                                 \
	"id, queue, business_date, sequence, status, items, total, note, created_at, updated_at, " \
	"ready_at, venue_id"

#define EVENT_COLS                                                                                 \
	"e.id, e.kind, e.order_id, o.queue, o.business_date, o.sequence, e.status, "               \
	"e.previous_status, e.at, e.venue_id"

/* A row callback collecting orders (ORDER_COLS) into an order_rows. */
struct order_rows {
	struct order *v;
	size_t n, cap;
	int bad;
};
int store_order_row(void *ctx, int query, int ncols, const char *const *vals);
void store_order_rows_free(struct order_rows *r);
/* Runs an order query that should find one row: 0, or TQ_NOT_FOUND. */
int store_one_order(struct store_conn *c, const char *sql, int n, const char *const *p,
                    struct order *out, struct tq_error *err);

/* ---- events (events.c), for the files that write them ---- */

/* Takes n event ids of the venue (the last write before commit): the
 * first's count; event k of them has id store_event_id(venue, first + k). */
int store_take_event_ids(struct store_conn *c, int venue, int64_t n, int64_t *first,
                         struct tq_error *err);
/* Moves the settings version and tells other servers (NOTIFY), in c's transaction. */
int store_settings_changed(struct store_conn *c, struct tq_error *err);
/* The statement store_take_event_ids runs: venue $1 takes $2 ids. */
extern const char store_event_ids_sql[];
/* The webhook outbox statement: deliveries for events $1..$2 of venue $3 (see events.c). */
extern const char store_outbox_sql[];

#endif
