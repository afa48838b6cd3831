/*
 * The SQLite limit for one order per transaction, on tokenq's real schema:
 * N threads, each with its own connection (WAL, synchronous=FULL, foreign
 * keys on, busy timeout, as tokenq opens it), each looping
 *   BEGIN IMMEDIATE; counter upsert; insert order; take an event id;
 *   insert the event; COMMIT
 * for SECONDS, then checks that the day's numbers are exactly 1..N.
 *
 *   sqlite_baseline PATH THREADS SECONDS [DATE]
 * PATH must hold a migrated tokenq database (tokenq migrate --database
 * sqlite:PATH). Prints one line:
 *   SQLITEJSON
 * {"threads":8,"orders":1234,"seconds":5.00,"ops":246.8,"busy_errors":0,"gapless":true}
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *path;
static const char *date = "2026-01-01";
static double deadline;
static atomic_long total_orders, busy_errors;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die_db(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite_baseline: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		die_db(db, "prepare");
	return st;
}

/* Steps a statement to its end; returns the first column of its first row. */
static int run(sqlite3_stmt *st, long long *out)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (out)
			*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void *worker(void *arg)
{
	sqlite3 *db;
	sqlite3_stmt *begin, *counter, *order, *evid, *event, *commit, *rollback;
	unsigned seed = (unsigned)(size_t)arg * 2654435761u;
	long n = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		die_db(db, "open");
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_exec(
	        db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
	        NULL, NULL, NULL) != SQLITE_OK)
		die_db(db, "pragma");
	begin = prep(db, "BEGIN IMMEDIATE");
	counter =
	    prep(db, "INSERT INTO counters (queue, business_date, last) VALUES ('A', ?1, 1) "
	             "ON CONFLICT (queue, business_date) DO UPDATE SET last = counters.last + 1 "
	             "RETURNING last");
	order =
	    prep(db, "INSERT INTO orders (queue, business_date, sequence, status, items, total, "
	             "note, created_at, updated_at) VALUES ('A', ?1, ?2, 'PENDING', ?3, ?4, NULL, "
	             "?5, ?5) RETURNING id");
	evid = prep(db, "UPDATE event_counter SET last = last + 1 WHERE one = 1 RETURNING last");
	event = prep(db, "INSERT INTO events (id, order_id, kind, status, previous_status, at) "
	                 "VALUES (?1, ?2, 'token', 'PENDING', NULL, ?3)");
	commit = prep(db, "COMMIT");
	rollback = prep(db, "ROLLBACK");
	sqlite3_bind_text(counter, 1, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(order, 1, date, -1, SQLITE_STATIC);

	while (now_s() < deadline) {
		char items[160];
		long long seq = 0, id = 0, ev = 0, t = now_ms();
		int q = (int)(rand_r(&seed) % 5) + 1;

		if (run(begin, NULL) != SQLITE_OK) {
			atomic_fetch_add(&busy_errors, 1);
			continue;
		}
		snprintf(items, sizeof(items),
		         "[{\"name\":\"Masala tea\",\"quantity\":%d,\"unit_price\":150},"
		         "{\"name\":\"Plain dosa\",\"quantity\":1,\"unit_price\":650}]",
		         q);
		sqlite3_bind_int64(order, 2, 0);
		if (run(counter, &seq) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(order, 2, seq);
		sqlite3_bind_text(order, 3, items, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(order, 4, 150 * q + 650);
		sqlite3_bind_int64(order, 5, t);
		if (run(order, &id) != SQLITE_OK || run(evid, &ev) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(event, 1, ev);
		sqlite3_bind_int64(event, 2, id);
		sqlite3_bind_int64(event, 3, t);
		if (run(event, NULL) != SQLITE_OK || run(commit, NULL) != SQLITE_OK)
			goto fail;
		n++;
		continue;
	fail:
		atomic_fetch_add(&busy_errors, 1);
		run(rollback, NULL);
	}
	atomic_fetch_add(&total_orders, n);
	sqlite3_finalize(begin);
	sqlite3_finalize(counter);
	sqlite3_finalize(order);
	sqlite3_finalize(evid);
	sqlite3_finalize(event);
	sqlite3_finalize(commit);
	sqlite3_finalize(rollback);
	sqlite3_close(db);
	return NULL;
}

/* The day's numbers are exactly 1..N: count = distinct = max, min = 1. */
static int gapless(void)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int ok = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die_db(db, "open");
	if (sqlite3_prepare_v2(
	        db,
	        "SELECT count(*) = count(DISTINCT sequence) AND count(*) = max(sequence) "
	        "AND min(sequence) = 1 FROM orders WHERE queue = 'A' AND business_date = ?1",
	        -1, &st, NULL) != SQLITE_OK)
		die_db(db, "prepare check");
	sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		ok = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ok;
}

int main(int argc, char **argv)
{
	pthread_t *th;
	int n, secs, i;
	double t0, t1;

	if (argc < 4) {
		fprintf(stderr, "usage: sqlite_baseline PATH THREADS SECONDS [DATE]\n");
		return 2;
	}
	path = argv[1];
	n = (int)strtol(argv[2], NULL, 10);
	secs = (int)strtol(argv[3], NULL, 10);
	if (argc > 4)
		date = argv[4];
	if (n < 1 || n > 1024 || secs < 1) {
		fprintf(stderr, "sqlite_baseline: bad THREADS or SECONDS\n");
		return 2;
	}
	th = calloc((size_t)n, sizeof(*th));
	t0 = now_s();
	deadline = t0 + secs;
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(size_t)(i + 1)) != 0) {
			fprintf(stderr, "sqlite_baseline: cannot start thread\n");
			return 1;
		}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	free(th);
	printf("SQLITEJSON {\"threads\":%d,\"orders\":%ld,\"seconds\":%.2f,\"ops\":%.1f,"
	       "\"busy_errors\":%ld,\"gapless\":%s}\n",
	       n, (long)total_orders, t1 - t0, (double)total_orders / (t1 - t0), (long)busy_errors,
	       gapless() ? "true" : "false");
	return 0;
}
