/*
 * The issuer: group commit for new orders. Requests are queued; one thread
 * with its own database connection takes whatever is waiting when its
 * previous commit finishes (no timer: a lone order goes at once) and issues
 * it as one transaction (store_issue_batch). If a batch fails as a whole,
 * its orders are retried one by one so that one bad order cannot fail its
 * neighbours. Nothing is answered before its transaction has committed.
 *
 * It also refuses a second request with an Idempotency-Key that is already
 * in flight in this process (409 idempotency_key_in_use).
 */
#ifndef TOKENQ_ISSUER_H
#define TOKENQ_ISSUER_H

#include "store/store.h"

#define ISSUER_MAX_BATCH 256

struct issuer;

/* Called on the issuer's thread once req->outcome is final. */
typedef void (*issue_done_fn)(struct issue_req *req, void *ctx);

int issuer_start(struct store *s, struct issuer **out, struct tq_error *err);
/* Issues what is queued, then stops the thread and frees the issuer. NULL is a no-op. */
void issuer_stop(struct issuer *is);

/* Queues req; done(req, ctx) is called later from the issuer's thread. */
void issuer_submit(struct issuer *is, struct issue_req *req, issue_done_fn done, void *ctx);

/* Submits req and waits for its outcome. */
void issuer_issue(struct issuer *is, struct issue_req *req);

/* Batches committed so far and the orders in them, for metrics. */
void issuer_counts(struct issuer *is, long long *batches, long long *orders);

#endif
