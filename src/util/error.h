/*
 * The project-wide outcome of an operation. The domain and the stores speak
 * only in these; http_status_for() in src/http/reply.c maps them to HTTP in
 * one place.
 */
#ifndef TOKENQ_UTIL_ERROR_H
#define TOKENQ_UTIL_ERROR_H

enum tq_status {
	TQ_OK = 0,
	TQ_MALFORMED,    /* the request could not be read at all */
	TQ_UNAUTHORIZED, /* no valid key */
	TQ_FORBIDDEN,    /* the key's role may not do this */
	TQ_NOT_FOUND,    /* no such route, order or token */
	TQ_METHOD,       /* known route, other method */
	TQ_CONFLICT,     /* the state forbids it now (transitions, keys in use) */
	TQ_TOO_LARGE,    /* the request body is over the limit */
	TQ_MEDIA_TYPE,   /* the body is not JSON */
	TQ_INVALID,      /* well-formed input that breaks a rule */
	TQ_UNAVAILABLE,  /* the database cannot be reached now; try again */
	TQ_STORAGE_FULL, /* the database has no room to write */
	TQ_INTERNAL,     /* a bug or an unexpected database answer */
};

struct tq_error {
	enum tq_status status;
	const char *code; /* machine-readable, e.g. "invalid_item"; static storage */
	char field[80];   /* the member at fault, or "" */
	char detail[256]; /* one sentence for a person */
};

/* Fills err (when non-NULL) and returns -1, so callers can `return tq_fail(...)`. */
int tq_fail(struct tq_error *err, enum tq_status status, const char *code, const char *field,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Clears err to TQ_OK. */
void tq_error_clear(struct tq_error *err);

#endif
