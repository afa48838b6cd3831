/*
 * The façade the HTTP layer and the commands get instead of the store:
 * tokenq's settings, its store, the issuer (group commit) and the venue,
 * and the operations that own the rules. A handler parses its request,
 * calls one tq_* function and renders the answer; what is allowed (status
 * moves, recalls, idempotency, who a key is) is decided here, never in a
 * handler and never in SQL alone.
 *
 * A struct tq is shared by every thread; a struct tq_session is one
 * thread's handle on it, holding that thread's database connection (NULL
 * when none could be had). Operations return 0, or -1 with err filled in.
 */
#ifndef TOKENQ_DOMAIN_TQ_H
#define TOKENQ_DOMAIN_TQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/issuer.h"
#include "domain/venue.h"
#include "store/print_jobs.h"
#include "store/reports.h"
#include "store/store.h"
#include "util/config.h"
#include "util/error.h"

struct tq {
	const struct config *cfg; /* not owned */
	struct store *store;      /* not owned */
	struct issuer *issuer;    /* set once started; NULL for commands that issue nothing */
	struct printer *printer;  /* the print worker, when a printer is configured */
	struct venues venues;     /* every venue's settings */
	/* Told after every commit that recorded events of venue (the event hub wakes on it). */
	void (*committed)(void *ctx, int venue);
	void *committed_ctx;
};

struct tq_session {
	struct tq *tq;
	struct venue *venue;     /* the venue the request is for */
	struct store_conn *conn; /* this thread's; NULL when the database cannot be reached */
};

/* Sets up tq over cfg and store (both must outlive it), loading the venues
 * (the database must be migrated). 0, or -1 with err. */
int tq_init(struct tq *tq, const struct config *cfg, struct store *store, struct tq_error *err);
void tq_release(struct tq *tq);

/* The venue of this slug (n bytes), or NULL when there is none. */
struct venue *tq_venue(struct tq *tq, const char *slug, size_t n);
/* The venue of this id, or NULL. */
struct venue *tq_venue_by_id(struct tq *tq, int id);
/* The venue main, which the routes without a /v/{slug} prefix are for. */
struct venue *tq_main(struct tq *tq);

/* ---- who is asking ---- */

/*
 * Who sends authorization (an `Authorization` header value, or NULL): 0
 * with *role set, or -1 with a 401 problem in err. While no unrevoked key
 * exists (protected mode) a loopback client without a header is an admin.
 * A known key's last use is recorded (at most once a minute).
 */
int tq_authenticate(struct tq_session *s, const char *authorization, bool loopback, enum role *role,
                    struct tq_error *err);
/*
 * The same, and whether the key may act on s->venue: a key of another
 * venue is 403 forbidden. *all_venues says whether it is a key of every
 * venue (or protected mode), which only may create venues.
 */
int tq_authorize(struct tq_session *s, const char *authorization, bool loopback, enum role *role,
                 bool *all_venues, struct tq_error *err);

/* ---- venues ---- */

/* Every venue, by id; free() *out. */
int tq_venues(struct tq *tq, struct venue ***out, size_t *n, struct tq_error *err);
/* Creates a venue from a POST /api/venues body (slug and settings): *out is it. */
int tq_venue_create(struct tq_session *s, const json_t *body, struct venue **out,
                    struct tq_error *err);
/* Changes the venue v from a PATCH body: *out is it as it now is. */
int tq_venue_update(struct tq_session *s, struct venue *v, const json_t *body, struct venue **out,
                    struct tq_error *err);
/* Deletes a venue without orders. */
int tq_venue_delete(struct tq_session *s, struct venue *v, struct tq_error *err);
/* The venue's logo: 1 with its bytes (free() *data) and type, 0 when it has none. */
int tq_venue_logo(struct tq_session *s, unsigned char **data, size_t *len, char type[32],
                  struct tq_error *err);

/* ---- orders ---- */

/* A new order on its way through the issuer (owned by the caller until done). */
struct tq_new_order {
	struct order_input order;
	struct issue_req issue;
	struct tq *tq;
	issue_done_fn done;
	void *ctx;
};

/*
 * Checks a POST /api/orders body (raw, as sent, and decoded) and its
 * Idempotency-Key (NULL when absent) against every rule, and queues the
 * order in the issuer: done(&no->issue, ctx) is called later from the
 * issuer's thread with the outcome (created, replayed, or failed). 0, or -1
 * with err when the request breaks a rule (then nothing is queued and done
 * is never called).
 */
int tq_order_submit(struct tq *tq, struct venue *v, const json_t *body, const char *raw,
                    size_t rawlen, const char *idem_key, struct tq_new_order *no,
                    issue_done_fn done, void *ctx, struct tq_error *err);
/* Frees what a submitted order holds, once done has been called. */
void tq_new_order_release(struct tq_new_order *no);

int tq_order_get(struct tq_session *s, int64_t id, struct order *out, struct tq_error *err);
/* The order's events, oldest first; free() *out. */
int tq_order_history(struct tq_session *s, int64_t id, struct event **out, size_t *n,
                     struct tq_error *err);
/* Orders matching f, oldest first; order_release each, then free(). */
int tq_order_list(struct tq_session *s, const struct order_filter *f, struct order **out, size_t *n,
                  struct tq_error *err);

/* Moves an order to status to (TQ_CONFLICT invalid_transition when its status forbids it). */
int tq_order_move(struct tq_session *s, int64_t id, enum order_status to, struct order *out,
                  struct tq_error *err);
/* Queues a print of the order's ticket (TQ_CONFLICT no_printer without a printer). */
int tq_order_print(struct tq_session *s, int64_t id, struct print_job *out, struct tq_error *err);
/* The order's latest print job: 1 and *out, or 0 when it was never queued. */
int tq_order_print_state(struct tq_session *s, int64_t id, struct print_job *out,
                         struct tq_error *err);

/* Calls a READY order out again (TQ_CONFLICT invalid_transition otherwise). */
int tq_order_recall(struct tq_session *s, int64_t id, struct order *out, struct tq_error *err);

/* ---- what a customer and a board see ---- */

struct tq_token_view {
	struct order order; /* order_release it */
	int64_t ahead;      /* open orders of the queue and day with a lower number */
	int64_t eta;        /* seconds until likely READY; -1 when unknown */
};

/* The order behind token text (any letter case) on date; TQ_NOT_FOUND when none. */
int tq_token_lookup(struct tq_session *s, const char *token, const char *date,
                    struct tq_token_view *out, struct tq_error *err);

/*
 * Today's open orders of the queue (NULL for all), at most limit, in token
 * order, and the id of the latest event read before them: a client
 * replaying from it may see an event it already has, never miss one.
 */
int tq_board(struct tq_session *s, const char *queue, int limit, char date[BIZDATE_LEN],
             struct order **out, size_t *n, int64_t *last_event_id, struct tq_error *err);

/* The day's figures for date and queue (NULL for all), hours in the venue's zone. */
int tq_day_stats(struct tq_session *s, const char *date, const char *queue, struct day_stats *out,
                 struct tq_error *err);

/* The id of the latest committed event (0 when none): where a live stream starts. */
int tq_last_event_id(struct tq_session *s, int64_t *id, struct tq_error *err);

/* Whether the database answers. */
int tq_ping(struct tq_session *s, struct tq_error *err);

#endif
