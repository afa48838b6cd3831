/*
 * The /api/orders routes: create (through the group-commit issuer), read
 * with history, list with filters and keyset pagination, change status,
 * recall. Each reads its request, calls the façade (domain/tq.h), and
 * renders what it answers; the rules are the domain's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/bizdate.h"
#include "http/http.h"
#include "util/num.h"
#include "http/metrics.h"
#include "util/log.h"

static enum handled problem(struct req *r, enum tq_status st, const char *code, const char *field,
                            const char *detail)
{
	struct tq_error err;

	tq_fail(&err, st, code, field, "%s", detail);
	reply_problem(r, &err);
	return HANDLED;
}

/* A print job as GET /api/orders/{id} and POST .../print show it. */
static json_t *print_json(const struct print_job *j)
{
	return json_pack("{s:s, s:i, s:o, s:o, s:o}", "state",
	                 j->state == PRINT_PRINTED ? "printed" : "queued", "attempts", j->attempts,
	                 "last_error", j->last_error[0] ? json_string(j->last_error) : json_null(),
	                 "queued_at", json_time_or_null(j->queued_at), "printed_at",
	                 json_time_or_null(j->printed_at));
}

/* Replies with the order, plus its history and print state when asked. */
static enum handled reply_order(struct req *r, struct tq_session *s, int64_t id, int status,
                                bool history)
{
	struct tq_error err;
	struct order o;
	struct event *ev = NULL;
	size_t nev = 0, i;
	json_t *j, *h;

	if (tq_order_get(s, id, &o, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	j = order_json(r->venue->cfg, &o);
	order_release(&o);
	if (history) {
		if (tq_order_history(s, id, &ev, &nev, &err) != 0) {
			json_decref(j);
			reply_problem(r, &err);
			return HANDLED;
		}
		h = json_array();
		for (i = 0; i < nev; i++) {
			json_t *e = event_json(r->venue->cfg, &ev[i]);
			json_object_set_new(
			    e, "event", json_string(ev[i].kind == EV_RECALL ? "recall" : "token"));
			json_array_append_new(h, e);
		}
		free(ev);
		json_object_set_new(j, "history", h);
		{
			struct print_job pj;
			int found = tq_order_print_state(s, id, &pj, &err);
			if (found < 0) {
				json_decref(j);
				reply_problem(r, &err);
				return HANDLED;
			}
			json_object_set_new(j, "print", found ? print_json(&pj) : json_null());
		}
	}
	reply_json(r, status, j);
	return HANDLED;
}

/* The answer to a replayed idempotent request: the order as it is now. */
static enum handled replay(struct req *r, struct tq_session *s)
{
	reply_order(r, s, r->new_order.issue.order_id, 200, false);
	if (r->status == 200)
		reply_header(r, "Idempotent-Replayed", "true");
	return HANDLED;
}

/* Runs on the issuer's thread once the order's transaction has ended. */
static void issued(struct issue_req *ir, void *ctx)
{
	struct req *r = ctx;
	const struct order_input *in = &r->new_order.order;
	struct order o;
	char loc[96];

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
	metrics_order_created(r->srv->metrics, r->venue->slug, 1);
	memset(&o, 0, sizeof(o));
	o.id = ir->order_id;
	memcpy(o.queue, in->queue, sizeof(o.queue));
	memcpy(o.business_date, ir->business_date, sizeof(o.business_date));
	o.sequence = ir->sequence;
	o.status = ST_PENDING;
	o.items_json = in->items_json;
	o.total = in->total;
	o.note = in->note;
	o.created_at = o.updated_at = ir->now;
	snprintf(loc, sizeof(loc), "%s/api/orders/%lld", r->base, (long long)ir->order_id);
	reply_json(r, 201, order_json(r->venue->cfg, &o));
	reply_header(r, "Location", loc);
	req_finish(r);
}

enum handled h_orders_create(struct req *r, struct tq_session *s)
{
	struct tq_error err;

	/* The order goes to the issuer, which has its own connection. */
	if (tq_order_submit(s->tq, r->venue, r->json, r->body.data, r->body.len,
	                    r->has_idempotency_key ? r->idempotency_key : NULL, &r->new_order,
	                    issued, r, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	return DEFERRED;
}

enum handled h_orders_get(struct req *r, struct tq_session *s)
{
	return reply_order(r, s, req_path_id(r), 200, true);
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
	if (venue_queue(r->venue, q) == NULL) {
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
		today(r, date);
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

enum handled h_orders_list(struct req *r, struct tq_session *s)
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
	if (tq_order_list(s, &f, &v, &n, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	list = json_array();
	for (i = 0; i < n && i < (size_t)limit; i++)
		json_array_append_new(list, order_json(r->venue->cfg, &v[i]));
	out = json_pack("{s:o, s:o}", "orders", list, "next_after_id",
	                n > (size_t)limit ? json_integer(v[limit - 1].id) : json_null());
	for (i = 0; i < n; i++)
		order_release(&v[i]);
	free(v);
	reply_json(r, 200, out);
	return HANDLED;
}

/* Replies with the order as a change left it, or the problem. */
static enum handled changed(struct req *r, int rc, struct order *o, const struct tq_error *err)
{
	if (rc != 0) {
		reply_problem(r, err);
		return HANDLED;
	}
	metrics_status_changed(r->srv->metrics, r->venue->slug);
	reply_json(r, 200, order_json(r->venue->cfg, o));
	order_release(o);
	return HANDLED;
}

enum handled h_orders_patch(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	enum order_status to;
	struct order o;
	const char *key;
	json_t *v;

	json_object_foreach(r->json, key, v)
	{
		if (strcmp(key, "status") != 0) {
			char field[64];
			snprintf(field, sizeof(field), "%.60s", key);
			return problem(r, TQ_INVALID, "unknown_field", field,
			               "only status may be changed");
		}
	}
	v = json_object_get(r->json, "status");
	if (!json_is_string(v) || status_parse(json_string_value(v), &to) != 0)
		return problem(r, TQ_INVALID, "invalid_field", "status",
		               "status must be one of PENDING, PREPARING, READY, COMPLETED, "
		               "CANCELLED");
	return changed(r, tq_order_move(s, req_path_id(r), to, &o, &err), &o, &err);
}

enum handled h_orders_recall(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	struct order o;

	return changed(r, tq_order_recall(s, req_path_id(r), &o, &err), &o, &err);
}

enum handled h_orders_print(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	struct print_job job;

	if (tq_order_print(s, req_path_id(r), &job, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	reply_json(r, 202, json_pack("{s:o}", "print", print_json(&job)));
	return HANDLED;
}
