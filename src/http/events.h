/*
 * The event stream, GET /api/events (Server-Sent Events), and the hub that
 * feeds it.
 *
 * The database is the only source of events: the hub keeps the id of the
 * last event it delivered and, whenever it is woken (a local commit, a
 * PostgreSQL NOTIFY from another server, or a poll on SQLite), reads the
 * events after that id in id order and appends them to every client's
 * bounded buffer. Because ids follow commit order (see src/store/events.c), reading
 * "after id N" never skips an event. A client that connects with
 * Last-Event-ID first gets its replay from the database, then joins the
 * live feed at the hub's position, with no gap and no duplicate at the seam.
 */
#ifndef TOKENQ_EVENTS_H
#define TOKENQ_EVENTS_H

#include "http/http.h"

struct hub;

int hub_start(struct server *srv, struct tq_error *err);
void hub_stop(struct server *srv);
/* Wakes the hub: events of venue were committed here. Cheap; callable from any thread. */
void hub_kick(struct hub *h, int venue);

enum handled h_events(struct req *r, struct tq_session *s);

/* For server.c: queue the stream response, free a request's stream, end all streams. */
int events_queue(struct req *r);
void events_release(struct req *r);
void events_shutdown(struct server *srv);

#endif
