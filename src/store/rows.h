/*
 * Helpers the store's own files share for speaking to a backend: integers
 * as text parameters and back, one-value rows, growing a row array, and the
 * event kind as the events table spells it. For src/store/ only.
 */
#ifndef TOKENQ_STORE_ROWS_H
#define TOKENQ_STORE_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define NUM_LEN 24

/* Text parameters for integers, kept alive for a statement: one per number. */
struct numbuf {
	char s[NUM_LEN];
};

const char *store_num(struct numbuf *b, int64_t v);
/* The integer in s, or 0 for NULL or anything that is not one. */
int64_t store_i64(const char *s);
/* A row callback storing the first column of the last row in *(int64_t *)ctx. */
int store_i64_row(void *ctx, int query, int ncols, const char *const *vals);
/* Runs sql on c's backend (see sql_backend.exec). */
int store_exec(struct store_conn *c, const char *sql, int n, const char *const *p, sql_row_fn row,
               void *ctx, struct tq_error *err);
/* Makes room in *v (of elements of size sz, n in use, *cap allocated) for one more; 0 or -1. */
int store_grow(void **v, size_t sz, size_t n, size_t *cap);
/* "recall" or anything else ("token"), as the events table stores it. */
enum event_kind store_event_kind(const char *s);

#endif
