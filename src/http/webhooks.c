/*
 * Webhooks in the server (see webhooks.h): the admin routes, the checks on
 * an endpoint, and the outbox as the dispatcher's source.
 *
 * The source runs on the dispatcher's thread only, with a connection of its
 * own (tokenq/webhooks in pg_stat_activity). A claimed delivery is leased
 * for LEASE_MS, longer than an attempt can take (connect 5 s within a 10 s
 * whole), so no other server sends it meanwhile; if this server dies
 * mid-attempt the lease runs out and another server, or this one after a
 * restart, sends it again: at least once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/webhook.h"
#include "hooks/dispatch.h"
#include "hooks/payload.h"
#include "hooks/sign.h"
#include "http/webhooks.h"
#include "util/log.h"

#define LEASE_MS  30000
#define MAX_CLAIM 64

struct webhooks {
	struct server *srv;
	struct store_conn *conn;
	struct hook_dispatcher *dispatcher;
};

/* ---- the dispatcher's source ---- */

static int connect_once(struct webhooks *w)
{
	struct tq_error err;

	if (w->conn != NULL)
		return 0;
	if (store_connect_as(w->srv->store, "webhooks", &w->conn, &err) != 0) {
		w->conn = NULL;
		return -1;
	}
	return 0;
}

/* Fills d from a claim and its event; 0, or -1 when the event cannot be rendered. */
static int to_delivery(struct webhooks *w, struct webhook_claim *cl, struct hook_delivery *d)
{
	struct tq_error err;
	struct event ev;
	char type[32], id[40];
	json_t *data;

	if (store_event_get(w->conn, cl->venue_id, cl->event_id, &ev, &err) != 0)
		return -1;
	{
		struct venue *v = tq_venue_by_id(w->srv->tq, ev.venue_id);
		data = event_json(v != NULL ? v->cfg : w->srv->cfg, &ev);
	}
	memset(d, 0, sizeof(*d));
	d->body = hook_payload(webhook_type(&ev, type), ev.at, data, &d->body_len);
	json_decref(data);
	snprintf(id, sizeof(id), "msg_%" PRId64, cl->delivery_id);
	d->msg_id = strdup(id);
	if (d->body == NULL || d->msg_id == NULL) {
		free(d->body);
		free(d->msg_id);
		return -1;
	}
	d->id = cl->delivery_id;
	d->owner = cl->venue_id;
	d->endpoint_id = cl->endpoint_id;
	d->url = cl->url;
	d->secret = cl->secret;
	cl->url = cl->secret = NULL;
	d->attempts = cl->attempts;
	d->first_try_ms = cl->first_try_at;
	d->allow_private = cl->allow_private;
	return 0;
}

static int ob_claim(void *ctx, struct hook_delivery *out, int max, int64_t now)
{
	struct webhooks *w = ctx;
	struct webhook_claim cl[MAX_CLAIM];
	struct tq_error err;
	int n, i, k = 0;

	if (max > MAX_CLAIM)
		max = MAX_CLAIM;
	if (connect_once(w) != 0)
		return -1;
	if (store_webhook_claim(w->conn, max, now, LEASE_MS, cl, &n, &err) != 0) {
		if (err.status != TQ_UNAVAILABLE)
			log_warn("msg=\"webhooks: cannot claim deliveries\" error=\"%s\"",
			         err.detail);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (to_delivery(w, &cl[i], &out[k]) == 0) {
			k++;
			continue;
		}
		log_warn("msg=\"webhooks: cannot render a delivery\" delivery=%" PRId64
		         " event=%" PRId64,
		         cl[i].delivery_id, cl[i].event_id);
		store_webhook_release(w->conn, cl[i].venue_id, cl[i].delivery_id, &err);
		free(cl[i].url);
		free(cl[i].secret);
	}
	return k;
}

static void ob_record(void *ctx, const struct hook_delivery *d, const struct hook_attempt *a)
{
	struct webhooks *w = ctx;
	struct tq_error err;
	struct webhook_record r = {
	    .venue_id = d->owner,
	    .delivery_id = d->id,
	    .endpoint_id = d->endpoint_id,
	    .state = a->outcome == HOOK_DELIVERED ? WEBHOOK_DELIVERED
	             : a->outcome == HOOK_FAILED  ? WEBHOOK_GIVEN_UP
	                                          : WEBHOOK_PENDING,
	    .attempt = a->attempt,
	    .started_at = a->started_ms,
	    .first_try_at = a->first_try_ms,
	    .duration_ms = a->duration_ms,
	    .status = a->status,
	    .error = a->error,
	    .response = a->response,
	    .next_at = a->next_ms,
	    .now = now_ms(),
	};

	if (connect_once(w) != 0 || store_webhook_record(w->conn, &r, &err) != 0)
		/* The lease runs out and the delivery is sent again: at least once. */
		log_warn("msg=\"webhooks: cannot record an attempt; it will be sent again\" "
		         "delivery=%" PRId64,
		         d->id);
	if (a->outcome == HOOK_FAILED)
		log_warn("msg=\"webhook delivery given up after the retry period; the endpoint is "
		         "marked failing\" endpoint=%" PRId64 " delivery=%" PRId64 " error=\"%s\"",
		         d->endpoint_id, d->id, a->error ? a->error : "");
}

static void ob_release(void *ctx, const struct hook_delivery *d)
{
	struct webhooks *w = ctx;
	struct tq_error err;

	if (connect_once(w) == 0)
		store_webhook_release(w->conn, d->owner, d->id, &err);
}

int webhooks_start(struct server *srv, struct tq_error *err)
{
	struct webhooks *w = calloc(1, sizeof(*w));
	struct hook_source src = {ob_claim, ob_record, ob_release, NULL};
	struct hook_dispatcher_config cfg;
	char why[256];

	if (w == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	w->srv = srv;
	src.ctx = w;
	memset(&cfg, 0, sizeof(cfg));
	cfg.poll_ms = srv->cfg->webhook_poll_ms;
	cfg.backoff.base_ms = srv->cfg->webhook_retry_base_ms;
	cfg.user_agent = "tokenq-webhooks/" TOKENQ_VERSION;
	if (hook_dispatcher_start(&w->dispatcher, &src, &cfg, why, sizeof(why)) != 0) {
		free(w);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "%s", why);
	}
	srv->webhooks = w;
	return 0;
}

void webhooks_stop(struct server *srv)
{
	struct webhooks *w = srv->webhooks;

	if (w == NULL)
		return;
	hook_dispatcher_stop(w->dispatcher);
	if (w->conn != NULL)
		store_disconnect(w->conn);
	free(w);
	srv->webhooks = NULL;
}

void webhooks_kick(struct server *srv)
{
	if (srv->webhooks != NULL)
		hook_dispatcher_kick(srv->webhooks->dispatcher);
}

/* ---- the routes ---- */

static enum handled problem(struct req *r, const struct tq_error *err)
{
	reply_problem(r, err);
	return HANDLED;
}

static json_t *events_json(unsigned mask)
{
	static const char *const names[] = {"token", "recall", "transfer"};
	json_t *a = json_array();
	int i;

	for (i = 0; i < 3; i++)
		if (mask & hook_event_bit(names[i]))
			json_array_append_new(a, json_string(names[i]));
	return a;
}

static const char *state_name(const struct webhook *w)
{
	return w->revoked_at ? "revoked" : w->failing_since ? "failing" : "active";
}

static json_t *webhook_json(const struct webhook *w)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_integer(w->id));
	json_object_set_new(j, "url", json_string(w->url));
	json_object_set_new(j, "events", events_json(w->events));
	json_object_set_new(j, "allow_private", json_boolean(w->allow_private));
	json_object_set_new(j, "venue", json_string(w->venue));
	json_object_set_new(j, "state", json_string(state_name(w)));
	json_object_set_new(j, "created_at", json_time_or_null(w->created_at));
	json_object_set_new(j, "revoked_at", json_time_or_null(w->revoked_at));
	json_object_set_new(j, "failing_since", json_time_or_null(w->failing_since));
	return j;
}

/* The body's events array as "token,recall"; -1 with a problem for anything else. */
static int events_list(json_t *v, char *out, size_t n, struct tq_error *err)
{
	size_t i, len = 0;
	json_t *e;

	out[0] = '\0';
	if (!json_is_array(v) || json_array_size(v) == 0)
		return tq_fail(err, TQ_INVALID, "invalid_field", "events",
		               "events must be a non-empty array of event names: token, recall, "
		               "transfer");
	json_array_foreach(v, i, e)
	{
		const char *s = json_string_value(e);
		if (s == NULL || s[0] == '\0' || strchr(s, ',') != NULL || len + strlen(s) + 2 > n)
			return tq_fail(err, TQ_INVALID, "invalid_field", "events",
			               "events must be a non-empty array of event names: token, "
			               "recall, transfer");
		len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "", s);
	}
	return 0;
}

enum handled h_webhooks_create(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	struct webhook w;
	char events[256], secret[HOOK_SECRET_SIZE], loc[96];
	const char *key, *url = NULL, *venue = NULL;
	bool allow_private = false, has_events = false;
	json_t *v, *j;
	int64_t id;

	json_object_foreach(r->json, key, v)
	{
		if (strcmp(key, "url") == 0) {
			if (!json_is_string(v)) {
				tq_fail(&err, TQ_INVALID, "invalid_field", "url",
				        "url must be a string: an http:// or https:// address");
				goto refused;
			}
			url = json_string_value(v);
		} else if (strcmp(key, "events") == 0) {
			if (events_list(v, events, sizeof(events), &err) != 0)
				goto refused;
			has_events = true;
		} else if (strcmp(key, "allow_private") == 0) {
			if (!json_is_boolean(v)) {
				tq_fail(&err, TQ_INVALID, "invalid_field", "allow_private",
				        "allow_private must be true or false");
				goto refused;
			}
			allow_private = json_is_true(v);
		} else if (strcmp(key, "venue") == 0) {
			if (!json_is_string(v)) {
				tq_fail(&err, TQ_INVALID, "invalid_field", "venue",
				        "venue must be a venue's slug, such as main");
				goto refused;
			}
			venue = json_string_value(v);
		} else {
			char field[64];
			snprintf(field, sizeof(field), "%.60s", key);
			tq_fail(
			    &err, TQ_INVALID, "unknown_field", field,
			    "%s is not a member of a webhook; use url, events, allow_private or "
			    "venue",
			    field);
			goto refused;
		}
	}
	if (venue == NULL) {
		venue = r->venue->slug;
	} else if (strcmp(venue, r->venue->slug) != 0 && !r->all_venues) {
		tq_fail(&err, TQ_FORBIDDEN, "forbidden", "",
		        "a key of the venue %s may not make webhooks for another venue",
		        r->venue->slug);
		goto refused;
	}
	if (webhook_check(url, has_events ? events : NULL, allow_private, venue, &w, &err) != 0 ||
	    webhook_create(s->conn, &w, secret, &id, &err) != 0 ||
	    store_webhook_get(s->conn, id, &w, &err) != 0)
		return problem(r, &err);
	/* This server's orders look for the new endpoint from now on. */
	if (venues_reload(&s->tq->venues, &err) != 0)
		log_warn("msg=\"cannot reload the venues' settings\" error=\"%s\"", err.detail);
	j = webhook_json(&w);
	json_object_set_new(j, "secret", json_string(secret));
	snprintf(loc, sizeof(loc), "%s/api/webhooks/%" PRId64, r->base, id);
	reply_header(r, "Location", loc);
	reply_json(r, 201, j);
	log_info("msg=\"webhook created\" id=%" PRId64 " url=\"%s\"", id, w.url);
	return HANDLED;
refused:
	return problem(r, &err);
}

enum handled h_webhooks_list(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	struct webhook *v;
	size_t n, i;
	json_t *list, *j;

	if (store_webhook_list(s->conn, &v, &n, &err) != 0)
		return problem(r, &err);
	list = json_array();
	for (i = 0; i < n; i++)
		if (strcmp(v[i].venue, r->venue->slug) == 0) /* a venue sees its own */
			json_array_append_new(list, webhook_json(&v[i]));
	free(v);
	j = json_object();
	json_object_set_new(j, "webhooks", list);
	reply_json(r, 200, j);
	return HANDLED;
}

/* The endpoint of the route's {id}, if it is the request's venue's: 0, or -1 with 404. */
static int venue_webhook(struct req *r, struct tq_session *s, struct webhook *w,
                         struct tq_error *err)
{
	if (store_webhook_get(s->conn, req_path_id(r), w, err) != 0)
		return -1;
	if (strcmp(w->venue, r->venue->slug) != 0)
		return tq_fail(err, TQ_NOT_FOUND, "not_found", "",
		               "there is no webhook with id %lld", (long long)req_path_id(r));
	return 0;
}

enum handled h_webhooks_get(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	struct webhook w;

	if (venue_webhook(r, s, &w, &err) != 0)
		return problem(r, &err);
	reply_json(r, 200, webhook_json(&w));
	return HANDLED;
}

enum handled h_webhooks_delete(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	struct webhook w;

	if (venue_webhook(r, s, &w, &err) != 0 ||
	    store_webhook_revoke(s->conn, req_path_id(r), now_ms(), &err) != 0 ||
	    store_webhook_get(s->conn, req_path_id(r), &w, &err) != 0)
		return problem(r, &err);
	reply_json(r, 200, webhook_json(&w));
	return HANDLED;
}

static const char *delivery_state(enum webhook_state st)
{
	return st == WEBHOOK_DELIVERED  ? "delivered"
	       : st == WEBHOOK_GIVEN_UP ? "failed"
	                                : "pending";
}

enum handled h_webhooks_deliveries(struct req *r, struct tq_session *s)
{
	struct webhook_delivery_row *v;
	struct tq_error err;
	struct webhook w;
	int64_t limit;
	size_t n, i, k;
	json_t *list, *j;

	if (query_limit(r, &limit) != 0)
		return HANDLED;
	if (venue_webhook(r, s, &w, &err) != 0 ||
	    store_webhook_deliveries(s->conn, w.id, (int)limit, &v, &n, &err) != 0)
		return problem(r, &err);
	list = json_array();
	for (i = 0; i < n; i++) {
		struct event e = {.kind = v[i].kind, .status = v[i].status};
		char type[32];
		json_t *d = json_object(), *att = json_array();
		json_object_set_new(d, "id", json_integer(v[i].id));
		json_object_set_new(d, "event_id", json_integer(v[i].event_id));
		json_object_set_new(d, "type", json_string(webhook_type(&e, type)));
		json_object_set_new(d, "state", json_string(delivery_state(v[i].state)));
		json_object_set_new(d, "next_attempt_at",
		                    v[i].state == WEBHOOK_PENDING ? json_time_or_null(v[i].next_at)
		                                                  : json_null());
		for (k = 0; k < v[i].n_attempt; k++) {
			const struct webhook_attempt_row *a = &v[i].attempt[k];
			json_t *aj = json_object();
			json_object_set_new(aj, "attempt", json_integer(a->attempt));
			json_object_set_new(aj, "at", json_time_or_null(a->started_at));
			json_object_set_new(aj, "status",
			                    a->status > 0 ? json_integer(a->status) : json_null());
			json_object_set_new(aj, "duration_ms", json_integer(a->duration_ms));
			json_object_set_new(aj, "error",
			                    a->error[0] ? json_string(a->error) : json_null());
			json_array_append_new(att, aj);
		}
		json_object_set_new(d, "attempts", att);
		json_array_append_new(list, d);
	}
	store_webhook_deliveries_free(v, n);
	j = json_object();
	json_object_set_new(j, "deliveries", list);
	reply_json(r, 200, j);
	return HANDLED;
}
