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

#define RING         4096        /* recent events of a venue kept rendered */
#define DIRTY_MAX    64          /* venues told of between two rounds of the hub */
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
	int venue;         /* the venue whose events it follows */
	int64_t after_id;  /* the id of the last event it has (or started after) */
	uint64_t next_pos; /* where in its venue's ring the next one likely is */
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

/*
 * What the hub has of one venue's events (made when its first client
 * joins): the latest id read, and a ring of the latest RING rendered, by
 * position (head counts every event appended). Every event of the venue
 * with an id above floor_id is in the ring.
 */
struct hub_venue {
	int id;
	int64_t last_id;
	int64_t floor_id;
	uint64_t head;
	struct rendered *ring;
	bool dirty;
	struct hub_venue *next;
};

struct hub {
	struct server *srv;
	pthread_t thread;
	pthread_mutex_t lock; /* guards clients, joining, stopping and the told venues */
	struct stream *clients, *joining;
	int wake[2];
	bool stopping, started;
	struct hub_venue *venues; /* the hub thread's own */
	int told[DIRTY_MAX];      /* venues with commits to read, told by other threads */
	int ntold;
	bool told_all;
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
