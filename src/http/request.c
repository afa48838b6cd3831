/*
 * Reading a request (its JSON body, per the rules of docs/api.md "Problem codes") and rendering the
 * domain's objects as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/token.h"
#include "http/http.h"
#include "util/num.h"
#include "util/log.h"

/* application/json, with at most a charset parameter that says utf-8. */
static bool json_media_type(const char *ct)
{
	const char *p;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "application/json", 16) != 0)
		return false;
	p = ct + 16;
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p == ';') {
		char name[32], value[64];
		size_t n;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, "=;");
		if (n >= sizeof(name) || p[n] != '=')
			return false;
		memcpy(name, p, n);
		name[n] = '\0';
		while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
			name[--n] = '\0';
		p += n + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '"') {
			const char *q = strchr(p + 1, '"');
			if (q == NULL || (size_t)(q - p - 1) >= sizeof(value))
				return false;
			memcpy(value, p + 1, (size_t)(q - p - 1));
			value[q - p - 1] = '\0';
			p = q + 1;
		} else {
			n = strcspn(p, "; \t");
			if (n >= sizeof(value))
				return false;
			memcpy(value, p, n);
			value[n] = '\0';
			p += n;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (strcasecmp(name, "charset") == 0 && strcasecmp(value, "utf-8") != 0)
			return false;
	}
	return *p == '\0';
}

int req_json_body(struct req *r, json_t **out)
{
	struct tq_error err;
	json_error_t jerr;
	json_t *v;

	*out = NULL;
	if (!json_media_type(r->content_type)) {
		tq_fail(&err, TQ_MEDIA_TYPE, "unsupported_media_type", "",
		        "the body must be sent as Content-Type: application/json (charset utf-8)");
		goto fail;
	}
	if (r->too_large) {
		tq_fail(&err, TQ_TOO_LARGE, "body_too_large", "", "the body is over %d bytes",
		        BODY_MAX);
		goto fail;
	}
	v = json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_REJECT_DUPLICATES,
	               &jerr);
	if (v == NULL) {
		tq_fail(&err, TQ_MALFORMED, "malformed_json", "",
		        "the body is not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line,
		        jerr.column);
		goto fail;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		tq_fail(&err, TQ_MALFORMED, "malformed_json", "", "the body must be a JSON object");
		goto fail;
	}
	*out = v;
	return 0;
fail:
	reply_problem(r, &err);
	return -1;
}

static json_t *time_json(int64_t ms)
{
	char s[32];

	format_rfc3339(ms, s);
	return json_string(s);
}

json_t *json_time_or_null(int64_t ms)
{
	return ms > 0 ? time_json(ms) : json_null();
}

void today(const struct req *r, char out[BIZDATE_LEN])
{
	venue_today(r->venue, out);
}

json_t *order_json(const struct config *cfg, const struct order *o)
{
	char token[TOKEN_MAX];
	json_t *items = json_loads(o->items_json, 0, NULL);

	token_format(token, o->queue, o->sequence, cfg->token_digits);
	return json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:o, s:I, s:o, s:o, s:o}", "id",
	                 (json_int_t)o->id, "token", token, "queue", o->queue, "sequence",
	                 (json_int_t)o->sequence, "business_date", o->business_date, "status",
	                 status_name(o->status), "items", items ? items : json_array(), "total",
	                 (json_int_t)o->total, "note", o->note ? json_string(o->note) : json_null(),
	                 "created_at", time_json(o->created_at), "updated_at",
	                 time_json(o->updated_at));
}

json_t *event_json(const struct config *cfg, const struct event *e)
{
	char token[TOKEN_MAX];

	token_format(token, e->queue, e->sequence, cfg->token_digits);
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "event_id", (json_int_t)e->id,
	                 "order_id", (json_int_t)e->order_id, "token", token, "queue", e->queue,
	                 "business_date", e->business_date, "status", status_name(e->status),
	                 "previous_status",
	                 e->previous_status < 0
	                     ? json_null()
	                     : json_string(status_name((enum order_status)e->previous_status)),
	                 "at", time_json(e->at));
}

const char *req_query(const struct req *r, const char *name)
{
	int i;

	for (i = 0; i < r->nquery; i++)
		if (r->query[i].name && strcmp(r->query[i].name, name) == 0)
			return r->query[i].value;
	return NULL;
}

int64_t req_path_id(const struct req *r)
{
	int64_t id = 0;

	if (r->nparams > 0)
		parse_i64(r->params[0], &id);
	return id;
}
