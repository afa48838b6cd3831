/*
 * The HTTP layer's internal interface: what a route handler sees.
 *
 * A request is read on libmicrohttpd's threads (headers copied, body
 * accumulated into a bounded buffer), then the connection is suspended and
 * the request handed to a worker thread that owns a database connection.
 * The handler runs there, sets the response with one of the reply_*
 * functions, and the connection is resumed to send it. A handler may also
 * defer: hand the request on (to the issuer) and call req_finish() later
 * from another thread. Handlers never block the polling threads.
 */
#ifndef TOKENQ_HTTP_H
#define TOKENQ_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/tq.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/error.h"

#define BODY_MAX    65536
#define MAX_QUERY   12
#define MAX_HEADERS 8

struct server;
struct req;

/* Returns HANDLED once the response is set, or DEFERRED when another thread
 * will set it and call req_finish(); after DEFERRED the handler's caller
 * must not touch r again. */
enum handled { HANDLED, DEFERRED };
/* s is NULL for a route answered without the database (no_database), and
 * s->conn is NULL for a db_optional route when no connection can be had. */
typedef enum handled (*handler_fn)(struct req *r, struct tq_session *s);

/* Roles as bits for a route's allowed set. Every route names its roles, or
 * R_PUBLIC for a route that needs no key: a route with none is refused at
 * start (routes_check), so that forgetting the line cannot make it public. */
#define R_POS    (1u << ROLE_POS)
#define R_STAFF  (1u << ROLE_STAFF)
#define R_ADMIN  (1u << ROLE_ADMIN)
#define R_PUBLIC (1u << 8)

struct route {
	const char *method;
	const char *pattern; /* segments; "{id}" matches digits, "{x}" any segment */
	handler_fn fn;
	unsigned roles;   /* R_* bits, or R_PUBLIC; checked by the router before fn runs */
	bool body;        /* takes a JSON object body: decoded into r->json before fn runs */
	bool no_database; /* answers without the database (pages, assets) */
	bool db_optional; /* runs with c == NULL when no connection can be had */
	const char *name; /* for logs and metrics */
};

struct kv {
	char *name;
	char *value;
};

struct req {
	struct server *srv;
	void *conn; /* struct MHD_Connection */
	const struct route *route;
	struct venue *venue; /* the venue of the /v/{slug} prefix, or main */
	char base[40];       /* "/v/{slug}" when the request came with one, else "" */
	char method[16];
	char *path;
	char *params[3]; /* the {..} segments of the path, in order */
	int nparams;
	struct kv query[MAX_QUERY];
	int nquery;
	char *authorization, *content_type, *idempotency_key, *last_event_id, *host;
	bool has_idempotency_key;
	bool loopback;
	struct buf body;
	bool too_large;
	int64_t started; /* mono_ms */

	/* the key that authenticated the request, when one did */
	bool authed;
	enum role role;
	bool all_venues; /* the key is of every venue (or protected mode) */

	/* the response */
	int status;
	const char *content_type_out;
	char *out;
	size_t outlen;
	struct kv headers[MAX_HEADERS];
	int nheaders;
	void *stream; /* an event stream instead of a body (see events.c) */

	json_t *json; /* the decoded body, for a route that takes one */

	/* POST /api/orders in flight in the issuer */
	struct tq_new_order new_order;

	int state;
	struct req *next;   /* in the worker queue */
	handler_fn next_fn; /* what a requeued request runs instead of its route's */
};

struct server_run;

struct server {
	struct tq *tq;            /* the façade handlers work through */
	const struct config *cfg; /* tq->cfg */
	struct store *store;      /* tq->store, for the hub and the webhook dispatcher */
	void *daemon;
	struct server_run *run; /* workers, acceptor, in-flight count (server.c) */
	struct hub *hub;
	struct metrics *metrics;
	json_t *menu;              /* the TOKENQ_MENU file's contents, or NULL */
	struct webhooks *webhooks; /* the dispatcher and its source (http/webhooks.c) */
};

/* ---- what handlers call ---- */

/* The value of query parameter name, or NULL. */
const char *req_query(const struct req *r, const char *name);
/* The route's {id} (matched by the router as 1 to 18 digits), or 0 without one. */
int64_t req_path_id(const struct req *r);

/* Sets the response; take ownership of body. JSON helpers dump and decref. */
void reply(struct req *r, int status, const char *content_type, char *body, size_t len);
void reply_json(struct req *r, int status, json_t *body);
void reply_problem(struct req *r, const struct tq_error *err);
void reply_header(struct req *r, const char *name, const char *value);

/* Resumes a deferred request once its response is set; callable from any thread. */
void req_finish(struct req *r);

/* Hands a deferred request back to a worker, to run fn there. */
void requeue(struct req *r, handler_fn fn);

/* ?queue= (absent, or a configured prefix) and ?date= (default today); -1 with a problem set. */
int query_queue(struct req *r, const char **queue);
int query_date(struct req *r, char date[BIZDATE_LEN]);
/* Reads ?limit= of a list: 1 to 500, 100 when absent; -1 with a problem replied. */
int query_limit(struct req *r, int64_t *limit);

/* The HTTP status for a domain status (the one place that maps them). */
int http_status_for(enum tq_status s);

/* Decodes the body as a JSON object per the rules of docs/api.md "Problem codes": 0, or -1 with a
 * problem set. */
int req_json_body(struct req *r, json_t **out);

/* ---- rendering ---- */

json_t *order_json(const struct config *cfg, const struct order *o);
json_t *event_json(const struct config *cfg, const struct event *e);
/* An instant as RFC 3339 text, or null for 0 ("never"). */
json_t *json_time_or_null(int64_t ms);
/* The venue's business date of now, for defaults. */
void today(const struct req *r, char out[BIZDATE_LEN]);

/* ---- the routes (routes.c) ---- */
extern const struct route routes[];

/* Sets r->route (and the {..} captures) for path, or answers 404/405 at once. */
void router_match(struct req *r, const char *path);
/* Frees the captures. */
void router_release(struct req *r);

/* Checks the table: every route names its roles (or R_PUBLIC), and a route
 * answered without the database is public. 0, or -1 with err naming it. */
int routes_check(struct tq_error *err);

/* The route's roles as text: "public", or "pos,staff,admin" style. */
void routes_roles_text(unsigned roles, char *out, size_t n);

/* Handlers by file. */
enum handled h_orders_create(struct req *r, struct tq_session *s);
enum handled h_orders_get(struct req *r, struct tq_session *s);
enum handled h_orders_list(struct req *r, struct tq_session *s);
enum handled h_orders_patch(struct req *r, struct tq_session *s);
enum handled h_orders_recall(struct req *r, struct tq_session *s);
enum handled h_orders_print(struct req *r, struct tq_session *s);
enum handled h_tokens_get(struct req *r, struct tq_session *s);
enum handled h_board(struct req *r, struct tq_session *s);
enum handled h_queues(struct req *r, struct tq_session *s);
enum handled h_menu(struct req *r, struct tq_session *s);
enum handled h_openapi(struct req *r, struct tq_session *s);
enum handled h_healthz(struct req *r, struct tq_session *s);
enum handled h_page(struct req *r, struct tq_session *s);
enum handled h_asset(struct req *r, struct tq_session *s);
enum handled h_ticket(struct req *r, struct tq_session *s);
enum handled h_orders_csv(struct req *r, struct tq_session *s);
enum handled h_stats(struct req *r, struct tq_session *s);
enum handled h_metrics(struct req *r, struct tq_session *s);
enum handled h_venues_list(struct req *r, struct tq_session *s);
enum handled h_venues_get(struct req *r, struct tq_session *s);
enum handled h_venues_create(struct req *r, struct tq_session *s);
enum handled h_venues_patch(struct req *r, struct tq_session *s);
enum handled h_venues_delete(struct req *r, struct tq_session *s);
enum handled h_logo(struct req *r, struct tq_session *s);

/* The Content-Security-Policy of every page (pages.c): same origin only. */
extern const char page_csp[];

/* ---- server life (server.c) ---- */
int server_start(struct server *srv, struct tq_error *err);

/* The port the server listens on (the one chosen when configured as 0). */
int server_port(const struct server *srv);
/* Stops accepting, finishes in-flight requests (bounded), ends streams. */
void server_stop(struct server *srv);

#endif
