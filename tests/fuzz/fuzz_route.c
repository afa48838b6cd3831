/*
 * Fuzz target: the router of src/http/routes.c (match() is static, so this
 * file includes routes.c, and server.c for how a request is freed, as h2o's
 * fuzzers do; the build links the rest of the program from an archive, so
 * neither object is pulled in twice).
 *
 * The input is "METHOD SP PATH" (or just a path, taken as GET). Properties:
 * router_match() takes a /v/{slug} prefix off (only main exists; any other
 * slug is 404 unknown_venue, as is a route's {venue} that names another),
 * then either picks a route whose method is the request's (HEAD as GET)
 * and whose pattern matches, with each {id} capture 1..18 digits and every
 * capture a non-empty segment without '/'; or answers 404 or 405, and a 405
 * carries an Allow header listing only methods of routes that match the
 * path. Then the request is freed the way the server frees it.
 */
#include "../../src/http/routes.c"
#include "../../src/http/server.c"

#include <unistd.h>

#include "fuzz_common.h"
#include "store/migrate.h"

static struct server fake_srv;
static struct config cfg;
static struct tq tq;
static struct store *store;

static char dir[256];

static void cleanup(void)
{
	char path[300];

	tq_release(&tq);
	store_free(store);
	snprintf(path, sizeof(path), "%s/route.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/route.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/route.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

/* A façade with the one venue main, on a database of its own, as the router asks it for venues. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct store_conn *c;
	struct tq_error err;
	char msg[512], url[300];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/tokenq-fuzz-route.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(url, sizeof(url), "sqlite:%s/route.db", dir);
	if (config_load(&cfg, url, "127.0.0.1:1", msg, sizeof(msg)) != 0 ||
	    store_open(cfg.database, &store, &err) != 0 || store_connect(store, &c, &err) != 0)
		return 1;
	if (migrate_for_serve(c, true, &err) != 0) {
		store_disconnect(c);
		return 1;
	}
	store_disconnect(c);
	if (tq_init(&tq, &cfg, store, &err) != 0)
		return 1;
	atexit(cleanup);
	fake_srv.tq = &tq;
	return 0;
}

static void check_route(struct req *r, const char *path)
{
	int i;

	/* Under /v/{slug} the route is matched on what follows the prefix. */
	if (r->base[0] != '\0') {
		path += strlen(r->base);
		if (*path == '\0')
			path = "/";
	} else if (r->route == NULL && strncmp(path, "/v/", 3) == 0 && r->status == 404) {
		return; /* unknown_venue: answered before any route is looked at */
	}
	if (r->route == NULL && r->status == 404 && strncmp(path, "/api/venues/", 12) == 0)
		return; /* a {venue} that names none: unknown_venue */

	if (r->route != NULL) {
		const char *m = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
		int braces = 0;
		const char *p;
		FUZZ_CHECK(r->status == 0, "routed and answered %d", r->status);
		FUZZ_CHECK(strcmp(r->route->method, m) == 0, "%s routed to a %s route", r->method,
		           r->route->method);
		FUZZ_CHECK(match(r->route->pattern, path, NULL), "route does not match");
		for (p = r->route->pattern; *p; p++)
			braces += *p == '{';
		FUZZ_CHECK(r->nparams == braces, "%d captures for %d segments", r->nparams, braces);
		for (i = 0; i < r->nparams; i++) {
			size_t n = strlen(r->params[i]);
			FUZZ_CHECK(n >= 1 && n <= 200 && strchr(r->params[i], '/') == NULL,
			           "capture '%s'", r->params[i]);
		}
		if (strstr(r->route->pattern, "{id}") != NULL) {
			size_t n = strlen(r->params[0]);
			FUZZ_CHECK(n <= 18 && strspn(r->params[0], "0123456789") == n, "id '%s'",
			           r->params[0]);
		}
		return;
	}
	FUZZ_CHECK(r->status == 404 || r->status == 405, "unrouted with status %d", r->status);
	FUZZ_CHECK(r->out != NULL && r->content_type_out != NULL &&
	               strcmp(r->content_type_out, "application/problem+json") == 0,
	           "a refusal that is not a problem document");
	if (r->status == 405) {
		const char *allow = NULL, *a;
		const struct route *rt;
		for (i = 0; i < r->nheaders; i++)
			if (strcmp(r->headers[i].name, "Allow") == 0)
				allow = r->headers[i].value;
		FUZZ_CHECK(allow != NULL && allow[0] != '\0', "405 without Allow");
		for (a = allow; *a;) {
			char m[16];
			size_t n = strcspn(a, ", ");
			bool found = false;
			FUZZ_CHECK(n > 0 && n < sizeof(m), "Allow '%s'", allow);
			memcpy(m, a, n);
			m[n] = '\0';
			if (strcmp(m, "HEAD") == 0)
				snprintf(m, sizeof(m), "GET");
			for (rt = routes; rt->method != NULL; rt++)
				found |=
				    strcmp(rt->method, m) == 0 && match(rt->pattern, path, NULL);
			FUZZ_CHECK(found, "Allow lists %s, which no matching route has", m);
			a += n;
			a += strspn(a, ", ");
		}
	} else {
		const struct route *rt;
		for (rt = routes; rt->method != NULL; rt++)
			FUZZ_CHECK(!match(rt->pattern, path, NULL), "404 but %s matches",
			           rt->pattern);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	const char *path = s, *sp = memchr(s, ' ', size);
	struct req *r = calloc(1, sizeof(*r));

	FUZZ_CHECK(r != NULL, "out of memory");
	fake_srv.metrics = NULL;
	r->srv = &fake_srv;
	if (sp != NULL && (size_t)(sp - s) < sizeof(r->method)) {
		memcpy(r->method, s, (size_t)(sp - s));
		path = sp + 1;
	} else {
		snprintf(r->method, sizeof(r->method), "GET");
	}
	r->path = strdup(path);
	buf_init(&r->body, BODY_MAX);
	router_match(r, path);
	check_route(r, path);
	req_free(r);
	free(s);
	return 0;
}
