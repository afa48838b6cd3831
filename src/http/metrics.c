/*
 * Prometheus counters. Routes are few and fixed (the route table's names),
 * so series live in a small array searched linearly under one lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http/metrics.h"

#define MAX_SERIES 128
#define NBUCKETS   10

static const double bucket_le[NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                           0.05,  0.1,    0.25,  0.5,  1.0};

struct series {
	const char *route; /* static: a route's name */
	int status;
	long long count;
};

struct latency {
	const char *route;
	long long buckets[NBUCKETS];
	long long count;
	double sum;
};

struct metrics {
	pthread_mutex_t lock;
	struct series req[MAX_SERIES];
	int nreq;
	struct latency lat[MAX_SERIES];
	int nlat;
	long long orders_created, status_changes, db_errors;
	long long stream_clients;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m != NULL)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void metrics_request(struct metrics *m, const char *route, int status, int64_t ms)
{
	double secs = (double)ms / 1000.0;
	int i, b;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nreq; i++)
		if (m->req[i].status == status && strcmp(m->req[i].route, route) == 0)
			break;
	if (i == m->nreq && m->nreq < MAX_SERIES) {
		m->req[i].route = route;
		m->req[i].status = status;
		m->nreq++;
	}
	if (i < MAX_SERIES)
		m->req[i].count++;
	for (i = 0; i < m->nlat; i++)
		if (strcmp(m->lat[i].route, route) == 0)
			break;
	if (i == m->nlat && m->nlat < MAX_SERIES) {
		m->lat[i].route = route;
		m->nlat++;
	}
	if (i < MAX_SERIES) {
		for (b = 0; b < NBUCKETS; b++)
			if (secs <= bucket_le[b])
				m->lat[i].buckets[b]++;
		m->lat[i].count++;
		m->lat[i].sum += secs;
	}
	pthread_mutex_unlock(&m->lock);
}

#define BUMP(m, field, n)                                                                          \
	do {                                                                                       \
		if ((m) != NULL) {                                                                 \
			pthread_mutex_lock(&(m)->lock);                                            \
			(m)->field += (n);                                                         \
			pthread_mutex_unlock(&(m)->lock);                                          \
		}                                                                                  \
	} while (0)

void metrics_order_created(struct metrics *m, long n)
{
	BUMP(m, orders_created, n);
}

void metrics_status_changed(struct metrics *m)
{
	BUMP(m, status_changes, 1);
}

void metrics_db_error(struct metrics *m)
{
	BUMP(m, db_errors, 1);
}

void metrics_stream_clients(struct metrics *m, int delta)
{
	BUMP(m, stream_clients, delta);
}

int metrics_render(struct metrics *m, struct buf *o)
{
	int i, b, rc = 0;

	pthread_mutex_lock(&m->lock);
	rc |= buf_printf(o,
	                 "# HELP tokenq_orders_created_total Orders created.\n"
	                 "# TYPE tokenq_orders_created_total counter\n"
	                 "tokenq_orders_created_total %lld\n",
	                 m->orders_created);
	rc |= buf_printf(o,
	                 "# HELP tokenq_status_changes_total Status changes and recalls.\n"
	                 "# TYPE tokenq_status_changes_total counter\n"
	                 "tokenq_status_changes_total %lld\n",
	                 m->status_changes);
	rc |= buf_printf(o,
	                 "# HELP tokenq_database_errors_total Requests that failed on the "
	                 "database.\n"
	                 "# TYPE tokenq_database_errors_total counter\n"
	                 "tokenq_database_errors_total %lld\n",
	                 m->db_errors);
	rc |= buf_printf(o,
	                 "# HELP tokenq_event_stream_clients Connected event-stream clients.\n"
	                 "# TYPE tokenq_event_stream_clients gauge\n"
	                 "tokenq_event_stream_clients %lld\n",
	                 m->stream_clients);
	rc |= buf_printf(o, "# HELP tokenq_http_requests_total HTTP requests by route and "
	                    "status.\n"
	                    "# TYPE tokenq_http_requests_total counter\n");
	for (i = 0; i < m->nreq; i++)
		rc |= buf_printf(o, "tokenq_http_requests_total{route=\"%s\",code=\"%d\"} %lld\n",
		                 m->req[i].route, m->req[i].status, m->req[i].count);
	rc |= buf_printf(o, "# HELP tokenq_http_request_duration_seconds HTTP request latency.\n"
	                    "# TYPE tokenq_http_request_duration_seconds histogram\n");
	for (i = 0; i < m->nlat; i++) {
		for (b = 0; b < NBUCKETS; b++)
			rc |= buf_printf(o,
			                 "tokenq_http_request_duration_seconds_bucket{route=\"%s\","
			                 "le=\"%g\"} %lld\n",
			                 m->lat[i].route, bucket_le[b], m->lat[i].buckets[b]);
		rc |= buf_printf(o,
		                 "tokenq_http_request_duration_seconds_bucket{route=\"%s\",le=\"+"
		                 "Inf\"} %lld\n"
		                 "tokenq_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		                 "tokenq_http_request_duration_seconds_count{route=\"%s\"} %lld\n",
		                 m->lat[i].route, m->lat[i].count, m->lat[i].route, m->lat[i].sum,
		                 m->lat[i].route, m->lat[i].count);
	}
	pthread_mutex_unlock(&m->lock);
	return rc ? -1 : 0;
}
