/*
 * The route table: method, path pattern, handler and the roles allowed.
 * The router (server.c) answers 404 for a path no pattern matches and 405,
 * with Allow, for a path matched under another method.
 */
#include <stddef.h>

#include "http/events.h"
#include "http/http.h"

#define ANY_KEY (R_POS | R_STAFF | R_ADMIN)
#define STAFF   (R_STAFF | R_ADMIN)
#define POS     (R_POS | R_ADMIN)

/* clang-format off */
const struct route routes[] = {
	{"POST",  "/api/orders",              h_orders_create, POS,     true,  false, false, "orders_create"},
	{"GET",   "/api/orders",              h_orders_list,   ANY_KEY, false, false, false, "orders_list"},
	{"GET",   "/api/orders/{id}",         h_orders_get,    ANY_KEY, false, false, false, "orders_get"},
	{"PATCH", "/api/orders/{id}",         h_orders_patch,  STAFF,   true,  false, false, "orders_patch"},
	{"POST",  "/api/orders/{id}/recall",  h_orders_recall, STAFF,   false, false, false, "orders_recall"},
	{"GET",   "/api/orders/{id}/ticket",  h_ticket,        ANY_KEY, false, false, false, "orders_ticket"},
	{"GET",   "/api/orders.csv",          h_orders_csv,    STAFF,   false, false, false, "orders_csv"},
	{"GET",   "/api/tokens/{token}",      h_tokens_get,    0,       false, false, false, "tokens_get"},
	{"GET",   "/api/board",               h_board,         0,       false, false, false, "board"},
	{"GET",   "/api/events",              h_events,        0,       false, false, false, "events"},
	{"GET",   "/api/queues",              h_queues,        0,       false, true,  false, "queues"},
	{"GET",   "/api/stats",               h_stats,         STAFF,   false, false, false, "stats"},
	{"GET",   "/healthz",                 h_healthz,       0,       false, false, true,  "healthz"},
	{"GET",   "/metrics",                 h_metrics,       R_ADMIN, false, false, false, "metrics"},
	{"GET",   "/",                        h_page,          0,       false, true,  false, "page_board"},
	{"GET",   "/staff",                   h_page,          0,       false, true,  false, "page_staff"},
	{"GET",   "/t/{token}",               h_page,          0,       false, true,  false, "page_token"},
	{"GET",   "/assets/{name}",           h_asset,         0,       false, true,  false, "asset"},
	{NULL, NULL, NULL, 0, false, false, false, NULL},
};
/* clang-format on */
