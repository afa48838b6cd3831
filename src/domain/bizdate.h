/*
 * The business date: the venue's calendar date, in the venue's time zone,
 * where the day starts at a configured local time (00:00 by default; a bar
 * open until 3 am sets 04:00). Never the UTC date.
 *
 * A calendar (struct bizdate) is a venue's: its zone and day start are
 * passed in, nothing is read from the process's TZ, so venues in different
 * zones can share a process. A day whose start falls in a time skipped by a
 * DST change starts at the first instant after the gap; when the start falls
 * in a repeated hour, the day starts at its first occurrence.
 */
#ifndef TOKENQ_BIZDATE_H
#define TOKENQ_BIZDATE_H

#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>

#include "store/record.h" /* BIZDATE_LEN */
#include "util/tz.h"

#define BIZDATE_CACHE 8

/* A venue's calendar. Safe to share between threads once initialised. */
struct bizdate {
	const struct tz *zone; /* not owned */
	int day_start_min;     /* minutes after local midnight, 0..1439 */
	pthread_mutex_t lock;  /* guards the cache */
	struct {
		int64_t day, start;
		int used;
	} cache[BIZDATE_CACHE]; /* recently computed day starts, by day number */
	unsigned cache_next;
};

/* Sets up b for zone (which must outlive it) and a day start in minutes (0..1439). */
void bizdate_init(struct bizdate *b, const struct tz *zone, int day_start_min);
void bizdate_release(struct bizdate *b);

/* The business date of the instant ms (milliseconds since the epoch). */
void bizdate_of(struct bizdate *b, int64_t ms, char out[BIZDATE_LEN]);

/* The instant (ms since the epoch) at which business date date starts; -1 if date is invalid. */
int64_t bizdate_start(struct bizdate *b, const char *date);

/* Whether s is a real calendar date written YYYY-MM-DD. */
bool bizdate_valid(const char *s);

#endif
