/*
 * Webhooks in the server: the /api/webhooks routes, the rules an endpoint
 * must meet (shared with `tokenq webhooks`), and the dispatcher's source —
 * the outbox of store/webhooks.h, its deliveries' bodies rendered from the
 * events exactly as the event stream renders them.
 */
#ifndef TOKENQ_HTTP_WEBHOOKS_H
#define TOKENQ_HTTP_WEBHOOKS_H

#include "http/http.h"
#include "store/webhooks.h"

/*
 * Checks an endpoint as given by a person: url (http/https, public address unless
 * allow_private), the list of event names (NULL for all), the venue (NULL or "main").
 * Fills w, or returns -1 with a problem naming the field (url, events, venue).
 */
int webhook_check(const char *url, const char *events, bool allow_private, const char *venue,
                  struct webhook *w, struct tq_error *err);

/* The delivery type of an event, as receivers see it ("token.ready"). */
const char *webhook_type(const struct event *e, char out[32]);

/* Starts and stops the dispatcher thread of srv (srv->webhooks). */
int webhooks_start(struct server *srv, struct tq_error *err);
void webhooks_stop(struct server *srv);
/* New events were committed: deliver without waiting for the next poll. */
void webhooks_kick(struct server *srv);

enum handled h_webhooks_create(struct req *r, struct store_conn *c);
enum handled h_webhooks_list(struct req *r, struct store_conn *c);
enum handled h_webhooks_get(struct req *r, struct store_conn *c);
enum handled h_webhooks_delete(struct req *r, struct store_conn *c);
enum handled h_webhooks_deliveries(struct req *r, struct store_conn *c);

#endif
