/*
 * The store contract suite: issuing orders: throughput and gapless numbers under load, the
 * first order of a fresh day, and failures that leave no gap.
 */
#include "contract.h"

/* ---- 1. throughput and gapless numbers under load ---- */

#define LOAD_THREADS 32
#define LOAD_EACH    250

void test_load_issuer(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct issuer *is;
	struct tq_error err;
	struct run_result r;
	long long batches, orders;
	int64_t *seqs = calloc(LOAD_THREADS * LOAD_EACH, sizeof(int64_t));

	assert_non_null(seqs);
	make_input("A", "load", &in);
	assert_int_equal(issuer_start(d->s, &is, &err), 0);
	r = run_issuers(d, is, LOAD_THREADS, LOAD_EACH, &in, "2030-01-01", NULL, NULL, seqs, NULL,
	                NULL, NULL);
	issuer_counts(is, &batches, &orders);
	issuer_stop(is);
	printf("throughput %s issuer: %d orders in %.2f s = %.0f orders/s (%lld batches; latency "
	       "p50 %" PRId64 " ms, p99 %" PRId64 " ms, max %" PRId64 " ms)\n",
	       backend, r.created, r.seconds, r.created / r.seconds, batches, r.p50, r.p99, r.max);
	fflush(stdout);
	if (r.failed)
		fail_msg("%d of %d orders failed: %s", r.failed, LOAD_THREADS * LOAD_EACH, r.error);
	assert_int_equal(r.created, LOAD_THREADS * LOAD_EACH);
	assert_int_equal(orders, LOAD_THREADS * LOAD_EACH);
	expect_permutation(seqs, LOAD_THREADS * LOAD_EACH);
	expect_gapless(d->c, "A", "2030-01-01", LOAD_THREADS * LOAD_EACH);
	assert_int_equal(count_events(d->c), LOAD_THREADS * LOAD_EACH);
	input_release(&in);
	free(seqs);
}

/*
 * One order per transaction from 32 connections. Every such transaction waits for the
 * previous commit (the day counter and the event counter are held to commit), so this
 * runs at one commit at a time: TOKENQ_TEST_DIRECT_EACH orders per thread (default 25,
 * the full run is 250) keep the suite short.
 */
void test_load_direct(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct run_result r;
	const char *env = getenv("TOKENQ_TEST_DIRECT_EACH");
	long each = env ? strtol(env, NULL, 10) : 25;
	int total;
	int64_t *seqs;

	if (each < 1 || each > 10000)
		each = 25;
	total = LOAD_THREADS * (int)each;
	seqs = calloc((size_t)total, sizeof(int64_t));
	assert_non_null(seqs);
	make_input("B", NULL, &in);
	r = run_issuers(d, NULL, LOAD_THREADS, (int)each, &in, "2030-01-02", NULL, NULL, seqs, NULL,
	                NULL, NULL);
	printf("throughput %s direct (one order per transaction, %d connections): %d orders in "
	       "%.2f s = %.0f orders/s (latency p50 %" PRId64 " ms, p99 %" PRId64
	       " ms, max %" PRId64 " ms)\n",
	       backend, LOAD_THREADS, r.created, r.seconds, r.created / r.seconds, r.p50, r.p99,
	       r.max);
	fflush(stdout);
	if (r.failed)
		fail_msg("%d of %d orders failed: %s", r.failed, total, r.error);
	expect_permutation(seqs, total);
	expect_gapless(d->c, "B", "2030-01-02", total);
	expect_gapless(d->c, "A", "2030-01-02", 0);
	assert_int_equal(count_events(d->c), total);
	input_release(&in);
	free(seqs);
}

/* ---- 2. the first order of a fresh day, from many connections at once ---- */

void test_first_of_day(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct run_result r;
	int64_t seqs[64];

	make_input("C", NULL, &in);
	r = run_issuers(d, NULL, 64, 1, &in, "2031-01-01", NULL, NULL, seqs, NULL, NULL, NULL);
	printf("first of day: 64 orders from 64 connections in %.2f s (latency p50 %" PRId64
	       " ms, max %" PRId64 " ms)\n",
	       r.seconds, r.p50, r.max);
	if (r.failed)
		fail_msg("%d of 64 first orders of the day failed: %s", r.failed, r.error);
	assert_int_equal(r.created, 64);
	expect_permutation(seqs, 64);
	expect_gapless(d->c, "C", "2031-01-01", 64);
	expect_gapless(d->c, "C", "2031-01-02", 0);
	input_release(&in);
}

/* ---- 3. failures leave no gap ---- */

void test_fault_no_gap(void **state)
{
	static const char keys_sql[] = "SELECT count(*) FROM idempotency_keys WHERE key = $1";
	static const char points[2][16] = {"after_counter", "after_events"};
	struct db *d = *state;
	struct order_input in;
	struct issue_req r;
	int rc, p;
	int64_t expect = 0;
	const char *kp[1] = {"fault-key"};

	make_input("A", NULL, &in);
	assert_int_equal(issue_ok(d->c, &in, "2030-03-01"), ++expect);
	for (p = 0; p < 2; p++) {
		/* fails, as a whole */
		store_fault_set(points[p]);
		r = issue1(d->c, &in, "2030-03-01", NULL, NULL, &rc);
		assert_int_equal(rc, -1);
		assert_int_not_equal(r.outcome, ISSUE_CREATED);
		assert_int_equal(r.order_id, 0);
		assert_string_equal(r.err.code, "injected_fault");
		expect_gapless(d->c, "A", "2030-03-01", expect);
		assert_int_equal(count_events(d->c), expect);
		/* the first order of a day: not even the counter row is left */
		r = issue1(d->c, &in, "2030-03-02", NULL, NULL, &rc);
		assert_int_equal(rc, -1);
		expect_gapless(d->c, "A", "2030-03-02", 0);
		/* a keyed request does not use its key up */
		r = issue1(d->c, &in, "2030-03-01", "fault-key", "body", &rc);
		assert_int_equal(rc, -1);
		assert_int_equal(q1(d->c, keys_sql, 1, kp), 0);
		/* and after it, the next number */
		store_fault_set(NULL);
		assert_int_equal(issue_ok(d->c, &in, "2030-03-01"), ++expect);
		expect_gapless(d->c, "A", "2030-03-01", expect);
		assert_int_equal(count_events(d->c), expect);
		/* the store still works after the failed transaction */
		assert_int_equal(store_ping(d->c, &r.err), 0);
	}
	assert_int_equal(issue_ok(d->c, &in, "2030-03-02"), 1);
	expect_gapless(d->c, "A", "2030-03-02", 1);
	r = issue1(d->c, &in, "2030-03-01", "fault-key", "body", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.outcome, ISSUE_CREATED); /* not a replay: the key was never used */
	assert_int_equal(r.sequence, ++expect);
	expect_gapless(d->c, "A", "2030-03-01", expect);
	input_release(&in);
}

/* A batch that fails in the issuer fails every order in it, and leaves no gap either. */
void test_fault_issuer(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct issuer *is;
	struct issue_req r;
	struct tq_error err;

	make_input("A", NULL, &in);
	assert_int_equal(issuer_start(d->s, &is, &err), 0);
	req_init(&r, &in, "2030-04-01", NULL, NULL);
	issuer_issue(is, &r);
	assert_int_equal(r.outcome, ISSUE_CREATED);
	assert_int_equal(r.sequence, 1);
	store_fault_set("after_counter");
	req_init(&r, &in, "2030-04-01", NULL, NULL);
	issuer_issue(is, &r);
	assert_int_equal(r.outcome, ISSUE_FAILED);
	assert_int_not_equal(r.err.status, TQ_OK);
	store_fault_set("after_events");
	req_init(&r, &in, "2030-04-01", NULL, NULL);
	issuer_issue(is, &r);
	assert_int_equal(r.outcome, ISSUE_FAILED);
	store_fault_set(NULL);
	req_init(&r, &in, "2030-04-01", NULL, NULL);
	issuer_issue(is, &r);
	assert_int_equal(r.outcome, ISSUE_CREATED);
	assert_int_equal(r.sequence, 2);
	issuer_stop(is);
	expect_gapless(d->c, "A", "2030-04-01", 2);
	input_release(&in);
}

/* One batch holding orders of two queues and two days numbers each (queue, day) on its own. */
void test_mixed_batch(void **state)
{
	static const char *const queues[10] = {"A", "B", "A", "A", "B", "A", "B", "A", "B", "A"};
	static const char *const dates[10] = {
	    "2030-05-01", "2030-05-01", "2030-05-02", "2030-05-01", "2030-05-02",
	    "2030-05-01", "2030-05-01", "2030-05-02", "2030-05-02", "2030-05-01"};
	struct db *d = *state;
	struct order_input a, b;
	struct issue_req reqs[10], *rp[10];
	struct tq_error err;
	int64_t next[2][2] = {{2, 1}, {1, 1}}; /* [queue A/B][day 1/2]: A 2030-05-01 has one */
	int i;

	make_input("A", NULL, &a);
	make_input("B", NULL, &b);
	assert_int_equal(issue_ok(d->c, &a, "2030-05-01"), 1);
	for (i = 0; i < 10; i++) {
		req_init(&reqs[i], queues[i][0] == 'A' ? &a : &b, dates[i], NULL, NULL);
		rp[i] = &reqs[i];
	}
	assert_int_equal(store_issue_batch(d->c, rp, 10, &err), 0);
	for (i = 0; i < 10; i++) {
		int qi = queues[i][0] == 'B', di = strcmp(dates[i], "2030-05-02") == 0;
		assert_int_equal(reqs[i].outcome, ISSUE_CREATED);
		/* in request order within each (queue, day) */
		assert_int_equal(reqs[i].sequence, next[qi][di]++);
	}
	expect_gapless(d->c, "A", "2030-05-01", 5);
	expect_gapless(d->c, "B", "2030-05-01", 2);
	expect_gapless(d->c, "A", "2030-05-02", 2);
	expect_gapless(d->c, "B", "2030-05-02", 2);
	input_release(&a);
	input_release(&b);
}

struct async_done {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
};

static void on_done(struct issue_req *req, void *ctx)
{
	struct async_done *a = ctx;

	(void)req;
	pthread_mutex_lock(&a->lock);
	a->done++;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

/* Through the issuer: many queued orders of two queues and two days, batched together. */
void test_mixed_issuer(void **state)
{
	enum { N = 400 };
	struct db *d = *state;
	struct order_input in[2];
	struct issue_req *reqs = calloc(N, sizeof(*reqs));
	struct async_done a = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	struct issuer *is;
	struct tq_error err;
	long long batches, orders;
	int i;

	assert_non_null(reqs);
	make_input("A", NULL, &in[0]);
	make_input("B", NULL, &in[1]);
	assert_int_equal(issuer_start(d->s, &is, &err), 0);
	for (i = 0; i < N; i++)
		req_init(&reqs[i], &in[i % 2], (i / 2) % 2 ? "2030-06-02" : "2030-06-01", NULL,
		         NULL);
	for (i = 0; i < N; i++)
		issuer_submit(is, &reqs[i], on_done, &a);
	pthread_mutex_lock(&a.lock);
	while (a.done < N)
		pthread_cond_wait(&a.cond, &a.lock);
	pthread_mutex_unlock(&a.lock);
	issuer_counts(is, &batches, &orders);
	issuer_stop(is);
	for (i = 0; i < N; i++)
		if (reqs[i].outcome != ISSUE_CREATED)
			fail_msg("order %d: %s", i, reqs[i].err.detail);
	assert_int_equal(orders, N);
	/* group commit did put several orders in one transaction */
	if (batches >= N)
		fail_msg("%lld batches for %d queued orders: no group commit", batches, N);
	expect_gapless(d->c, "A", "2030-06-01", N / 4);
	expect_gapless(d->c, "A", "2030-06-02", N / 4);
	expect_gapless(d->c, "B", "2030-06-01", N / 4);
	expect_gapless(d->c, "B", "2030-06-02", N / 4);
	input_release(&in[0]);
	input_release(&in[1]);
	free(reqs);
}

/*
 * Two writers issue batches holding orders of two queues, one A first and B last, the
 * other B first and A last. Whatever order the requests come in, no batch may fail: a
 * deadlock between the two (each holding one day counter and waiting for the other's)
 * would fail one. Between its first and last order each batch has MID orders of days
 * only it uses, which widens the window in which the two can cross.
 */
#define MID 12

struct cross_worker {
	struct db *db;
	const struct order_input *first, *mid, *last;
	const char *mid_month; /* "2030-08" or "2030-09": its own days */
	pthread_barrier_t *bar;
	int rounds, failed, done;
	char error[300];
};

static void *cross_thread(void *arg)
{
	struct cross_worker *w = arg;
	struct store_conn *c = NULL;
	struct tq_error err;
	char dates[MID][BIZDATE_LEN];
	int i, k;

	for (k = 0; k < MID; k++)
		snprintf(dates[k], sizeof(dates[k]), "%.7s-%02d", w->mid_month, (k + 1) % 100);
	if (store_connect(w->db->s, &c, &err) != 0) {
		snprintf(w->error, sizeof(w->error), "connect: %s", err.detail);
		w->failed = w->rounds;
	}
	pthread_barrier_wait(w->bar);
	for (i = 0; c != NULL && i < w->rounds; i++) {
		struct issue_req r[MID + 2], *rp[MID + 2];

		for (k = 0; k < MID + 2; k++)
			rp[k] = &r[k];
		req_init(&r[0], w->first, "2030-07-01", NULL, NULL);
		for (k = 0; k < MID; k++)
			req_init(&r[k + 1], w->mid, dates[k], NULL, NULL);
		req_init(&r[MID + 1], w->last, "2030-07-01", NULL, NULL);
		if (store_issue_batch(c, rp, MID + 2, &err) != 0) {
			if (w->failed++ == 0)
				snprintf(w->error, sizeof(w->error), "%s", err.detail);
			break; /* one is enough to know, and each costs a deadlock_timeout */
		}
		w->done++;
	}
	store_disconnect(c);
	return NULL;
}

void test_batches_cross_queues(void **state)
{
	enum { ROUNDS = 150 };
	struct db *d = *state;
	struct order_input a, b, c;
	struct cross_worker w[2];
	pthread_barrier_t bar;
	int i, failed = 0, done = 0;
	const char *error = "";

	make_input("A", NULL, &a);
	make_input("B", NULL, &b);
	make_input("C", NULL, &c);
	pthread_barrier_init(&bar, NULL, 2);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 2; i++) {
		w[i].db = d;
		w[i].first = i ? &b : &a;
		w[i].mid = &c;
		w[i].last = i ? &a : &b;
		w[i].mid_month = i ? "2030-09" : "2030-08";
		w[i].bar = &bar;
		w[i].rounds = ROUNDS;
	}
	run_threads(2, cross_thread, w, sizeof(w[0]));
	pthread_barrier_destroy(&bar);
	for (i = 0; i < 2; i++) {
		failed += w[i].failed;
		done += w[i].done;
		if (w[i].failed && !error[0])
			error = w[i].error;
	}
	expect_gapless(d->c, "A", "2030-07-01", done);
	expect_gapless(d->c, "B", "2030-07-01", done);
	expect_gapless(d->c, "C", "2030-08-01", w[0].done);
	expect_gapless(d->c, "C", "2030-09-12", w[1].done);
	if (failed)
		fail_msg("%d two-queue batches failed (%d committed); store.c take_numbers takes "
		         "the day counters in request order, so an A..B batch and a B..A batch "
		         "deadlock: %s",
		         failed, done, error);
	input_release(&a);
	input_release(&b);
	input_release(&c);
}
