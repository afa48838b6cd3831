/*
 * The public routes that need no key: token lookup for the customer, the
 * board for display screens, the queue list, and the health check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/estimate.h"
#include "domain/token.h"
#include "http/http.h"
#include "util/log.h"

#define BOARD_MAX 1000

enum handled h_tokens_get(struct req *r, struct store_conn *c)
{
	char prefix[4], date[BIZDATE_LEN], token[TOKEN_MAX];
	struct tq_error err;
	struct order o;
	int64_t seq, ahead = 0;
	struct pace pace;
	json_t *eta = json_null();

	if (query_date(r, date) != 0)
		return HANDLED;
	if (token_parse(r->params[0], prefix, &seq) != 0 ||
	    config_queue(r->srv->cfg, prefix) == NULL) {
		tq_fail(&err, TQ_NOT_FOUND, "not_found", "", "there is no such token");
		reply_problem(r, &err);
		return HANDLED;
	}
	if (store_find_token(c, prefix, date, seq, &o, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	if (o.status == ST_PENDING || o.status == ST_PREPARING) {
		if (store_count_ahead(c, &o, &ahead, &err) != 0 ||
		    store_recent_pace(c, o.queue, o.business_date, &pace, &err) != 0) {
			order_release(&o);
			reply_problem(r, &err);
			return HANDLED;
		}
		int64_t e = estimate_seconds(&pace, (now_ms() - o.created_at) / 1000, ahead);
		if (e >= 0)
			eta = json_integer(e);
	} else if (o.status == ST_READY || o.status == ST_COMPLETED) {
		eta = json_integer(0);
	}
	token_format(token, o.queue, o.sequence, r->srv->cfg->token_digits);
	{
		char at[32];
		format_rfc3339(o.updated_at, at);
		reply_json(r, 200,
		           json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:s}", "token", token, "queue",
		                     o.queue, "business_date", o.business_date, "status",
		                     status_name(o.status), "ahead", (json_int_t)ahead,
		                     "eta_seconds", eta, "updated_at", at));
	}
	order_release(&o);
	return HANDLED;
}

enum handled h_board(struct req *r, struct store_conn *c)
{
	struct order_filter f;
	struct tq_error err;
	struct order *v = NULL;
	json_t *lists[3];
	int64_t last = 0;
	size_t n = 0, i;

	memset(&f, 0, sizeof(f));
	if (query_queue(r, &f.queue) != 0)
		return HANDLED;
	today(f.business_date);
	f.status_set = 1u << ST_PENDING | 1u << ST_PREPARING | 1u << ST_READY;
	f.limit = BOARD_MAX;
	/* The event id is read first: a client replaying from it may see an event
	 * it already has, never miss one. */
	if (store_last_event_id(c, &last, &err) != 0 ||
	    store_list_orders(c, &f, &v, &n, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	for (i = 0; i < 3; i++)
		lists[i] = json_array();
	for (i = 0; i < n; i++) {
		char token[TOKEN_MAX];
		token_format(token, v[i].queue, v[i].sequence, r->srv->cfg->token_digits);
		json_array_append_new(lists[v[i].status], json_string(token));
		order_release(&v[i]);
	}
	free(v);
	reply_json(r, 200,
	           json_pack("{s:s, s:o, s:o, s:o, s:I}", "business_date", f.business_date,
	                     "pending", lists[ST_PENDING], "preparing", lists[ST_PREPARING],
	                     "ready", lists[ST_READY], "last_event_id", (json_int_t)last));
	return HANDLED;
}

enum handled h_queues(struct req *r, struct store_conn *c)
{
	json_t *list = json_array();
	int i;

	(void)c;
	for (i = 0; i < r->srv->cfg->nqueues; i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "prefix",
		                                      r->srv->cfg->queues[i].prefix, "name",
		                                      r->srv->cfg->queues[i].name));
	reply_json(r, 200, json_pack("{s:o}", "queues", list));
	return HANDLED;
}

enum handled h_healthz(struct req *r, struct store_conn *c)
{
	struct tq_error err;
	const char *db = store_backend(r->srv->store)->name;

	if (c == NULL || store_ping(c, &err) != 0) {
		reply_json(r, 503,
		           json_pack("{s:s, s:s}", "status", "unavailable", "database", db));
		reply_header(r, "Retry-After", "2");
		return HANDLED;
	}
	reply_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "database", db));
	return HANDLED;
}
