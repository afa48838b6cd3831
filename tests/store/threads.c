/*
 * The store contract suite: threads that issue orders together, released by a barrier, and the
 * checks on the numbers they got.
 */
#include "contract.h"

/* ---- threads ---- */

void run_threads(int n, void *(*fn)(void *), void *arr, size_t size)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	int i;

	assert_non_null(t);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fn, (char *)arr + (size_t)i * size),
		                 0);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* A thread that issues count orders, through the issuer or on its own connection. */
struct issuer_worker {
	struct db *db;
	struct issuer *is; /* NULL: store_issue_batch(n=1) on an own connection */
	const struct order_input *in;
	const char *date;
	const char *key, *body; /* Idempotency-Key and the body it hashes, or NULL */
	int count;
	pthread_barrier_t *bar;
	/* out, count entries each */
	int64_t *seq, *id, *lat;
	enum issue_outcome *outcome;
	enum tq_status *status;
	const char **code;
	char error[300];
};

static void *issue_thread(void *arg)
{
	struct issuer_worker *w = arg;
	struct store_conn *c = NULL;
	struct tq_error err;
	int i;

	tq_error_clear(&err);
	if (w->is == NULL && store_connect(w->db->s, &c, &err) != 0)
		snprintf(w->error, sizeof(w->error), "connect: %s", err.detail);
	pthread_barrier_wait(w->bar);
	for (i = 0; i < w->count; i++) {
		struct issue_req r, *rp = &r;
		int64_t t0 = mono_ms();

		req_init(&r, w->in, w->date, w->key, w->body);
		if (w->is != NULL) {
			issuer_issue(w->is, &r);
		} else if (c == NULL) {
			r.outcome = ISSUE_FAILED;
			r.err = err;
		} else if (store_issue_batch(c, &rp, 1, &err) != 0) {
			r.outcome = ISSUE_FAILED;
			r.err = err;
		}
		w->lat[i] = mono_ms() - t0;
		w->seq[i] = r.outcome == ISSUE_CREATED ? r.sequence : 0;
		w->id[i] = r.order_id;
		w->outcome[i] = r.outcome;
		w->status[i] = r.err.status;
		w->code[i] = r.err.code;
		if (r.outcome == ISSUE_FAILED && w->error[0] == '\0')
			snprintf(w->error, sizeof(w->error), "%s: %s",
			         r.err.code ? r.err.code : "?", r.err.detail);
	}
	store_disconnect(c);
	return NULL;
}

/* Runs nthreads issuing threads of count orders each, released together; frees everything. */
struct run_result run_issuers(struct db *d, struct issuer *is, int nthreads, int count,
                              const struct order_input *in, const char *date, const char *key,
                              const char *body, int64_t *seqs_out, int64_t *ids_out,
                              enum tq_status *status_out, const char **code_out)
{
	struct issuer_worker *w = calloc((size_t)nthreads, sizeof(*w));
	pthread_barrier_t bar;
	struct run_result res;
	int64_t start, *lat = calloc((size_t)nthreads * (size_t)count, sizeof(int64_t));
	int i, k;

	memset(&res, 0, sizeof(res));
	assert_non_null(w);
	assert_non_null(lat);
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		w[i].db = d;
		w[i].is = is;
		w[i].in = in;
		w[i].date = date;
		w[i].key = key;
		w[i].body = body;
		w[i].count = count;
		w[i].bar = &bar;
		w[i].seq = calloc((size_t)count, sizeof(int64_t));
		w[i].id = calloc((size_t)count, sizeof(int64_t));
		w[i].lat = calloc((size_t)count, sizeof(int64_t));
		w[i].outcome = calloc((size_t)count, sizeof(enum issue_outcome));
		w[i].status = calloc((size_t)count, sizeof(enum tq_status));
		w[i].code = calloc((size_t)count, sizeof(const char *));
		assert_true(w[i].seq && w[i].id && w[i].lat && w[i].outcome && w[i].status &&
		            w[i].code);
	}
	{
		pthread_t *t = calloc((size_t)nthreads, sizeof(*t));
		assert_non_null(t);
		for (i = 0; i < nthreads; i++)
			assert_int_equal(pthread_create(&t[i], NULL, issue_thread, &w[i]), 0);
		/* connections are made before the barrier, so they are not timed */
		pthread_barrier_wait(&bar);
		start = mono_ms();
		for (i = 0; i < nthreads; i++)
			pthread_join(t[i], NULL);
		res.seconds = seconds_since(start);
		free(t);
	}
	pthread_barrier_destroy(&bar);
	for (i = 0; i < nthreads; i++) {
		for (k = 0; k < count; k++) {
			size_t at = (size_t)i * (size_t)count + (size_t)k;
			lat[at] = w[i].lat[k];
			if (w[i].outcome[k] == ISSUE_CREATED) {
				res.created++;
				if (res.first_id == 0)
					res.first_id = w[i].id[k];
			} else if (w[i].outcome[k] == ISSUE_REPLAYED)
				res.replayed++;
			else
				res.failed++;
			if (seqs_out)
				seqs_out[at] = w[i].seq[k];
			if (ids_out)
				ids_out[at] = w[i].id[k];
			if (status_out)
				status_out[at] =
				    w[i].outcome[k] == ISSUE_FAILED ? w[i].status[k] : TQ_OK;
			if (code_out)
				code_out[at] = w[i].code[k];
		}
		if (w[i].error[0] && res.error[0] == '\0')
			memcpy(res.error, w[i].error, sizeof(res.error));
		free(w[i].seq);
		free(w[i].id);
		free(w[i].lat);
		free(w[i].outcome);
		free(w[i].status);
		free(w[i].code);
	}
	free(w);
	k = nthreads * count;
	qsort(lat, (size_t)k, sizeof(lat[0]), cmp_i64);
	res.p50 = lat[k / 2];
	res.p99 = lat[(k * 99) / 100];
	res.max = lat[k - 1];
	free(lat);
	return res;
}

/* seqs holds exactly the numbers 1..n, each once. */
void expect_permutation(const int64_t *seqs, int64_t n)
{
	unsigned char *seen = calloc((size_t)n + 1, 1);
	int64_t i;

	assert_non_null(seen);
	for (i = 0; i < n; i++) {
		if (seqs[i] < 1 || seqs[i] > n)
			fail_msg("number %" PRId64 " issued, outside 1..%" PRId64, seqs[i], n);
		if (seen[seqs[i]]++)
			fail_msg("number %" PRId64 " issued twice", seqs[i]);
	}
	free(seen);
}
