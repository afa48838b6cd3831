/*
 * The store: where orders, events, counters, keys and idempotency records
 * live, on SQLite or PostgreSQL.
 *
 * Two layers. Below, a backend is a const table of SQL primitives (struct
 * sql_backend, like sqlite3_io_methods): connect, execute a parameterised
 * statement, execute one statement for many parameter rows (a libpq
 * pipeline on PostgreSQL), begin/commit/rollback, and the migration lock.
 * Above, the store operations (store_issue_batch, store_change_status, ...)
 * are written once, in store.c, against those primitives, so both backends
 * keep the same promises by construction; the SQL they run is portable
 * ($N parameters, ON CONFLICT ... RETURNING, integers for times).
 *
 * Threads: a struct store is shared; a struct store_conn is used by one
 * thread at a time. Every operation returns 0, or -1 with err filled in.
 * TQ_UNAVAILABLE means the database could not be reached: nothing was
 * written, and the connection reconnects by itself on its next use.
 */
#ifndef TOKENQ_STORE_H
#define TOKENQ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"
#include "domain/estimate.h"
#include "domain/order.h"

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
	/* A statement run in each event-writing transaction to wake other
	 * servers (PostgreSQL NOTIFY), or NULL. Takes no parameters. */
	const char *notify_sql;

	/* Optional (NULL on SQLite): a dedicated connection that hears other
	 * servers' commits. listen_fd is the socket to poll; listen_drain
	 * consumes what arrived and returns how many notifications, or -1 when
	 * the connection is lost (close it and listen again). */
	int (*listen)(const char *url, void **l, struct tq_error *err);
	int (*listen_fd)(void *l);
	int (*listen_drain)(void *l);
	void (*listen_close)(void *l);
};

extern const struct sql_backend sqlite_backend;
extern const struct sql_backend pg_backend;

struct store;
struct store_conn;

/* Picks the backend for url (sqlite:PATH or postgres(ql)://...). Does not connect. */
int store_open(const char *url, struct store **out, struct tq_error *err);
void store_free(struct store *s);
const struct sql_backend *store_backend(const struct store *s);
const char *store_url(const struct store *s);

int store_connect(struct store *s, struct store_conn **out, struct tq_error *err);
/* The same, naming what the connection is for ("issuer", "worker", "hub"):
 * operators see it in pg_stat_activity as application_name tokenq/PURPOSE. */
int store_connect_as(struct store *s, const char *purpose, struct store_conn **out,
                     struct tq_error *err);
void store_disconnect(struct store_conn *c);
/* The connection's backend handle and table, for migrate.c and copy. */
void *store_conn_db(struct store_conn *c);
const struct sql_backend *store_conn_backend(struct store_conn *c);

/* A cheap round trip: is the database there? */
int store_ping(struct store_conn *c, struct tq_error *err);

/*
 * Fault injection for tests: while TOKENQ_FAULT names a point (or
 * store_fault_set() did), the store fails there as if the database had
 * answered with an error. Points: "after_counter" (inside store_issue_batch,
 * after the counter upsert), "after_events" (just before commit).
 */
void store_fault_set(const char *point);
bool store_fault(const char *point);

/* ---- orders ---- */

enum issue_outcome { ISSUE_CREATED, ISSUE_REPLAYED, ISSUE_FAILED };

/* One order to issue, and what became of it. */
struct issue_req {
	const struct order_input *in;
	const char *idem_key; /* NULL, or the Idempotency-Key */
	char idem_hash[65];   /* sha256 of the request body when idem_key is set */
	int64_t now;          /* ms since the epoch: created_at */
	char business_date[BIZDATE_LEN];
	/* out */
	enum issue_outcome outcome;
	int64_t order_id;
	int64_t sequence; /* the number issued, when created */
	struct tq_error err;
};

/*
 * Issues reqs in one transaction: each keyed request first claims its key
 * (requests whose key another transaction holds are answered from that
 * record after commit: ISSUE_REPLAYED, or ISSUE_FAILED with
 * idempotency_key_reused), then each queue's day counter moves forward by
 * the number of its orders in one upsert, the orders and their creation
 * events are inserted, and the transaction commits. Returns -1 when the
 * transaction failed as a whole: then nothing of it was written and the
 * caller may retry the requests one by one.
 */
int store_issue_batch(struct store_conn *c, struct issue_req *const *reqs, size_t n,
                      struct tq_error *err);

/* Looks up an idempotency key: 1 with its hash and order id, 0 when unknown. */
int store_idem_find(struct store_conn *c, const char *key, char hash[65], int64_t *order_id,
                    struct tq_error *err);

int store_get_order(struct store_conn *c, int64_t id, struct order *out, struct tq_error *err);

/*
 * Moves order id to status to, recording an event; or with recall, records
 * a recall of a READY order. TQ_NOT_FOUND, or TQ_CONFLICT invalid_transition.
 * On success out holds the order as it now is.
 */
int store_change_status(struct store_conn *c, int64_t id, enum order_status to, bool recall,
                        int64_t now, struct order *out, struct tq_error *err);

struct order_filter {
	char business_date[BIZDATE_LEN];
	const char *queue;   /* NULL for all */
	unsigned status_set; /* bit (1 << status); 0 for all */
	int64_t after_id;
	int limit;
	bool by_sequence; /* token order instead of creation order */
};

/* Orders matching f, oldest first; call order_release on each, then free(). */
int store_list_orders(struct store_conn *c, const struct order_filter *f, struct order **out,
                      size_t *n, struct tq_error *err);

/* The order holding a token of a queue and day; TQ_NOT_FOUND when none. */
int store_find_token(struct store_conn *c, const char *queue, const char *date, int64_t seq,
                     struct order *out, struct tq_error *err);

/* Orders of the queue and day with a lower number still PENDING or PREPARING. */
int store_count_ahead(struct store_conn *c, const struct order *o, int64_t *ahead,
                      struct tq_error *err);

/*
 * The pace of the queue's latest (up to 20) ready orders of date: median
 * seconds from creation to READY, and between consecutive READYs; -1 each
 * where there are too few.
 */
int store_recent_pace(struct store_conn *c, const char *queue, const char *date, struct pace *out,
                      struct tq_error *err);

/* ---- events ---- */

enum event_kind { EV_TOKEN, EV_RECALL };

struct event {
	int64_t id;
	enum event_kind kind;
	int64_t order_id;
	char queue[4];
	char business_date[BIZDATE_LEN];
	int64_t sequence;
	enum order_status status;
	int previous_status; /* an enum order_status, or -1 on creation */
	int64_t at;
};

/* The id of the latest committed event (0 when none). */
int store_last_event_id(struct store_conn *c, int64_t *id, struct tq_error *err);

/* Events with id > after_id, oldest first, at most limit; free() *out. */
int store_events_after(struct store_conn *c, int64_t after_id, int limit, struct event **out,
                       size_t *n, struct tq_error *err);

/* The events of one order, oldest first; free() *out. */
int store_order_history(struct store_conn *c, int64_t order_id, struct event **out, size_t *n,
                        struct tq_error *err);

/* ---- API keys ---- */

enum role { ROLE_POS, ROLE_STAFF, ROLE_ADMIN };

const char *role_name(enum role r);
int role_parse(const char *name, enum role *out);

struct api_key {
	int64_t id;
	enum role role;
	char label[256];
	int64_t created_at;
	int64_t last_used_at; /* 0 when never */
	int64_t revoked_at;   /* 0 when active */
};

int store_key_create(struct store_conn *c, enum role role, const char *label, const char *hash,
                     int64_t now, int64_t *id, struct tq_error *err);
/* All keys, oldest first; free() *out. */
int store_key_list(struct store_conn *c, struct api_key **out, size_t *n, struct tq_error *err);
/* TQ_NOT_FOUND for an unknown id; revoking a revoked key keeps its first time. */
int store_key_revoke(struct store_conn *c, int64_t id, int64_t now, struct tq_error *err);
/* The active key with this hash: 1 and *out, or 0 when there is none. */
int store_key_find(struct store_conn *c, const char *hash, struct api_key *out,
                   struct tq_error *err);
/* Whether any unrevoked key exists (protected mode ends with the first). */
int store_key_any(struct store_conn *c, bool *any, struct tq_error *err);
int store_key_touch(struct store_conn *c, int64_t id, int64_t now, struct tq_error *err);

/* ---- integer and text helpers shared by the store files ---- */

/* Strict decimal int64; 0 or -1. */
int parse_i64(const char *s, int64_t *out);

#endif
