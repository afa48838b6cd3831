/*
 * Venues: where tokens are issued, each with its own settings (queues,
 * token digits, time zone, day start, currency, names and colours) and its
 * calendar. This is the one place that answers "what are this venue's
 * settings": a cache of the venues table, reloaded when the settings
 * change (on PostgreSQL the server hears NOTIFY tokenq_settings; on SQLite
 * a lookup reads the settings version row, one in-process read, and
 * reloads only when it moved), never a database round trip per request
 * for the settings themselves.
 *
 * A struct venue is a snapshot: it never changes once made, and stays
 * valid until the registry is released, so a request may keep the one it
 * looked up while the settings change under it.
 */
#ifndef TOKENQ_DOMAIN_VENUE_H
#define TOKENQ_DOMAIN_VENUE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/bizdate.h"
#include "store/store.h"
#include "util/config.h"
#include "util/error.h"
#include "util/tz.h"

struct venue {
	int id;
	char slug[VENUE_SLUG_MAX + 1];
	struct venue_row row;     /* as stored */
	const struct config *cfg; /* the install's settings with this venue's own in them */
	struct config own;
	struct tz *zone;
	struct bizdate cal;
	struct venue *retired; /* the registry's list of replaced snapshots */
};

struct venues {
	pthread_mutex_t lock;
	struct venue **v; /* the current snapshots, by id */
	size_t n, cap;
	struct venue *retired;
	int64_t version;           /* the settings version loaded */
	bool watch;                /* read the version row on each lookup */
	const struct config *base; /* the install's settings; not owned */
	struct store *store;       /* not owned */
	struct store_conn *conn;   /* the registry's own, for watching and loading */
};

/* Loads every venue. 0, or -1 with err (a venue whose stored settings are bad is an error). */
int venues_init(struct venues *vs, const struct config *base, struct store *store,
                struct tq_error *err);
void venues_release(struct venues *vs);

/* The venue of this slug (n bytes) or id, or NULL. On SQLite, reloads first if the settings moved.
 */
struct venue *venues_find(struct venues *vs, const char *slug, size_t n);
struct venue *venues_by_id(struct venues *vs, int id);
/* Reloads every venue now (after a change, or when told of one). 0, or -1 keeping the old. */
int venues_reload(struct venues *vs, struct tq_error *err);
/* Every current venue, by id; free() *out (the venues stay the registry's). */
int venues_all(struct venues *vs, struct venue ***out, size_t *n);

/* The business date of the instant ms, and of now. */
void venue_date_of(struct venue *v, int64_t ms, char out[BIZDATE_LEN]);
void venue_today(struct venue *v, char out[BIZDATE_LEN]);

/* Whether s (n bytes) is a venue slug: 1 to 32 of a-z, 0-9 and -, starting with a letter. */
bool venue_slug_valid(const char *s, size_t n);

/* The queue with this prefix, or NULL when the venue has none. */
const struct queue_conf *venue_queue(const struct venue *v, const char *prefix);

/* ---- changing venues ---- */

/*
 * Applies the members of a JSON object to row (the settings of a new venue,
 * or a change of one): name, timezone, day_start ("HH:MM"), queues (a spec
 * string "A=Orders,B=Drinks" or an array of {"prefix","name"}), digits,
 * language (null to clear), currency, accent ("#rrggbb" or null), logo (a
 * data: URL of a PNG, JPEG, WebP or SVG image of up to 256 KiB, or null).
 * slug only when allow_slug. On success *logo is the new logo's base64
 * (malloc'd; NULL to clear) and *set_logo says whether logo was given. -1
 * with 422 invalid_field / unknown_field naming the member otherwise; row
 * is then unspecified.
 */
int venue_apply_json(struct venue_row *row, const json_t *body, bool allow_slug, char **logo,
                     bool *set_logo, struct tq_error *err);
/* Checks a whole row as it is to be stored (every setting, as §4's rules). */
int venue_check(const struct venue_row *row, struct tq_error *err);
/* The defaults of a new venue: main's queues and digits are not inherited. */
void venue_defaults(struct venue_row *row, const char *slug);
/* A venue as GET /api/venues shows it; base is its URL prefix ("" or "/v/slug"). */
json_t *venue_json(const struct venue *v);

/*
 * Creates a venue from body ({"slug": ..., settings}), or changes the venue
 * slug by body (settings), with every check of venue_apply_json; *out is
 * the row as stored. 409 venue_exists for a slug taken.
 */
int venue_create(struct store_conn *c, const json_t *body, struct venue_row *out,
                 struct tq_error *err);
int venue_update(struct store_conn *c, const char *slug, const json_t *body, struct venue_row *out,
                 struct tq_error *err);

/*
 * Writes the settings the environment gave (base->set) to the venue main,
 * leaving the others as stored; nothing when they already match. 0, or -1.
 */
int venues_apply_env(struct store_conn *c, const struct config *base, struct tq_error *err);

#endif
