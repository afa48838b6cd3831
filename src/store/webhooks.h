/*
 * Webhook endpoints and their outbox, in the store.
 *
 * An endpoint is a URL, a signing secret and a filter of event kinds. The
 * outbox is the table webhook_deliveries: the store writes one row per live
 * endpoint and event in the transaction that writes the event, so a
 * committed event always has its deliveries and a rolled-back one none.
 * The dispatcher (hooks/dispatch.h) then claims the head of each
 * endpoint's line (its oldest pending delivery) under a lease, and records
 * every attempt; on PostgreSQL the claim skips rows another server has
 * locked (FOR UPDATE SKIP LOCKED), so servers on one database share the
 * work and never send one delivery twice at the same time.
 */
#ifndef TOKENQ_STORE_WEBHOOKS_H
#define TOKENQ_STORE_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define WEBHOOK_URL_MAX 2000

struct webhook {
	int64_t id;
	char venue[32];
	char url[WEBHOOK_URL_MAX + 1];
	unsigned events; /* hook_event_bit()s */
	bool allow_private;
	int64_t created_at;
	int64_t revoked_at;    /* 0 when live */
	int64_t failing_since; /* 0 unless a delivery was given up since the last success */
};

/* Creates an endpoint; the secret is "whsec_..." as receivers are given it. */
int store_webhook_create(struct store_conn *c, const struct webhook *w, const char *secret,
                         int64_t now, int64_t *id, struct tq_error *err);
/* Every endpoint, oldest first; free() *out. */
int store_webhook_list(struct store_conn *c, struct webhook **out, size_t *n, struct tq_error *err);
/* TQ_NOT_FOUND for an unknown id. */
int store_webhook_get(struct store_conn *c, int64_t id, struct webhook *out, struct tq_error *err);
/* Revokes: no new deliveries, pending ones are not sent. Revoking twice keeps the first time. */
int store_webhook_revoke(struct store_conn *c, int64_t id, int64_t now, struct tq_error *err);

enum webhook_state { WEBHOOK_PENDING = 0, WEBHOOK_DELIVERED = 1, WEBHOOK_GIVEN_UP = 2 };

struct webhook_attempt_row {
	int attempt;
	int64_t started_at;
	int64_t duration_ms;
	int status;      /* 0 when nothing was answered */
	char error[256]; /* "" when delivered */
};

struct webhook_delivery_row {
	int64_t id;
	int64_t event_id;
	enum webhook_state state;
	int attempts;
	int64_t next_at;
	enum event_kind kind; /* of the event: with status, the delivery's type */
	enum order_status status;
	struct webhook_attempt_row *attempt; /* attempts of it, in order; n_attempt of them */
	size_t n_attempt;
};

/* The endpoint's latest limit deliveries, oldest first, with their attempts; free with
 * store_webhook_deliveries_free. */
int store_webhook_deliveries(struct store_conn *c, int64_t endpoint_id, int limit,
                             struct webhook_delivery_row **out, size_t *n, struct tq_error *err);
void store_webhook_deliveries_free(struct webhook_delivery_row *v, size_t n);

/* ---- for the dispatcher ---- */

struct webhook_claim {
	int venue_id;
	int64_t delivery_id;
	int64_t endpoint_id;
	int64_t event_id;
	int attempts;
	int64_t first_try_at; /* 0 before the first attempt */
	bool allow_private;
	char *url;    /* malloc'd */
	char *secret; /* malloc'd */
};

/*
 * Claims up to max deliveries due at now, one per endpoint (the head of its line, if it
 * is due and not leased), leasing each until now + lease_ms. Returns how many in *n; the
 * strings are the caller's.
 */
int store_webhook_claim(struct store_conn *c, int max, int64_t now, int64_t lease_ms,
                        struct webhook_claim *out, int *n, struct tq_error *err);

/* An attempt's outcome, as store_webhook_record stores it. */
struct webhook_record {
	int venue_id;
	int64_t delivery_id;
	int64_t endpoint_id;
	enum webhook_state state; /* PENDING: due again at next_at */
	int attempt;
	int64_t started_at;
	int64_t first_try_at;
	int64_t duration_ms;
	int status;
	const char *error;    /* NULL when delivered */
	const char *response; /* may be NULL */
	int64_t next_at;
	int64_t now;
};

/* Records an attempt and ends the lease; a delivery given up marks its endpoint failing, and
 * one delivered clears that mark. */
int store_webhook_record(struct store_conn *c, const struct webhook_record *r,
                         struct tq_error *err);
/* Ends a lease without counting an attempt. */
int store_webhook_release(struct store_conn *c, int venue, int64_t delivery_id,
                          struct tq_error *err);

#endif
