/*
 * The records tokenq keeps: an order, its status, an event, an API key, and
 * the pace of a queue, as the store writes them and reads them back. The
 * rules about them (which status may follow which, what a valid order is)
 * belong to the domain; here is only their shape and their names as the
 * tables spell them, so that every layer above the store can speak of them.
 */
#ifndef TOKENQ_STORE_RECORD_H
#define TOKENQ_STORE_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#define BIZDATE_LEN 11 /* a business date, "YYYY-MM-DD", and a NUL */

enum order_status { ST_PENDING, ST_PREPARING, ST_READY, ST_COMPLETED, ST_CANCELLED, ST_COUNT };

/* "PENDING" and so on. */
const char *status_name(enum order_status s);
/* Exact, case-sensitive; returns 0 or -1 for an unknown name. */
int status_parse(const char *name, enum order_status *out);

/* A checked order, ready to be issued. Owns its strings; free with order_input_release. */
struct order_input {
	char queue[4];
	char *items_json; /* canonical [{"name":..,"quantity":..,"unit_price":..}] */
	int64_t total;
	char *note; /* NULL when absent */
	bool print; /* queue a print of its ticket with the order */
};

void order_input_release(struct order_input *in);

/* A stored order, as the store reads it back. Free with order_release. */
struct order {
	int64_t id;
	int venue_id;
	char queue[4];
	char business_date[BIZDATE_LEN];
	int64_t sequence;
	enum order_status status;
	char *items_json;
	int64_t total;
	char *note;
	int64_t created_at; /* ms since the epoch */
	int64_t updated_at;
	int64_t ready_at; /* when it first became READY, or 0 */
};

void order_release(struct order *o);

/* What a queue's recent orders say; -1 where there is nothing to go on. */
struct pace {
	int64_t prep_seconds; /* median creation → READY */
	int64_t gap_seconds;  /* median time between consecutive READYs */
};

enum event_kind { EV_TOKEN, EV_RECALL };

struct event {
	int64_t id;
	int venue_id;
	enum event_kind kind;
	int64_t order_id;
	char queue[4];
	char business_date[BIZDATE_LEN];
	int64_t sequence;
	enum order_status status;
	int previous_status; /* an enum order_status, or -1 on creation */
	int64_t at;
};

enum role { ROLE_POS, ROLE_STAFF, ROLE_ADMIN };

const char *role_name(enum role r);
int role_parse(const char *name, enum role *out);

struct api_key {
	int64_t id;
	int venue_id; /* 0: a key of every venue */
	enum role role;
	char label[256];
	int64_t created_at;
	int64_t last_used_at; /* 0 when never */
	int64_t revoked_at;   /* 0 when active */
};

/*
 * A venue as stored: its slug, names and settings as text, checked by the
 * domain (domain/venue.h) before they are written. queues and counters are
 * specs as TOKENQ_QUEUES and TOKENQ_COUNTERS take them; timezone "" is the
 * system's zone. The logo is base64 text with its media type.
 */
#define VENUE_SLUG_MAX   32
#define VENUE_QUEUES_MAX 6144

struct venue_row {
	int id;
	char slug[VENUE_SLUG_MAX + 1];
	char name[324]; /* up to 80 code points */
	char timezone[256];
	int day_start; /* minutes after local midnight */
	char queues[VENUE_QUEUES_MAX];
	int digits;
	char counters[2048];
	char language[36]; /* BCP 47, or "" */
	char currency[4];
	char accent[8];     /* "#rrggbb", or "" */
	char logo_type[32]; /* "" without a logo */
	int64_t created_at, updated_at;
	bool has_webhooks; /* a live webhook endpoint is the venue's (read, never written) */
};

#endif
