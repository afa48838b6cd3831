/*
 * The store's registry and connections: the backend chosen by the URL's
 * scheme (the one place that knows the schemes), connecting, and the
 * public faces of what every backend offers (transactions for whole-database
 * work, listening, backups, feature bits).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

/* The backends by URL scheme: the one place that knows them. */
static const struct {
	const char *prefix;
	const struct sql_backend *be;
	bool file; /* the rest of the URL is a file's path */
} registry[] = {
    {"sqlite:", &sqlite_backend, true},
    {"postgres://", &pg_backend, false},
    {"postgresql://", &pg_backend, false},
};

const char *store_file(const char *url)
{
	size_t i, n;

	for (i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) {
		n = strlen(registry[i].prefix);
		if (strncmp(url, registry[i].prefix, n) == 0)
			return registry[i].file ? url + n : NULL;
	}
	return NULL;
}

int store_open(const char *url, struct store **out, struct tq_error *err)
{
	struct store *s;
	size_t i;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->url = strdup(url)) == NULL) {
		free(s);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	}
	for (i = 0; i < sizeof(registry) / sizeof(registry[0]) && s->be == NULL; i++)
		if (strncmp(url, registry[i].prefix, strlen(registry[i].prefix)) == 0)
			s->be = registry[i].be;
	if (s->be == NULL) {
		store_free(s);
		return tq_fail(err, TQ_INVALID, "invalid_database", "database",
		               "the database URL must start with postgres://, postgresql:// or "
		               "sqlite:");
	}
	*out = s;
	return 0;
}

void store_free(struct store *s)
{
	if (s == NULL)
		return;
	free(s->url);
	free(s);
}

const struct sql_backend *store_backend(const struct store *s)
{
	return s->be;
}

const char *store_url(const struct store *s)
{
	return s->url;
}

const char *store_kind(const struct store *s)
{
	return s->be->name;
}

bool store_has(const struct store *s, unsigned features)
{
	return (s->be->features & features) == features;
}

int store_connect(struct store *s, struct store_conn **out, struct tq_error *err)
{
	return store_connect_as(s, NULL, out, err);
}

int store_connect_as(struct store *s, const char *purpose, struct store_conn **out,
                     struct tq_error *err)
{
	struct store_conn *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	c->s = s;
	c->be = s->be;
	if (c->be->connect(s->url, purpose, &c->db, err) != 0) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void store_disconnect(struct store_conn *c)
{
	if (c == NULL)
		return;
	c->be->disconnect(c->db);
	free(c);
}

void *store_conn_db(struct store_conn *c)
{
	return c->db;
}

const struct sql_backend *store_conn_backend(struct store_conn *c)
{
	return c->be;
}

int store_ping(struct store_conn *c, struct tq_error *err)
{
	static const char sql[] = "SELECT 1";

	return sql_exec(c, sql, 0, NULL, NULL, NULL, err);
}

/* ---- whole-database work ---- */

int store_begin(struct store_conn *c, bool write, struct tq_error *err)
{
	return sql_begin(c, write, err);
}

int store_commit(struct store_conn *c, struct tq_error *err)
{
	return sql_commit(c, err);
}

void store_rollback(struct store_conn *c)
{
	sql_rollback(c);
}

int store_count_tables(struct store_conn *c, int *n, struct tq_error *err)
{
	return sql_count_tables(c, n, err);
}

/* ---- listening ---- */

struct store_listener {
	const struct sql_backend *be;
	void *l;
};

int store_listen(struct store *s, struct store_listener **out, struct tq_error *err)
{
	struct store_listener *l;

	*out = NULL;
	if (!(s->be->features & STORE_LISTEN))
		return tq_fail(err, TQ_INTERNAL, "internal", "",
		               "the %s backend cannot listen for other servers", s->be->name);
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	l->be = s->be;
	if (s->be->listen(s->url, &l->l, err) != 0) {
		free(l);
		return -1;
	}
	*out = l;
	return 0;
}

int store_listener_fd(struct store_listener *l)
{
	return l->be->listen_fd(l->l);
}

int store_listener_drain(struct store_listener *l, store_heard_fn heard, void *ctx)
{
	return l->be->listen_drain(l->l, heard, ctx);
}

void store_listener_close(struct store_listener *l)
{
	if (l == NULL)
		return;
	l->be->listen_close(l->l);
	free(l);
}

/* ---- backups ---- */

int store_backup(struct store *s, const char *path, struct buf *why)
{
	return s->be->backup(s->url, path, why);
}

int store_backup_check(struct store *s, const char *path, const char **kind, struct buf *why)
{
	return s->be->backup_check(path, kind, why);
}
