/*
 * The store: where orders, events, counters, keys and idempotency records
 * live, on SQLite or PostgreSQL, behind one interface. Which backend a
 * store uses follows from its URL (sqlite:PATH or postgres(ql)://...); what
 * a backend can do is asked with store_has(), never by its name. The
 * backends themselves are private to src/store/ (store-internal.h).
 *
 * The store keeps records and their invariants that only the database can
 * keep (gapless numbers, event ids in commit order, a key claimed once); the
 * rules of the domain (which status may follow which, what an order may
 * hold) are checked above it, in src/domain/.
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

#include "store/record.h"
#include "util/buf.h"
#include "util/error.h"

/* What a backend can do, asked with store_has() instead of by its name. */
enum store_feature {
	STORE_LISTEN = 1u << 0,      /* hears other servers' commits (LISTEN/NOTIFY) */
	STORE_SKIP_LOCKED = 1u << 1, /* SELECT ... FOR UPDATE SKIP LOCKED passes over locked rows */
	STORE_MANY_WRITERS = 1u << 2, /* write transactions run side by side (not one at a time) */
	STORE_SEQUENCES = 1u << 3,    /* ids come from sequences, set again after a copy */
};

struct store;
struct store_conn;

/* Picks the backend for url (sqlite:PATH or postgres(ql)://...). Does not connect. */
int store_open(const char *url, struct store **out, struct tq_error *err);
void store_free(struct store *s);
/* The file a file-backed store (sqlite:PATH) keeps its data in, or NULL for a server's. */
const char *store_file(const char *url);
/* The URL the store was opened with. */
const char *store_url(const struct store *s);
/* "sqlite" or "postgresql", as /healthz and the logs say. */
const char *store_kind(const struct store *s);
/* Whether the store's backend has every STORE_* bit of features. */
bool store_has(const struct store *s, unsigned features);

int store_connect(struct store *s, struct store_conn **out, struct tq_error *err);
/* The same, naming what the connection is for ("issuer", "worker", "hub"):
 * operators see it in pg_stat_activity as application_name tokenq/PURPOSE. */
int store_connect_as(struct store *s, const char *purpose, struct store_conn **out,
                     struct tq_error *err);
void store_disconnect(struct store_conn *c);
/* Transactions, for whole-database work (tokenq copy); the operations below open their own. */
int store_begin(struct store_conn *c, bool write, struct tq_error *err);
int store_commit(struct store_conn *c, struct tq_error *err);
void store_rollback(struct store_conn *c);
/* Tables in the database (0 for a brand-new one). */
int store_count_tables(struct store_conn *c, int *n, struct tq_error *err);

/*
 * Hearing other servers' commits (with STORE_LISTEN): a dedicated
 * connection whose socket the caller polls; drain consumes what arrived and
 * returns how many notifications, or -1 once the connection is lost (close
 * it and listen again).
 */
struct store_listener;
enum store_heard { STORE_HEARD_EVENTS, STORE_HEARD_SETTINGS };
/* Told of each notification: events of venue (0 when unknown), or a change of settings. */
typedef void (*store_heard_fn)(void *ctx, enum store_heard what, int venue);
int store_listen(struct store *s, struct store_listener **out, struct tq_error *err);
int store_listener_fd(struct store_listener *l);
int store_listener_drain(struct store_listener *l, store_heard_fn heard, void *ctx);
void store_listener_close(struct store_listener *l);

/*
 * A consistent copy of the whole database into the file path (which
 * exists, empty), made while servers write: SQLite's online backup, or
 * pg_dump --format=custom. The caller syncs the file, then store_backup_check
 * reads it back (PRAGMA integrity_check; pg_restore --list) and says in kind
 * how the copy was made and checked. 0, or -1 with one sentence in why.
 */
int store_backup(struct store *s, const char *path, struct buf *why);
int store_backup_check(struct store *s, const char *path, const char **kind, struct buf *why);

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

/* ---- venues ---- */

/*
 * Venue ids are 1 to 65535 (main is 1); an event's id is its venue's count
 * of events times STORE_VENUE_IDS plus the venue's id, so ids are unique
 * across the install and grow in commit order within a venue.
 */
#define STORE_VENUE_IDS  65536
#define STORE_MAIN_VENUE 1
int64_t store_event_id(int venue, int64_t count);

/* Every venue, by id; free() *out. */
int store_venue_list(struct store_conn *c, struct venue_row **out, size_t *n, struct tq_error *err);
/* The venue of this slug: 0, or TQ_NOT_FOUND unknown_venue. */
int store_venue_get(struct store_conn *c, const char *slug, struct venue_row *out,
                    struct tq_error *err);
/*
 * Adds the venue v (its id is chosen here and set in v), or TQ_CONFLICT
 * venue_exists when its slug is taken. logo (base64, NULL for none) goes
 * with v->logo_type. Running servers hear of it (settings version, NOTIFY).
 */
int store_venue_create(struct store_conn *c, struct venue_row *v, const char *logo, int64_t now,
                       struct tq_error *err);
/*
 * Writes every setting of the venue v->slug; with set_logo, the logo too
 * (NULL removes it). TQ_NOT_FOUND unknown_venue when there is none.
 */
int store_venue_update(struct store_conn *c, const struct venue_row *v, bool set_logo,
                       const char *logo, int64_t now, struct tq_error *err);
/* Deletes a venue without orders (TQ_CONFLICT venue_has_orders otherwise), with its keys. */
int store_venue_delete(struct store_conn *c, const char *slug, struct tq_error *err);
/* The venue's logo: 1 with base64 text in *b64 (free() it) and its type, 0 when none. */
int store_venue_logo(struct store_conn *c, int venue, char **b64, char type[32],
                     struct tq_error *err);
/* The settings version: it moves whenever any venue's settings change. */
int store_settings_version(struct store_conn *c, int64_t *version, struct tq_error *err);

/* ---- orders ---- */

enum issue_outcome { ISSUE_CREATED, ISSUE_REPLAYED, ISSUE_FAILED };

/* One order to issue, and what became of it. */
struct issue_req {
	int venue_id;
	/* Whether the venue had live webhook endpoints in the settings of version
	 * settings_version; when the version has moved by the time the batch is
	 * written, the endpoints are looked for anyway. */
	bool outbox;
	int64_t settings_version;
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

/* Looks up a venue's idempotency key: 1 with its hash and order id, 0 when unknown. */
int store_idem_find(struct store_conn *c, int venue, const char *key, char hash[65],
                    int64_t *order_id, struct tq_error *err);

/* Every read and write below is of one venue's records: another venue's
 * order is TQ_NOT_FOUND, as if it did not exist. */
int store_get_order(struct store_conn *c, int venue, int64_t id, struct order *out,
                    struct tq_error *err);

/*
 * Records a change of order id, now in status from: a move to `to`, or with
 * recall a recall (the status stays), with its event, in one transaction.
 * Which changes are allowed is the domain's to say (domain/orders.h); the
 * store only makes sure the order is still in from as it writes, and
 * returns 1, having written nothing, when it is not (a concurrent change
 * came first: read it again and decide again). On success out holds the
 * order as it now is.
 */
int store_record_change(struct store_conn *c, int venue, int64_t id, enum order_status from,
                        enum order_status to, bool recall, int64_t now, struct order *out,
                        struct tq_error *err);

struct order_filter {
	int venue_id;
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
int store_find_token(struct store_conn *c, int venue, const char *queue, const char *date,
                     int64_t seq, struct order *out, struct tq_error *err);

/* Orders of the queue and day with a lower number still PENDING or PREPARING. */
int store_count_ahead(struct store_conn *c, const struct order *o, int64_t *ahead,
                      struct tq_error *err);

/*
 * The pace of the queue's latest (up to 20) ready orders of date: median
 * seconds from creation to READY, and between consecutive READYs; -1 each
 * where there are too few.
 */
int store_recent_pace(struct store_conn *c, int venue, const char *queue, const char *date,
                      struct pace *out, struct tq_error *err);

/* ---- events ---- */

/* The id of the venue's latest committed event (0 when none). */
int store_last_event_id(struct store_conn *c, int venue, int64_t *id, struct tq_error *err);

/* The venue's events with id > after_id, oldest first, at most limit; free() *out. */
int store_events_after(struct store_conn *c, int venue, int64_t after_id, int limit,
                       struct event **out, size_t *n, struct tq_error *err);

/* One event of the venue by id; TQ_NOT_FOUND when there is none. */
int store_event_get(struct store_conn *c, int venue, int64_t id, struct event *out,
                    struct tq_error *err);

/* The events of one order, oldest first; free() *out. */
int store_order_history(struct store_conn *c, int venue, int64_t order_id, struct event **out,
                        size_t *n, struct tq_error *err);

/* ---- API keys ---- */

/* A key of venue (0 for every venue). */
int store_key_create(struct store_conn *c, enum role role, int venue, const char *label,
                     const char *hash, int64_t now, int64_t *id, struct tq_error *err);
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

#endif
