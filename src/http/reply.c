/*
 * Responses: setting a request's answer, and problems as JSON with the HTTP
 * status of a domain status (http_status_for, the one place that maps
 * them). Database trouble is told by its kind; its details go to the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/metrics.h"
#include "util/log.h"

void reply(struct req *r, int status, const char *content_type, char *body, size_t len)
{
	free(r->out);
	r->status = status;
	r->content_type_out = content_type;
	r->out = body;
	r->outlen = len;
}

void reply_json(struct req *r, int status, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(body);
	if (s == NULL) {
		struct tq_error err;
		tq_fail(&err, TQ_INTERNAL, "internal", "", "out of memory");
		reply_problem(r, &err);
		return;
	}
	reply(r, status, "application/json; charset=utf-8", s, strlen(s));
}

void reply_header(struct req *r, const char *name, const char *value)
{
	if (r->nheaders == MAX_HEADERS)
		return;
	r->headers[r->nheaders].name = strdup(name);
	r->headers[r->nheaders].value = strdup(value);
	r->nheaders++;
}

static const char *title_for(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 503:
		return "Service Unavailable";
	case 507:
		return "Insufficient Storage";
	default:
		return "Internal Server Error";
	}
}

int http_status_for(enum tq_status s)
{
	switch (s) {
	case TQ_OK:
		return 200;
	case TQ_MALFORMED:
		return 400;
	case TQ_UNAUTHORIZED:
		return 401;
	case TQ_FORBIDDEN:
		return 403;
	case TQ_NOT_FOUND:
		return 404;
	case TQ_METHOD:
		return 405;
	case TQ_CONFLICT:
		return 409;
	case TQ_TOO_LARGE:
		return 413;
	case TQ_MEDIA_TYPE:
		return 415;
	case TQ_INVALID:
		return 422;
	case TQ_UNAVAILABLE:
		return 503;
	case TQ_STORAGE_FULL:
		return 507;
	case TQ_INTERNAL:
		break;
	}
	return 500;
}

void reply_problem(struct req *r, const struct tq_error *err)
{
	int status = http_status_for(err->status);
	const char *code = err->code, *detail = err->detail;
	json_t *p;
	char *s;

	/* Database trouble is told by its kind; its internals go to the log only. */
	if (err->status == TQ_UNAVAILABLE) {
		code = "database_unavailable";
		detail = "the database cannot be reached now; try again shortly";
	} else if (err->status == TQ_STORAGE_FULL) {
		code = "storage_full";
		detail = "the database has no room to store this now; try again later";
	} else if (err->status == TQ_INTERNAL) {
		code = "internal_error";
		detail = "the server failed to handle this request";
	}
	if (detail != err->detail) {
		char q[300];
		log_error("msg=\"request failed\" route=%s error=\"%s\"",
		          r->route ? r->route->name : "-", log_quote(err->detail, q, sizeof(q)));
	}
	p = json_pack("{s:i, s:s, s:s, s:s}", "status", status, "title", title_for(status), "code",
	              code ? code : "error", "detail", detail);
	if (p != NULL && err->field[0] != '\0')
		json_object_set_new(p, "field", json_string(err->field));
	s = p ? json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(p);
	if (s == NULL)
		s = strdup(
		    "{\"status\":500,\"title\":\"Internal Server Error\",\"code\":\"internal_"
		    "error\",\"detail\":\"out of memory\"}");
	reply(r, status, "application/problem+json", s, s ? strlen(s) : 0);
	if (status == 503 || status == 507) {
		reply_header(r, "Retry-After", "2");
		metrics_db_error(r->srv->metrics);
	}
	if (status == 401)
		reply_header(r, "WWW-Authenticate", "Bearer realm=\"tokenq\"");
}
