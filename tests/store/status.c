/*
 * The store contract suite: status changes, one by one and from many connections at once.
 */
#include "contract.h"

/* ---- 6. status changes ---- */

static void expect_event(const struct event *e, enum event_kind kind, enum order_status st,
                         int prev, int64_t at)
{
	assert_int_equal(e->kind, kind);
	assert_int_equal(e->status, st);
	assert_int_equal(e->previous_status, prev);
	if (at >= 0)
		assert_int_equal(e->at, at);
}

static void expect_refused(struct store_conn *c, int64_t id, enum order_status to, bool recall)
{
	struct order o;
	struct tq_error err;

	tq_error_clear(&err);
	if (orders_change(c, 1, id, to, recall, 5000000, &o, &err) == 0)
		fail_msg("order %" PRId64 ": %s to %s was allowed", id, recall ? "recall" : "move",
		         status_name(to));
	assert_int_equal(err.status, TQ_CONFLICT);
	assert_string_equal(err.code, "invalid_transition");
}

void test_status_changes(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct order o;
	struct event *ev;
	struct tq_error err;
	size_t n;
	int64_t id, id2, before;
	int rc;
	struct issue_req r;

	make_input("A", "no onion", &in);
	r = issue1(d->c, &in, "2030-10-01", NULL, NULL, &rc);
	assert_int_equal(rc, 0);
	id = r.order_id;
	assert_int_equal(store_get_order(d->c, 1, id, &o, &err), 0);
	assert_int_equal(o.status, ST_PENDING);
	assert_int_equal(o.sequence, 1);
	assert_string_equal(o.queue, "A");
	assert_string_equal(o.business_date, "2030-10-01");
	assert_string_equal(o.items_json, in.items_json);
	assert_int_equal(o.total, in.total);
	assert_string_equal(o.note, "no onion");
	assert_int_equal(o.created_at, r.now);
	assert_int_equal(o.updated_at, r.now);
	assert_int_equal(o.ready_at, 0);
	order_release(&o);

	expect_refused(d->c, id, ST_PENDING, false); /* to itself */
	expect_refused(d->c, id, ST_READY, true);    /* recall before READY */
	assert_int_equal(orders_change(d->c, 1, id, ST_PREPARING, false, 1000, &o, &err), 0);
	assert_int_equal(o.status, ST_PREPARING);
	assert_int_equal(o.updated_at, 1000);
	assert_int_equal(o.ready_at, 0);
	order_release(&o);
	expect_refused(d->c, id, ST_PREPARING, false);
	expect_refused(d->c, id, ST_PENDING, false); /* backwards */
	expect_refused(d->c, id, ST_PREPARING, true);
	assert_int_equal(orders_change(d->c, 1, id, ST_READY, false, 2000, &o, &err), 0);
	assert_int_equal(o.status, ST_READY);
	assert_int_equal(o.ready_at, 2000);
	order_release(&o);
	/* recall: an event, a new updated_at, the same status and ready_at */
	assert_int_equal(orders_change(d->c, 1, id, ST_READY, true, 3000, &o, &err), 0);
	assert_int_equal(o.status, ST_READY);
	assert_int_equal(o.updated_at, 3000);
	assert_int_equal(o.ready_at, 2000);
	order_release(&o);
	expect_refused(d->c, id, ST_PREPARING, false);
	assert_int_equal(orders_change(d->c, 1, id, ST_COMPLETED, false, 4000, &o, &err), 0);
	assert_int_equal(o.status, ST_COMPLETED);
	assert_int_equal(o.ready_at, 2000); /* set once */
	order_release(&o);
	expect_refused(d->c, id, ST_CANCELLED, false); /* final */
	expect_refused(d->c, id, ST_READY, true);

	assert_int_equal(store_order_history(d->c, 1, id, &ev, &n, &err), 0);
	assert_int_equal(n, 5);
	expect_event(&ev[0], EV_TOKEN, ST_PENDING, -1, r.now);
	expect_event(&ev[1], EV_TOKEN, ST_PREPARING, ST_PENDING, 1000);
	expect_event(&ev[2], EV_TOKEN, ST_READY, ST_PREPARING, 2000);
	expect_event(&ev[3], EV_RECALL, ST_READY, ST_READY, 3000);
	expect_event(&ev[4], EV_TOKEN, ST_COMPLETED, ST_READY, 4000);
	assert_true(ev[0].id < ev[1].id && ev[1].id < ev[2].id && ev[2].id < ev[3].id &&
	            ev[3].id < ev[4].id);
	assert_int_equal(ev[4].order_id, id);
	assert_string_equal(ev[4].queue, "A");
	assert_string_equal(ev[4].business_date, "2030-10-01");
	assert_int_equal(ev[4].sequence, 1);
	free(ev);

	/* skips and cancellation */
	r = issue1(d->c, &in, "2030-10-01", NULL, NULL, &rc);
	id2 = r.order_id;
	assert_int_equal(r.sequence, 2);
	assert_int_equal(orders_change(d->c, 1, id2, ST_READY, false, 6000, &o, &err), 0);
	assert_int_equal(o.ready_at, 6000);
	order_release(&o);
	assert_int_equal(orders_change(d->c, 1, id2, ST_CANCELLED, false, 7000, &o, &err), 0);
	assert_int_equal(o.status, ST_CANCELLED);
	assert_int_equal(o.ready_at, 6000);
	order_release(&o);
	expect_refused(d->c, id2, ST_COMPLETED, false);
	r = issue1(d->c, &in, "2030-10-01", NULL, NULL, &rc);
	assert_int_equal(orders_change(d->c, 1, r.order_id, ST_COMPLETED, false, 8000, &o, &err),
	                 0);
	order_release(&o);

	/* unknown orders, and a refusal writes nothing */
	before = count_events(d->c);
	tq_error_clear(&err);
	assert_int_equal(orders_change(d->c, 1, 999999, ST_READY, false, 1, &o, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	assert_int_equal(orders_change(d->c, 1, 999999, ST_READY, true, 1, &o, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	assert_int_equal(store_get_order(d->c, 1, 999999, &o, &err), -1);
	assert_int_equal(err.status, TQ_NOT_FOUND);
	expect_refused(d->c, id, ST_READY, false);
	assert_int_equal(count_events(d->c), before);
	input_release(&in);
}

/* Concurrent PATCHes of one order to different targets never make an invalid chain. */
#define PATCH_THREADS 8
#define PATCH_ROUNDS  15

struct patch_shared {
	struct db *db;
	int64_t id; /* this round's order */
	pthread_barrier_t start, end;
};

struct patch_worker {
	struct patch_shared *sh;
	int index, ok, refused, failed;
	char error[300];
};

static void *patch_thread(void *arg)
{
	static const enum order_status targets[] = {ST_PREPARING, ST_READY, ST_COMPLETED,
	                                            ST_CANCELLED};
	struct patch_worker *w = arg;
	struct store_conn *c = NULL;
	struct tq_error err;
	struct order o;
	int round;

	if (store_connect(w->sh->db->s, &c, &err) != 0) {
		snprintf(w->error, sizeof(w->error), "connect: %s", err.detail);
		w->failed++;
	}
	for (round = 0; round < PATCH_ROUNDS; round++) {
		pthread_barrier_wait(&w->sh->start);
		if (c != NULL) {
			enum order_status to = targets[(w->index + round) % 4];
			if (orders_change(c, 1, w->sh->id, to, false, now_ms(), &o, &err) == 0) {
				order_release(&o);
				w->ok++;
			} else if (err.status == TQ_CONFLICT &&
			           strcmp(err.code, "invalid_transition") == 0) {
				w->refused++;
			} else if (w->failed++ == 0) {
				snprintf(w->error, sizeof(w->error), "%s: %s", err.code,
				         err.detail);
			}
		}
		pthread_barrier_wait(&w->sh->end);
	}
	store_disconnect(c);
	return NULL;
}

void test_concurrent_patches(void **state)
{
	struct db *d = *state;
	struct order_input in;
	struct patch_shared sh;
	struct patch_worker w[PATCH_THREADS];
	pthread_t th[PATCH_THREADS];
	struct tq_error err;
	int i, round, ok_before = 0;

	make_input("B", NULL, &in);
	memset(&sh, 0, sizeof(sh));
	memset(w, 0, sizeof(w));
	sh.db = d;
	pthread_barrier_init(&sh.start, NULL, PATCH_THREADS + 1);
	pthread_barrier_init(&sh.end, NULL, PATCH_THREADS + 1);
	for (i = 0; i < PATCH_THREADS; i++) {
		w[i].sh = &sh;
		w[i].index = i;
		assert_int_equal(pthread_create(&th[i], NULL, patch_thread, &w[i]), 0);
	}
	for (round = 0; round < PATCH_ROUNDS; round++) {
		struct event *ev;
		struct order o;
		size_t n, k;
		int rc, ok = 0;
		struct issue_req r = issue1(d->c, &in, "2030-10-02", NULL, NULL, &rc);

		if (rc != 0)
			break;
		sh.id = r.order_id;
		pthread_barrier_wait(&sh.start);
		pthread_barrier_wait(&sh.end);
		for (i = 0; i < PATCH_THREADS; i++)
			ok += w[i].ok;
		ok -= ok_before;
		ok_before += ok;
		/* the history is a valid chain from PENDING, one event per successful move */
		if (store_order_history(d->c, 1, sh.id, &ev, &n, &err) != 0 ||
		    store_get_order(d->c, 1, sh.id, &o, &err) != 0)
			break;
		if (n != (size_t)ok + 1)
			fail_msg("round %d: %d moves succeeded but the history has %zu events",
			         round, ok, n);
		if (ev[0].status != ST_PENDING || ev[0].previous_status != -1)
			fail_msg("round %d: the first event is not the creation", round);
		for (k = 1; k < n; k++) {
			if (ev[k].previous_status != (int)ev[k - 1].status ||
			    !status_can_move((enum order_status)ev[k].previous_status,
			                     ev[k].status))
				fail_msg("round %d: event %zu goes %s -> %s after %s", round, k,
				         ev[k].previous_status >= 0
				             ? status_name((enum order_status)ev[k].previous_status)
				             : "null",
				         status_name(ev[k].status), status_name(ev[k - 1].status));
		}
		assert_int_equal(o.status, ev[n - 1].status);
		assert_true(ok >= 1); /* someone always wins */
		free(ev);
		order_release(&o);
	}
	/* let the threads finish whatever rounds remain */
	for (; round < PATCH_ROUNDS; round++) {
		pthread_barrier_wait(&sh.start);
		pthread_barrier_wait(&sh.end);
	}
	for (i = 0; i < PATCH_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&sh.start);
	pthread_barrier_destroy(&sh.end);
	for (i = 0; i < PATCH_THREADS; i++)
		if (w[i].failed)
			fail_msg("thread %d: %s", i, w[i].error);
	input_release(&in);
}
