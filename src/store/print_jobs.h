/*
 * Print jobs: tickets waiting for the printer, in the database so that
 * none is lost when a server stops and a printer that is away only delays
 * its own jobs. A job is written in the order's own transaction when the
 * order asks to be printed (store_issue_batch, order_input.print), or here
 * for a reprint; one print worker per server takes them oldest first.
 */
#ifndef TOKENQ_STORE_PRINT_JOBS_H
#define TOKENQ_STORE_PRINT_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

enum print_state { PRINT_QUEUED = 0, PRINT_PRINTED = 1 };

struct print_job {
	int64_t id;
	int venue_id;
	int64_t order_id;
	enum print_state state;
	int attempts;
	char last_error[32]; /* why the last try did not print ("paper_out"), or "" */
	int64_t queued_at;
	int64_t printed_at; /* 0 until printed */
};

/* Queues a print of order order_id's ticket: TQ_NOT_FOUND when there is no such order. */
int store_print_enqueue(struct store_conn *c, int venue, int64_t order_id, int64_t now,
                        struct print_job *out, struct tq_error *err);

/* The order's latest job: 1 and *out, or 0 when it was never queued. */
int store_print_latest(struct store_conn *c, int venue, int64_t order_id, struct print_job *out,
                       struct tq_error *err);

/*
 * Takes the oldest job that may go now (queued, next_at reached, not
 * leased) and leases it for lease_ms, so that no other server's worker
 * sends it meanwhile: 1 and *out, or 0 when none is waiting.
 */
int store_print_claim(struct store_conn *c, int64_t now, int64_t lease_ms, struct print_job *out,
                      struct tq_error *err);

/* What became of a claimed job's try: printed, or not (error, next try at next_at). */
int store_print_record(struct store_conn *c, int venue, int64_t id, bool printed, const char *error,
                       int64_t now, int64_t next_at, struct tq_error *err);

#endif
