/*
 * The print worker: one thread per server that takes print jobs from the
 * database oldest first, writes each order's ticket in ESC/POS
 * (print/escpos.h) and sends it to the printer (print/transport.h), which
 * is asked its status first. A printer that is away (offline, out of paper,
 * not answering) keeps the job queued, with why, and it is tried again
 * after TOKENQ_PRINT_RETRY_MS; a printed job is never sent again. The
 * worker has its own database connection and never touches a request, so
 * a slow or dead printer only delays tickets, never orders.
 *
 * A claimed job is leased for LEASE_MS, longer than a try can take
 * (connect 2 s and 5 s for the exchange): another server's worker passes
 * it over meanwhile, and takes it if this server dies mid-try (the ticket
 * may then come out twice, never not at all).
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/printer.h"
#include "domain/token.h"
#include "domain/tq.h"
#include "print/escpos.h"
#include "print/transport.h"
#include "util/log.h"

#define LEASE_MS   30000
#define POLL_MS    1000
#define TICKET_MAX (1 << 20)

struct printer {
	struct tq *tq;
	struct transport_addr addr;
	struct store_conn *conn;
	struct raster_fonts *fonts;
	bool fonts_tried;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping, kicked;
};

int printer_check(const char *address, char *err, size_t errlen)
{
	struct transport_addr a;
	char why[256];

	if (transport_addr_parse(address, &a, why, sizeof(why)) != 0) {
		snprintf(
		    err, errlen,
		    "TOKENQ_PRINTER \"%.200s\" is not a printer address: %s (a network printer "
		    "is tcp://HOST:PORT, port 9100 by convention; a local one a device path "
		    "such as /dev/usb/lp0).",
		    address, why);
		return -1;
	}
	return 0;
}

/* The customer page of token at venue v, as the ticket's QR code carries it. */
static void customer_url(const struct venue *v, const char *token, char *out, size_t n)
{
	const struct config *cfg = v->cfg;
	const char *h = cfg->listen_host;
	bool any = strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;
	bool v6 = strchr(h, ':') != NULL && !any;
	char base[48] = "";

	if (v->id != STORE_MAIN_VENUE)
		snprintf(base, sizeof(base), "/v/%s", v->slug);
	if (cfg->public_url[0] != '\0')
		snprintf(out, n, "%s%s/t/%s", cfg->public_url, base, token);
	else
		snprintf(out, n, "http://%s%s%s:%d%s/t/%s", v6 ? "[" : "", any ? "127.0.0.1" : h,
		         v6 ? "]" : "", cfg->listen_port, base, token);
}

/* Writes order o's ticket into out: 0, or -1 when it cannot be written. */
static int ticket(struct printer *p, const struct order *o, struct buf *out)
{
	struct venue *v = tq_venue_by_id(p->tq, o->venue_id);
	const struct config *cfg;
	const struct queue_conf *q;
	char token[TOKEN_MAX], url[800], when[32];
	struct escpos_item *items = NULL;
	struct escpos_ticket t;
	json_t *list = json_loads(o->items_json, 0, NULL), *it;
	time_t secs;
	struct tm tm;
	size_t i;
	int rc = -1;

	if (v == NULL) /* deleted meanwhile: it had no orders, so this cannot be */
		v = tq_main(p->tq);
	cfg = v->cfg;
	q = config_queue(cfg, o->queue);
	secs = (time_t)tz_wall(v->zone, o->created_at / 1000);
	if (!json_is_array(list))
		goto out;
	items = calloc(json_array_size(list) + 1, sizeof(*items));
	if (items == NULL)
		goto out;
	json_array_foreach(list, i, it)
	{
		items[i].name = json_string_value(json_object_get(it, "name"));
		items[i].quantity = (long)json_integer_value(json_object_get(it, "quantity"));
		items[i].unit_price = json_integer_value(json_object_get(it, "unit_price"));
		if (items[i].name == NULL)
			goto out;
	}
	if (!p->fonts_tried) {
		p->fonts_tried = true;
		if (raster_fonts_open(&p->fonts, NULL) != 0)
			log_warn(
			    "component=printer msg=\"no fonts found: text outside the printer's "
			    "code page cannot be printed\"");
	}
	token_format(token, o->queue, o->sequence, cfg->token_digits);
	customer_url(v, token, url, sizeof(url));
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(when, sizeof(when), "%s", o->business_date);
	memset(&t, 0, sizeof(t));
	t.token = token;
	t.queue_name = q ? q->name : NULL;
	t.items = items;
	t.nitems = json_array_size(list);
	t.total = o->total;
	t.created = when;
	t.note = o->note;
	t.currency = v->row.currency;
	t.venue_name = v->row.name;
	t.qr_url = url;
	t.codepage = CODEPAGE_CP858;
	rc = escpos_write_ticket(&t, p->fonts, out);
out:
	free(items);
	json_decref(list);
	return rc;
}

/* Tries one claimed job and records what became of it. */
static void print_job(struct printer *p, const struct print_job *job)
{
	const char *error = NULL;
	struct tq_error err;
	struct order o;
	struct buf b;
	int64_t now;

	buf_init(&b, TICKET_MAX);
	if (store_get_order(p->conn, job->venue_id, job->order_id, &o, &err) != 0) {
		log_error("component=printer msg=\"cannot read the order of a print job\" job=%lld "
		          "order=%lld error=\"%s\"",
		          (long long)job->id, (long long)job->order_id, err.detail);
		buf_release(&b);
		return; /* the lease runs out and the job is tried again */
	}
	if (ticket(p, &o, &b) != 0) {
		error = "unprintable";
	} else {
		enum transport_status st = transport_send(&p->addr, b.data, b.len, NULL);
		if (st != TRANSPORT_OK)
			error = transport_status_name(st);
	}
	now = now_ms();
	if (error != NULL)
		log_warn("component=printer msg=\"the ticket did not print; it stays queued\" "
		         "order=%lld attempt=%d error=%s",
		         (long long)o.id, job->attempts + 1, error);
	else
		log_info("component=printer msg=\"printed\" order=%lld attempt=%d", (long long)o.id,
		         job->attempts + 1);
	/* An unprintable ticket is not retried often: nothing will change by itself. */
	if (store_print_record(p->conn, job->venue_id, job->id, error == NULL, error, now,
	                       now + (error && strcmp(error, "unprintable") == 0
	                                  ? 60000
	                                  : p->tq->cfg->print_retry_ms),
	                       &err) != 0)
		log_error(
		    "component=printer msg=\"cannot record a print job\" job=%lld error=\"%s\"",
		    (long long)job->id, err.detail);
	order_release(&o);
	buf_release(&b);
}

/* Waits up to ms for a kick or the stop; true when stopping. */
static bool wait_for_work(struct printer *p, int ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->stopping && !p->kicked)
		if (pthread_cond_timedwait(&p->cond, &p->lock, &ts) != 0)
			break;
	p->kicked = false;
	stop = p->stopping;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

static void *printer_main(void *arg)
{
	struct printer *p = arg;

	for (;;) {
		struct tq_error err;
		struct print_job job;
		int rc;

		pthread_mutex_lock(&p->lock);
		if (p->stopping) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		pthread_mutex_unlock(&p->lock);
		if (p->conn == NULL &&
		    store_connect_as(p->tq->store, "printer", &p->conn, &err) != 0) {
			if (wait_for_work(p, POLL_MS))
				break;
			continue;
		}
		rc = store_print_claim(p->conn, now_ms(), LEASE_MS, &job, &err);
		if (rc > 0) {
			print_job(p, &job);
			continue;
		}
		/* The connection reconnects by itself while the database is away; other
		 * failures are told. */
		if (rc < 0 && err.status != TQ_UNAVAILABLE)
			log_error("component=printer msg=\"cannot take a print job\" error=\"%s\"",
			          err.detail);
		if (wait_for_work(p, POLL_MS))
			break;
	}
	return NULL;
}

int printer_start(struct tq *tq, struct printer **out, struct tq_error *err)
{
	struct printer *p;
	char why[512];

	*out = NULL;
	if (tq->cfg->printer[0] == '\0')
		return 0;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	if (transport_addr_parse(tq->cfg->printer, &p->addr, why, sizeof(why)) != 0) {
		free(p);
		return tq_fail(err, TQ_INVALID, "invalid_printer", "printer", "%s", why);
	}
	p->tq = tq;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, printer_main, p) != 0) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		free(p);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "cannot start the print worker");
	}
	*out = p;
	return 0;
}

void printer_kick(struct printer *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->kicked = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void printer_stop(struct printer *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	store_disconnect(p->conn);
	raster_fonts_free(p->fonts);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}
