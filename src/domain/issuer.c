/*
 * The group-commit issuer; see issuer.h for what it promises.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "domain/issuer.h"
#include "util/array.h"
#include "util/log.h"

struct job {
	struct issue_req *req;
	issue_done_fn done;
	void *ctx;
	struct job *next;
};

struct issuer {
	struct store_conn *conn;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *head, *tail;
	int stopping;
	/* keyed requests queued and running (a key is a venue's) */
	struct issue_req **keys;
	size_t nkeys, capkeys;
	long long batches, orders;
};

static int key_in_flight(struct issuer *is, const struct issue_req *req)
{
	size_t i;

	for (i = 0; i < is->nkeys; i++)
		if (is->keys[i]->venue_id == req->venue_id &&
		    strcmp(is->keys[i]->idem_key, req->idem_key) == 0)
			return 1;
	return 0;
}

static int key_add(struct issuer *is, struct issue_req *req)
{
	if (array_grow((void **)&is->keys, sizeof(*is->keys), is->nkeys + 1, &is->capkeys) != 0)
		return -1;
	is->keys[is->nkeys++] = req;
	return 0;
}

static void key_remove(struct issuer *is, const struct issue_req *req)
{
	size_t i;

	for (i = 0; i < is->nkeys; i++) {
		if (is->keys[i] == req) {
			is->keys[i] = is->keys[--is->nkeys];
			return;
		}
	}
}

static void run_batch(struct issuer *is, struct job **jobs, size_t n)
{
	struct issue_req *reqs[ISSUER_MAX_BATCH];
	struct tq_error err;
	size_t i;

	for (i = 0; i < n; i++)
		reqs[i] = jobs[i]->req;
	tq_error_clear(&err);
	if (store_issue_batch(is->conn, reqs, n, &err) != 0) {
		for (i = 0; i < n; i++) {
			/* Alone, or while the database is away, there is nothing to retry. */
			if (n == 1 || err.status == TQ_UNAVAILABLE ||
			    store_issue_batch(is->conn, &reqs[i], 1, &reqs[i]->err) != 0) {
				reqs[i]->outcome = ISSUE_FAILED;
				if (n == 1 || err.status == TQ_UNAVAILABLE)
					reqs[i]->err = err;
			}
		}
		if (err.status != TQ_UNAVAILABLE)
			log_warn("msg=\"batch failed, orders retried one by one\" orders=%zu "
			         "error=\"%s\"",
			         n, err.detail);
	}
	pthread_mutex_lock(&is->lock);
	is->batches++;
	for (i = 0; i < n; i++) {
		if (reqs[i]->outcome == ISSUE_CREATED)
			is->orders++;
		if (reqs[i]->idem_key != NULL)
			key_remove(is, reqs[i]);
	}
	pthread_mutex_unlock(&is->lock);
	for (i = 0; i < n; i++) {
		jobs[i]->done(jobs[i]->req, jobs[i]->ctx);
		free(jobs[i]);
	}
}

static void *issuer_main(void *arg)
{
	struct issuer *is = arg;
	struct job *jobs[ISSUER_MAX_BATCH];

	pthread_mutex_lock(&is->lock);
	for (;;) {
		size_t n = 0;

		while (is->head == NULL && !is->stopping)
			pthread_cond_wait(&is->wake, &is->lock);
		if (is->head == NULL)
			break;
		while (is->head != NULL && n < ISSUER_MAX_BATCH) {
			jobs[n++] = is->head;
			is->head = is->head->next;
		}
		if (is->head == NULL)
			is->tail = NULL;
		pthread_mutex_unlock(&is->lock);
		run_batch(is, jobs, n);
		pthread_mutex_lock(&is->lock);
	}
	pthread_mutex_unlock(&is->lock);
	return NULL;
}

int issuer_start(struct store *s, struct issuer **out, struct tq_error *err)
{
	struct issuer *is = calloc(1, sizeof(*is));

	*out = NULL;
	if (is == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	if (store_connect_as(s, "issuer", &is->conn, err) != 0) {
		free(is);
		return -1;
	}
	pthread_mutex_init(&is->lock, NULL);
	pthread_cond_init(&is->wake, NULL);
	if (pthread_create(&is->thread, NULL, issuer_main, is) != 0) {
		store_disconnect(is->conn);
		pthread_mutex_destroy(&is->lock);
		pthread_cond_destroy(&is->wake);
		free(is);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "cannot start the issuer thread");
	}
	*out = is;
	return 0;
}

void issuer_stop(struct issuer *is)
{
	if (is == NULL)
		return;
	pthread_mutex_lock(&is->lock);
	is->stopping = 1;
	pthread_cond_signal(&is->wake);
	pthread_mutex_unlock(&is->lock);
	pthread_join(is->thread, NULL);
	store_disconnect(is->conn);
	pthread_mutex_destroy(&is->lock);
	pthread_cond_destroy(&is->wake);
	free(is->keys);
	free(is);
}

void issuer_submit(struct issuer *is, struct issue_req *req, issue_done_fn done, void *ctx)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		req->outcome = ISSUE_FAILED;
		tq_fail(&req->err, TQ_INTERNAL, "internal", "", "out of memory");
		done(req, ctx);
		return;
	}
	j->req = req;
	j->done = done;
	j->ctx = ctx;
	pthread_mutex_lock(&is->lock);
	if (req->idem_key != NULL && (key_in_flight(is, req) || key_add(is, req) != 0)) {
		pthread_mutex_unlock(&is->lock);
		free(j);
		req->outcome = ISSUE_FAILED;
		tq_fail(&req->err, TQ_CONFLICT, "idempotency_key_in_use", "Idempotency-Key",
		        "a request with this Idempotency-Key is still running; retry in a moment");
		done(req, ctx);
		return;
	}
	if (is->tail)
		is->tail->next = j;
	else
		is->head = j;
	is->tail = j;
	pthread_cond_signal(&is->wake);
	pthread_mutex_unlock(&is->lock);
}

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
};

static void wake_waiter(struct issue_req *req, void *ctx)
{
	struct waiter *w = ctx;

	(void)req;
	pthread_mutex_lock(&w->lock);
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void issuer_issue(struct issuer *is, struct issue_req *req)
{
	struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

	issuer_submit(is, req, wake_waiter, &w);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
}

void issuer_counts(struct issuer *is, long long *batches, long long *orders)
{
	pthread_mutex_lock(&is->lock);
	*batches = is->batches;
	*orders = is->orders;
	pthread_mutex_unlock(&is->lock);
}
