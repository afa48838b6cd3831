/*
 * The business date: the venue's calendar date, in the venue's time zone,
 * where the day starts at a configured local time (00:00 by default; a bar
 * open until 3 am sets 04:00). Never the UTC date.
 *
 * The zone is the process's (TZ, set from TOKENQ_TIMEZONE at start-up). A day
 * whose start falls in a time skipped by a DST change starts at the first
 * instant after the gap; when the start falls in a repeated hour, the day
 * starts at its first occurrence.
 */
#ifndef TOKENQ_BIZDATE_H
#define TOKENQ_BIZDATE_H

#include <stdbool.h>
#include <stdint.h>

#define BIZDATE_LEN 11 /* "YYYY-MM-DD" and a NUL */

/*
 * Sets the local time at which a day starts, in minutes after midnight
 * (0..1439), and forgets what was computed for the previous zone: call it
 * after changing TZ, too.
 */
void bizdate_configure(int day_start_minutes);

/* The business date of the instant ms (milliseconds since the epoch). */
void bizdate_of(int64_t ms, char out[BIZDATE_LEN]);

/* The instant (ms since the epoch) at which business date date starts; -1 if date is invalid. */
int64_t bizdate_start(const char *date);

/* Whether s is a real calendar date written YYYY-MM-DD. */
bool bizdate_valid(const char *s);

#endif
