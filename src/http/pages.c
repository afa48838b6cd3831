/*
 * The web pages and their assets, built into the binary from web/ (see
 * tools/embed.c): the board at /, the staff console at /staff, the
 * customer's page at /t/{token}, and /assets/NAME for everything else in
 * web/. Pages allow nothing from other origins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "util/embed.h"

const char page_csp[] = "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                        "script-src 'self'; connect-src 'self'; media-src 'self' data:; "
                        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
};

static const char *type_of(const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);
		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

static enum handled serve_file(struct req *r, const char *name)
{
	const struct embedded_file *f;
	char path[160];
	char *body;

	snprintf(path, sizeof(path), "web/%s", name);
	f = strchr(name, '/') == NULL ? embedded_find(path) : NULL;
	if (f == NULL) {
		struct tq_error err;
		tq_fail(&err, TQ_NOT_FOUND, "not_found", "", "there is nothing at this address");
		reply_problem(r, &err);
		return HANDLED;
	}
	body = malloc((size_t)f->size + 1);
	if (body == NULL)
		return HANDLED;
	memcpy(body, f->data, (size_t)f->size);
	reply(r, 200, type_of(name), body, (size_t)f->size);
	reply_header(r, "Content-Security-Policy", page_csp);
	reply_header(r, "Referrer-Policy", "no-referrer");
	reply_header(r, "X-Frame-Options", "DENY");
	return HANDLED;
}

enum handled h_page(struct req *r, struct tq_session *s)
{
	(void)s;
	if (strcmp(r->route->pattern, "/staff") == 0)
		return serve_file(r, "staff.html");
	if (strcmp(r->route->pattern, "/t/{token}") == 0)
		return serve_file(r, "token.html");
	return serve_file(r, "board.html");
}

enum handled h_asset(struct req *r, struct tq_session *s)
{
	enum handled h;

	(void)s;
	h = serve_file(r, r->params[0]);
	if (r->status == 200)
		reply_header(r, "Cache-Control", "public, max-age=300");
	return h;
}

/* GET /api/openapi.json: the API's OpenAPI 3.1 document, built in. */
enum handled h_openapi(struct req *r, struct tq_session *s)
{
	enum handled h;

	(void)s;
	h = serve_file(r, "openapi.json");
	if (r->status == 200)
		reply_header(r, "Cache-Control", "no-cache");
	return h;
}
