/*
 * Webhook endpoints as people give them: the rules they must meet and
 * making one with its secret (shared by POST /api/webhooks and `tokenq
 * webhooks`), and the delivery type of an event.
 */
#ifndef TOKENQ_DOMAIN_WEBHOOK_H
#define TOKENQ_DOMAIN_WEBHOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "hooks/sign.h"
#include "store/webhooks.h"

/*
 * Checks an endpoint as given by a person: url (http/https, public address unless
 * allow_private), the list of event names (NULL for all), the venue (NULL or "main").
 * Fills w, or returns -1 with a problem naming the field (url, events, venue).
 */
int webhook_check(const char *url, const char *events, bool allow_private, const char *venue,
                  struct webhook *w, struct tq_error *err);

/* Creates the endpoint w (checked): its new signing secret in secret, its id in *id. */
int webhook_create(struct store_conn *c, const struct webhook *w, char secret[HOOK_SECRET_SIZE],
                   int64_t *id, struct tq_error *err);

/* The delivery type of an event, as receivers see it ("token.ready"). */
const char *webhook_type(const struct event *e, char out[32]);

#endif
