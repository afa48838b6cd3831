/*
 * Counters for GET /metrics, in the Prometheus text format: orders created,
 * status changes, HTTP requests by route and status with a latency
 * histogram, connected event-stream clients, database errors.
 */
#ifndef TOKENQ_METRICS_H
#define TOKENQ_METRICS_H

#include <stdint.h>

#include "util/buf.h"

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

void metrics_request(struct metrics *m, const char *route, int status, int64_t ms);
/* Counted per venue (its slug). */
void metrics_order_created(struct metrics *m, const char *venue, long n);
void metrics_status_changed(struct metrics *m, const char *venue);
void metrics_db_error(struct metrics *m);
void metrics_stream_clients(struct metrics *m, const char *venue, int delta);

/* Appends the exposition; stream_clients is read from the metrics itself. */
int metrics_render(struct metrics *m, struct buf *out);

#endif
