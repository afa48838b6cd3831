/*
 * What a webhook delivery says: the JSON body
 *
 *   {"type": "token.ready", "timestamp": "2026-11-27T08:21:40.511Z", "data": {...}}
 *
 * where data is the event exactly as the event stream sends it, and the
 * event filter an endpoint is created with (--events token,recall,transfer,
 * the event stream's event names).
 *
 * Types: a status change ("token" in the stream) is "token." and the new
 * status in lower case (token.pending for a new order, token.preparing,
 * token.ready, token.completed, token.cancelled); a recall is
 * token.recall; a transfer is token.transfer.
 */
#ifndef TOKENQ_HOOK_PAYLOAD_H
#define TOKENQ_HOOK_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The event stream's event names, as bits of an endpoint's filter. */
enum hook_event_bit {
	HOOK_EV_TOKEN = 1 << 0,
	HOOK_EV_RECALL = 1 << 1,
	HOOK_EV_TRANSFER = 1 << 2,
};
#define HOOK_EV_ALL (HOOK_EV_TOKEN | HOOK_EV_RECALL | HOOK_EV_TRANSFER)

/* The longest type hook_event_type writes, with its NUL. */
#define HOOK_TYPE_SIZE 32

/* Parses a filter such as "token,recall" (NULL or "" is every event) into *mask. Returns 0,
 * or -1 with a sentence naming the problem in why (of size n) and *mask 0. */
int hook_events_parse(const char *list, unsigned *mask, char *why, size_t n);
/* Writes the filter mask as the list hook_events_parse reads ("token,recall,transfer"). */
void hook_events_format(unsigned mask, char *out, size_t n);
/* The bit of a stream event name ("token", "recall", "transfer"), or 0 for another. */
unsigned hook_event_bit(const char *event);

/* Writes the delivery type of a stream event (its name and new status, e.g. "token" and
 * "READY") to out. Returns 0, or -1 for an unknown event name or a missing status. */
int hook_event_type(const char *event, const char *status, char out[HOOK_TYPE_SIZE]);

/* Returns the body of a delivery (malloc'd, NUL-terminated; the caller frees it) with its
 * length in *len, or NULL when out of memory or type is NULL. data is borrowed: the
 * event as the stream renders it. at_ms is the event's time. A json_t is not to be
 * serialised from two threads at once; call this where the event was rendered. */
char *hook_payload(const char *type, int64_t at_ms, json_t *data, size_t *len);

#endif
