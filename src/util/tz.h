/*
 * Time zones as values: a zone is loaded once from the system's tz database
 * (a TZif file under /usr/share/zoneinfo, or TZDIR) and then answers "what
 * is the UTC offset at instant t" for any t, from any thread, without
 * touching the process's TZ. So two venues in two zones can share one
 * process, and nothing calls setenv("TZ").
 *
 * Past the file's last transition the zone follows the POSIX rule at the
 * file's end (such as "GMT0BST,M3.5.0/1,M10.5.0"), as the C library does.
 */
#ifndef TOKENQ_UTIL_TZ_H
#define TOKENQ_UTIL_TZ_H

#include <stddef.h>
#include <stdint.h>

struct tz;

/*
 * Loads the zone name: an IANA name ("Europe/London"), or "" for the
 * system's zone, which is the TZ environment variable when set (a name, a
 * file path, or a POSIX rule such as "UTC0"), else /etc/localtime, else UTC.
 * Returns 0, or -1 with one sentence in err.
 */
int tz_open(const char *name, struct tz **out, char *err, size_t errlen);
/* UTC, which never fails. */
struct tz *tz_utc(void);
void tz_free(struct tz *z);
/* The zone's IANA name ("Asia/Kolkata"); the system's as far as it can be told, else "UTC". */
const char *tz_name(const struct tz *z);

/* Seconds to add to UTC for local time at instant t (seconds since the epoch). */
int32_t tz_offset(const struct tz *z, int64_t t);

/* The local wall-clock time at instant t, as seconds counted as if it were UTC. */
int64_t tz_wall(const struct tz *z, int64_t t);

#endif
