/*
 * The route's roles, checked by the router before any handler runs (see
 * server.c): public routes pass; any other needs a key (or protected mode)
 * whose role the route allows.
 */
#include <stdio.h>

#include "http/auth.h"

int authorize(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	enum role role;

	if (r->route->roles & R_PUBLIC)
		return 0;
	if (tq_authorize(s, r->authorization, r->loopback, &role, &r->all_venues, &err) != 0) {
		reply_problem(r, &err);
		return -1;
	}
	if (!(r->route->roles & (1u << role))) {
		tq_fail(&err, TQ_FORBIDDEN, "forbidden", "", "a %s key may not do this",
		        role_name(role));
		reply_problem(r, &err);
		return -1;
	}
	r->authed = true;
	r->role = role;
	return 0;
}
