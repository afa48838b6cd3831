/*
 * A growable byte buffer with a hard size limit (after curl's dynbuf): every
 * place where input arrives from outside says up front how much it accepts.
 *
 * Invariants: data is NUL-terminated whenever it is non-NULL; len never
 * exceeds max; after a failed append the buffer keeps its old contents.
 */
#ifndef TOKENQ_BUF_H
#define TOKENQ_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);

/* Return 0, or -1 when the limit would be passed or memory ran out. */
int buf_add(struct buf *b, const void *data, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the bytes to the caller (free() them) and leaves b empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
