/*
 * Orders through the façade: changes of status and recalls with their
 * rules, reads, the token a customer follows (with the count ahead and the
 * estimate), and the board's lists.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/estimate.h"
#include "domain/orders.h"
#include "domain/printer.h"
#include "domain/status.h"
#include "domain/token.h"
#include "domain/tq.h"
#include "util/log.h"

#define CHANGE_ATTEMPTS 10

/* The rule for a change of an order now in from; 0, or -1 with the conflict in err. */
static int change_allowed(enum order_status from, enum order_status to, bool recall,
                          struct tq_error *err)
{
	if (recall && from != ST_READY)
		return tq_fail(err, TQ_CONFLICT, "invalid_transition", "status",
		               "only a READY order can be recalled; this one is %s",
		               status_name(from));
	if (!recall && !status_can_move(from, to))
		return tq_fail(err, TQ_CONFLICT, "invalid_transition", "status",
		               "an order that is %s cannot become %s", status_name(from),
		               status_name(to));
	return 0;
}

int orders_change(struct store_conn *c, int venue, int64_t id, enum order_status to, bool recall,
                  int64_t now, struct order *out, struct tq_error *err)
{
	int attempt, rc;

	for (attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
		struct order cur;

		if (store_get_order(c, venue, id, &cur, err) != 0)
			return -1;
		order_release(&cur);
		if (change_allowed(cur.status, to, recall, err) != 0)
			return -1;
		rc = store_record_change(c, venue, id, cur.status, recall ? cur.status : to, recall,
		                         now, out, err);
		if (rc != 1)
			return rc;
	}
	return tq_fail(err, TQ_UNAVAILABLE, "database_unavailable", "",
	               "the order kept changing under concurrent updates; retry");
}

static void committed(struct tq_session *s)
{
	if (s->tq->committed != NULL)
		s->tq->committed(s->tq->committed_ctx, s->venue->id);
}

int tq_order_move(struct tq_session *s, int64_t id, enum order_status to, struct order *out,
                  struct tq_error *err)
{
	if (orders_change(s->conn, s->venue->id, id, to, false, now_ms(), out, err) != 0)
		return -1;
	committed(s);
	return 0;
}

int tq_order_print(struct tq_session *s, int64_t id, struct print_job *out, struct tq_error *err)
{
	struct order o;

	/* An unknown order (or another venue's) is 404 before no_printer is said;
	 * with a printer, the enqueue itself finds no such order. */
	if (s->venue->cfg->printer[0] == '\0') {
		if (store_get_order(s->conn, s->venue->id, id, &o, err) != 0)
			return -1;
		order_release(&o);
		return tq_fail(err, TQ_CONFLICT, "no_printer", "",
		               "no printer is configured; set TOKENQ_PRINTER to print tickets");
	}
	if (store_print_enqueue(s->conn, s->venue->id, id, now_ms(), out, err) != 0)
		return -1;
	printer_kick(s->tq->printer);
	return 0;
}

int tq_order_print_state(struct tq_session *s, int64_t id, struct print_job *out,
                         struct tq_error *err)
{
	return store_print_latest(s->conn, s->venue->id, id, out, err);
}

int tq_order_recall(struct tq_session *s, int64_t id, struct order *out, struct tq_error *err)
{
	if (orders_change(s->conn, s->venue->id, id, ST_READY, true, now_ms(), out, err) != 0)
		return -1;
	committed(s);
	return 0;
}

int tq_order_get(struct tq_session *s, int64_t id, struct order *out, struct tq_error *err)
{
	return store_get_order(s->conn, s->venue->id, id, out, err);
}

int tq_order_history(struct tq_session *s, int64_t id, struct event **out, size_t *n,
                     struct tq_error *err)
{
	return store_order_history(s->conn, s->venue->id, id, out, n, err);
}

int tq_order_list(struct tq_session *s, const struct order_filter *f, struct order **out, size_t *n,
                  struct tq_error *err)
{
	struct order_filter vf = *f;

	vf.venue_id = s->venue->id; /* a venue's routes see its own orders only */
	return store_list_orders(s->conn, &vf, out, n, err);
}

int tq_token_lookup(struct tq_session *s, const char *token, const char *date,
                    struct tq_token_view *out, struct tq_error *err)
{
	char prefix[4];
	struct pace pace;
	int64_t seq;
	struct order *o = &out->order;

	memset(out, 0, sizeof(*out));
	out->eta = -1;
	/* A queue removed from the venue takes no new orders; its tokens stay readable. */
	if (token_parse(token, prefix, &seq) != 0)
		return tq_fail(err, TQ_NOT_FOUND, "not_found", "", "there is no such token");
	if (store_find_token(s->conn, s->venue->id, prefix, date, seq, o, err) != 0)
		return -1;
	if (o->status == ST_PENDING || o->status == ST_PREPARING) {
		if (store_count_ahead(s->conn, o, &out->ahead, err) != 0 ||
		    store_recent_pace(s->conn, s->venue->id, o->queue, o->business_date, &pace,
		                      err) != 0) {
			order_release(o);
			return -1;
		}
		out->eta = estimate_seconds(&pace, (now_ms() - o->created_at) / 1000, out->ahead);
	} else if (o->status == ST_READY || o->status == ST_COMPLETED) {
		out->eta = 0;
	}
	return 0;
}

int tq_board(struct tq_session *s, const char *queue, int limit, char date[BIZDATE_LEN],
             struct order **out, size_t *n, int64_t *last_event_id, struct tq_error *err)
{
	struct order_filter f;

	*out = NULL;
	*n = 0;
	memset(&f, 0, sizeof(f));
	f.venue_id = s->venue->id;
	f.queue = queue;
	venue_today(s->venue, f.business_date);
	memcpy(date, f.business_date, BIZDATE_LEN);
	f.status_set = 1u << ST_PENDING | 1u << ST_PREPARING | 1u << ST_READY;
	f.limit = limit;
	/* The event id first: see tq.h. */
	if (store_last_event_id(s->conn, s->venue->id, last_event_id, err) != 0)
		return -1;
	return store_list_orders(s->conn, &f, out, n, err);
}
