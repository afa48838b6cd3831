/*
 * The print worker (see printer.c): tickets from the print_jobs table to
 * the printer of TOKENQ_PRINTER, one thread per server.
 */
#ifndef TOKENQ_DOMAIN_PRINTER_H
#define TOKENQ_DOMAIN_PRINTER_H

#include <stddef.h>

#include "util/error.h"

struct tq;
struct printer;

/* Checks a TOKENQ_PRINTER value: 0, or -1 with one sentence naming the setting in err. */
int printer_check(const char *address, char *err, size_t errlen);

/* Starts the worker for tq's printer; *out is NULL (and 0 returned) when none is configured. */
int printer_start(struct tq *tq, struct printer **out, struct tq_error *err);
/* A job was queued: look now rather than at the next poll. NULL is a no-op. */
void printer_kick(struct printer *p);
/* Lets the job being sent finish, then stops. NULL is a no-op. */
void printer_stop(struct printer *p);

#endif
