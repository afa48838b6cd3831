/*
 * Webhook bodies and event filters: one place that knows how an event of
 * the stream becomes a delivery, so the outbox writer, the API and the
 * command line agree.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks/payload.h"
#include "util/log.h"

static const struct {
	const char *name;
	unsigned bit;
} names[] = {
    {"token", HOOK_EV_TOKEN},
    {"recall", HOOK_EV_RECALL},
    {"transfer", HOOK_EV_TRANSFER},
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

unsigned hook_event_bit(const char *event)
{
	size_t i;

	if (event == NULL)
		return 0;
	for (i = 0; i < NNAMES; i++)
		if (strcmp(event, names[i].name) == 0)
			return names[i].bit;
	return 0;
}

int hook_events_parse(const char *list, unsigned *mask, char *why, size_t n)
{
	const char *p = list;

	*mask = 0;
	if (list == NULL || *list == '\0') {
		*mask = HOOK_EV_ALL;
		return 0;
	}
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		unsigned bit = 0;
		size_t i;

		for (i = 0; i < NNAMES; i++)
			if (strlen(names[i].name) == len && memcmp(p, names[i].name, len) == 0)
				bit = names[i].bit;
		if (bit == 0) {
			snprintf(why, n,
			         "events: \"%.*s\" is not an event; use token, recall or transfer",
			         len > 40 ? 40 : (int)len, p);
			*mask = 0;
			return -1;
		}
		*mask |= bit;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

void hook_events_format(unsigned mask, char *out, size_t n)
{
	size_t i, o = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < NNAMES; i++) {
		int w;

		if (!(mask & names[i].bit))
			continue;
		w = snprintf(out + o, n - o, "%s%s", o > 0 ? "," : "", names[i].name);
		if (w < 0 || (size_t)w >= n - o)
			return;
		o += (size_t)w;
	}
}

int hook_event_type(const char *event, const char *status, char out[HOOK_TYPE_SIZE])
{
	unsigned bit = hook_event_bit(event);
	size_t i;

	out[0] = '\0';
	if (bit == HOOK_EV_RECALL || bit == HOOK_EV_TRANSFER) {
		snprintf(out, HOOK_TYPE_SIZE, "token.%s", event);
		return 0;
	}
	if (bit != HOOK_EV_TOKEN || status == NULL || *status == '\0' ||
	    strlen(status) > HOOK_TYPE_SIZE - 7)
		return -1;
	memcpy(out, "token.", 6);
	for (i = 0; status[i] != '\0'; i++)
		out[6 + i] = (char)tolower((unsigned char)status[i]);
	out[6 + i] = '\0';
	return 0;
}

char *hook_payload(const char *type, int64_t at_ms, json_t *data, size_t *len)
{
	char ts[32];
	json_t *j;
	char *text;

	*len = 0;
	if (type == NULL)
		return NULL;
	format_rfc3339(at_ms, ts);
	/* "O" takes a reference of its own, so data stays the caller's. */
	j = json_pack("{s:s, s:s, s:O}", "type", type, "timestamp", ts, "data",
	              data != NULL ? data : json_null());
	if (j == NULL)
		return NULL;
	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (text != NULL)
		*len = strlen(text);
	return text;
}
