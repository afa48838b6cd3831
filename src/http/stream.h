/*
 * Inside the event stream (events.c, the clients) and its hub (hub.c, what
 * feeds them): the client's buffer and the hub's state. For those two files
 * only; the rest of the server sees events.h.
 */
#ifndef TOKENQ_HTTP_STREAM_H
#define TOKENQ_HTTP_STREAM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/events.h"

#define RING         4096        /* recent events kept rendered */
#define WATERMARK    (64 * 1024) /* top a client up to this many pending bytes */
#define STALL_MS     20000       /* drop a client that took nothing for this long */
#define HEARTBEAT_MS 10000       /* a comment when nothing else was sent */
#define POLL_MS      200         /* SQLite: how often to look for other writers */
#define SAFETY_MS    2000        /* PostgreSQL: look even without NOTIFY */
#define FETCH        500

struct stream {
	pthread_mutex_t lock;
	struct MHD_Connection *conn;
	int fd;
	char *buf;
	size_t off, len, cap;
	int64_t next_id; /* the next event id this client needs */
	bool suspended, closed, gone;
	int64_t last_progress, last_append;
	int refs;
	struct stream *next;
};

struct rendered {
	int64_t id;
	char *text;
	size_t len;
};

struct hub {
	struct server *srv;
	pthread_t thread;
	pthread_mutex_t lock; /* guards clients, joining, stopping */
	struct stream *clients, *joining;
	int wake[2];
	bool stopping, started;
	int64_t last_id;
	struct rendered ring[RING];
	struct store_conn *conn;
	struct store_listener *listener;
	int64_t listener_retry_at;
	int nclients;
	int64_t stall_ms;
	bool listens; /* the store hears other servers (STORE_LISTEN) */
};

/* Drops a reference to s; the last one frees it. */
void stream_unref(struct stream *s);
/* Appends to a client's pending bytes; the caller holds s->lock. 0 or -1. */
int stream_add(struct stream *s, const char *text, size_t n);
/* Resumes a client's suspended connection; the caller holds s->lock. */
void stream_wake(struct stream *s);

#endif
