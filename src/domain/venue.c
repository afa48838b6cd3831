/*
 * The venues registry and a venue's settings (see venue.h): snapshots made
 * from the venues table, the checks every setting passes before it is
 * stored (the same rules and words as the settings of the environment), and
 * writing the environment's settings to the venue main at start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/order.h"
#include "domain/venue.h"
#include "util/array.h"
#include "util/base64.h"
#include "util/log.h"

#define LOGO_MAX (256 * 1024)

/* ---- snapshots ---- */

static void venue_free(struct venue *v)
{
	if (v == NULL)
		return;
	if (v->zone != NULL) {
		bizdate_release(&v->cal);
		tz_free(v->zone);
	}
	free(v);
}

/* A snapshot of row over the install's settings base. */
static struct venue *venue_make(const struct venue_row *row, const struct config *base,
                                struct tq_error *err)
{
	struct venue *v = calloc(1, sizeof(*v));
	char why[512];

	if (v == NULL) {
		tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
		return NULL;
	}
	v->id = row->id;
	snprintf(v->slug, sizeof(v->slug), "%s", row->slug);
	v->row = *row;
	v->own = *base;
	snprintf(v->own.timezone, sizeof(v->own.timezone), "%s", row->timezone);
	v->own.day_start_min = row->day_start;
	v->own.token_digits = row->digits;
	snprintf(v->own.currency, sizeof(v->own.currency), "%s", row->currency);
	if (config_parse_queues(row->queues, &v->own, why, sizeof(why)) != 0 ||
	    tz_open(row->timezone, &v->zone, why, sizeof(why)) != 0) {
		tq_fail(err, TQ_INTERNAL, "bad_venue", "", "the venue %s has a bad setting: %s",
		        row->slug, why);
		free(v);
		return NULL;
	}
	v->cfg = &v->own;
	bizdate_init(&v->cal, v->zone, row->day_start);
	return v;
}

/* The current snapshot of id, or NULL; the caller holds the lock. */
static struct venue *current(struct venues *vs, int id)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		if (vs->v[i]->id == id)
			return vs->v[i];
	return NULL;
}

/* Replaces the snapshots with rows; unchanged venues keep theirs. The caller holds the lock. */
static int replace(struct venues *vs, const struct venue_row *rows, size_t n, struct tq_error *err)
{
	struct venue **next = calloc(n + 1, sizeof(*next));
	size_t i, j;

	if (next == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	for (i = 0; i < n; i++) {
		struct venue *old = current(vs, rows[i].id);
		if (old != NULL && memcmp(&old->row, &rows[i], sizeof(rows[i])) == 0) {
			next[i] = old;
			continue;
		}
		if ((next[i] = venue_make(&rows[i], vs->base, err)) == NULL) {
			for (j = 0; j < i; j++)
				if (current(vs, next[j]->id) != next[j])
					venue_free(next[j]);
			free(next);
			return -1;
		}
	}
	/* Replaced snapshots stay alive (a request may hold one) until release. */
	for (i = 0; i < vs->n; i++) {
		bool kept = false;
		for (j = 0; j < n && !kept; j++)
			kept = next[j] == vs->v[i];
		if (!kept) {
			vs->v[i]->retired = vs->retired;
			vs->retired = vs->v[i];
		}
	}
	free(vs->v);
	vs->v = next;
	vs->n = vs->cap = n;
	return 0;
}

/* Loads every venue when the settings version moved (or always with force); the caller holds the
 * lock. */
static int load(struct venues *vs, bool force, struct tq_error *err)
{
	struct venue_row *rows = NULL;
	size_t n = 0;
	int64_t version = 0;
	int rc;

	if (vs->conn == NULL && store_connect_as(vs->store, "settings", &vs->conn, err) != 0) {
		vs->conn = NULL;
		return -1;
	}
	if (store_settings_version(vs->conn, &version, err) != 0)
		return -1;
	if (!force && version == vs->version && vs->n > 0)
		return 0;
	if (store_venue_list(vs->conn, &rows, &n, err) != 0)
		return -1;
	rc = replace(vs, rows, n, err);
	free(rows);
	if (rc == 0)
		vs->version = version;
	return rc;
}

int venues_init(struct venues *vs, const struct config *base, struct store *store,
                struct tq_error *err)
{
	memset(vs, 0, sizeof(*vs));
	pthread_mutex_init(&vs->lock, NULL);
	vs->base = base;
	vs->store = store;
	/*
	 * Without NOTIFY (SQLite), the version row is how another process's
	 * change is seen: one in-process read per lookup. On PostgreSQL the
	 * change is heard (NOTIFY tokenq_settings), never asked for per request:
	 * a lookup there costs no round trip, and pages and the router never
	 * wait on the database.
	 */
	vs->watch = !store_has(store, STORE_LISTEN);
	if (load(vs, true, err) != 0) {
		venues_release(vs);
		return -1;
	}
	if (current(vs, STORE_MAIN_VENUE) == NULL) {
		tq_fail(err, TQ_INTERNAL, "no_main_venue", "", "the database has no venue main");
		venues_release(vs);
		return -1;
	}
	return 0;
}

void venues_release(struct venues *vs)
{
	struct venue *r;
	size_t i;

	for (i = 0; i < vs->n; i++)
		venue_free(vs->v[i]);
	free(vs->v);
	while ((r = vs->retired) != NULL) {
		vs->retired = r->retired;
		venue_free(r);
	}
	store_disconnect(vs->conn);
	pthread_mutex_destroy(&vs->lock);
	memset(vs, 0, sizeof(*vs));
}

/*
 * Reloads what changed: on SQLite when the version row moved (another
 * process may have written it), anywhere when a change was told
 * (venues_invalidate, on NOTIFY). The caller holds the lock.
 */
static void watch(struct venues *vs)
{
	struct tq_error err;
	bool told = __atomic_exchange_n(&vs->stale, 0, __ATOMIC_ACQ_REL) != 0;

	if ((vs->watch || told) && load(vs, told, &err) != 0) {
		log_warn("msg=\"cannot reload the venues' settings\" error=\"%s\"", err.detail);
		if (told)
			__atomic_store_n(&vs->stale, 1, __ATOMIC_RELEASE); /* try again next time */
	}
}

void venues_invalidate(struct venues *vs)
{
	__atomic_store_n(&vs->stale, 1, __ATOMIC_RELEASE);
}

struct venue *venues_find(struct venues *vs, const char *slug, size_t n)
{
	struct venue *v = NULL;
	size_t i;

	pthread_mutex_lock(&vs->lock);
	watch(vs);
	for (i = 0; i < vs->n && v == NULL; i++)
		if (strlen(vs->v[i]->slug) == n && memcmp(vs->v[i]->slug, slug, n) == 0)
			v = vs->v[i];
	pthread_mutex_unlock(&vs->lock);
	return v;
}

struct venue *venues_by_id(struct venues *vs, int id)
{
	struct venue *v;

	pthread_mutex_lock(&vs->lock);
	v = current(vs, id);
	pthread_mutex_unlock(&vs->lock);
	return v;
}

struct venue *venues_main(struct venues *vs)
{
	struct venue *v;

	pthread_mutex_lock(&vs->lock);
	watch(vs);
	v = current(vs, STORE_MAIN_VENUE);
	pthread_mutex_unlock(&vs->lock);
	return v;
}

int venues_reload(struct venues *vs, struct tq_error *err)
{
	int rc;

	pthread_mutex_lock(&vs->lock);
	__atomic_store_n(&vs->stale, 0, __ATOMIC_RELEASE);
	rc = load(vs, true, err);
	pthread_mutex_unlock(&vs->lock);
	return rc;
}

int64_t venues_version(struct venues *vs)
{
	int64_t v;

	pthread_mutex_lock(&vs->lock);
	v = vs->version;
	pthread_mutex_unlock(&vs->lock);
	return v;
}

int venues_all(struct venues *vs, struct venue ***out, size_t *n)
{
	pthread_mutex_lock(&vs->lock);
	watch(vs);
	*out = calloc(vs->n + 1, sizeof(**out));
	*n = 0;
	if (*out != NULL) {
		memcpy(*out, vs->v, vs->n * sizeof(**out));
		*n = vs->n;
	}
	pthread_mutex_unlock(&vs->lock);
	return *out != NULL ? 0 : -1;
}

void venue_date_of(struct venue *v, int64_t ms, char out[BIZDATE_LEN])
{
	bizdate_of(&v->cal, ms, out);
}

void venue_today(struct venue *v, char out[BIZDATE_LEN])
{
	bizdate_of(&v->cal, now_ms(), out);
}

bool venue_slug_valid(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > VENUE_SLUG_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

const struct queue_conf *venue_queue(const struct venue *v, const char *prefix)
{
	return config_queue(v->cfg, prefix);
}

/* ---- checking settings ---- */

/* A setting's refusal as the environment words it, with the member's name instead. */
static int refuse(struct tq_error *err, const char *field, const char *env, const char *why)
{
	const char *at = strstr(why, env);
	char text[512];

	if (at != NULL)
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - why), why, field,
		         at + strlen(env));
	else
		snprintf(text, sizeof(text), "%s", why);
	return tq_fail(err, TQ_INVALID, "invalid_field", field, "%s", text);
}

static bool language_valid(const char *s)
{
	size_t n = strlen(s), i, part = 0, parts = 0;

	if (n < 2 || n > 35)
		return false;
	for (i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '-' || c == '\0') {
			if (part < (parts == 0 ? 2 : 1) || part > 8 || (parts == 0 && part > 3))
				return false;
			part = 0;
			parts++;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (parts > 0 && c >= '0' && c <= '9')) {
			part++;
		} else {
			return false;
		}
	}
	return true;
}

static bool accent_valid(const char *s)
{
	size_t i;

	if (strlen(s) != 7 || s[0] != '#')
		return false;
	for (i = 1; i < 7; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

int venue_check(const struct venue_row *row, struct tq_error *err)
{
	struct config *tmp;
	char why[512];
	long len;

	if (!venue_slug_valid(row->slug, strlen(row->slug)))
		return tq_fail(err, TQ_INVALID, "invalid_field", "slug",
		               "slug must be 1 to 32 of a-z, 0-9 and -, starting with a letter "
		               "(such as mg-road)");
	len = text_length(row->name, 0);
	if (len < 1 || len > 80 || text_blank(row->name))
		return tq_fail(err, TQ_INVALID, "invalid_field", "name",
		               "name must be text of 1 to 80 characters, not blank and without "
		               "control characters");
	if (row->timezone[0] != '\0' && config_parse_timezone(row->timezone, why, sizeof(why)) != 0)
		return refuse(err, "timezone", "TOKENQ_TIMEZONE", why);
	if (row->day_start < 0 || row->day_start > 23 * 60 + 59)
		return tq_fail(err, TQ_INVALID, "invalid_field", "day_start",
		               "day_start must be HH:MM from 00:00 to 23:59, such as 04:00.");
	if (row->digits < 1 || row->digits > 9)
		return tq_fail(err, TQ_INVALID, "invalid_field", "digits",
		               "digits must be a whole number from 1 to 9.");
	tmp = calloc(1, sizeof(*tmp));
	if (tmp == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	if (config_parse_queues(row->queues, tmp, why, sizeof(why)) != 0) {
		free(tmp);
		return refuse(err, "queues", "TOKENQ_QUEUES", why);
	}
	free(tmp);
	if (row->language[0] != '\0' && !language_valid(row->language))
		return tq_fail(err, TQ_INVALID, "invalid_field", "language",
		               "language must be a BCP 47 language tag such as en, hi or pt-BR");
	if (config_parse_currency(row->currency, why, sizeof(why)) != 0)
		return refuse(err, "currency", "TOKENQ_CURRENCY", why);
	if (row->accent[0] != '\0' && !accent_valid(row->accent))
		return tq_fail(err, TQ_INVALID, "invalid_field", "accent",
		               "accent must be a colour as #rrggbb, such as #0a7d5a");
	return 0;
}

void venue_defaults(struct venue_row *row, const char *slug)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->slug, sizeof(row->slug), "%s", slug);
	snprintf(row->queues, sizeof(row->queues), "A=Orders");
	snprintf(row->currency, sizeof(row->currency), "USD");
	row->digits = 3;
}

/* A text member: 0 with *out, or -1 (422 naming it) when not a string or too long. */
static int text_member(const json_t *v, const char *field, char *out, size_t n, bool nullable,
                       struct tq_error *err)
{
	if (nullable && json_is_null(v)) {
		out[0] = '\0';
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= n)
		return tq_fail(err, TQ_INVALID, "invalid_field", field, "%s must be %s", field,
		               nullable ? "text or null" : "text");
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int queues_member(const json_t *v, struct venue_row *row, struct tq_error *err)
{
	size_t i, len = 0;
	json_t *q;

	if (json_is_string(v))
		return text_member(v, "queues", row->queues, sizeof(row->queues), false, err);
	if (!json_is_array(v) || json_array_size(v) == 0)
		return tq_fail(
		    err, TQ_INVALID, "invalid_field", "queues",
		    "queues must be a spec such as \"A=Dine-in,B=Takeaway\" or a list of "
		    "{\"prefix\", \"name\"}");
	row->queues[0] = '\0';
	json_array_foreach(v, i, q)
	{
		json_t *p = json_object_get(q, "prefix"), *name = json_object_get(q, "name");
		int w;
		if (!json_is_object(q) || json_object_size(q) != 2 || !json_is_string(p) ||
		    !json_is_string(name))
			return tq_fail(
			    err, TQ_INVALID, "invalid_field", "queues",
			    "each queue must be {\"prefix\": \"A\", \"name\": \"Orders\"}");
		w = snprintf(row->queues + len, sizeof(row->queues) - len, "%s%s=%s", i ? "," : "",
		             json_string_value(p), json_string_value(name));
		if (w < 0 || (size_t)w >= sizeof(row->queues) - len)
			return tq_fail(err, TQ_INVALID, "invalid_field", "queues",
			               "queues is too long");
		len += (size_t)w;
	}
	return 0;
}

/* A logo given as a data: URL: its base64 (malloc'd) and type, or NULL for null. */
static int logo_member(const json_t *v, struct venue_row *row, char **logo, struct tq_error *err)
{
	static const char *const types[] = {"image/png", "image/jpeg", "image/webp",
	                                    "image/svg+xml"};
	const char *s, *comma;
	unsigned char *bin;
	size_t i, tlen, blen;
	long got;

	*logo = NULL;
	if (json_is_null(v)) {
		row->logo_type[0] = '\0';
		return 0;
	}
	s = json_is_string(v) ? json_string_value(v) : "";
	comma = strchr(s, ',');
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		tlen = strlen(types[i]);
		if (strncmp(s, "data:", 5) == 0 && strncmp(s + 5, types[i], tlen) == 0 &&
		    strncmp(s + 5 + tlen, ";base64,", 8) == 0)
			break;
	}
	if (i == sizeof(types) / sizeof(types[0]) || comma == NULL)
		return tq_fail(err, TQ_INVALID, "invalid_field", "logo",
		               "logo must be a data: URL of a PNG, JPEG, WebP or SVG image "
		               "(data:image/png;base64,...) or null");
	blen = strlen(comma + 1);
	if (blen == 0 || blen > BASE64_LEN(LOGO_MAX))
		return tq_fail(err, TQ_INVALID, "invalid_field", "logo",
		               "logo must be an image of 1 byte to 256 KiB");
	bin = malloc(blen);
	if (bin == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	got = base64_decode(comma + 1, blen, bin, blen);
	free(bin);
	if (got <= 0 || got > LOGO_MAX)
		return tq_fail(err, TQ_INVALID, "invalid_field", "logo",
		               "logo must be base64 of an image of 1 byte to 256 KiB");
	if ((*logo = strdup(comma + 1)) == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	snprintf(row->logo_type, sizeof(row->logo_type), "%s", types[i]);
	return 0;
}

int venue_apply_json(struct venue_row *row, const json_t *body, bool allow_slug, char **logo,
                     bool *set_logo, struct tq_error *err)
{
	const char *key;
	json_t *v;
	char why[256], text[16];

	*logo = NULL;
	*set_logo = false;
	json_object_foreach((json_t *)body, key, v)
	{
		int rc = 0;
		if (allow_slug && strcmp(key, "slug") == 0) {
			rc = text_member(v, "slug", row->slug, sizeof(row->slug), false, err);
		} else if (strcmp(key, "name") == 0) {
			rc = text_member(v, "name", row->name, sizeof(row->name), false, err);
		} else if (strcmp(key, "timezone") == 0) {
			rc = text_member(v, "timezone", row->timezone, sizeof(row->timezone), false,
			                 err);
			if (rc == 0 && row->timezone[0] == '\0')
				rc = tq_fail(
				    err, TQ_INVALID, "invalid_field", "timezone",
				    "timezone must be an IANA time zone such as Asia/Kolkata");
		} else if (strcmp(key, "day_start") == 0) {
			rc = text_member(v, "day_start", text, sizeof(text), false, err);
			if (rc == 0 &&
			    config_parse_day_start(text, &row->day_start, why, sizeof(why)) != 0)
				rc = refuse(err, "day_start", "TOKENQ_DAY_START", why);
		} else if (strcmp(key, "queues") == 0) {
			rc = queues_member(v, row, err);
		} else if (strcmp(key, "digits") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 9)
				rc = tq_fail(err, TQ_INVALID, "invalid_field", "digits",
				             "digits must be a whole number from 1 to 9.");
			else
				row->digits = (int)json_integer_value(v);
		} else if (strcmp(key, "language") == 0) {
			rc = text_member(v, "language", row->language, sizeof(row->language), true,
			                 err);
		} else if (strcmp(key, "currency") == 0) {
			rc = text_member(v, "currency", row->currency, sizeof(row->currency), false,
			                 err);
		} else if (strcmp(key, "accent") == 0) {
			rc = text_member(v, "accent", row->accent, sizeof(row->accent), true, err);
		} else if (strcmp(key, "logo") == 0) {
			free(*logo);
			rc = logo_member(v, row, logo, err);
			*set_logo = rc == 0;
		} else {
			rc = tq_fail(err, TQ_INVALID, "unknown_field", key,
			             "%s is not a setting of a venue", key);
		}
		if (rc != 0) {
			free(*logo);
			*logo = NULL;
			return -1;
		}
	}
	if (venue_check(row, err) != 0) {
		free(*logo);
		*logo = NULL;
		return -1;
	}
	return 0;
}

json_t *venue_json(const struct venue *v)
{
	json_t *queues = json_array(), *j;
	char start[16], logo[64];
	int i;

	for (i = 0; i < v->cfg->nqueues; i++)
		json_array_append_new(queues,
		                      json_pack("{s:s, s:s}", "prefix", v->cfg->queues[i].prefix,
		                                "name", v->cfg->queues[i].name));
	snprintf(start, sizeof(start), "%02d:%02d", v->row.day_start / 60, v->row.day_start % 60);
	snprintf(logo, sizeof(logo), "/v/%s/logo", v->slug);
	j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:[], s:o, s:s, s:o, s:o}", "slug", v->slug,
	              "name", v->row.name, "timezone", tz_name(v->zone), "day_start", start,
	              "queues", queues, "digits", v->row.digits, "counters", "language",
	              v->row.language[0] ? json_string(v->row.language) : json_null(), "currency",
	              v->row.currency, "accent",
	              v->row.accent[0] ? json_string(v->row.accent) : json_null(), "logo",
	              v->row.logo_type[0] ? json_string(logo) : json_null());
	return j;
}

int venue_create(struct store_conn *c, const json_t *body, struct venue_row *out,
                 struct tq_error *err)
{
	json_t *slug = json_object_get(body, "slug");
	char *logo = NULL;
	bool set_logo;
	int rc;

	if (!json_is_string(slug) ||
	    !venue_slug_valid(json_string_value(slug), json_string_length(slug)))
		return tq_fail(err, TQ_INVALID, "invalid_field", "slug",
		               "slug must be 1 to 32 of a-z, 0-9 and -, starting with a letter "
		               "(such as mg-road)");
	if (!json_is_string(json_object_get(body, "name")))
		return tq_fail(err, TQ_INVALID, "invalid_field", "name",
		               "a new venue needs a name: text of 1 to 80 characters");
	venue_defaults(out, json_string_value(slug));
	if (venue_apply_json(out, body, true, &logo, &set_logo, err) != 0)
		return -1;
	rc = store_venue_create(c, out, logo, now_ms(), err);
	free(logo);
	return rc;
}

int venue_update(struct store_conn *c, const char *slug, const json_t *body, struct venue_row *out,
                 struct tq_error *err)
{
	char *logo = NULL;
	bool set_logo;
	int rc;

	if (store_venue_get(c, slug, out, err) != 0)
		return -1;
	if (json_object_get(body, "slug") != NULL)
		return tq_fail(err, TQ_INVALID, "invalid_field", "slug",
		               "a venue's slug cannot change: its addresses and tickets carry it");
	if (venue_apply_json(out, body, false, &logo, &set_logo, err) != 0)
		return -1;
	rc = store_venue_update(c, out, set_logo, logo, now_ms(), err);
	free(logo);
	return rc;
}

/* ---- the environment's settings for main ---- */

int venues_apply_env(struct store_conn *c, const struct config *base, struct tq_error *err)
{
	struct venue_row row, was;

	if (base->set == 0)
		return 0;
	if (store_venue_get(c, "main", &row, err) != 0)
		return -1;
	was = row;
	if (base->set & CONFIG_SET_TIMEZONE)
		snprintf(row.timezone, sizeof(row.timezone), "%s", base->timezone);
	if (base->set & CONFIG_SET_DAY_START)
		row.day_start = base->day_start_min;
	if (base->set & CONFIG_SET_DIGITS)
		row.digits = base->token_digits;
	if (base->set & CONFIG_SET_QUEUES)
		snprintf(row.queues, sizeof(row.queues), "%s", base->queues_spec);
	if (base->set & CONFIG_SET_CURRENCY)
		snprintf(row.currency, sizeof(row.currency), "%s", base->currency);
	if (memcmp(&row, &was, sizeof(row)) == 0)
		return 0;
	return store_venue_update(c, &row, false, NULL, now_ms(), err);
}
