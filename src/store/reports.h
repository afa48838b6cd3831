/*
 * The queries of the operations side, written over the SQL primitives of
 * store.h like store.c is: the day report behind GET /api/stats, and the
 * table-by-table reading and writing that `tokenq copy` moves a database
 * with. Nothing here writes an order; the copy statements write only into a
 * target database the copy command has found empty.
 */
#ifndef TOKENQ_REPORTS_H
#define TOKENQ_REPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/tz.h"

/* ---- the day report ---- */

struct day_stats {
	int64_t orders;
	int64_t by_status[ST_COUNT];
	int64_t revenue; /* sum of the totals of orders that are not CANCELLED */
	/* Seconds from creation to first READY over the orders that reached it,
	 * by nearest rank and rounded to whole seconds; -1 when prep_count is 0. */
	int64_t prep_count;
	int64_t prep_p50, prep_p90, prep_max;
	/* Orders created in each local clock hour of zone (UTC when NULL). */
	int64_t per_hour[24];
};

/* The report for business date date and queue (NULL for all), read in one statement. */
int reports_day_stats(struct store_conn *c, int venue, const char *date, const char *queue,
                      const struct tz *zone, struct day_stats *out, struct tq_error *err);

/* ---- copying tables ---- */

/*
 * One table as `copy` moves it: its rows are read in pages ordered by a key
 * (the first nkey columns) and written with one statement per row, keeping
 * every column, ids included.
 */
struct reports_table {
	const char *name;  /* the table, for messages */
	const char *label; /* what its rows are, for people: "orders", "keys" */
	int ncols;
	int nkey;
	const char *start[3]; /* key values below every real key */
	const char *page_sql; /* params: the nkey key values to start after, then a limit */
	const char *write_sql;
	const char *count_sql;
	/* Counts rows that make a target not empty; NULL when the table does not
	 * count (the migration history, which the target writes itself). */
	const char *occupied_sql;
	/* The target's rows are rewritten only between databases of one kind: the
	 * migration history, whose checksums are those of each kind's files. */
	bool same_kind_only;
};

/* In the order rows must be written (referenced tables first); ended by a NULL name. */
extern const struct reports_table reports_tables[];

/* A page of rows as text: vals[row * ncols + col], NULL for SQL NULL. */
struct reports_rows {
	int ncols;
	size_t n, cap;
	char **vals;
};

void reports_rows_free(struct reports_rows *r);

int reports_count(struct store_conn *c, const struct reports_table *t, int64_t *n,
                  struct tq_error *err);
/* Rows that make a target hold tokenq data (0 when t does not count). */
int reports_occupied(struct store_conn *c, const struct reports_table *t, int64_t *n,
                     struct tq_error *err);

/*
 * Reads up to limit rows of t whose key follows after (nkey values; NULL for
 * the start) into out, replacing what it held. Free out with
 * reports_rows_free.
 */
int reports_page(struct store_conn *c, const struct reports_table *t, const char *const *after,
                 int limit, struct reports_rows *out, struct tq_error *err);

/* Writes the rows into t (one round trip per page on PostgreSQL). */
int reports_write(struct store_conn *c, const struct reports_table *t,
                  const struct reports_rows *rows, struct tq_error *err);

/*
 * After rows were written with their ids: moves the id sequences past the
 * largest ids (PostgreSQL BIGSERIAL; SQLite's AUTOINCREMENT follows
 * explicit ids by itself, so there this does nothing).
 */
int reports_fix_sequences(struct store_conn *c, struct tq_error *err);

#endif
