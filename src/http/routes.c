/*
 * The route table: method, path pattern, handler, the roles allowed and
 * whether a JSON body is taken, and the router over it. router_match
 * answers 404 for a path no pattern matches and 405, with Allow, for a path
 * matched under another method; then, before any handler runs, the worker
 * (server.c) applies the route's roles (401/403) and body rules (415/400).
 * Every route names its roles; PUBLIC says in so many words that a route
 * needs no key (routes_check refuses a route that names none).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/events.h"
#include "http/http.h"
#include "http/webhooks.h"

#define ANY_KEY (R_POS | R_STAFF | R_ADMIN)
#define STAFF   (R_STAFF | R_ADMIN)
#define POS     (R_POS | R_ADMIN)
#define PUBLIC  R_PUBLIC

/* clang-format off */
const struct route routes[] = {
	{"POST",  "/api/orders",              h_orders_create, POS,     true,  false, false, "orders_create"},
	{"GET",   "/api/orders",              h_orders_list,   ANY_KEY, false, false, false, "orders_list"},
	{"GET",   "/api/orders/{id}",         h_orders_get,    ANY_KEY, false, false, false, "orders_get"},
	{"PATCH", "/api/orders/{id}",         h_orders_patch,  STAFF,   true,  false, false, "orders_patch"},
	{"POST",  "/api/orders/{id}/recall",  h_orders_recall, STAFF,   false, false, false, "orders_recall"},
	{"POST",  "/api/orders/{id}/print",   h_orders_print,  ANY_KEY, false, false, false, "orders_print"},
	{"GET",   "/api/orders/{id}/ticket",  h_ticket,        ANY_KEY, false, false, false, "orders_ticket"},
	{"GET",   "/api/orders.csv",          h_orders_csv,    STAFF,   false, false, false, "orders_csv"},
	{"GET",   "/api/tokens/{token}",      h_tokens_get,    PUBLIC,  false, false, false, "tokens_get"},
	{"GET",   "/api/board",               h_board,         PUBLIC,  false, false, false, "board"},
	{"GET",   "/api/events",              h_events,        PUBLIC,  false, false, false, "events"},
	{"GET",   "/api/queues",              h_queues,        PUBLIC,  false, true,  false, "queues"},
	{"GET",   "/api/menu",                h_menu,          ANY_KEY, false, false, false, "menu"},
	{"GET",   "/api/openapi.json",        h_openapi,       PUBLIC,  false, true,  false, "openapi"},
	{"POST",  "/api/webhooks",            h_webhooks_create, R_ADMIN, true, false, false, "webhooks_create"},
	{"GET",   "/api/webhooks",            h_webhooks_list, R_ADMIN, false, false, false, "webhooks_list"},
	{"GET",   "/api/webhooks/{id}",       h_webhooks_get,  R_ADMIN, false, false, false, "webhooks_get"},
	{"DELETE", "/api/webhooks/{id}",      h_webhooks_delete, R_ADMIN, false, false, false, "webhooks_delete"},
	{"GET",   "/api/webhooks/{id}/deliveries", h_webhooks_deliveries, R_ADMIN, false, false, false, "webhooks_deliveries"},
	{"GET",   "/api/stats",               h_stats,         STAFF,   false, false, false, "stats"},
	{"GET",   "/api/venues",              h_venues_list,   PUBLIC,  false, true,  false, "venues_list"},
	{"POST",  "/api/venues",              h_venues_create, R_ADMIN, true,  false, false, "venues_create"},
	{"GET",   "/api/venues/{venue}",      h_venues_get,    PUBLIC,  false, true,  false, "venues_get"},
	{"PATCH", "/api/venues/{venue}",      h_venues_patch,  R_ADMIN, true,  false, false, "venues_patch"},
	{"DELETE", "/api/venues/{venue}",     h_venues_delete, R_ADMIN, false, false, false, "venues_delete"},
	{"GET",   "/logo",                    h_logo,          PUBLIC,  false, false, false, "logo"},
	{"GET",   "/healthz",                 h_healthz,       PUBLIC,  false, false, true,  "healthz"},
	{"GET",   "/metrics",                 h_metrics,       R_ADMIN, false, false, false, "metrics"},
	{"GET",   "/",                        h_page,          PUBLIC,  false, true,  false, "page_board"},
	{"GET",   "/staff",                   h_page,          PUBLIC,  false, true,  false, "page_staff"},
	{"GET",   "/t/{token}",               h_page,          PUBLIC,  false, true,  false, "page_token"},
	{"GET",   "/assets/{name}",           h_asset,         PUBLIC,  false, true,  false, "asset"},
	{NULL, NULL, NULL, 0, false, false, false, NULL},
};
/* clang-format on */

/* ---- the router ---- */

/* Matches path against a pattern; fills the {..} captures. */
static bool match(const char *pattern, const char *path, struct req *r)
{
	const char *p = pattern, *s = path;
	int n = 0;

	while (*p && *s) {
		if (*p == '{') {
			const char *pend = strchr(p, '}');
			size_t len = strcspn(s, "/");
			bool digits = strncmp(p, "{id}", 4) == 0;
			size_t i;
			if (len == 0 || len > 200 || n == 3)
				return false;
			for (i = 0; digits && i < len; i++)
				if (s[i] < '0' || s[i] > '9')
					return false;
			if (digits && len > 18)
				return false;
			if (r != NULL)
				r->params[n] = strndup(s, len);
			n++;
			p = pend + 1;
			s += len;
			continue;
		}
		if (*p != *s)
			return false;
		p++, s++;
	}
	if (r != NULL)
		r->nparams = n;
	return *p == '\0' && *s == '\0';
}

void router_release(struct req *r)
{
	int i;

	for (i = 0; i < 3; i++) {
		free(r->params[i]);
		r->params[i] = NULL;
	}
	r->nparams = 0;
}

/*
 * Takes a /v/{slug} prefix off path: sets r->venue and r->base and returns
 * the rest ("/" for the venue's own root), or NULL with 404 unknown_venue
 * answered. Without a prefix the venue is main.
 */
static const char *venue_prefix(struct req *r, const char *path)
{
	const char *slug = path + 3, *rest;
	struct tq_error err;
	size_t n;

	if (strncmp(path, "/v/", 3) != 0) {
		r->venue = tq_main(r->srv->tq);
		return path;
	}
	n = strcspn(slug, "/");
	rest = slug + n;
	r->venue = tq_venue(r->srv->tq, slug, n);
	if (r->venue == NULL) {
		tq_fail(&err, TQ_NOT_FOUND, "unknown_venue", "", "there is no venue \"%.*s\"",
		        (int)(n > VENUE_SLUG_MAX ? VENUE_SLUG_MAX : n), slug);
		reply_problem(r, &err);
		return NULL;
	}
	snprintf(r->base, sizeof(r->base), "/v/%.*s", (int)n, slug);
	return *rest == '\0' ? "/" : rest;
}

/*
 * A route whose path names a venue ({venue}, its last capture) acts on that
 * venue: it becomes the request's, so a key of another venue is refused as
 * on any of its routes. 404 unknown_venue when there is none.
 */
static void path_venue(struct req *r)
{
	const char *slug = r->nparams > 0 ? r->params[r->nparams - 1] : "";
	struct tq_error err;
	struct venue *v = tq_venue(r->srv->tq, slug, strlen(slug));

	if (v == NULL) {
		tq_fail(&err, TQ_NOT_FOUND, "unknown_venue", "", "there is no venue \"%.*s\"",
		        VENUE_SLUG_MAX, slug);
		reply_problem(r, &err);
		r->route = NULL;
		return;
	}
	r->venue = v;
}

void router_match(struct req *r, const char *path)
{
	char allow[128] = "";
	const struct route *rt;
	const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	struct tq_error err;

	if ((path = venue_prefix(r, path)) == NULL)
		return;
	for (rt = routes; rt->method != NULL; rt++) {
		if (!match(rt->pattern, path, NULL))
			continue;
		if (strcmp(rt->method, method) == 0) {
			match(rt->pattern, path, r);
			r->route = rt;
			if (strstr(rt->pattern, "{venue}") != NULL)
				path_venue(r);
			return;
		}
		if (strstr(allow, rt->method) == NULL) {
			size_t len = strlen(allow);
			snprintf(allow + len, sizeof(allow) - len, "%s%s", len ? ", " : "",
			         rt->method);
			if (strcmp(rt->method, "GET") == 0) {
				len = strlen(allow);
				snprintf(allow + len, sizeof(allow) - len, ", HEAD");
			}
		}
	}
	if (allow[0] != '\0') {
		tq_fail(&err, TQ_METHOD, "method_not_allowed", "", "%s is not allowed here; use %s",
		        r->method, allow);
		reply_problem(r, &err);
		reply_header(r, "Allow", allow);
	} else {
		tq_fail(&err, TQ_NOT_FOUND, "not_found", "", "there is nothing at this address");
		reply_problem(r, &err);
	}
}

int routes_check(struct tq_error *err)
{
	const struct route *rt;

	for (rt = routes; rt->method != NULL; rt++) {
		if ((rt->roles & (R_POS | R_STAFF | R_ADMIN | R_PUBLIC)) == 0)
			return tq_fail(err, TQ_INTERNAL, "internal", "",
			               "the route %s %s names no roles", rt->method, rt->pattern);
		if ((rt->roles & R_PUBLIC) && (rt->roles & ~R_PUBLIC))
			return tq_fail(err, TQ_INTERNAL, "internal", "",
			               "the route %s %s is both public and for some roles",
			               rt->method, rt->pattern);
		if (rt->no_database && !(rt->roles & R_PUBLIC))
			return tq_fail(err, TQ_INTERNAL, "internal", "",
			               "the route %s %s needs a key but is answered without the "
			               "database",
			               rt->method, rt->pattern);
	}
	return 0;
}

void routes_roles_text(unsigned roles, char *out, size_t n)
{
	static const unsigned bits[] = {R_POS, R_STAFF, R_ADMIN};
	size_t len = 0;
	int i;

	if (n == 0)
		return;
	out[0] = '\0';
	if (roles & R_PUBLIC) {
		snprintf(out, n, "public");
		return;
	}
	for (i = 0; i < 3; i++) {
		if (!(roles & bits[i]) || len >= n)
			continue;
		snprintf(out + len, n - len, "%s%s", len ? "," : "", role_name((enum role)i));
		len = strlen(out);
	}
}
