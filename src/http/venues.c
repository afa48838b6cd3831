/*
 * The venues over HTTP: GET /api/venues and /api/venues/{venue} (public:
 * what pages need to show a venue), POST /api/venues (an admin key of every
 * venue), PATCH and DELETE /api/venues/{venue} (an admin key of every venue
 * or of that one: the router makes {venue} the request's venue, so the key
 * check applies to it), and GET /logo, the venue's logo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "util/log.h"

static enum handled problem(struct req *r, const struct tq_error *err)
{
	reply_problem(r, err);
	return HANDLED;
}

enum handled h_venues_list(struct req *r, struct tq_session *s)
{
	struct venue **v;
	struct tq_error err;
	size_t n, i;
	json_t *list = json_array(), *j;

	(void)s; /* answered from the settings cache, without the database */
	if (tq_venues(r->srv->tq, &v, &n, &err) != 0) {
		json_decref(list);
		return problem(r, &err);
	}
	for (i = 0; i < n; i++)
		json_array_append_new(list, venue_json(v[i]));
	free(v);
	j = json_object();
	json_object_set_new(j, "venues", list);
	reply_json(r, 200, j);
	return HANDLED;
}

enum handled h_venues_get(struct req *r, struct tq_session *s)
{
	(void)s;
	reply_json(r, 200, venue_json(r->venue));
	return HANDLED;
}

enum handled h_venues_create(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	struct venue *v;
	char loc[96];

	if (!r->all_venues) {
		tq_fail(&err, TQ_FORBIDDEN, "forbidden", "",
		        "only an admin key of every venue may create venues");
		return problem(r, &err);
	}
	if (tq_venue_create(s, r->json, &v, &err) != 0)
		return problem(r, &err);
	snprintf(loc, sizeof(loc), "/api/venues/%s", v->slug);
	reply_header(r, "Location", loc);
	reply_json(r, 201, venue_json(v));
	log_info("msg=\"venue created\" venue=%s", v->slug);
	return HANDLED;
}

enum handled h_venues_patch(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	struct venue *v;

	if (tq_venue_update(s, r->venue, r->json, &v, &err) != 0)
		return problem(r, &err);
	reply_json(r, 200, venue_json(v));
	log_info("msg=\"venue changed\" venue=%s", v->slug);
	return HANDLED;
}

enum handled h_venues_delete(struct req *r, struct tq_session *s)
{
	struct tq_error err;

	if (!r->all_venues) {
		tq_fail(&err, TQ_FORBIDDEN, "forbidden", "",
		        "only an admin key of every venue may delete venues");
		return problem(r, &err);
	}
	if (tq_venue_delete(s, r->venue, &err) != 0)
		return problem(r, &err);
	reply(r, 204, "application/json", NULL, 0);
	return HANDLED;
}

enum handled h_logo(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	unsigned char *data;
	char type[32];
	size_t len;
	int found = tq_venue_logo(s, &data, &len, type, &err);

	if (found < 0)
		return problem(r, &err);
	if (found == 0) {
		tq_fail(&err, TQ_NOT_FOUND, "not_found", "", "the venue %s has no logo",
		        r->venue->slug);
		return problem(r, &err);
	}
	if (strcmp(type, "image/svg+xml") == 0) /* an SVG is an image here, never a page */
		reply_header(r, "Content-Security-Policy",
		             "default-src 'none'; style-src "
		             "'unsafe-inline'; sandbox");
	reply(r, 200,
	      strcmp(type, "image/png") == 0    ? "image/png"
	      : strcmp(type, "image/jpeg") == 0 ? "image/jpeg"
	      : strcmp(type, "image/webp") == 0 ? "image/webp"
	                                        : "image/svg+xml",
	      (char *)data, len);
	return HANDLED;
}
