/*
 * Prometheus counters. Routes are few and fixed (the route table's names),
 * so series live in a small array searched linearly under one lock; so do
 * the counts per venue (labelled venue="slug"), main's always first.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/metrics.h"

#define MAX_SERIES 128
#define MAX_VENUES 512
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

struct venue_counts {
	char venue[40];
	long long orders_created, status_changes, stream_clients;
};

struct metrics {
	pthread_mutex_t lock;
	struct series req[MAX_SERIES];
	int nreq;
	struct latency lat[MAX_SERIES];
	int nlat;
	struct venue_counts v[MAX_VENUES];
	int nv;
	long long db_errors;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m != NULL) {
		pthread_mutex_init(&m->lock, NULL);
		snprintf(m->v[0].venue, sizeof(m->v[0].venue), "main");
		m->nv = 1;
	}
	return m;
}

/* The counts of venue (the last slot when there are too many); the caller holds the lock. */
static struct venue_counts *counts_of(struct metrics *m, const char *venue)
{
	int i;

	for (i = 0; i < m->nv; i++)
		if (strcmp(m->v[i].venue, venue) == 0)
			return &m->v[i];
	if (m->nv < MAX_VENUES)
		snprintf(m->v[m->nv++].venue, sizeof(m->v[0].venue), "%s", venue);
	return &m->v[m->nv - 1];
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

#define BUMP_VENUE(m, venue, field, n)                                                             \
	do {                                                                                       \
		if ((m) != NULL) {                                                                 \
			pthread_mutex_lock(&(m)->lock);                                            \
			counts_of((m), (venue))->field += (n);                                     \
			pthread_mutex_unlock(&(m)->lock);                                          \
		}                                                                                  \
	} while (0)

void metrics_order_created(struct metrics *m, const char *venue, long n)
{
	BUMP_VENUE(m, venue, orders_created, n);
}

void metrics_status_changed(struct metrics *m, const char *venue)
{
	BUMP_VENUE(m, venue, status_changes, 1);
}

void metrics_db_error(struct metrics *m)
{
	BUMP(m, db_errors, 1);
}

void metrics_stream_clients(struct metrics *m, const char *venue, int delta)
{
	BUMP_VENUE(m, venue, stream_clients, delta);
}

/* One family with a sample per venue. */
static int render_venues(struct metrics *m, struct buf *o, const char *name, const char *help,
                         const char *type, size_t field)
{
	int i, rc = buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);

	for (i = 0; i < m->nv; i++)
		rc |= buf_printf(o, "%s{venue=\"%s\"} %lld\n", name, m->v[i].venue,
		                 *(const long long *)((const char *)&m->v[i] + field));
	return rc;
}

int metrics_render(struct metrics *m, struct buf *o)
{
	int i, b, rc = 0;

	pthread_mutex_lock(&m->lock);
	rc |= render_venues(m, o, "tokenq_orders_created_total", "Orders created.", "counter",
	                    offsetof(struct venue_counts, orders_created));
	rc |= render_venues(m, o, "tokenq_status_changes_total", "Status changes and recalls.",
	                    "counter", offsetof(struct venue_counts, status_changes));
	rc |= buf_printf(o,
	                 "# HELP tokenq_database_errors_total Requests that failed on the "
	                 "database.\n"
	                 "# TYPE tokenq_database_errors_total counter\n"
	                 "tokenq_database_errors_total %lld\n",
	                 m->db_errors);
	rc |= render_venues(m, o, "tokenq_event_stream_clients", "Connected event-stream clients.",
	                    "gauge", offsetof(struct venue_counts, stream_clients));
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
