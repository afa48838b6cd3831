/*
 * The event hub (see events.h for the promise): what feeds the streams.
 *
 * One hub thread owns a database connection and, on PostgreSQL, a LISTEN
 * connection. It sleeps in poll() on a wake-up pipe (local commits), the
 * LISTEN socket (other servers' commits) and a short timeout (SQLite, where
 * another process may write the same file, and as a safety net). Each time
 * it wakes it reads the events after the last one it has, in id order,
 * renders each once into SSE text kept in a ring of recent events, and then
 * tops up every client: a client wants the events from its next_id on, and
 * gets them from the ring, or from the database when it is further behind
 * (a replay). A client's pending bytes are topped up only below a watermark,
 * so memory per client is bounded and a slow reader simply lags; a client
 * that has taken nothing for STALL_MS while data waits is dropped (it
 * reconnects with Last-Event-ID and replays).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/metrics.h"
#include "http/stream.h"
#include "http/webhooks.h"
#include "util/log.h"
#include "util/num.h"

static void kick(struct hub *h)
{
	char c = 1;

	if (h->started && write(h->wake[1], &c, 1) < 0 && errno != EAGAIN)
		log_warn("msg=\"cannot wake the event hub\" errno=%d", errno);
}

/* Notes that venue (0: every venue) has commits to read; the caller holds h->lock. */
static void tell(struct hub *h, int venue)
{
	int i;

	if (venue <= 0 || h->ntold == DIRTY_MAX) {
		h->told_all = true;
		return;
	}
	for (i = 0; i < h->ntold; i++)
		if (h->told[i] == venue)
			return;
	h->told[h->ntold++] = venue;
}

void hub_kick(struct hub *h, int venue)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	tell(h, venue);
	pthread_mutex_unlock(&h->lock);
	kick(h);
}

static char *render(struct hub *h, const struct event *e, size_t *len)
{
	struct venue *v = tq_venue_by_id(h->srv->tq, e->venue_id);
	json_t *j = event_json(v != NULL ? v->cfg : h->srv->cfg, e);
	char *data = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	struct buf b;

	json_decref(j);
	if (data == NULL)
		return NULL;
	buf_init(&b, 1 << 16);
	if (buf_printf(&b, "id: %" PRId64 "\nevent: %s\ndata: %s\n\n", e->id,
	               e->kind == EV_RECALL ? "recall" : "token", data) != 0) {
		buf_release(&b);
		free(data);
		return NULL;
	}
	free(data);
	return buf_detach(&b, len);
}

/* The oldest position the ring of hv still holds. */
static uint64_t ring_tail(const struct hub_venue *hv)
{
	return hv->head > RING ? hv->head - RING : 0;
}

static void ring_put(struct hub_venue *hv, int64_t id, char *text, size_t len)
{
	struct rendered *r = &hv->ring[hv->head % RING];

	if (hv->head >= RING)
		hv->floor_id = r->id; /* the entry it replaces leaves the ring */
	free(r->text);
	r->id = id;
	r->text = text;
	r->len = len;
	hv->head++;
}

/*
 * The ring's entry for the first event after s->after_id, or NULL when the
 * ring does not hold it (the client is further behind: replay from the
 * database). Tries the client's remembered position first.
 */
static struct rendered *ring_next(struct hub_venue *hv, struct stream *s)
{
	uint64_t lo = ring_tail(hv), hi = hv->head, p = s->next_pos;

	if (s->after_id < hv->floor_id || lo == hi)
		return NULL;
	if (p < lo || p >= hi || hv->ring[p % RING].id <= s->after_id ||
	    (p > lo && hv->ring[(p - 1) % RING].id > s->after_id)) {
		while (lo < hi) { /* ids grow with position */
			uint64_t mid = lo + (hi - lo) / 2;
			if (hv->ring[mid % RING].id <= s->after_id)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == hv->head)
			return NULL;
		p = lo;
	}
	s->next_pos = p + 1;
	return &hv->ring[p % RING];
}

static struct hub_venue *hub_venue_find(struct hub *h, int id)
{
	struct hub_venue *hv;

	for (hv = h->venues; hv != NULL; hv = hv->next)
		if (hv->id == id)
			return hv;
	return NULL;
}

/* The hub's state of a venue, made (from its latest event) when its first client joins. */
static struct hub_venue *hub_venue_get(struct hub *h, int id)
{
	struct hub_venue *hv = hub_venue_find(h, id);
	struct tq_error err;

	if (hv != NULL)
		return hv;
	if (h->conn == NULL && store_connect_as(h->srv->store, "hub", &h->conn, &err) != 0)
		return NULL;
	hv = calloc(1, sizeof(*hv));
	if (hv == NULL || (hv->ring = calloc(RING, sizeof(*hv->ring))) == NULL ||
	    store_last_event_id(h->conn, id, &hv->last_id, &err) != 0) {
		if (hv != NULL)
			free(hv->ring);
		free(hv);
		return NULL;
	}
	hv->id = id;
	hv->floor_id = hv->last_id;
	hv->next = h->venues;
	h->venues = hv;
	return hv;
}

static void hub_venue_free(struct hub_venue *hv)
{
	int i;

	for (i = 0; i < RING; i++)
		free(hv->ring[i].text);
	free(hv->ring);
	free(hv);
}

/* Reads the events of hv committed since the hub's last one into its ring. */
static int fetch_new(struct hub *h, struct hub_venue *hv)
{
	struct tq_error err;
	struct event *ev;
	size_t n, i;

	for (;;) {
		if (h->conn == NULL && store_connect_as(h->srv->store, "hub", &h->conn, &err) != 0)
			return -1;
		if (store_events_after(h->conn, hv->id, hv->last_id, FETCH, &ev, &n, &err) != 0) {
			if (err.status != TQ_UNAVAILABLE)
				log_warn(
				    "msg=\"event hub cannot read events\" venue=%d error=\"%s\"",
				    hv->id, err.detail);
			return -1;
		}
		for (i = 0; i < n; i++) {
			size_t len = 0;
			char *text = render(h, &ev[i], &len);
			ring_put(hv, ev[i].id, text, len);
			hv->last_id = ev[i].id;
		}
		free(ev);
		if (n > 0)
			webhooks_kick(h->srv);
		if (n < FETCH)
			return 0;
	}
}

/* Reads what was told (or, with all, every venue with clients). */
static void fetch_told(struct hub *h, bool all)
{
	struct hub_venue *hv;
	int told[DIRTY_MAX], n, i;

	pthread_mutex_lock(&h->lock);
	all = all || h->told_all;
	n = h->ntold;
	memcpy(told, h->told, sizeof(told));
	h->ntold = 0;
	h->told_all = false;
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < n; i++)
		if ((hv = hub_venue_find(h, told[i])) != NULL)
			hv->dirty = true;
	for (hv = h->venues; hv != NULL; hv = hv->next) {
		if (all || hv->dirty)
			hv->dirty = fetch_new(h, hv) != 0; /* a failed read is tried again */
	}
}

/* Appends what client s is missing, up to the watermark; the caller holds s->lock. */
static void top_up(struct hub *h, struct hub_venue *hv, struct stream *s)
{
	struct tq_error err;

	while (s->after_id < hv->last_id && s->len - s->off < WATERMARK) {
		struct rendered *r = ring_next(hv, s);
		struct event *ev;
		size_t n, i;

		if (r != NULL) {
			if (r->text != NULL && stream_add(s, r->text, r->len) != 0)
				return;
			s->after_id = r->id;
			continue;
		}
		/* Further behind than the ring: replay from the database. */
		if (store_events_after(h->conn, hv->id, s->after_id, 100, &ev, &n, &err) != 0 ||
		    n == 0) {
			if (n == 0 && err.status == TQ_OK)
				s->after_id = hv->last_id; /* nothing retained before: skip */
			if (n == 0)
				free(ev);
			return;
		}
		for (i = 0; i < n && ev[i].id <= hv->last_id; i++) {
			size_t len;
			char *text = render(h, &ev[i], &len);
			if (text != NULL)
				stream_add(s, text, len);
			free(text);
			s->after_id = ev[i].id;
		}
		free(ev);
	}
}

/* The slug of the venue a client follows, as /metrics labels it. */
static const char *stream_venue(struct hub *h, const struct stream *s)
{
	struct venue *v = tq_venue_by_id(h->srv->tq, s->venue);

	return v != NULL ? v->slug : "-";
}

/* Serves every client; drops stalled ones and forgets those that are gone. */
static void serve_clients(struct hub *h)
{
	struct stream **pp, *s, *gone = NULL;
	int64_t now = mono_ms();

	pthread_mutex_lock(&h->lock);
	while ((s = h->joining) != NULL) {
		h->joining = s->next;
		s->next = h->clients;
		h->clients = s;
		h->nclients++;
		metrics_stream_clients(h->srv->metrics, stream_venue(h, s), 1);
	}
	for (pp = &h->clients; (s = *pp) != NULL;) {
		struct hub_venue *hv = hub_venue_get(h, s->venue);
		pthread_mutex_lock(&s->lock);
		if (s->gone) {
			*pp = s->next;
			s->next = gone;
			gone = s;
			pthread_mutex_unlock(&s->lock);
			h->nclients--;
			metrics_stream_clients(h->srv->metrics, stream_venue(h, s), -1);
			continue;
		}
		if (!s->closed) {
			if (s->len > s->off && now - s->last_progress > h->stall_ms) {
				/* Stalled: end it; the client reconnects and replays. */
				s->closed = true;
				if (s->fd >= 0)
					shutdown(s->fd, SHUT_RDWR);
			} else if (hv != NULL) {
				top_up(h, hv, s);
				if (s->len == s->off && now - s->last_append >= HEARTBEAT_MS)
					stream_add(s, ": ping\n\n", 8);
			}
		}
		if (s->len > s->off || s->closed)
			stream_wake(s);
		pthread_mutex_unlock(&s->lock);
		pp = &s->next;
	}
	pthread_mutex_unlock(&h->lock);
	while ((s = gone) != NULL) {
		gone = s->next;
		stream_unref(s);
	}
}

/* Told by the LISTEN connection: another server committed events of venue, or changed settings. */
static void heard(void *ctx, enum store_heard what, int venue)
{
	struct hub *h = ctx;
	struct tq_error err;

	if (what == STORE_HEARD_SETTINGS) {
		/* Stale at once: a request arriving before the reload below reloads itself. */
		venues_invalidate(&h->srv->tq->venues);
		if (venues_reload(&h->srv->tq->venues, &err) != 0)
			log_warn("msg=\"cannot reload the venues' settings\" error=\"%s\"",
			         err.detail);
		return;
	}
	pthread_mutex_lock(&h->lock);
	tell(h, venue);
	pthread_mutex_unlock(&h->lock);
}

/* Connects the LISTEN connection when there is none; true when it just did. */
static bool listener_check(struct hub *h)
{
	struct tq_error err;

	if (!h->listens || h->listener != NULL || mono_ms() < h->listener_retry_at)
		return false;
	if (store_listen(h->srv->store, &h->listener, &err) != 0) {
		h->listener = NULL;
		h->listener_retry_at = mono_ms() + 500;
		return false;
	}
	log_info("msg=\"listening for other servers' events\"");
	/* A change of settings may have gone unheard while it was away. */
	heard(h, STORE_HEARD_SETTINGS, 0);
	return true;
}

static void *hub_main(void *arg)
{
	struct hub *h = arg;

	for (;;) {
		struct pollfd p[2];
		int np = 1, timeout = h->listens ? SAFETY_MS : POLL_MS, ready;
		char drain[256];

		pthread_mutex_lock(&h->lock);
		if (h->stopping) {
			pthread_mutex_unlock(&h->lock);
			break;
		}
		pthread_mutex_unlock(&h->lock);
		/* Just (re)connected: look at once for what was committed meanwhile. */
		if (listener_check(h))
			timeout = 0;
		p[0].fd = h->wake[0];
		p[0].events = POLLIN;
		if (h->listener != NULL) {
			p[1].fd = store_listener_fd(h->listener);
			p[1].events = POLLIN;
			np = 2;
		} else if (h->listens && timeout > 0) {
			timeout = 250; /* retry the listener soon; poll meanwhile */
		}
		if (timeout > HEARTBEAT_MS / 2)
			timeout = HEARTBEAT_MS / 2;
		ready = poll(p, (nfds_t)np, timeout);
		while (read(h->wake[0], drain, sizeof(drain)) > 0)
			;
		if (np == 2 && store_listener_drain(h->listener, heard, h) < 0) {
			/* Lost: listen again, and the fetch below re-syncs whatever was missed. */
			log_warn("msg=\"lost the LISTEN connection; reconnecting\"");
			store_listener_close(h->listener);
			h->listener = NULL;
			ready = 0;
		}
		/* Without word (a timeout, a lost listener), look at every venue followed. */
		fetch_told(h, ready <= 0 || h->listener == NULL);
		serve_clients(h);
	}
	return NULL;
}

int hub_start(struct server *srv, struct tq_error *err)
{
	struct hub *h = calloc(1, sizeof(*h));
	int i;

	if (h == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	h->srv = srv;
	h->listens = store_has(srv->store, STORE_LISTEN);
	h->wake[0] = h->wake[1] = -1;
	h->stall_ms = STALL_MS;
	if (getenv("TOKENQ_STREAM_STALL_MS") != NULL &&
	    parse_i64(getenv("TOKENQ_STREAM_STALL_MS"), &h->stall_ms) != 0)
		h->stall_ms = STALL_MS;
	pthread_mutex_init(&h->lock, NULL);
	if (pipe(h->wake) != 0) {
		tq_fail(err, TQ_INTERNAL, "internal", "", "cannot make the hub's pipe");
		goto fail;
	}
	for (i = 0; i < 2; i++)
		fcntl(h->wake[i], F_SETFL, fcntl(h->wake[i], F_GETFL) | O_NONBLOCK);
	if (store_connect_as(srv->store, "hub", &h->conn, err) != 0)
		goto fail;
	if (pthread_create(&h->thread, NULL, hub_main, h) != 0) {
		tq_fail(err, TQ_INTERNAL, "internal", "", "cannot start the event hub");
		goto fail;
	}
	h->started = true;
	srv->hub = h;
	return 0;
fail:
	store_disconnect(h->conn);
	for (i = 0; i < 2; i++)
		if (h->wake[i] >= 0)
			close(h->wake[i]);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return -1;
}

void events_shutdown(struct server *srv)
{
	struct hub *h = srv->hub;
	struct stream *s;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	for (s = h->clients; s != NULL; s = s->next) {
		pthread_mutex_lock(&s->lock);
		s->closed = true;
		stream_wake(s);
		pthread_mutex_unlock(&s->lock);
	}
	for (s = h->joining; s != NULL; s = s->next) {
		pthread_mutex_lock(&s->lock);
		s->closed = true;
		stream_wake(s);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&h->lock);
}

void hub_stop(struct server *srv)
{
	struct hub *h = srv->hub;
	struct stream *s;
	struct hub_venue *hv;

	if (h == NULL || !h->started)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = true;
	pthread_mutex_unlock(&h->lock);
	kick(h);
	pthread_join(h->thread, NULL);
	h->started = false;
	while ((s = h->clients) != NULL) {
		h->clients = s->next;
		stream_unref(s);
	}
	while ((s = h->joining) != NULL) {
		h->joining = s->next;
		stream_unref(s);
	}
	while ((hv = h->venues) != NULL) {
		h->venues = hv->next;
		hub_venue_free(hv);
	}
	store_listener_close(h->listener);
	store_disconnect(h->conn);
	close(h->wake[0]);
	close(h->wake[1]);
	pthread_mutex_destroy(&h->lock);
	free(h);
	srv->hub = NULL;
}
