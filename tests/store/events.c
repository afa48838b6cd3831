/*
 * The store contract suite: event ids follow commit order.
 */
#include "contract.h"

/* ---- 5. event ids follow commit order ---- */

#define EV_WRITERS 8
#define EV_OPS     120

struct ev_shared {
	struct db *db;
	struct issuer *is;
	const struct order_input *in;
	int64_t ids[40]; /* orders whose status the writers move */
	int done;        /* writers finished (atomic) */
	pthread_barrier_t bar;
};

struct ev_writer {
	struct ev_shared *sh;
	unsigned seed;
	int created, moved, refused, failed;
	char error[300];
};

struct ev_reader {
	struct ev_shared *sh;
	int64_t last, seen, polls;
	int bad;
	char error[300];
};

static void *ev_writer_thread(void *arg)
{
	static const enum order_status targets[] = {ST_PREPARING, ST_READY, ST_COMPLETED,
	                                            ST_CANCELLED};
	struct ev_writer *w = arg;
	struct store_conn *c = NULL;
	struct tq_error err;
	int i;

	if (store_connect(w->sh->db->s, &c, &err) != 0) {
		snprintf(w->error, sizeof(w->error), "connect: %s", err.detail);
		w->failed++;
	}
	pthread_barrier_wait(&w->sh->bar);
	for (i = 0; c != NULL && i < EV_OPS; i++) {
		unsigned op = (unsigned)rand_r(&w->seed) % 4;
		struct issue_req r, *rp = &r;
		struct order o;
		int rc;

		tq_error_clear(&err);
		if (op == 0 || op == 1) {
			req_init(&r, w->sh->in, "2030-09-01", NULL, NULL);
			if (op == 0)
				issuer_issue(w->sh->is, &r);
			else if (store_issue_batch(c, &rp, 1, &err) != 0) {
				r.outcome = ISSUE_FAILED;
				r.err = err;
			}
			if (r.outcome == ISSUE_CREATED) {
				w->created++;
				continue;
			}
			err = r.err;
		} else {
			int64_t id = w->sh->ids[(unsigned)rand_r(&w->seed) % 40];
			bool recall = (unsigned)rand_r(&w->seed) % 5 == 0;
			enum order_status to = targets[(unsigned)rand_r(&w->seed) % 4];
			rc = orders_change(c, 1, id, to, recall, now_ms(), &o, &err);
			if (rc == 0) {
				order_release(&o);
				w->moved++;
				continue;
			}
			if (err.status == TQ_CONFLICT &&
			    strcmp(err.code, "invalid_transition") == 0) {
				w->refused++;
				continue;
			}
		}
		if (w->failed++ == 0)
			snprintf(w->error, sizeof(w->error), "%s: %s", err.code ? err.code : "?",
			         err.detail);
	}
	store_disconnect(c);
	return NULL;
}

static void *ev_reader_thread(void *arg)
{
	struct ev_reader *rd = arg;
	struct store_conn *c = NULL;
	struct tq_error err;

	if (store_connect(rd->sh->db->s, &c, &err) != 0) {
		snprintf(rd->error, sizeof(rd->error), "connect: %s", err.detail);
		rd->bad = 1;
	}
	pthread_barrier_wait(&rd->sh->bar);
	while (c != NULL && !rd->bad) {
		int done = __atomic_load_n(&rd->sh->done, __ATOMIC_ACQUIRE);
		struct event *ev;
		size_t n, i;

		if (store_events_after(c, 1, rd->last, 1000, &ev, &n, &err) != 0) {
			snprintf(rd->error, sizeof(rd->error), "events_after: %s", err.detail);
			rd->bad = 1;
			break;
		}
		rd->polls++;
		for (i = 0; i < n; i++) {
			/* the venue's next: its count times 2^16 plus the venue */
			if (ev[i].id != store_event_id(1, rd->last / STORE_VENUE_IDS + 1)) {
				snprintf(rd->error, sizeof(rd->error),
				         "after event %" PRId64 " the next one read was %" PRId64
				         " (poll %" PRId64 ")",
				         rd->last, ev[i].id, rd->polls);
				rd->bad = 1;
				break;
			}
			rd->last = ev[i].id;
			rd->seen++;
		}
		free(ev);
		if (done && n == 0)
			break;
		if (n == 0)
			usleep(200);
	}
	store_disconnect(c);
	return NULL;
}

struct ev_thread {
	int reader;
	union {
		struct ev_writer w;
		struct ev_reader r;
	} u;
};

static void *ev_thread(void *arg)
{
	struct ev_thread *t = arg;

	return t->reader ? ev_reader_thread(&t->u.r) : ev_writer_thread(&t->u.w);
}

void test_event_order(void **state)
{
	static const char ev_sql[] = "SELECT count(*), min(id), max(id) FROM events";
	static const char counter_sql[] = "SELECT last FROM event_counters WHERE venue_id = 1";
	static const char creation_sql[] =
	    "SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM events e WHERE e.order_id = "
	    "o.id AND e.previous_status IS NULL) <> 1";
	struct db *d = *state;
	struct order_input in;
	struct ev_shared sh;
	struct ev_thread *t = calloc(EV_WRITERS + 1, sizeof(*t));
	pthread_t th[EV_WRITERS + 1];
	struct tq_error err;
	struct ints e;
	int i, created = 40, moved = 0, failed = 0;

	assert_non_null(t);
	memset(&sh, 0, sizeof(sh));
	make_input("A", NULL, &in);
	sh.db = d;
	sh.in = &in;
	for (i = 0; i < 40; i++) {
		int rc;
		struct issue_req r = issue1(d->c, &in, "2030-09-01", NULL, NULL, &rc);
		assert_int_equal(rc, 0);
		sh.ids[i] = r.order_id;
	}
	assert_int_equal(issuer_start(d->s, &sh.is, &err), 0);
	pthread_barrier_init(&sh.bar, NULL, EV_WRITERS + 1);
	for (i = 0; i <= EV_WRITERS; i++) {
		t[i].reader = i == EV_WRITERS;
		if (t[i].reader)
			t[i].u.r.sh = &sh;
		else {
			t[i].u.w.sh = &sh;
			t[i].u.w.seed = 1234u + (unsigned)i;
		}
		assert_int_equal(pthread_create(&th[i], NULL, ev_thread, &t[i]), 0);
	}
	for (i = 0; i < EV_WRITERS; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&sh.done, 1, __ATOMIC_RELEASE);
	pthread_join(th[EV_WRITERS], NULL);
	issuer_stop(sh.is);
	pthread_barrier_destroy(&sh.bar);

	for (i = 0; i < EV_WRITERS; i++) {
		created += t[i].u.w.created;
		moved += t[i].u.w.moved;
		failed += t[i].u.w.failed;
		if (t[i].u.w.failed)
			fail_msg("writer %d: %d failures: %s", i, t[i].u.w.failed, t[i].u.w.error);
	}
	if (t[EV_WRITERS].u.r.bad)
		fail_msg("reader: %s", t[EV_WRITERS].u.r.error);
	assert_int_equal(failed, 0);
	assert_true(moved > 0);
	e = q(d->c, ev_sql, 0, NULL);
	/* the venue's counts 1..N without gaps, one per creation and per change */
	assert_int_equal(e.v[0], created + moved);
	assert_int_equal(e.v[1], store_event_id(1, 1));
	assert_int_equal(e.v[2], store_event_id(1, e.v[0]));
	assert_int_equal(q1(d->c, counter_sql, 0, NULL), e.v[0]);
	/* the reader saw every one exactly once, in order */
	assert_int_equal(t[EV_WRITERS].u.r.seen, e.v[0]);
	assert_int_equal(t[EV_WRITERS].u.r.last, e.v[2]);
	assert_int_equal(q1(d->c, creation_sql, 0, NULL), 0);
	expect_gapless(d->c, "A", "2030-09-01", created);
	{
		int64_t last;
		assert_int_equal(store_last_event_id(d->c, 1, &last, &err), 0);
		assert_int_equal(last, e.v[2]);
	}
	input_release(&in);
	free(t);
}
