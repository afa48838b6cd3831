/*
 * The dispatcher thread: a loop around curl_multi_poll that claims work
 * when kicked or every poll interval, starts one easy handle per claimed
 * delivery, and records each one as it completes. Nothing here blocks but
 * curl_multi_poll and the source's own calls, and curl_multi_wakeup ends
 * the poll at once for a kick or a stop.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "hooks/addr.h"
#include "hooks/dispatch.h"
#include "hooks/sign.h"
#include "util/log.h"

#define RESPONSE_KEEP 256

struct xfer {
	struct hook_dispatcher *owner;
	struct hook_delivery d;
	CURL *easy;
	struct curl_slist *headers;
	int64_t started_ms, started_mono, first_try_ms;
	size_t got; /* response bytes received */
	int capped; /* the body passed max_response and the transfer was cut */
	char refused[256];
	char errbuf[CURL_ERROR_SIZE];
	char response[RESPONSE_KEEP + 1];
	size_t kept;
};

struct hook_dispatcher {
	struct hook_source src;
	struct hook_dispatcher_config cfg;
	CURLM *multi;
	struct curl_slist *resolve;
	pthread_t thread;
	atomic_int stop;
	atomic_int kicked;
	struct xfer **inflight; /* cfg.max_inflight slots */
	int ninflight;
};

void hook_delivery_release(struct hook_delivery *d)
{
	if (d == NULL)
		return;
	free(d->url);
	free(d->secret);
	free(d->msg_id);
	free(d->body);
	memset(d, 0, sizeof(*d));
}

static uint64_t random64(void)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)mono_ms() * 0x9e3779b97f4a7c15u;
	return r;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb;
	size_t keep;

	if (x->got + n > x->owner->cfg.max_response) {
		x->capped = 1;
		return CURL_WRITEFUNC_ERROR;
	}
	x->got += n;
	keep = RESPONSE_KEEP - x->kept < n ? RESPONSE_KEEP - x->kept : n;
	memcpy(x->response + x->kept, data, keep);
	x->kept += keep;
	x->response[x->kept] = '\0';
	return n;
}

/* The guard on each address curl is about to connect to, after its own DNS. */
static curl_socket_t on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = clientp;

	if (purpose != CURLSOCKTYPE_IPCXN) {
		snprintf(x->refused, sizeof(x->refused), "refused: not an IP connection");
		return CURL_SOCKET_BAD;
	}
	if (hook_addr_check(&a->addr, x->d.allow_private, x->refused, sizeof(x->refused)) != 0)
		return CURL_SOCKET_BAD;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	hook_delivery_release(&x->d);
	free(x);
}

/* Adds "name: value", or "name:" (which removes a header curl would add) for NULL. */
static int add_header(struct xfer *x, const char *name, const char *value)
{
	char line[512];
	struct curl_slist *l;

	if (value != NULL)
		snprintf(line, sizeof(line), "%s: %s", name, value);
	else
		snprintf(line, sizeof(line), "%s:", name);
	l = curl_slist_append(x->headers, line);
	if (l == NULL)
		return -1;
	x->headers = l;
	return 0;
}

/* Builds the signed request for d (taken over); NULL with d released on failure. */
static struct xfer *xfer_new(struct hook_dispatcher *h, struct hook_delivery *d)
{
	const struct hook_dispatcher_config *c = &h->cfg;
	struct xfer *x = calloc(1, sizeof(*x));
	char sig[HOOK_SIGNATURE_SIZE], ts[24];
	CURL *e;

	if (x == NULL) {
		hook_delivery_release(d);
		return NULL;
	}
	x->owner = h;
	x->d = *d;
	memset(d, 0, sizeof(*d));
	x->started_ms = now_ms();
	x->started_mono = mono_ms();
	x->first_try_ms = x->d.first_try_ms > 0 ? x->d.first_try_ms : x->started_ms;
	snprintf(ts, sizeof(ts), "%" PRId64, x->started_ms / 1000);
	if (hook_sign(x->d.secret, x->d.msg_id, x->started_ms / 1000, x->d.body, x->d.body_len,
	              sig) != 0) {
		snprintf(x->refused, sizeof(x->refused), "the endpoint's secret is not valid");
		return x; /* recorded as a failed attempt without a transfer */
	}
	if (add_header(x, "Content-Type", "application/json") != 0 ||
	    add_header(x, "Expect", NULL) != 0 || add_header(x, "webhook-id", x->d.msg_id) != 0 ||
	    add_header(x, "webhook-timestamp", ts) != 0 ||
	    add_header(x, "webhook-signature", sig) != 0)
		goto fail;
	e = x->easy = curl_easy_init();
	if (e == NULL)
		goto fail;
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_URL, x->d.url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->d.body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->d.body_len);
	/* The multi handle pools connections: one opened for an endpoint that may reach
	 * private addresses must never serve one that may not, which would skip the guard. */
	if (x->d.allow_private) {
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	}
	if (h->resolve != NULL)
		curl_easy_setopt(e, CURLOPT_RESOLVE, h->resolve);
	return x;
fail:
	snprintf(x->refused, sizeof(x->refused), "out of memory preparing the request");
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	return x;
}

/* Records how x's attempt went (res is curl's code, ignored without a transfer). */
static void finish(struct hook_dispatcher *h, struct xfer *x, CURLcode res)
{
	struct hook_attempt a;
	char error[512];
	long status = 0;

	memset(&a, 0, sizeof(a));
	error[0] = '\0';
	if (x->easy != NULL)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	a.attempt = x->d.attempts + 1;
	a.started_ms = x->started_ms;
	a.first_try_ms = x->first_try_ms;
	a.duration_ms = mono_ms() - x->started_mono;
	a.status = (int)status;
	a.response = x->response;
	if (x->easy != NULL && (res == CURLE_OK || (res == CURLE_WRITE_ERROR && x->capped)) &&
	    status >= 200 && status < 300) {
		a.outcome = HOOK_DELIVERED;
	} else {
		if (x->refused[0] != '\0')
			snprintf(error, sizeof(error), "%s", x->refused);
		else if (x->easy == NULL)
			snprintf(error, sizeof(error), "the request could not be made");
		else if (res == CURLE_OPERATION_TIMEDOUT)
			snprintf(error, sizeof(error), "no answer within %ld ms: %s",
			         status != 0 ? h->cfg.timeout_ms : h->cfg.connect_timeout_ms,
			         x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(res));
		else if (res != CURLE_OK && !(res == CURLE_WRITE_ERROR && x->capped))
			snprintf(error, sizeof(error), "%s",
			         x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(res));
		else
			snprintf(error, sizeof(error), "the endpoint answered %ld", status);
		a.error = error;
		a.outcome = hook_backoff_next(&h->cfg.backoff, a.attempt, a.first_try_ms, now_ms(),
		                              random64(), &a.next_ms) == 0
		                ? HOOK_RETRY
		                : HOOK_FAILED;
	}
	h->src.record(h->src.ctx, &x->d, &a);
}

static void give_back(struct hook_dispatcher *h, struct hook_delivery *d)
{
	if (h->src.release != NULL)
		h->src.release(h->src.ctx, d);
}

static int endpoint_busy(const struct hook_dispatcher *h, int64_t endpoint)
{
	int i;

	for (i = 0; i < h->ninflight; i++)
		if (h->inflight[i]->d.endpoint_id == endpoint)
			return 1;
	return 0;
}

static void drop_slot(struct hook_dispatcher *h, struct xfer *x)
{
	int i;

	for (i = 0; i < h->ninflight; i++)
		if (h->inflight[i] == x) {
			h->inflight[i] = h->inflight[--h->ninflight];
			return;
		}
}

/* Claims and starts what the source has; returns how many deliveries it claimed. */
static int claim(struct hook_dispatcher *h, struct hook_delivery *batch)
{
	int room = h->cfg.max_inflight - h->ninflight;
	int n, i;

	if (room <= 0)
		return 0;
	memset(batch, 0, sizeof(*batch) * (size_t)room);
	n = h->src.claim(h->src.ctx, batch, room, now_ms());
	if (n < 0)
		return 0;
	if (n > room)
		n = room;
	for (i = 0; i < n; i++) {
		struct xfer *x;

		/* Head of line: a second delivery of a busy endpoint waits its turn. */
		if (endpoint_busy(h, batch[i].endpoint_id)) {
			give_back(h, &batch[i]);
			hook_delivery_release(&batch[i]);
			continue;
		}
		x = xfer_new(h, &batch[i]);
		if (x == NULL)
			continue;
		if (x->easy == NULL || curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
			finish(h, x, CURLE_FAILED_INIT);
			xfer_free(x);
			continue;
		}
		h->inflight[h->ninflight++] = x;
	}
	return n;
}

static void reap(struct hook_dispatcher *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(h->multi, m->easy_handle);
		drop_slot(h, x);
		finish(h, x, m->data.result);
		xfer_free(x);
	}
}

static void *run(void *arg)
{
	struct hook_dispatcher *h = arg;
	struct hook_delivery *batch = calloc((size_t)h->cfg.max_inflight, sizeof(*batch));
	int64_t next_claim = 0;
	int running = 0, i;

	if (batch == NULL) {
		log_error("msg=\"webhook dispatcher stopped: out of memory\"");
		return NULL;
	}
	while (!atomic_load(&h->stop)) {
		int64_t now = mono_ms(), wait;

		if (atomic_exchange(&h->kicked, 0) || now >= next_claim) {
			int room = h->cfg.max_inflight - h->ninflight;
			int n = claim(h, batch);

			/* A full batch may mean more is waiting: ask again straight away. */
			next_claim = n > 0 && n == room ? now : now + h->cfg.poll_ms;
		}
		curl_multi_perform(h->multi, &running);
		reap(h);
		wait = next_claim - mono_ms();
		if (wait > 0 && !atomic_load(&h->stop))
			curl_multi_poll(h->multi, NULL, 0, wait > 1000 ? 1000 : (int)wait, NULL);
	}
	for (i = 0; i < h->ninflight; i++) {
		struct xfer *x = h->inflight[i];

		curl_multi_remove_handle(h->multi, x->easy);
		give_back(h, &x->d);
		xfer_free(x);
	}
	h->ninflight = 0;
	free(batch);
	return NULL;
}

int hook_dispatcher_start(struct hook_dispatcher **out, const struct hook_source *src,
                          const struct hook_dispatcher_config *cfg, char *why, size_t n)
{
	struct hook_dispatcher *h;
	int rc;

	*out = NULL;
	if (src == NULL || src->claim == NULL || src->record == NULL) {
		snprintf(why, n, "the webhook source lacks claim or record");
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(why, n, "out of memory starting the webhook dispatcher");
		return -1;
	}
	h->src = *src;
	if (cfg != NULL)
		h->cfg = *cfg;
	if (h->cfg.max_inflight <= 0)
		h->cfg.max_inflight = 32;
	if (h->cfg.connect_timeout_ms <= 0)
		h->cfg.connect_timeout_ms = 5000;
	if (h->cfg.timeout_ms <= 0)
		h->cfg.timeout_ms = 10000;
	if (h->cfg.poll_ms <= 0)
		h->cfg.poll_ms = 1000;
	if (h->cfg.max_response == 0)
		h->cfg.max_response = 64 * 1024;
	if (h->cfg.user_agent == NULL)
		h->cfg.user_agent = "tokenq-webhooks";
	atomic_init(&h->stop, 0);
	atomic_init(&h->kicked, 1);
	h->inflight = calloc((size_t)h->cfg.max_inflight, sizeof(*h->inflight));
	h->multi = curl_multi_init();
	if (h->inflight == NULL || h->multi == NULL)
		goto nomem;
	for (const char *const *r = h->cfg.resolve; r != NULL && *r != NULL; r++) {
		struct curl_slist *l = curl_slist_append(h->resolve, *r);

		if (l == NULL)
			goto nomem;
		h->resolve = l;
	}
	rc = pthread_create(&h->thread, NULL, run, h);
	if (rc != 0) {
		snprintf(why, n, "cannot start the webhook dispatcher thread: %s", strerror(rc));
		goto fail;
	}
	*out = h;
	return 0;
nomem:
	snprintf(why, n, "out of memory starting the webhook dispatcher");
fail:
	curl_slist_free_all(h->resolve);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	free(h->inflight);
	free(h);
	return -1;
}

void hook_dispatcher_kick(struct hook_dispatcher *d)
{
	if (d == NULL)
		return;
	atomic_store(&d->kicked, 1);
	curl_multi_wakeup(d->multi);
}

void hook_dispatcher_stop(struct hook_dispatcher *d)
{
	if (d == NULL)
		return;
	atomic_store(&d->stop, 1);
	curl_multi_wakeup(d->multi);
	pthread_join(d->thread, NULL);
	curl_multi_cleanup(d->multi);
	curl_slist_free_all(d->resolve);
	free(d->inflight);
	free(d);
}
