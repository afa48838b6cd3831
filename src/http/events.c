/*
 * The event stream, GET /api/events (see events.h for the promise): a
 * client's bounded buffer, the SSE content reader libmicrohttpd pulls
 * from, and the route that opens a stream and hands it to the hub
 * (hub.c), which fills it.
 *
 * Connections are held without a thread each: when a client has nothing to
 * send, libmicrohttpd's content reader suspends the connection, and the hub
 * resumes it when it appends bytes.
 */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http/stream.h"
#include "util/log.h"
#include "util/num.h"

void stream_unref(struct stream *s)
{
	int refs;

	pthread_mutex_lock(&s->lock);
	refs = --s->refs;
	pthread_mutex_unlock(&s->lock);
	if (refs == 0) {
		pthread_mutex_destroy(&s->lock);
		free(s->buf);
		free(s);
	}
}

int stream_add(struct stream *s, const char *text, size_t n)
{
	if (s->off > 0 && s->off == s->len)
		s->off = s->len = 0;
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *p;
		if (s->off > 0) {
			memmove(s->buf, s->buf + s->off, s->len - s->off);
			s->len -= s->off;
			s->off = 0;
		}
		while (cap < s->len + n)
			cap *= 2;
		if (cap != s->cap) {
			p = realloc(s->buf, cap);
			if (p == NULL)
				return -1;
			s->buf = p;
			s->cap = cap;
		}
	}
	memcpy(s->buf + s->len, text, n);
	s->len += n;
	s->last_append = mono_ms();
	return 0;
}

void stream_wake(struct stream *s)
{
	if (s->suspended && !s->gone) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

static ssize_t sse_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *s = cls;
	size_t n;

	(void)pos;
	pthread_mutex_lock(&s->lock);
	n = s->len - s->off;
	if (n > 0) {
		if (n > max)
			n = max;
		memcpy(out, s->buf + s->off, n);
		s->off += n;
		s->last_progress = mono_ms();
		pthread_mutex_unlock(&s->lock);
		return (ssize_t)n;
	}
	if (s->closed) {
		pthread_mutex_unlock(&s->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	/* Nothing to send: hold the connection without a thread until the hub has more. */
	s->suspended = true;
	MHD_suspend_connection(s->conn);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void sse_free(void *cls)
{
	struct stream *s = cls;

	pthread_mutex_lock(&s->lock);
	s->gone = true;
	s->closed = true;
	s->conn = NULL;
	pthread_mutex_unlock(&s->lock);
	stream_unref(s);
}

/* ---- the route ---- */

static int parse_id(const char *s, int64_t *id)
{
	return s == NULL || parse_i64(s, id) != 0 || *id < 0 ? -1 : 0;
}

enum handled h_events(struct req *r, struct tq_session *sess)
{
	const char *from = r->last_event_id ? r->last_event_id : req_query(r, "last_event_id");
	struct stream *s;
	struct tq_error err;
	int64_t id = -1;

	if (from != NULL && parse_id(from, &id) != 0) {
		tq_fail(&err, TQ_INVALID, "invalid_field", "last_event_id",
		        "Last-Event-ID (or last_event_id) must be a whole number, 0 or more");
		reply_problem(r, &err);
		return HANDLED;
	}
	/* Live: from the last committed event on, whatever the hub has read so far. */
	if (id < 0 && tq_last_event_id(sess, &id, &err) != 0) {
		reply_problem(r, &err);
		return HANDLED;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		tq_fail(&err, TQ_INTERNAL, "internal", "", "out of memory");
		reply_problem(r, &err);
		return HANDLED;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->refs = 1; /* the request's until the response takes it */
	s->venue = sess->venue->id;
	s->after_id = id;
	s->last_progress = s->last_append = mono_ms();
	{
		static const char hello[] = "retry: 2000\n: tokenq event stream\n\n";
		stream_add(s, hello, sizeof(hello) - 1);
	}
	r->stream = s;
	r->status = 200;
	return HANDLED;
}

int events_queue(struct req *r)
{
	struct stream *s = r->stream;
	struct hub *h = r->srv->hub;
	const union MHD_ConnectionInfo *ci;
	struct MHD_Response *resp;
	int ret, sndbuf = 64 * 1024;

	resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_reader, s, sse_free);
	if (resp == NULL)
		return MHD_NO;
	r->stream = NULL; /* the response owns the request's reference now */
	s->conn = r->conn;
	ci = MHD_get_connection_info(s->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	s->fd = ci ? ci->connect_fd : -1;
	if (s->fd >= 0) /* a small send buffer makes a stalled reader visible soon */
		setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(s->conn, 200, resp);
	MHD_destroy_response(resp);
	if (ret != MHD_YES)
		return ret;
	pthread_mutex_lock(&s->lock);
	s->refs++; /* the hub's */
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&h->lock);
	s->next = h->joining;
	h->joining = s;
	pthread_mutex_unlock(&h->lock);
	hub_kick(h, s->venue);
	return ret;
}

void events_release(struct req *r)
{
	/* A stream never handed to a response is still the request's. */
	if (r->stream != NULL) {
		stream_unref(r->stream);
		r->stream = NULL;
	}
}
