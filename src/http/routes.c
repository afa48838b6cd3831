/*
 * The route table: method, path pattern, handler and the roles allowed.
 * The router (server.c) answers 404 for a path no pattern matches and 405,
 * with Allow, for a path matched under another method; then, before any
 * handler runs, it checks the key against the route's roles (401/403).
 * Every route names its roles; PUBLIC says in so many words that a route
 * needs no key (routes_check refuses a route that names none).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "http/events.h"
#include "http/http.h"

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
	{"GET",   "/api/orders/{id}/ticket",  h_ticket,        ANY_KEY, false, false, false, "orders_ticket"},
	{"GET",   "/api/orders.csv",          h_orders_csv,    STAFF,   false, false, false, "orders_csv"},
	{"GET",   "/api/tokens/{token}",      h_tokens_get,    PUBLIC,  false, false, false, "tokens_get"},
	{"GET",   "/api/board",               h_board,         PUBLIC,  false, false, false, "board"},
	{"GET",   "/api/events",              h_events,        PUBLIC,  false, false, false, "events"},
	{"GET",   "/api/queues",              h_queues,        PUBLIC,  false, true,  false, "queues"},
	{"GET",   "/api/menu",                h_menu,          ANY_KEY, false, false, false, "menu"},
	{"GET",   "/api/openapi.json",        h_openapi,       PUBLIC,  false, true,  false, "openapi"},
	{"GET",   "/api/stats",               h_stats,         STAFF,   false, false, false, "stats"},
	{"GET",   "/healthz",                 h_healthz,       PUBLIC,  false, false, true,  "healthz"},
	{"GET",   "/metrics",                 h_metrics,       R_ADMIN, false, false, false, "metrics"},
	{"GET",   "/",                        h_page,          PUBLIC,  false, true,  false, "page_board"},
	{"GET",   "/staff",                   h_page,          PUBLIC,  false, true,  false, "page_staff"},
	{"GET",   "/t/{token}",               h_page,          PUBLIC,  false, true,  false, "page_token"},
	{"GET",   "/assets/{name}",           h_asset,         PUBLIC,  false, true,  false, "asset"},
	{NULL, NULL, NULL, 0, false, false, false, NULL},
};
/* clang-format on */

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
