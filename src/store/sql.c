/*
 * The one choke point between the store's operations and a backend: every
 * call into a backend's table goes through these wrappers, so that asserts
 * on how the store uses a connection, and the fault injection the tests
 * rely on, live in one place (as SQLite's os.c wraps every VFS call).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

/* ---- fault injection ---- */

static char fault_point[64];

void store_fault_set(const char *point)
{
	snprintf(fault_point, sizeof(fault_point), "%s", point ? point : "");
}

bool store_fault(const char *point)
{
	const char *env = getenv("TOKENQ_FAULT");

	return strcmp(fault_point, point) == 0 || (env != NULL && strcmp(env, point) == 0);
}

int sql_fault(const char *point, struct tq_error *err)
{
	if (!store_fault(point))
		return 0;
	return tq_fail(err, TQ_INTERNAL, "injected_fault", "", "fault injected at %s", point);
}

/* ---- the wrappers ---- */

int sql_exec(struct store_conn *c, const char *sql, int n, const char *const *p, sql_row_fn row,
             void *ctx, struct tq_error *err)
{
	assert(c != NULL && sql != NULL && n >= 0 && (n == 0 || p != NULL));
	return c->be->exec(c->db, sql, n, p, row, ctx, err);
}

int sql_exec_many(struct store_conn *c, const char *sql, int nparams, int nrows,
                  const char *const *p, sql_row_fn row, void *ctx, struct tq_error *err)
{
	assert(c != NULL && sql != NULL && nparams > 0 && nrows >= 0 && p != NULL);
	return c->be->exec_many(c->db, sql, nparams, nrows, p, row, ctx, err);
}

int sql_exec_batch(struct store_conn *c, const struct sql_stmt *stmts, int n, sql_row_fn row,
                   void *ctx, struct tq_error *err)
{
	assert(c != NULL && stmts != NULL && n > 0);
	return c->be->exec_batch(c->db, stmts, n, row, ctx, err);
}

int sql_script(struct store_conn *c, const char *sql, struct tq_error *err)
{
	assert(c != NULL && sql != NULL);
	return c->be->script(c->db, sql, err);
}

int sql_begin(struct store_conn *c, bool write, struct tq_error *err)
{
	assert(c != NULL);
	return c->be->begin(c->db, write, err);
}

int sql_commit(struct store_conn *c, struct tq_error *err)
{
	assert(c != NULL);
	return c->be->commit(c->db, err);
}

void sql_rollback(struct store_conn *c)
{
	assert(c != NULL);
	c->be->rollback(c->db);
}

int sql_lock_migrations(struct store_conn *c, struct tq_error *err)
{
	assert(c != NULL);
	return c->be->lock_migrations(c->db, err);
}

void sql_unlock_migrations(struct store_conn *c)
{
	assert(c != NULL);
	c->be->unlock_migrations(c->db);
}

int sql_count_tables(struct store_conn *c, int *n, struct tq_error *err)
{
	assert(c != NULL && n != NULL);
	return c->be->count_tables(c->db, n, err);
}

int sql_relation_exists(struct store_conn *c, const char *name, bool *exists, struct tq_error *err)
{
	assert(c != NULL && name != NULL && exists != NULL);
	return c->be->relation_exists(c->db, name, exists, err);
}

int sql_notify(struct store_conn *c, int venue, struct tq_error *err)
{
	struct numbuf nb;
	const char *p[1] = {store_num(&nb, venue)};

	if (c->be->notify_sql == NULL)
		return 0;
	return sql_exec(c, c->be->notify_sql, 1, p, NULL, NULL, err);
}

bool sql_has(struct store_conn *c, unsigned f)
{
	return (c->be->features & f) == f;
}
