/*
 * A venue: where tokens are issued, with its own settings (queues, token
 * digits, time zone and day start) and its calendar. This is the one place
 * that answers "what are this venue's settings"; today there is one venue,
 * main, configured from the environment (util/config.h).
 */
#ifndef TOKENQ_DOMAIN_VENUE_H
#define TOKENQ_DOMAIN_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/bizdate.h"
#include "util/config.h"
#include "util/tz.h"

#define VENUE_SLUG_MAX 32

struct venue {
	char slug[VENUE_SLUG_MAX + 1]; /* "main" */
	const struct config *cfg;      /* its settings; not owned */
	struct tz *zone;
	struct bizdate cal;
};

/* Sets up v from cfg (which must outlive it): loads the zone. 0, or -1 with one sentence in err. */
int venue_init(struct venue *v, const struct config *cfg, char *err, size_t errlen);
void venue_release(struct venue *v);

/* The business date of the instant ms, and of now. */
void venue_date_of(struct venue *v, int64_t ms, char out[BIZDATE_LEN]);
void venue_today(struct venue *v, char out[BIZDATE_LEN]);

/* Whether s (n bytes) is a venue slug: 1 to 32 of a-z, 0-9 and -, starting with a letter. */
bool venue_slug_valid(const char *s, size_t n);

/* The queue with this prefix, or NULL when the venue has none. */
const struct queue_conf *venue_queue(const struct venue *v, const char *prefix);

#endif
