/* Placeholder until the reports land. */
#include "http/auth.h"
#include "http/http.h"
#include "http/metrics.h"

static enum handled later(struct req *r, struct store_conn *c)
{
	struct tq_error err;

	if (authorize(r, c) != 0)
		return HANDLED;
	tq_fail(&err, TQ_NOT_FOUND, "not_found", "", "not yet");
	reply_problem(r, &err);
	return HANDLED;
}

enum handled h_ticket(struct req *r, struct store_conn *c)
{
	return later(r, c);
}

enum handled h_orders_csv(struct req *r, struct store_conn *c)
{
	return later(r, c);
}

enum handled h_stats(struct req *r, struct store_conn *c)
{
	return later(r, c);
}

enum handled h_metrics(struct req *r, struct store_conn *c)
{
	struct buf b;

	if (authorize(r, c) != 0)
		return HANDLED;
	buf_init(&b, 1 << 20);
	if (metrics_render(r->srv->metrics, &b) != 0) {
		buf_release(&b);
		return later(r, c);
	}
	reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	return HANDLED;
}
