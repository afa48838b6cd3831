/*
 * The reporting routes: the day's numbers (GET /api/stats), the day's
 * orders as CSV (GET /api/orders.csv), the printable ticket of one order
 * (GET /api/orders/{id}/ticket), and the Prometheus exposition (/metrics).
 *
 * The CSV follows RFC 4180: CRLF line ends, a field with a comma, quote, CR
 * or LF quoted and its quotes doubled. Its items column is readable text,
 * "2× Masala tea; 1× Samosa"; the JSON API has the items as data.
 *
 * The ticket is HTML for an 80 mm receipt roll, styled by
 * /assets/ticket.css, with a QR code of the customer's page drawn as one
 * SVG path. It is served under the pages' Content-Security-Policy, so it
 * carries no inline style or script: colours are SVG presentation
 * attributes.
 */
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/token.h"
#include "http/auth.h"
#include "http/http.h"
#include "util/num.h"
#include "http/metrics.h"
#include "store/reports.h"
#include "util/currency.h"
#include "util/log.h"

#define CSV_PAGE      500
#define CSV_MAX       (256u << 20)
#define TICKET_MAX    (1u << 20)
#define QR_QUIET_ZONE 4

/* The pages' policy (pages.c): the ticket is a page too. */

static enum handled internal(struct req *r, const char *what)
{
	struct tq_error err;

	tq_fail(&err, TQ_INTERNAL, "internal", "", "%s", what);
	reply_problem(r, &err);
	return HANDLED;
}

/* ---- GET /api/stats ---- */

static json_t *seconds_or_null(const struct day_stats *st, int64_t v)
{
	return st->prep_count > 0 ? json_integer(v) : json_null();
}

enum handled h_stats(struct req *r, struct tq_session *s)
{
	char date[BIZDATE_LEN];
	const char *queue;
	struct day_stats st;
	struct tq_error err;
	json_t *by_status, *hours;
	int i;

	if (query_date(r, date) != 0 || query_queue(r, &queue) != 0)
		return HANDLED;
	if (tq_day_stats(s, date, queue, &st, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	by_status = json_object();
	for (i = 0; i < ST_COUNT; i++)
		json_object_set_new(by_status, status_name((enum order_status)i),
		                    json_integer(st.by_status[i]));
	hours = json_array();
	for (i = 0; i < 24; i++)
		json_array_append_new(hours, json_integer(st.per_hour[i]));
	reply_json(r, 200,
	           json_pack("{s:s, s:o, s:I, s:o, s:I, s:{s:I, s:o, s:o, s:o}, s:o}",
	                     "business_date", date, "queue",
	                     queue ? json_string(queue) : json_null(), "orders",
	                     (json_int_t)st.orders, "by_status", by_status, "revenue",
	                     (json_int_t)st.revenue, "prep_seconds", "count",
	                     (json_int_t)st.prep_count, "p50", seconds_or_null(&st, st.prep_p50),
	                     "p90", seconds_or_null(&st, st.prep_p90), "max",
	                     seconds_or_null(&st, st.prep_max), "orders_per_hour", hours));
	return HANDLED;
}

/* ---- GET /api/orders.csv ---- */

static int csv_field(struct buf *b, const char *s, bool last)
{
	int rc = 0;

	if (s != NULL && strpbrk(s, ",\"\r\n") != NULL) {
		rc |= buf_adds(b, "\"");
		for (; *s; s++)
			rc |= *s == '"' ? buf_adds(b, "\"\"") : buf_add(b, s, 1);
		rc |= buf_adds(b, "\"");
	} else if (s != NULL) {
		rc |= buf_adds(b, s);
	}
	rc |= buf_adds(b, last ? "\r\n" : ",");
	return rc ? -1 : 0;
}

/* "2× Masala tea; 1× Samosa" from the stored items. */
static int items_text(const char *items_json, struct buf *out)
{
	json_t *items = json_loads(items_json, 0, NULL), *it;
	size_t i;
	int rc = 0;

	buf_reset(out);
	if (!json_is_array(items)) {
		json_decref(items);
		return -1;
	}
	json_array_foreach(items, i, it)
	{
		const char *name = json_string_value(json_object_get(it, "name"));
		rc |= buf_printf(out, "%s%lld\xc3\x97 %s", i ? "; " : "",
		                 (long long)json_integer_value(json_object_get(it, "quantity")),
		                 name ? name : "");
	}
	json_decref(items);
	return rc ? -1 : 0;
}

static int csv_order(struct buf *b, struct buf *items, const struct config *cfg,
                     const struct order *o)
{
	char id[24], token[TOKEN_MAX], total[24], created[32], updated[32];

	snprintf(id, sizeof(id), "%lld", (long long)o->id);
	token_format(token, o->queue, o->sequence, cfg->token_digits);
	snprintf(total, sizeof(total), "%lld", (long long)o->total);
	format_rfc3339(o->created_at, created);
	format_rfc3339(o->updated_at, updated);
	if (items_text(o->items_json, items) != 0)
		return -1;
	if (csv_field(b, id, false) || csv_field(b, token, false) ||
	    csv_field(b, o->queue, false) || csv_field(b, o->business_date, false) ||
	    csv_field(b, status_name(o->status), false) ||
	    csv_field(b, items->data ? items->data : "", false) || csv_field(b, total, false) ||
	    csv_field(b, o->note, false) || csv_field(b, created, false) ||
	    csv_field(b, updated, true))
		return -1;
	return 0;
}

enum handled h_orders_csv(struct req *r, struct tq_session *s)
{
	struct order_filter f;
	struct tq_error err;
	struct order *v = NULL;
	struct buf b, items;
	char disposition[96];
	size_t n = 0, i;
	int bad = 0;

	memset(&f, 0, sizeof(f));
	if (query_date(r, f.business_date) != 0 || query_queue(r, &f.queue) != 0)
		return HANDLED;
	buf_init(&b, CSV_MAX);
	buf_init(&items, 1 << 20);
	if (buf_adds(&b, "id,token,queue,business_date,status,items,total,note,created_at,"
	                 "updated_at\r\n") != 0)
		bad = 1;
	f.limit = CSV_PAGE;
	do {
		if (tq_order_list(s, &f, &v, &n, &err) != 0) {
			buf_release(&b);
			buf_release(&items);
			reply_problem(r, &err);
			return HANDLED;
		}
		for (i = 0; i < n; i++) {
			if (!bad && csv_order(&b, &items, r->venue->cfg, &v[i]) != 0)
				bad = 1;
			f.after_id = v[i].id;
			order_release(&v[i]);
		}
		free(v);
		v = NULL;
	} while (!bad && n == CSV_PAGE);
	buf_release(&items);
	if (bad) {
		buf_release(&b);
		return internal(r, "the CSV export is too large or an order could not be read");
	}
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"orders-%s%s%s.csv\"",
	         f.business_date, f.queue ? "-" : "", f.queue ? f.queue : "");
	n = b.len;
	reply(r, 200, "text/csv; charset=utf-8", buf_detach(&b, NULL), n);
	reply_header(r, "Content-Disposition", disposition);
	return HANDLED;
}

/* ---- GET /api/orders/{id}/ticket ---- */

static int html_text(struct buf *b, const char *s)
{
	int rc = 0;

	for (; *s && rc == 0; s++) {
		switch (*s) {
		case '&':
			rc = buf_adds(b, "&amp;");
			break;
		case '<':
			rc = buf_adds(b, "&lt;");
			break;
		case '>':
			rc = buf_adds(b, "&gt;");
			break;
		case '"':
			rc = buf_adds(b, "&quot;");
			break;
		case '\'':
			rc = buf_adds(b, "&#39;");
			break;
		default:
			rc = buf_add(b, s, 1);
		}
	}
	return rc;
}

/* A Host header that is safe to print into an address: letters, digits, . - : [ ]. */
static bool host_ok(const char *h)
{
	size_t n;

	if (h == NULL || (n = strlen(h)) == 0 || n > 255)
		return false;
	return strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:[]") ==
	       n;
}

/* The absolute address of the customer's page for token. */
static void customer_url(const struct req *r, const char *token, char *out, size_t size)
{
	const struct config *cfg = r->venue->cfg;

	if (cfg->public_url[0] != '\0')
		snprintf(out, size, "%s%s/t/%s", cfg->public_url, r->base, token);
	else if (host_ok(r->host))
		snprintf(out, size, "http://%s%s/t/%s", r->host, r->base, token);
	else
		snprintf(out, size, "http://127.0.0.1:%d%s/t/%s", cfg->listen_port, r->base, token);
}

/* The QR code of text as an SVG: one path of the dark modules, row runs joined. */
static int qr_svg(struct buf *b, const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int x, y, run, size, rc = 0;

	if (qr == NULL)
		return -1;
	size = qr->width + 2 * QR_QUIET_ZONE;
	rc |= buf_printf(b,
	                 "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d "
	                 "%d\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code: ",
	                 size, size);
	rc |= html_text(b, text);
	rc |= buf_printf(
	    b, "\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"", size,
	    size);
	for (y = 0; y < qr->width && rc == 0; y++) {
		for (x = 0; x < qr->width; x += run) {
			run = 0;
			while (x + run < qr->width && (qr->data[y * qr->width + x + run] & 1))
				run++;
			if (run > 0)
				rc |= buf_printf(b, "M%d %dh%dv1h-%dz", x + QR_QUIET_ZONE,
				                 y + QR_QUIET_ZONE, run, run);
			else
				run = 1;
		}
	}
	rc |= buf_adds(b, "\"/></svg>");
	QRcode_free(qr);
	return rc ? -1 : 0;
}

/* The order's items, their amounts in the minor units of currency. */
static int ticket_items(struct buf *b, const char *items_json, const char *currency)
{
	json_t *items = json_loads(items_json, 0, NULL), *it;
	size_t i;
	int rc = 0;

	if (!json_is_array(items)) {
		json_decref(items);
		return -1;
	}
	rc |= buf_adds(b, "<table class=\"ticket-items\"><thead><tr><th class=\"qty\">Qty</th>"
	                  "<th class=\"name\">Item</th><th class=\"amount\">Amount</th></tr>"
	                  "</thead><tbody>");
	json_array_foreach(items, i, it)
	{
		const char *name = json_string_value(json_object_get(it, "name"));
		json_int_t qty = json_integer_value(json_object_get(it, "quantity"));
		json_int_t price = json_integer_value(json_object_get(it, "unit_price"));
		char amount[48];

		currency_amount((int64_t)(qty * price), currency_minor_digits(currency), amount);
		rc |= buf_printf(
		    b, "<tr><td class=\"qty\">%lld\xc3\x97</td><td class=\"name\" dir=\"auto\">",
		    (long long)qty);
		rc |= html_text(b, name ? name : "");
		rc |= buf_printf(b, "</td><td class=\"amount\">%s</td></tr>", amount);
	}
	rc |= buf_adds(b, "</tbody></table>");
	json_decref(items);
	return rc ? -1 : 0;
}

static int ticket_html(struct buf *b, const struct req *r, const struct order *o)
{
	const struct config *cfg = r->venue->cfg;
	const struct queue_conf *q = config_queue(cfg, o->queue);
	char token[TOKEN_MAX], url[700], total[48], when[64];
	time_t secs = (time_t)tz_wall(r->venue->zone, o->created_at / 1000);
	struct tm tm;
	int rc = 0;

	token_format(token, o->queue, o->sequence, cfg->token_digits);
	customer_url(r, token, url, sizeof(url));
	currency_format(o->total, r->venue->row.currency, total);
	if (gmtime_r(&secs, &tm) == NULL || /* the venue's wall clock, counted as UTC */
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(when, sizeof(when), "%s", o->business_date);
	rc |= buf_adds(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	                  "<title>");
	rc |= html_text(b, token);
	rc |= buf_adds(b, "</title><link rel=\"stylesheet\" href=\"/assets/ticket.css\"></head>"
	                  "<body><main class=\"ticket\">");
	/* The venue's name above the token (its logo is on screens: thermal paper prints no
	 * colour). */
	rc |= buf_adds(b, "<p class=\"ticket-venue\" dir=\"auto\">");
	rc |= html_text(b, r->venue->row.name);
	rc |= buf_adds(b, "</p><h1 class=\"ticket-token\">");
	rc |= html_text(b, token);
	rc |= buf_adds(b, "</h1><p class=\"ticket-queue\" dir=\"auto\">");
	rc |= html_text(b, q ? q->name : o->queue);
	rc |= buf_adds(b, "</p>");
	rc |= ticket_items(b, o->items_json, r->venue->row.currency);
	if (o->note != NULL && o->note[0] != '\0') {
		rc |= buf_adds(b, "<p class=\"ticket-note\" dir=\"auto\">");
		rc |= html_text(b, o->note);
		rc |= buf_adds(b, "</p>");
	}
	rc |=
	    buf_printf(b, "<p class=\"ticket-total\"><span>Total</span><span>%s</span></p>", total);
	rc |= buf_adds(b, "<p class=\"ticket-time\"><time datetime=\"");
	{
		char iso[32];
		format_rfc3339(o->created_at, iso);
		rc |= buf_adds(b, iso);
	}
	rc |= buf_adds(b, "\">");
	rc |= html_text(b, when);
	rc |= buf_adds(b, "</time></p><div class=\"ticket-qr\">");
	rc |= qr_svg(b, url);
	rc |= buf_adds(b, "</div><p class=\"ticket-url\">");
	rc |= html_text(b, url);
	rc |= buf_adds(b, "</p></main></body></html>\n");
	return rc ? -1 : 0;
}

enum handled h_ticket(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	struct order o;
	struct buf b;
	int64_t id = 0;
	size_t len;

	if (r->nparams > 0)
		parse_i64(r->params[0], &id);
	if (tq_order_get(s, id, &o, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	buf_init(&b, TICKET_MAX);
	if (ticket_html(&b, r, &o) != 0) {
		order_release(&o);
		buf_release(&b);
		return internal(r, "the ticket could not be drawn");
	}
	order_release(&o);
	len = b.len;
	reply(r, 200, "text/html; charset=utf-8", buf_detach(&b, NULL), len);
	reply_header(r, "Content-Security-Policy", page_csp);
	reply_header(r, "Referrer-Policy", "no-referrer");
	reply_header(r, "X-Frame-Options", "DENY");
	return HANDLED;
}

/* ---- GET /metrics ---- */

enum handled h_metrics(struct req *r, struct tq_session *s)
{
	struct buf b;

	(void)s;
	buf_init(&b, 1 << 20);
	if (metrics_render(r->srv->metrics, &b) != 0) {
		buf_release(&b);
		return internal(r, "the metrics could not be rendered");
	}
	reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	return HANDLED;
}
