/*
 * The store contract suite: what every backend promises ("One
 * contract test suite runs against both backends"), run against the backend
 * named by TOKENQ_TEST_BACKEND (sqlite or postgresql; PostgreSQL needs
 * TOKENQ_TEST_PG, the URL of a server on which databases may be created).
 *
 * Every test gets a fresh database (SQLite: a file in a temporary directory;
 * PostgreSQL: CREATE DATABASE, dropped WITH (FORCE) afterwards), migrated
 * with migrate_apply unless the test is about migrations. Concurrency is
 * real: pthreads, each with its own store_conn, released together by a
 * barrier. Results are checked in the database itself, with SQL run through
 * the backend's own primitives. Threads never assert: they record what
 * happened and the main thread checks it.
 *
 * The files: contract_main.c lists the tests in the order they run; fixture.c and
 * threads.c hold the helpers declared here; each other file holds the tests of one
 * promise (issue.c, idempotency.c, events.c, status.c, reads.c, operations.c,
 * migrations.c, keys.c).
 */
#ifndef TOKENQ_TESTS_STORE_CONTRACT_H
#define TOKENQ_TESTS_STORE_CONTRACT_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "domain/issuer.h"
#include "domain/orders.h"
#include "domain/order.h"
#include "domain/status.h"
#include "store/migrate.h"
#include "store/reports.h"
#include "store/store-internal.h"
#include "store/store.h"
#include "util/config.h"
#include "util/embed.h"
#include "util/log.h"
#include "util/num.h"
#include "util/sha256.h"

extern const char *backend;    /* "sqlite" or "postgresql" */
extern const char *pg_admin;   /* TOKENQ_TEST_PG */
extern PGconn *admin;          /* for CREATE/DROP DATABASE */
extern struct config cfg;      /* queues A..F */
extern const char idem_body[]; /* a request body for Idempotency-Key tests */

/* One test's database. */
struct db {
	char url[1200];
	char name[64]; /* PostgreSQL database */
	char dir[64];  /* SQLite temporary directory */
	struct store *s;
	struct store_conn *c;
};

/* Up to 8 integers of the first row (-1 for NULL), and the number of rows. */
struct ints {
	int64_t v[8];
	int rows;
};

struct run_result {
	int created, replayed, failed;
	double seconds;
	int64_t p50, p99, max; /* latency of one order, ms */
	int64_t first_id;      /* the id of the first created order */
	char error[300];
};

/* fixture.c */
double seconds_since(int64_t start_ms);
int db_create(struct db **out);
void db_destroy(struct db *d);
int setup_empty(void **state);
int setup_migrated(void **state);
int teardown(void **state);
struct ints q(struct store_conn *c, const char *sql, int np, const char *const *p);
int64_t q1(struct store_conn *c, const char *sql, int np, const char *const *p);
void expect_gapless(struct store_conn *c, const char *queue, const char *date, int64_t n);
int64_t count_orders(struct store_conn *c);
int64_t count_events(struct store_conn *c);
int table_exists(struct store_conn *c, const char *table);
void input_release(struct order_input *in);
void make_input(const char *queue, const char *note, struct order_input *in);
void req_init(struct issue_req *r, const struct order_input *in, const char *date, const char *key,
              const char *body);
struct issue_req issue1(struct store_conn *c, const struct order_input *in, const char *date,
                        const char *key, const char *body, int *rc);
int64_t issue_ok(struct store_conn *c, const struct order_input *in, const char *date);

/* threads.c */
void run_threads(int n, void *(*fn)(void *), void *arr, size_t size);
struct run_result run_issuers(struct db *d, struct issuer *is, int nthreads, int count,
                              const struct order_input *in, const char *date, const char *key,
                              const char *body, int64_t *seqs_out, int64_t *ids_out,
                              enum tq_status *status_out, const char **code_out);
void expect_permutation(const int64_t *seqs, int64_t n);

/* issue.c */
void test_load_issuer(void **state);
void test_load_direct(void **state);
void test_first_of_day(void **state);
void test_fault_no_gap(void **state);
void test_fault_issuer(void **state);
void test_mixed_batch(void **state);
void test_mixed_issuer(void **state);
void test_batches_cross_queues(void **state);

/* idempotency.c */
void test_idempotency_direct(void **state);
void test_idempotency_same_batch(void **state);
void test_idempotency_issuer(void **state);

/* events.c */
void test_event_order(void **state);

/* status.c */
void test_status_changes(void **state);
void test_concurrent_patches(void **state);

/* reads.c */
void test_reads(void **state);
void test_many_statements(void **state);

/* operations.c */
void test_day_stats(void **state);
void test_copy_tables(void **state);

/* migrations.c */
void test_migrate_fresh(void **state);
void test_migrate_concurrent(void **state);
void test_migrate_failure(void **state);
void test_migrate_drift(void **state);
void test_migrate_newer(void **state);
void test_migrate_serve_new(void **state);
void test_migrate_pending(void **state);
void test_migrate_foreign(void **state);
void test_migrate_name_taken(void **state);

/* keys.c */
void test_keys(void **state);
void test_open_and_ping(void **state);

#endif
