/*
 * tokenq copy --to URL: copies every row of the configured database (the
 * source) into another, empty database of either kind (the target), keeping
 * ids, numbers and counters, so that a server on the target continues the
 * day where the source stands.
 *
 * The source is read in one snapshot (a REPEATABLE READ READ ONLY
 * transaction on PostgreSQL, one read transaction on SQLite), so it may go
 * on taking orders meanwhile; the target is written in one transaction,
 * page by page, and committed only once its row counts match the source's.
 * A target that holds any tokenq row is refused before anything is written.
 * A brand-new target (no tables at all) is migrated first; one this command
 * created as a new SQLite file is removed again when the copy fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/migrate.h"
#include "store/reports.h"
#include "util/log.h"

#define PAGE_ROWS  500
#define MAX_TABLES 16
#define BAR_WIDTH  30

struct side {
	const char *url;
	const char *which; /* "source" or "target" */
	struct store *s;
	struct store_conn *c;
	bool in_txn;
};

struct progress {
	bool tty;
	int64_t total, done;
	int64_t last_draw; /* mono_ms of the last bar drawn */
};

static const struct command *copy_command(void)
{
	const struct command *c;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, "copy") == 0)
			break;
	return c;
}

static bool url_valid(const char *url)
{
	char why[300];

	return config_parse_database(url, why, sizeof(why)) == 0;
}

/* Whether two URLs name one database (the same text, or one SQLite file). */
static bool same_database(const char *a, const char *b)
{
	const char *pa = store_file(a), *pb = store_file(b);
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return true;
	if (pa == NULL || pb == NULL || stat(pa, &sa) != 0 || stat(pb, &sb) != 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int side_open(struct side *d, struct tq_error *err)
{
	if (store_open(d->url, &d->s, err) != 0)
		return -1;
	return store_connect(d->s, &d->c, err);
}

static void side_close(struct side *d)
{
	if (d->in_txn)
		store_rollback(d->c);
	d->in_txn = false;
	store_disconnect(d->c);
	store_free(d->s);
	d->c = NULL;
	d->s = NULL;
}

/*
 * Checks that a database's schema is the one this tokenq builds, with every
 * migration applied; sets *fresh for a brand-new database (no tables) when
 * fresh is given. Returns EXIT_OK, or an exit code after saying why.
 */
static int check_schema(struct side *d, bool *fresh)
{
	struct migration_info *v = NULL;
	struct tq_error err;
	size_t n = 0, i;
	int tables = 0, rc = EXIT_OK;

	if (fresh != NULL)
		*fresh = false;
	if (store_count_tables(d->c, &tables, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "cannot read the %s database: %s.", d->which,
		                err.detail);
	if (tables > 0 && fresh != NULL) {
		/* Other programs' tables only: as brand-new to tokenq (migrated beside them). */
		bool history = true;
		if (migrate_history_exists(d->c, &history, &err) != 0)
			return cli_fail(EXIT_RUNTIME, "cannot read the %s database: %s.", d->which,
			                err.detail);
		if (!history)
			tables = 0;
	}
	if (tables == 0) {
		if (fresh != NULL) {
			*fresh = true;
			return EXIT_OK;
		}
		return cli_fail(EXIT_RUNTIME,
		                "the %s database has no tables, so there is nothing to copy; check "
		                "--database or DATABASE_URL.",
		                d->which);
	}
	if (migrate_status(d->c, &v, &n, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "the %s database: %s.", d->which, err.detail);
	for (i = 0; i < n && rc == EXIT_OK; i++) {
		if (v[i].state == MIG_PENDING)
			rc = cli_fail(EXIT_RUNTIME,
			              "the %s database has pending migration %04d_%s; run `tokenq "
			              "migrate` on it first (with --database set to its URL).",
			              d->which, v[i].version, v[i].name);
		else if (v[i].state != MIG_APPLIED)
			rc = cli_fail(EXIT_RUNTIME,
			              "the %s database's migration %04d_%s is %s; run `tokenq "
			              "migrate status` on it and use a database this tokenq made.",
			              d->which, v[i].version, v[i].name,
			              v[i].state == MIG_DRIFTED ? "changed since it was applied"
			                                        : "unknown to this tokenq");
	}
	free(v);
	return rc;
}

static void progress_draw(struct progress *pg, const char *label, int64_t done, int64_t of,
                          bool force)
{
	static const char hashes[] = "##############################";
	static const char dashes[] = "------------------------------";
	int64_t now = mono_ms();
	int filled, pct;

	if (!pg->tty || (!force && now - pg->last_draw < 100))
		return;
	pg->last_draw = now;
	filled = pg->total > 0 ? (int)(pg->done * BAR_WIDTH / pg->total) : BAR_WIDTH;
	pct = pg->total > 0 ? (int)(pg->done * 100 / pg->total) : 100;
	if (filled > BAR_WIDTH)
		filled = BAR_WIDTH;
	fprintf(stderr, "\rcopying [%.*s%.*s] %3d%%  %s %" PRId64 "/%" PRId64 "\033[K", filled,
	        hashes, BAR_WIDTH - filled, dashes, pct, label, done, of);
	fflush(stderr);
}

/* Copies one table page by page; *copied counts its rows. */
static int copy_table(struct side *from, struct side *to, const struct reports_table *t,
                      int64_t expect, struct progress *pg, int64_t *copied, struct tq_error *err)
{
	struct reports_rows rows = {t->ncols, 0, 0, NULL};
	const char *after[3] = {NULL, NULL, NULL};
	int k, rc = -1;

	*copied = 0;
	progress_draw(pg, t->label, 0, expect, true);
	if (reports_page(from->c, t, NULL, PAGE_ROWS, &rows, err) != 0)
		goto out;
	while (rows.n > 0) {
		if (reports_write(to->c, t, &rows, err) != 0)
			goto out;
		*copied += (int64_t)rows.n;
		pg->done += (int64_t)rows.n;
		progress_draw(pg, t->label, *copied, expect, false);
		if (rows.n < PAGE_ROWS)
			break;
		for (k = 0; k < t->nkey; k++)
			after[k] = rows.vals[(rows.n - 1) * (size_t)t->ncols + (size_t)k];
		if (reports_page(from->c, t, after, PAGE_ROWS, &rows, err) != 0)
			goto out;
	}
	progress_draw(pg, t->label, *copied, expect, true);
	if (!pg->tty)
		fprintf(stderr, "copied %s: %" PRId64 "\n", t->label, *copied);
	rc = 0;
out:
	reports_rows_free(&rows);
	return rc;
}

/* Appends "N label" to a list of what a target holds. */
static void describe(char *out, size_t size, int64_t n, const char *label)
{
	size_t len = strlen(out);

	snprintf(out + len, size - len, "%s%s: %" PRId64, len ? ", " : "", label, n);
}

/* Refuses a target that holds any tokenq row: EXIT_OK, or 1 after saying what it holds. */
static int check_empty(struct side *dst, struct tq_error *err, bool *failed)
{
	char held[256] = "";
	int64_t n;
	int i;

	*failed = false;
	for (i = 0; reports_tables[i].name != NULL; i++) {
		if (reports_occupied(dst->c, &reports_tables[i], &n, err) != 0) {
			*failed = true;
			return EXIT_RUNTIME;
		}
		if (n > 0)
			describe(held, sizeof(held), n,
			         strcmp(reports_tables[i].name, "event_counters") == 0
			             ? "used event counter"
			             : reports_tables[i].label);
	}
	if (held[0] == '\0')
		return EXIT_OK;
	return cli_fail(EXIT_RUNTIME,
	                "the target database already holds tokenq data (%s), so nothing was "
	                "copied; copy into a new, empty database instead.",
	                held);
}

/* Compares the target's rows with the source's snapshot before commit. */
static int verify(struct side *src, struct side *dst, const int64_t *counts, bool same_kind,
                  struct tq_error *err)
{
	int64_t n, a = 0, b = 0;
	struct venue_row *venues;
	size_t nv, v;
	int i;

	for (i = 0; reports_tables[i].name != NULL; i++) {
		if (reports_count(dst->c, &reports_tables[i], &n, err) != 0)
			return -1;
		if (n != counts[i] && (same_kind || !reports_tables[i].same_kind_only))
			return tq_fail(err, TQ_INTERNAL, "copy_mismatch", "",
			               "the target would hold %" PRId64
			               " rows of %s but the source "
			               "holds %" PRId64,
			               n, reports_tables[i].name, counts[i]);
	}
	/* Every venue's events go on where the source's are. */
	if (store_venue_list(src->c, &venues, &nv, err) != 0)
		return -1;
	for (v = 0; v < nv; v++) {
		if (store_last_event_id(src->c, venues[v].id, &a, err) != 0 ||
		    store_last_event_id(dst->c, venues[v].id, &b, err) != 0) {
			free(venues);
			return -1;
		}
		if (a != b) {
			tq_fail(err, TQ_INTERNAL, "copy_mismatch", "",
			        "the target's last event id of the venue %s would be %" PRId64
			        ", not %" PRId64,
			        venues[v].slug, b, a);
			free(venues);
			return -1;
		}
	}
	free(venues);
	return 0;
}

/* The source's row count of one table. */
static int64_t count_of(const int64_t *counts, const char *table)
{
	int i;

	for (i = 0; reports_tables[i].name != NULL; i++)
		if (strcmp(reports_tables[i].name, table) == 0)
			return counts[i];
	return 0;
}

static void remove_sqlite_files(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char name[1100];
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", path, suffix[i]);
		unlink(name);
	}
}

/* Runs the copy once both databases are open and checked. */
static int run_copy(struct side *src, struct side *dst, bool fresh)
{
	const char *src_kind = store_kind(src->s), *dst_kind = store_kind(dst->s);
	bool same_kind = strcmp(src_kind, dst_kind) == 0, failed;
	int64_t counts[MAX_TABLES] = {0}, copied, rows = 0;
	struct progress pg = {isatty(STDERR_FILENO) == 1, 0, 0, 0};
	struct tq_error err;
	int64_t started = mono_ms();
	const char *stage = "reading the source";
	char what[64];
	bool bar_open = false;
	int i, applied, rc;

	if (fresh && migrate_apply(dst->c, &applied, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "cannot prepare the target database: %s.",
		                err.detail);
	if (store_begin(src->c, false, &err) != 0)
		goto db_fail;
	src->in_txn = true;
	for (i = 0; reports_tables[i].name != NULL && i < MAX_TABLES; i++) {
		if (reports_count(src->c, &reports_tables[i], &counts[i], &err) != 0)
			goto db_fail;
		if (same_kind || !reports_tables[i].same_kind_only)
			pg.total += counts[i];
	}
	stage = "writing to the target";
	if (store_begin(dst->c, true, &err) != 0)
		goto db_fail;
	dst->in_txn = true;
	if ((rc = check_empty(dst, &err, &failed)) != EXIT_OK) {
		if (failed)
			goto db_fail;
		return rc;
	}
	for (i = 0; reports_tables[i].name != NULL; i++) {
		const struct reports_table *t = &reports_tables[i];
		if (t->same_kind_only && !same_kind)
			continue;
		snprintf(what, sizeof(what), "copying %s", t->label);
		stage = what;
		bar_open = pg.tty;
		if (copy_table(src, dst, t, counts[i], &pg, &copied, &err) != 0)
			goto db_fail;
		rows += copied;
	}
	if (bar_open)
		fputc('\n', stderr);
	bar_open = false;
	stage = "checking the copy";
	if (reports_fix_sequences(dst->c, &err) != 0 ||
	    verify(src, dst, counts, same_kind, &err) != 0)
		goto db_fail;
	stage = "committing the copy";
	dst->in_txn = false;
	if (store_commit(dst->c, &err) != 0)
		goto db_fail;
	fprintf(
	    stderr,
	    "copied %" PRId64 " rows from %s to %s in %.2f s (orders: %" PRId64 ", events: %" PRId64
	    ", keys: %" PRId64 ", idempotency records: %" PRId64 ", counters: %" PRId64 ")\n",
	    rows, src_kind, dst_kind, (double)(mono_ms() - started) / 1000.0,
	    count_of(counts, "orders"), count_of(counts, "events"), count_of(counts, "api_keys"),
	    count_of(counts, "idempotency_keys"), count_of(counts, "counters"));
	return EXIT_OK;
db_fail:
	if (bar_open)
		fputc('\n', stderr);
	return cli_fail(EXIT_RUNTIME, "the copy failed while %s, so nothing was copied: %s.", stage,
	                err.detail);
}

int cmd_copy(int argc, char **argv)
{
	const char *database = NULL, *to = NULL;
	const struct cli_opt opts[] = {
	    {"database", &database, NULL}, {"to", &to, NULL}, {NULL, NULL, NULL}};
	struct side src = {NULL, "source", NULL, NULL, false};
	struct side dst = {NULL, "target", NULL, NULL, false};
	const char *path;
	struct config cfg;
	struct tq_error err;
	struct stat st;
	bool created = false, fresh = false;
	int n, rc;

	n = cli_parse(copy_command(), argc, argv, opts, NULL, 0);
	if (n < 0)
		return n == -1 ? EXIT_OK : EXIT_USAGE;
	if (to == NULL)
		return cli_fail(EXIT_USAGE, "copy needs --to URL, the database to copy into; see "
		                            "`tokenq copy --help`.");
	if (!url_valid(to))
		return cli_fail(EXIT_USAGE, "--to must be a database URL that starts with "
		                            "postgres://, postgresql:// or sqlite:.");
	if (cli_config(&cfg, database, NULL) != 0)
		return EXIT_USAGE;
	if (same_database(cfg.database, to))
		return cli_fail(EXIT_USAGE, "--to names the database being copied; give another "
		                            "database to copy into.");
	src.url = cfg.database;
	dst.url = to;
	path = store_file(cfg.database);
	if (path != NULL && stat(path, &st) != 0)
		return cli_fail(EXIT_RUNTIME,
		                "the source database %s does not exist; check --database or "
		                "DATABASE_URL.",
		                path);
	path = store_file(to);
	created = path != NULL && stat(path, &st) != 0 && errno == ENOENT;

	rc = EXIT_RUNTIME;
	if (side_open(&src, &err) != 0) {
		cli_fail(EXIT_RUNTIME,
		         "cannot open the source database: %s; check --database or "
		         "DATABASE_URL.",
		         err.detail);
		goto out;
	}
	if (side_open(&dst, &err) != 0) {
		cli_fail(EXIT_RUNTIME,
		         "cannot open the target database: %s; check --to (a PostgreSQL database "
		         "must exist: create it with createdb).",
		         err.detail);
		goto out;
	}
	if ((rc = check_schema(&src, NULL)) != EXIT_OK || (rc = check_schema(&dst, &fresh)) != 0)
		goto out;
	rc = run_copy(&src, &dst, fresh);
out:
	side_close(&src);
	side_close(&dst);
	if (rc != EXIT_OK && created)
		remove_sqlite_files(path);
	return rc;
}
