/* Placeholder until the event stream lands. */
#include "http/events.h"

struct hub {
	int unused;
};

int hub_start(struct server *srv, struct tq_error *err)
{
	(void)srv;
	(void)err;
	return 0;
}

void hub_stop(struct server *srv)
{
	(void)srv;
}

void hub_kick(struct hub *h)
{
	(void)h;
}

enum handled h_events(struct req *r, struct store_conn *c)
{
	struct tq_error err;

	(void)c;
	tq_fail(&err, TQ_NOT_FOUND, "not_found", "", "not yet");
	reply_problem(r, &err);
	return HANDLED;
}

int events_queue(struct req *r)
{
	(void)r;
	return 0;
}

void events_release(struct req *r)
{
	(void)r;
}

void events_shutdown(struct server *srv)
{
	(void)srv;
}
