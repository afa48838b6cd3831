/*
 * The webhook dispatcher: one thread per server that claims due deliveries
 * from a source (the database's outbox in the server, a list in memory in
 * tests), sends them with libcurl's multi interface, and records each
 * attempt back to the source.
 *
 * Ordering and isolation. An endpoint has at most one delivery in flight
 * (its oldest undelivered one: head of line), so it receives its events in
 * order; different endpoints run side by side, up to max_inflight
 * transfers, so one that is slow, hung or down costs only its own slot
 * until the timeout (connect 5 s, whole attempt 10 s) and never delays the
 * others, the orders or the streams, which never wait on this thread.
 *
 * Each attempt is signed afresh (hooks/sign.h: the timestamp is the
 * attempt's), POSTed with redirects off, TLS verified, no proxy, no signals,
 * the response body read up to a cap, and only to addresses the guard of
 * hooks/addr.h allows, checked on each address actually connected to.
 * A 2xx answer delivers; anything else is retried after hooks/backoff.h's
 * wait until the retry period is over, when the delivery fails for good.
 *
 * The thread needs curl_global_init() to have been called once by main
 * before any thread starts.
 */
#ifndef TOKENQ_HOOK_DISPATCH_H
#define TOKENQ_HOOK_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "hooks/backoff.h"

/* One delivery as the source hands it out. The strings are malloc'd by the source and
 * become the dispatcher's, which frees them with hook_delivery_release. */
struct hook_delivery {
	int64_t id;          /* the source's id for it */
	int owner;           /* the source's tag for it (tokenq: the venue), handed back */
	int64_t endpoint_id; /* deliveries of one endpoint go one at a time, in id order */
	char *url;
	char *secret; /* the endpoint's "whsec_..." */
	char *msg_id; /* webhook-id: the same on every attempt of this delivery */
	char *body;   /* the JSON body (hooks/payload.h) */
	size_t body_len;
	int attempts;         /* attempts already made */
	int64_t first_try_ms; /* when the first attempt started; 0 if none yet */
	int allow_private;    /* the endpoint may reach private addresses */
};

/* Frees d's strings and zeroes it; NULL is a no-op. */
void hook_delivery_release(struct hook_delivery *d);

enum hook_outcome {
	HOOK_DELIVERED, /* a 2xx answer */
	HOOK_RETRY,     /* failed; try again at next_ms */
	HOOK_FAILED,    /* failed, and the retry period is over: the endpoint is failing */
};

/* One attempt, as recorded. Pointers are valid during the record call only. */
struct hook_attempt {
	enum hook_outcome outcome;
	int attempt;          /* this attempt's number, 1 for the first */
	int64_t started_ms;   /* wall clock */
	int64_t first_try_ms; /* the delivery's first attempt (this one's start if attempt 1) */
	int64_t duration_ms;
	int status;           /* the HTTP status answered, 0 if none */
	const char *error;    /* NULL when delivered; otherwise a sentence saying what failed */
	const char *response; /* the first bytes of the answer's body (text, may be "") */
	int64_t next_ms;      /* HOOK_RETRY: when the delivery is due again */
};

/*
 * Where deliveries come from. Every function is called on the dispatcher's thread only,
 * so a source may hold a database connection of its own for it.
 *
 * claim: fills out with up to max deliveries due at now_ms and returns how many, or -1
 *   on an error (logged by the source; the dispatcher tries again after poll_ms). Per
 *   endpoint it returns only the oldest undelivered delivery, and only if that one is due
 *   and not claimed already; claiming it leases it (for longer than an attempt's timeout)
 *   so no other dispatcher sends it meanwhile. Endpoints that are failing or revoked are
 *   skipped.
 * record: stores an attempt of d: delivered, due again at a->next_ms, or failed for good
 *   (then the source marks the endpoint failing). Ends the lease.
 * release: optional; gives back a claimed delivery that was not attempted or whose
 *   attempt was cut short by hook_dispatcher_stop, ending the lease without counting an
 *   attempt. Without it the lease runs out by itself.
 */
struct hook_source {
	int (*claim)(void *ctx, struct hook_delivery *out, int max, int64_t now_ms);
	void (*record)(void *ctx, const struct hook_delivery *d, const struct hook_attempt *a);
	void (*release)(void *ctx, const struct hook_delivery *d);
	void *ctx;
};

struct hook_dispatcher_config {
	int max_inflight;        /* transfers at once over all endpoints; 0: 32 */
	long connect_timeout_ms; /* 0: 5 s */
	long timeout_ms;         /* the whole attempt; 0: 10 s */
	long poll_ms;            /* how often the source is asked when nobody kicks; 0: 1 s */
	size_t max_response;     /* response body read before the transfer is cut; 0: 64 KiB */
	struct hook_backoff backoff;
	const char *user_agent; /* NULL: "tokenq-webhooks" */
	/* Tests: NULL-terminated "HOST:PORT:ADDRESS" entries that resolve HOST to ADDRESS
	 * (curl's CURLOPT_RESOLVE), so a name resolving to loopback can be tried. */
	const char *const *resolve;
};

struct hook_dispatcher;

/* Starts the thread. src and cfg are copied (cfg->resolve and the strings it points to
 * must outlive the dispatcher); src->ctx is borrowed until hook_dispatcher_stop returns.
 * Returns 0 and the dispatcher in *out, or -1 with a sentence in why (of size n). */
int hook_dispatcher_start(struct hook_dispatcher **out, const struct hook_source *src,
                          const struct hook_dispatcher_config *cfg, char *why, size_t n);

/* Something was committed to the outbox: ask the source now instead of at the next poll.
 * Cheap; callable from any thread. */
void hook_dispatcher_kick(struct hook_dispatcher *d);

/* Stops the thread within about a second, cutting transfers in flight short (their
 * deliveries are released, not recorded: they will be sent again), and frees d. NULL is a
 * no-op. */
void hook_dispatcher_stop(struct hook_dispatcher *d);

#endif
