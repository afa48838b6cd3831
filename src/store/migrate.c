/*
 * Applying and checking migrations. The list of migrations is whatever
 * tools/embed.c built in under migrations/<dialect>/NNNN_name.sql, in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/migrate.h"
#include "store/store-internal.h"
#include "util/embed.h"
#include "util/log.h"
#include "util/sha256.h"

#define MAX_MIGRATIONS 256

struct builtin {
	int version;
	char name[96];
	const char *sql;
	char checksum[65];
};

static const char history_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
    "NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";

static const struct embedded_file *source = embedded_files;

void migrate_set_source(const struct embedded_file *files)
{
	source = files ? files : embedded_files;
}

/* The built-in migrations of a dialect, by version. */
static int builtins(const char *dialect, struct builtin *out)
{
	const struct embedded_file *f;
	char prefix[64];
	int n = 0;

	snprintf(prefix, sizeof(prefix), "migrations/%s/", dialect);
	for (f = source; f->name != NULL && n < MAX_MIGRATIONS; f++) {
		const char *base = f->name + strlen(prefix);
		char *end;
		size_t len;

		if (strncmp(f->name, prefix, strlen(prefix)) != 0)
			continue;
		out[n].version = (int)strtol(base, &end, 10);
		len = strlen(base);
		if (end == base || *end != '_' || len < 5 || strcmp(base + len - 4, ".sql") != 0)
			continue;
		/* "0001_init.sql" is version 1, name "init" */
		snprintf(out[n].name, sizeof(out[n].name), "%.*s",
		         (int)(len - 4 - (size_t)(end + 1 - base)), end + 1);
		out[n].sql = (const char *)f->data;
		sha256_hex(f->data, (size_t)f->size, out[n].checksum);
		n++;
	}
	return n; /* embed is given the files sorted, so versions ascend */
}

struct recorded {
	struct migration_info v[MAX_MIGRATIONS];
	int n;
};

static int recorded_row(void *ctx, int query, int ncols, const char *const *vals)
{
	struct recorded *r = ctx;
	struct migration_info *m;

	(void)query;
	if (ncols < 4 || r->n == MAX_MIGRATIONS)
		return 0;
	m = &r->v[r->n++];
	memset(m, 0, sizeof(*m));
	m->version = vals[0] ? (int)strtol(vals[0], NULL, 10) : 0;
	snprintf(m->name, sizeof(m->name), "%s", vals[1] ? vals[1] : "");
	snprintf(m->checksum, sizeof(m->checksum), "%s", vals[2] ? vals[2] : "");
	snprintf(m->applied_at, sizeof(m->applied_at), "%s", vals[3] ? vals[3] : "");
	return 0;
}

/* The history, or an empty one when the table does not exist yet (a
 * brand-new database, or one that holds only other software's tables). */
static int read_history(struct store_conn *c, struct recorded *r, struct tq_error *err)
{
	static const char sql[] =
	    "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version";
	bool exists;

	r->n = 0;
	if (sql_relation_exists(c, "schema_migrations", &exists, err) != 0)
		return -1;
	if (!exists)
		return 0;
	if (sql_exec(c, sql, 0, NULL, recorded_row, r, err) != 0) {
		if (err->status == TQ_UNAVAILABLE)
			return -1;
		return tq_fail(err, TQ_CONFLICT, "name_taken", "",
		               "the database has a table schema_migrations that is not tokenq's "
		               "(another program's migration history); give tokenq a database of "
		               "its own, or on PostgreSQL a schema of its own "
		               "(options=-csearch_path=tokenq in the URL)");
	}
	return 0;
}

int migrate_history_exists(struct store_conn *c, bool *exists, struct tq_error *err)
{
	return sql_relation_exists(c, "schema_migrations", exists, err);
}

/*
 * Refuses a migration that would create a table or index whose name is
 * already taken in the database by something that is not tokenq's (another
 * program sharing the database), naming it, before anything is written.
 */
/* Whether sql drops name (DROP TABLE/INDEX name;) before at, where it is made again. */
static bool dropped_first(const char *sql, const char *at, const char *name)
{
	static const char *const kinds[] = {"DROP TABLE ", "DROP INDEX "};
	size_t k, n = strlen(name);

	for (k = 0; k < 2; k++) {
		const char *p = sql;
		while ((p = strstr(p, kinds[k])) != NULL && p < at) {
			p += strlen(kinds[k]);
			if (strncmp(p, name, n) == 0 && p[n] == ';')
				return true;
		}
	}
	return false;
}

static int fk_row(void *ctx, int query, int ncols, const char *const *vals)
{
	(void)query;
	(void)ncols;
	(void)vals;
	(*(int *)ctx)++;
	return 0;
}

static int check_names_free(struct store_conn *c, const struct builtin *m, struct tq_error *err)
{
	static const char *const kinds[] = {"CREATE TABLE ", "CREATE INDEX ",
	                                    "CREATE UNIQUE INDEX "};
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const char *p = m->sql;
		while ((p = strstr(p, kinds[k])) != NULL) {
			char name[64];
			size_t n;
			bool exists;
			p += strlen(kinds[k]);
			if (strncmp(p, "IF NOT EXISTS ", 14) == 0)
				continue;
			n = strspn(p, "abcdefghijklmnopqrstuvwxyz_0123456789");
			if (n == 0 || n >= sizeof(name))
				continue;
			memcpy(name, p, n);
			name[n] = '\0';
			if (dropped_first(m->sql, p, name))
				continue;
			if (sql_relation_exists(c, name, &exists, err) != 0)
				return -1;
			if (exists)
				return tq_fail(
				    err, TQ_CONFLICT, "name_taken", "",
				    "the database already has a %s named %s that is not tokenq's, "
				    "and "
				    "migration %04d_%s must create one of that name; give tokenq a "
				    "database of its own, or on PostgreSQL a schema of its own "
				    "(options=-csearch_path=tokenq in the URL)",
				    k == 0 ? "table" : "index", name, m->version, m->name);
		}
	}
	return 0;
}

int migrate_status(struct store_conn *c, struct migration_info **out, size_t *n,
                   struct tq_error *err)
{
	struct builtin *b = calloc(MAX_MIGRATIONS, sizeof(*b));
	struct recorded *r = calloc(1, sizeof(*r));
	struct migration_info *v = NULL;
	int nb, i, j, k = 0;

	*out = NULL;
	*n = 0;
	if (b == NULL || r == NULL || (v = calloc(2 * MAX_MIGRATIONS, sizeof(*v))) == NULL) {
		tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
		goto fail;
	}
	nb = builtins(store_conn_backend(c)->dialect, b);
	if (read_history(c, r, err) != 0)
		goto fail;
	for (i = 0; i < nb; i++) {
		struct migration_info *m = &v[k++];
		m->version = b[i].version;
		snprintf(m->name, sizeof(m->name), "%s", b[i].name);
		memcpy(m->checksum, b[i].checksum, sizeof(m->checksum));
		m->state = MIG_PENDING;
		for (j = 0; j < r->n; j++) {
			if (r->v[j].version != b[i].version)
				continue;
			memcpy(m->applied_at, r->v[j].applied_at, sizeof(m->applied_at));
			m->state = strcmp(r->v[j].checksum, b[i].checksum) == 0 ? MIG_APPLIED
			                                                        : MIG_DRIFTED;
		}
	}
	for (j = 0; j < r->n; j++) {
		for (i = 0; i < nb && b[i].version != r->v[j].version; i++)
			;
		if (i == nb) {
			v[k] = r->v[j];
			v[k++].state = MIG_UNKNOWN;
		}
	}
	free(b);
	free(r);
	*out = v;
	*n = (size_t)k;
	return 0;
fail:
	free(b);
	free(r);
	free(v);
	return -1;
}

/* Refuses drift and unknown versions, naming the first. */
static int refuse_bad(const struct migration_info *v, size_t n, struct tq_error *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].state == MIG_DRIFTED)
			return tq_fail(err, TQ_CONFLICT, "migration_drift", "",
			               "migration %04d_%s was changed after it was applied (its "
			               "checksum differs); restore the released file",
			               v[i].version, v[i].name);
		if (v[i].state == MIG_UNKNOWN)
			return tq_fail(
			    err, TQ_CONFLICT, "database_newer", "",
			    "the database has migration %04d (%s), which this tokenq "
			    "does not know: it is newer than this binary; upgrade tokenq",
			    v[i].version, v[i].name);
	}
	return 0;
}

static int applied_row(void *ctx, int query, int ncols, const char *const *vals)
{
	(void)query;
	(void)vals;
	*(int *)ctx = ncols > 0;
	return 0;
}

/* Applies one migration in its own transaction, unless another process just did. */
static int apply_one(struct store_conn *c, const struct builtin *m, int *applied,
                     struct tq_error *err)
{
	static const char check_sql[] = "SELECT version FROM schema_migrations WHERE version = $1";
	static const char insert_sql[] = "INSERT INTO schema_migrations (version, name, checksum, "
	                                 "applied_at) VALUES ($1, $2, $3, $4)";
	char version[16], at[32];
	const char *p[4] = {version, m->name, m->checksum, at};
	int done = 0;

	snprintf(version, sizeof(version), "%d", m->version);
	format_rfc3339(now_ms(), at);
	if (c->be->fk_off != NULL && sql_script(c, c->be->fk_off, err) != 0)
		return -1;
	if (sql_begin(c, true, err) != 0)
		goto fk_on;
	if (sql_script(c, history_sql, err) != 0 ||
	    sql_exec(c, check_sql, 1, p, applied_row, &done, err) != 0)
		goto fail;
	if (done) {
		sql_rollback(c);
		if (c->be->fk_on != NULL && sql_script(c, c->be->fk_on, err) != 0)
			return -1;
		return 0;
	}
	if (check_names_free(c, m, err) != 0)
		goto fail;
	if (sql_script(c, m->sql, err) != 0) {
		char detail[sizeof(err->detail)];
		snprintf(detail, sizeof(detail), "%s", err->detail);
		tq_fail(err, err->status == TQ_UNAVAILABLE ? TQ_UNAVAILABLE : TQ_INTERNAL,
		        "migration_failed", "", "migration %04d_%s failed: %s", m->version, m->name,
		        detail);
		goto fail;
	}
	if (c->be->fk_check != NULL) {
		int bad = 0;
		if (sql_exec(c, c->be->fk_check, 0, NULL, fk_row, &bad, err) != 0)
			goto fail;
		if (bad > 0) {
			tq_fail(err, TQ_INTERNAL, "migration_failed", "",
			        "migration %04d_%s failed: %d rows would break a foreign key",
			        m->version, m->name, bad);
			goto fail;
		}
	}
	if (sql_exec(c, insert_sql, 4, p, NULL, NULL, err) != 0 || sql_commit(c, err) != 0)
		goto fail;
	(*applied)++;
	log_info("msg=\"applied migration\" version=%d name=%s", m->version, m->name);
	if (c->be->fk_on != NULL && sql_script(c, c->be->fk_on, err) != 0)
		return -1;
	return 0;
fail:
	sql_rollback(c);
fk_on:
	if (c->be->fk_on != NULL) {
		struct tq_error ignored;
		sql_script(c, c->be->fk_on, &ignored);
	}
	return -1;
}

int migrate_apply(struct store_conn *c, int *applied, struct tq_error *err)
{
	struct builtin *b = calloc(MAX_MIGRATIONS, sizeof(*b));
	struct migration_info *v = NULL;
	size_t n = 0, i;
	int nb, rc = -1;

	*applied = 0;
	if (b == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	if (sql_lock_migrations(c, err) != 0) {
		free(b);
		return -1;
	}
	/* Read the state under the lock: another process may have migrated meanwhile. */
	if (migrate_status(c, &v, &n, err) != 0 || refuse_bad(v, n, err) != 0)
		goto out;
	nb = builtins(c->be->dialect, b);
	for (i = 0; i < (size_t)nb; i++) {
		if (v[i].state != MIG_PENDING)
			continue;
		if (apply_one(c, &b[i], applied, err) != 0)
			goto out;
	}
	rc = 0;
out:
	sql_unlock_migrations(c);
	free(v);
	free(b);
	return rc;
}

int migrate_for_serve(struct store_conn *c, bool auto_migrate, struct tq_error *err)
{
	struct migration_info *v = NULL;
	size_t n = 0, i;
	int tables = 0, applied;
	char names[200] = "";

	if (sql_count_tables(c, &tables, err) != 0)
		return -1;
	if (tables == 0)
		return migrate_apply(c, &applied, err);
	if (migrate_status(c, &v, &n, err) != 0)
		return -1;
	if (refuse_bad(v, n, err) != 0) {
		free(v);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (v[i].state == MIG_PENDING) {
			size_t len = strlen(names);
			snprintf(names + len, sizeof(names) - len, "%s%04d_%s", len ? ", " : "",
			         v[i].version, v[i].name);
		}
	}
	free(v);
	if (names[0] == '\0')
		return 0;
	if (auto_migrate)
		return migrate_apply(c, &applied, err);
	return tq_fail(err, TQ_CONFLICT, "migrations_pending", "",
	               "the database has pending migrations (%s); run `tokenq migrate` or start "
	               "with `tokenq serve --migrate`",
	               names);
}
