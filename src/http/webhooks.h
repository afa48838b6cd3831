/*
 * Webhooks in the server: the /api/webhooks routes and the dispatcher's source —
 * the outbox of store/webhooks.h, its deliveries' bodies rendered from the
 * events exactly as the event stream renders them.
 */
#ifndef TOKENQ_HTTP_WEBHOOKS_H
#define TOKENQ_HTTP_WEBHOOKS_H

#include "http/http.h"
#include "domain/webhook.h"

/* Starts and stops the dispatcher thread of srv (srv->webhooks). */
int webhooks_start(struct server *srv, struct tq_error *err);
void webhooks_stop(struct server *srv);
/* New events were committed: deliver without waiting for the next poll. */
void webhooks_kick(struct server *srv);

enum handled h_webhooks_create(struct req *r, struct tq_session *s);
enum handled h_webhooks_list(struct req *r, struct tq_session *s);
enum handled h_webhooks_get(struct req *r, struct tq_session *s);
enum handled h_webhooks_delete(struct req *r, struct tq_session *s);
enum handled h_webhooks_deliveries(struct req *r, struct tq_session *s);

#endif
