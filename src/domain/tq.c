/*
 * The façade's life and new orders: checking a new order and its
 * idempotency key, dating it in the venue's day, and handing it to the
 * issuer (see tq.h).
 *
 * Idempotency, end to end: the key's form is checked here; a key already
 * in flight in this process is refused by the issuer
 * (idempotency_key_in_use); the store claims the key in the order's own
 * transaction, so a key committed by any server answers with that order
 * (ISSUE_REPLAYED) or, for another body, idempotency_key_reused. The body's
 * sha256 is what "the same request" means.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/order.h"
#include "domain/printer.h"
#include "domain/tq.h"
#include "util/base64.h"
#include "util/log.h"
#include "util/sha256.h"

int tq_init(struct tq *tq, const struct config *cfg, struct store *store, struct tq_error *err)
{
	memset(tq, 0, sizeof(*tq));
	tq->cfg = cfg;
	tq->store = store;
	return venues_init(&tq->venues, cfg, store, err);
}

void tq_release(struct tq *tq)
{
	venues_release(&tq->venues);
}

struct venue *tq_venue(struct tq *tq, const char *slug, size_t n)
{
	if (!venue_slug_valid(slug, n))
		return NULL;
	return venues_find(&tq->venues, slug, n);
}

struct venue *tq_venue_by_id(struct tq *tq, int id)
{
	return venues_by_id(&tq->venues, id);
}

struct venue *tq_main(struct tq *tq)
{
	return venues_main(&tq->venues);
}

int tq_ping(struct tq_session *s, struct tq_error *err)
{
	if (s->conn == NULL)
		return tq_fail(err, TQ_UNAVAILABLE, "database_unavailable", "",
		               "the database cannot be reached");
	return store_ping(s->conn, err);
}

int tq_day_stats(struct tq_session *s, const char *date, const char *queue, struct day_stats *out,
                 struct tq_error *err)
{
	return reports_day_stats(s->conn, s->venue->id, date, queue, s->venue->zone, out, err);
}

int tq_last_event_id(struct tq_session *s, int64_t *id, struct tq_error *err)
{
	return store_last_event_id(s->conn, s->venue->id, id, err);
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

/* On the issuer's thread: wake the hub for a committed order, then tell the caller. */
static void issued(struct issue_req *ir, void *ctx)
{
	struct tq_new_order *no = ctx;

	if (ir->outcome == ISSUE_CREATED && no->tq->committed != NULL)
		no->tq->committed(no->tq->committed_ctx, ir->venue_id);
	if (ir->outcome == ISSUE_CREATED && no->order.print)
		printer_kick(no->tq->printer);
	no->done(ir, no->ctx);
}

int tq_order_submit(struct tq *tq, struct venue *v, const json_t *body, const char *raw,
                    size_t rawlen, const char *idem_key, struct tq_new_order *no,
                    issue_done_fn done, void *ctx, struct tq_error *err)
{
	memset(no, 0, sizeof(*no));
	if (idem_key != NULL && !idempotency_key_valid(idem_key))
		return tq_fail(err, TQ_INVALID, "invalid_field", "Idempotency-Key",
		               "Idempotency-Key must be 1 to 255 visible ASCII characters");
	if (order_validate(body, v->cfg, &no->order, err) != 0)
		return -1;
	if (no->order.print && v->cfg->printer[0] == '\0') {
		order_input_release(&no->order);
		return tq_fail(err, TQ_INVALID, "invalid_field", "print",
		               "no printer is configured; set TOKENQ_PRINTER to print tickets");
	}
	no->tq = tq;
	no->done = done;
	no->ctx = ctx;
	no->issue.in = &no->order;
	no->issue.venue_id = v->id;
	no->issue.outbox = v->row.has_webhooks;
	no->issue.settings_version = venues_version(&tq->venues);
	no->issue.now = now_ms();
	venue_date_of(v, no->issue.now, no->issue.business_date);
	if (idem_key != NULL) {
		no->issue.idem_key = idem_key;
		sha256_hex(raw ? raw : "", rawlen, no->issue.idem_hash);
	}
	issuer_submit(tq->issuer, &no->issue, issued, no);
	return 0;
}

void tq_new_order_release(struct tq_new_order *no)
{
	order_input_release(&no->order);
}

/* ---- venues ---- */

int tq_venues(struct tq *tq, struct venue ***out, size_t *n, struct tq_error *err)
{
	if (venues_all(&tq->venues, out, n) != 0)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	return 0;
}

/* After a change: reload, and find the venue slug as it now is. */
static int reload_find(struct tq_session *s, const char *slug, struct venue **out,
                       struct tq_error *err)
{
	if (venues_reload(&s->tq->venues, err) != 0)
		return -1;
	*out = tq_venue(s->tq, slug, strlen(slug));
	if (*out == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "the venue %s went away", slug);
	return 0;
}

int tq_venue_create(struct tq_session *s, const json_t *body, struct venue **out,
                    struct tq_error *err)
{
	struct venue_row row;

	if (venue_create(s->conn, body, &row, err) != 0)
		return -1;
	return reload_find(s, row.slug, out, err);
}

int tq_venue_update(struct tq_session *s, struct venue *v, const json_t *body, struct venue **out,
                    struct tq_error *err)
{
	struct venue_row row;

	if (venue_update(s->conn, v->slug, body, &row, err) != 0)
		return -1;
	return reload_find(s, row.slug, out, err);
}

int tq_venue_delete(struct tq_session *s, struct venue *v, struct tq_error *err)
{
	if (store_venue_delete(s->conn, v->slug, err) != 0)
		return -1;
	return venues_reload(&s->tq->venues, err);
}

int tq_venue_logo(struct tq_session *s, unsigned char **data, size_t *len, char type[32],
                  struct tq_error *err)
{
	char *b64 = NULL;
	long got;
	int found;

	*data = NULL;
	*len = 0;
	found = store_venue_logo(s->conn, s->venue->id, &b64, type, err);
	if (found <= 0)
		return found;
	*data = malloc(strlen(b64) + 1);
	if (*data == NULL) {
		free(b64);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	}
	got = base64_decode(b64, strlen(b64), *data, strlen(b64) + 1);
	free(b64);
	if (got < 0) {
		free(*data);
		*data = NULL;
		return tq_fail(err, TQ_INTERNAL, "database_error", "",
		               "the stored logo is damaged");
	}
	*len = (size_t)got;
	return 1;
}
