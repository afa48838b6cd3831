/*
 * The public routes that need no key: token lookup for the customer, the
 * board for display screens, the queue list, and the health check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/token.h"
#include "http/http.h"
#include "util/log.h"

#define BOARD_MAX 1000

enum handled h_tokens_get(struct req *r, struct tq_session *s)
{
	char date[BIZDATE_LEN], token[TOKEN_MAX], at[32];
	struct tq_token_view v;
	struct tq_error err;
	const struct order *o = &v.order;

	if (query_date(r, date) != 0)
		return HANDLED;
	if (tq_token_lookup(s, r->params[0], date, &v, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	token_format(token, o->queue, o->sequence, r->venue->cfg->token_digits);
	format_rfc3339(o->updated_at, at);
	reply_json(r, 200,
	           json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:s}", "token", token, "queue",
	                     o->queue, "business_date", o->business_date, "status",
	                     status_name(o->status), "ahead", (json_int_t)v.ahead, "eta_seconds",
	                     v.eta >= 0 ? json_integer(v.eta) : json_null(), "updated_at", at));
	order_release(&v.order);
	return HANDLED;
}

enum handled h_board(struct req *r, struct tq_session *s)
{
	char date[BIZDATE_LEN];
	const char *queue;
	struct tq_error err;
	struct order *v = NULL;
	json_t *lists[3];
	int64_t last = 0;
	size_t n = 0, i;

	if (query_queue(r, &queue) != 0)
		return HANDLED;
	if (tq_board(s, queue, BOARD_MAX, date, &v, &n, &last, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	for (i = 0; i < 3; i++)
		lists[i] = json_array();
	for (i = 0; i < n; i++) {
		char token[TOKEN_MAX];
		token_format(token, v[i].queue, v[i].sequence, r->venue->cfg->token_digits);
		json_array_append_new(lists[v[i].status], json_string(token));
		order_release(&v[i]);
	}
	free(v);
	reply_json(r, 200,
	           json_pack("{s:s, s:o, s:o, s:o, s:I}", "business_date", date, "pending",
	                     lists[ST_PENDING], "preparing", lists[ST_PREPARING], "ready",
	                     lists[ST_READY], "last_event_id", (json_int_t)last));
	return HANDLED;
}

enum handled h_queues(struct req *r, struct tq_session *s)
{
	json_t *list = json_array();
	int i;

	(void)s;
	for (i = 0; i < r->venue->cfg->nqueues; i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "prefix",
		                                      r->venue->cfg->queues[i].prefix, "name",
		                                      r->venue->cfg->queues[i].name));
	reply_json(r, 200, json_pack("{s:o}", "queues", list));
	return HANDLED;
}

enum handled h_healthz(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	const char *db = store_kind(r->srv->store);

	if (tq_ping(s, &err) != 0) {
		reply_json(r, 503,
		           json_pack("{s:s, s:s}", "status", "unavailable", "database", db));
		reply_header(r, "Retry-After", "2");
		return HANDLED;
	}
	reply_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "database", db));
	return HANDLED;
}
