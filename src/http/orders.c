/*
 * The /api/orders routes: create (through the group-commit issuer), read
 * with history, list with filters and keyset pagination, change status,
 * recall.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "http/events.h"
#include "http/http.h"
#include "http/metrics.h"
#include "util/log.h"
#include "util/sha256.h"

static enum handled problem(struct req *r, enum tq_status st, const char *code, const char *field,
                            const char *detail)
{
	struct tq_error err;

	tq_fail(&err, st, code, field, "%s", detail);
	reply_problem(r, &err);
	return HANDLED;
}

/* Replies with the order, plus its history when asked. */
static enum handled reply_order(struct req *r, struct store_conn *c, int64_t id, int status,
                                bool history)
{
	struct tq_error err;
	struct order o;
	struct event *ev = NULL;
	size_t nev = 0, i;
	json_t *j, *h;

	if (store_get_order(c, id, &o, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	j = order_json(r->srv->cfg, &o);
	order_release(&o);
	if (history) {
		if (store_order_history(c, id, &ev, &nev, &err) != 0) {
			json_decref(j);
			reply_problem(r, &err);
			return HANDLED;
		}
		h = json_array();
		for (i = 0; i < nev; i++) {
			json_t *e = event_json(r->srv->cfg, &ev[i]);
			json_object_set_new(
			    e, "event", json_string(ev[i].kind == EV_RECALL ? "recall" : "token"));
			json_array_append_new(h, e);
		}
		free(ev);
		json_object_set_new(j, "history", h);
	}
	reply_json(r, status, j);
	return HANDLED;
}

/* The answer to a replayed idempotent request: the order as it is now. */
static enum handled replay(struct req *r, struct store_conn *c)
{
	reply_order(r, c, r->issue.order_id, 200, false);
	if (r->status == 200)
		reply_header(r, "Idempotent-Replayed", "true");
	return HANDLED;
}

/* Runs on the issuer's thread once the order's transaction has ended. */
static void issued(struct issue_req *ir, void *ctx)
{
	struct req *r = ctx;
	struct order o;
	char loc[64];

	if (ir->outcome == ISSUE_FAILED) {
		reply_problem(r, &ir->err);
		req_finish(r);
		return;
	}
	if (ir->outcome == ISSUE_REPLAYED) {
		/* Another server committed this key first: read its order on a worker. */
		requeue(r, replay);
		return;
	}
	metrics_order_created(r->srv->metrics, 1);
	hub_kick(r->srv->hub);
	memset(&o, 0, sizeof(o));
	o.id = ir->order_id;
	memcpy(o.queue, r->order.queue, sizeof(o.queue));
	memcpy(o.business_date, ir->business_date, sizeof(o.business_date));
	o.sequence = ir->sequence;
	o.status = ST_PENDING;
	o.items_json = r->order.items_json;
	o.total = r->order.total;
	o.note = r->order.note;
	o.created_at = o.updated_at = ir->now;
	snprintf(loc, sizeof(loc), "/api/orders/%lld", (long long)ir->order_id);
	reply_json(r, 201, order_json(r->srv->cfg, &o));
	reply_header(r, "Location", loc);
	req_finish(r);
}

static bool idempotency_key_valid(const char *k)
{
	size_t n = strlen(k), i;

	if (n < 1 || n > 255)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
			return false;
	return true;
}

enum handled h_orders_create(struct req *r, struct store_conn *c)
{
	struct tq_error err;
	json_t *body;

	(void)c; /* the order goes to the issuer, which has its own connection */
	if (req_json_body(r, &body) != 0)
		return HANDLED;
	if (r->has_idempotency_key && !idempotency_key_valid(r->idempotency_key)) {
		json_decref(body);
		return problem(r, TQ_INVALID, "invalid_field", "Idempotency-Key",
		               "Idempotency-Key must be 1 to 255 visible ASCII characters");
	}
	if (order_validate(body, r->srv->cfg, &r->order, &err) != 0) {
		json_decref(body);
		reply_problem(r, &err);
		return HANDLED;
	}
	json_decref(body);
	memset(&r->issue, 0, sizeof(r->issue));
	r->issue.in = &r->order;
	r->issue.now = now_ms();
	bizdate_of(r->issue.now, r->issue.business_date);
	/* A key already used is answered by the issuer's batch, which claims keys
	 * in its transaction: a replay, or idempotency_key_reused. */
	if (r->has_idempotency_key) {
		r->issue.idem_key = r->idempotency_key;
		sha256_hex(r->body.data ? r->body.data : "", r->body.len, r->issue.idem_hash);
	}
	issuer_submit(r->srv->issuer, &r->issue, issued, r);
	return DEFERRED;
}

enum handled h_orders_get(struct req *r, struct store_conn *c)
{
	return reply_order(r, c, req_path_id(r), 200, true);
}

/* A whole decimal number from lo to hi, or -1. */
static int64_t query_int(const char *s, int64_t lo, int64_t hi)
{
	int64_t v;

	if (s == NULL || parse_i64(s, &v) != 0 || v < lo || v > hi)
		return -1;
	return v;
}

int query_limit(struct req *r, int64_t *limit)
{
	const char *q = req_query(r, "limit");

	*limit = 100;
	if (q != NULL && (*limit = query_int(q, 1, 500)) < 0) {
		problem(r, TQ_INVALID, "invalid_field", "limit",
		        "limit must be a whole number from 1 to 500");
		return -1;
	}
	return 0;
}

/* Reads ?queue=: 0 with *queue NULL (absent) or set; -1 with a problem replied. */
int query_queue(struct req *r, const char **queue)
{
	const char *q = req_query(r, "queue");

	*queue = NULL;
	if (q == NULL)
		return 0;
	if (config_queue(r->srv->cfg, q) == NULL) {
		problem(r, TQ_INVALID, "unknown_queue", "queue",
		        "queue must be the prefix of a configured queue");
		return -1;
	}
	*queue = q;
	return 0;
}

/* Reads ?date=, defaulting to today's business date. */
int query_date(struct req *r, char date[BIZDATE_LEN])
{
	const char *d = req_query(r, "date");

	if (d == NULL) {
		today(date);
		return 0;
	}
	if (!bizdate_valid(d)) {
		problem(r, TQ_INVALID, "invalid_field", "date",
		        "date must be a date as YYYY-MM-DD");
		return -1;
	}
	memcpy(date, d, BIZDATE_LEN);
	return 0;
}

static int parse_status_set(const char *s, unsigned *set)
{
	char name[16];
	enum order_status st;

	*set = 0;
	for (;;) {
		size_t n = strcspn(s, ",");
		if (n == 0 || n >= sizeof(name))
			return -1;
		memcpy(name, s, n);
		name[n] = '\0';
		if (status_parse(name, &st) != 0)
			return -1;
		*set |= 1u << st;
		if (s[n] == '\0')
			return 0;
		s += n + 1;
	}
}

enum handled h_orders_list(struct req *r, struct store_conn *c)
{
	struct order_filter f;
	struct tq_error err;
	struct order *v;
	const char *q;
	size_t n, i;
	json_t *list, *out;
	int64_t limit;

	memset(&f, 0, sizeof(f));
	if (query_date(r, f.business_date) != 0 || query_queue(r, &f.queue) != 0)
		return HANDLED;
	if ((q = req_query(r, "status")) != NULL && parse_status_set(q, &f.status_set) != 0)
		return problem(r, TQ_INVALID, "invalid_field", "status",
		               "status must be a comma-separated list of PENDING, PREPARING, "
		               "READY, COMPLETED, CANCELLED");
	if (query_limit(r, &limit) != 0)
		return HANDLED;
	if ((q = req_query(r, "after_id")) != NULL && (f.after_id = query_int(q, 0, INT64_MAX)) < 0)
		return problem(r, TQ_INVALID, "invalid_field", "after_id",
		               "after_id must be a whole number, 0 or more");
	f.limit = (int)limit + 1; /* one more tells whether a next page exists */
	if (store_list_orders(c, &f, &v, &n, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	list = json_array();
	for (i = 0; i < n && i < (size_t)limit; i++)
		json_array_append_new(list, order_json(r->srv->cfg, &v[i]));
	out = json_pack("{s:o, s:o}", "orders", list, "next_after_id",
	                n > (size_t)limit ? json_integer(v[limit - 1].id) : json_null());
	for (i = 0; i < n; i++)
		order_release(&v[i]);
	free(v);
	reply_json(r, 200, out);
	return HANDLED;
}

static enum handled change(struct req *r, struct store_conn *c, enum order_status to, bool recall)
{
	struct tq_error err;
	struct order o;

	if (store_change_status(c, req_path_id(r), to, recall, now_ms(), &o, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	metrics_status_changed(r->srv->metrics);
	hub_kick(r->srv->hub);
	reply_json(r, 200, order_json(r->srv->cfg, &o));
	order_release(&o);
	return HANDLED;
}

enum handled h_orders_patch(struct req *r, struct store_conn *c)
{
	enum order_status to;
	const char *key;
	json_t *body, *v;

	if (req_json_body(r, &body) != 0)
		return HANDLED;
	json_object_foreach(body, key, v)
	{
		if (strcmp(key, "status") != 0) {
			char field[64];
			snprintf(field, sizeof(field), "%.60s", key);
			json_decref(body);
			return problem(r, TQ_INVALID, "unknown_field", field,
			               "only status may be changed");
		}
	}
	v = json_object_get(body, "status");
	if (!json_is_string(v) || status_parse(json_string_value(v), &to) != 0) {
		json_decref(body);
		return problem(r, TQ_INVALID, "invalid_field", "status",
		               "status must be one of PENDING, PREPARING, READY, COMPLETED, "
		               "CANCELLED");
	}
	json_decref(body);
	return change(r, c, to, false);
}

enum handled h_orders_recall(struct req *r, struct store_conn *c)
{
	return change(r, c, ST_READY, true);
}
