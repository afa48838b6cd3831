/*
 * The router's key check: who sent the request (tq_authenticate) against
 * the roles the route allows.
 */
#ifndef TOKENQ_AUTH_H
#define TOKENQ_AUTH_H

#include "http/http.h"

/* 0 when r may go on (r->role set), or -1 with a 401/403/503 problem set. */
int authorize(struct req *r, struct tq_session *s);

#endif
