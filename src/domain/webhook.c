/*
 * The rules a webhook endpoint must meet, and making one: an http or https
 * address that resolves to public addresses (unless private ones are
 * allowed), known event names, the venue; its signing secret made here and
 * shown once. The same rules serve POST /api/webhooks and `tokenq webhooks`.
 */
#include <stdio.h>
#include <string.h>

#include "domain/venue.h"
#include "domain/webhook.h"
#include "hooks/addr.h"
#include "hooks/payload.h"
#include "util/log.h"

int webhook_check(const char *url, const char *events, bool allow_private, const char *venue,
                  struct webhook *w, struct tq_error *err)
{
	char why[512];

	memset(w, 0, sizeof(*w));
	if (url == NULL || url[0] == '\0')
		return tq_fail(
		    err, TQ_INVALID, "invalid_field", "url",
		    "url is required: the http:// or https:// address to POST events to");
	if (strlen(url) > WEBHOOK_URL_MAX)
		return tq_fail(err, TQ_INVALID, "invalid_field", "url",
		               "url must be at most %d characters", WEBHOOK_URL_MAX);
	if (hook_url_check(url, HOOK_URL_RESOLVE | (allow_private ? HOOK_URL_ALLOW_PRIVATE : 0),
	                   why, sizeof(why)) != 0)
		return tq_fail(err, TQ_INVALID, "invalid_field", "url", "%s", why);
	if (hook_events_parse(events, &w->events, why, sizeof(why)) != 0)
		return tq_fail(err, TQ_INVALID, "invalid_field", "events", "%s", why);
	if (venue != NULL && !venue_slug_valid(venue, strlen(venue)))
		return tq_fail(err, TQ_NOT_FOUND, "unknown_venue", "venue",
		               "there is no venue \"%.40s\"; see `tokenq venues list`", venue);
	snprintf(w->url, sizeof(w->url), "%s", url);
	snprintf(w->venue, sizeof(w->venue), "%s", venue != NULL ? venue : "main");
	w->allow_private = allow_private;
	return 0;
}

const char *webhook_type(const struct event *e, char out[32])
{
	if (hook_event_type(e->kind == EV_RECALL ? "recall" : "token", status_name(e->status),
	                    out) != 0)
		snprintf(out, 32, "token.unknown");
	return out;
}

int webhook_create(struct store_conn *c, const struct webhook *w, char secret[HOOK_SECRET_SIZE],
                   int64_t *id, struct tq_error *err)
{
	struct venue_row v;

	if (store_venue_get(c, w->venue, &v, err) != 0) {
		if (err->status == TQ_NOT_FOUND)
			tq_fail(err, TQ_NOT_FOUND, "unknown_venue", "venue",
			        "there is no venue \"%.40s\"; see `tokenq venues list`", w->venue);
		return -1;
	}
	if (hook_secret_new(secret) != 0)
		return tq_fail(err, TQ_INTERNAL, "internal", "",
		               "the system's random source failed; try again");
	return store_webhook_create(c, w, secret, now_ms(), id, err);
}
