/*
 * Backups, the backends' way: SQLite's online backup API copies every page
 * in one read transaction (in WAL mode readers do not block the server's
 * writes) and PRAGMA integrity_check reads it back; PostgreSQL's pg_dump
 * --format=custom reads one snapshot and pg_restore --list reads it back.
 * The command around them (cli/backup.c) makes the result safe to keep.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store-internal.h"

/* ---- SQLite: the online backup API ---- */

static int sqlite_copy(const char *src_path, const char *tmp, struct buf *why)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	int rc, tries;

	rc = sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		buf_printf(why, "cannot open the SQLite database %s: %s", src_path,
		           src ? sqlite3_errmsg(src) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(src, 10000);
	rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		buf_printf(why, "cannot write %s: %s", tmp,
		           dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		goto fail;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (b == NULL) {
		buf_printf(why, "cannot start the backup: %s", sqlite3_errmsg(dst));
		goto fail;
	}
	/* All pages in one step, so in one read transaction of the source. */
	for (tries = 0;; tries++) {
		rc = sqlite3_backup_step(b, -1);
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries == 200)
			break;
		sqlite3_sleep(50);
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		buf_printf(why, "the backup of %s failed: %s", src_path,
		           rc == SQLITE_NOTADB ? "it is not a SQLite database"
		                               : sqlite3_errstr(rc));
		goto fail;
	}
	/* One self-contained file: no -wal beside it. */
	rc = sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		buf_printf(why, "cannot finish %s: %s", tmp, sqlite3_errmsg(dst));
		goto fail;
	}
	sqlite3_close(src);
	if (sqlite3_close(dst) != SQLITE_OK) {
		buf_printf(why, "cannot close %s", tmp);
		return -1;
	}
	return 0;
fail:
	sqlite3_close(src);
	sqlite3_close(dst);
	return -1;
}

static int integrity_row(void *ctx, int ncols, char **vals, char **names)
{
	struct buf *out = ctx;

	(void)names;
	if (ncols > 0 && vals[0] != NULL)
		buf_printf(out, "%s%s", out->len ? "; " : "", vals[0]);
	return 0;
}

static int sqlite_check(const char *tmp, struct buf *why)
{
	struct buf said;
	sqlite3 *db = NULL;
	int rc;

	buf_init(&said, 4096);
	rc = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA integrity_check", integrity_row, &said, NULL);
	if (rc != SQLITE_OK)
		buf_printf(why, "cannot check the backup: %s",
		           db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	else if (said.data == NULL || strcmp(said.data, "ok") != 0)
		buf_printf(why, "the backup failed PRAGMA integrity_check: %.300s",
		           said.data ? said.data : "no answer");
	sqlite3_close(db);
	rc = why->len ? -1 : 0;
	buf_release(&said);
	return rc;
}

/* ---- PostgreSQL: pg_dump ---- */

/*
 * Runs argv (searched on PATH, no shell) with stdin from /dev/null and its
 * stdout and stderr into out. Returns its exit status, 127 + a message when
 * it could not be started, or 128 + the signal that ended it.
 */
static int run_tool(const char *const argv[], struct buf *out, int *exec_errno)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, status = 0, e = 0, nul;
	char chunk[4096];
	ssize_t got;
	pid_t pid;

	*exec_errno = 0;
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		*exec_errno = errno;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		*exec_errno = errno;
		goto fail;
	}
	if (pid == 0) {
		nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(outp[1], 1);
		dup2(outp[1], 2);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	while ((got = read(outp[0], chunk, sizeof(chunk))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		buf_add(out, chunk, (size_t)got); /* past the limit the rest is dropped */
	}
	if (read(errp[0], &e, sizeof(e)) == (ssize_t)sizeof(e))
		*exec_errno = e;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(outp[0]);
	close(errp[0]);
	if (*exec_errno != 0)
		return 127;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
fail:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return 127;
}

/* The tool's own words as one line in out: its lines joined with "; ". */
static void one_line(const struct buf *said, struct buf *out)
{
	const char *p = said->data ? said->data : "";
	size_t n;

	while (*p != '\0') {
		n = strcspn(p, "\r\n");
		if (n > 0)
			buf_printf(out, "%s%.*s", out->len ? "; " : "", (int)n, p);
		p += n;
		p += strspn(p, "\r\n");
	}
	if (out->len == 0)
		buf_adds(out, "no message");
}

static int pg_copy(const char *url, const char *tmp, struct buf *why)
{
	const char *argv[] = {
	    "pg_dump", "--format=custom", "--no-password", "--file", tmp, "--dbname", url, NULL};
	struct buf said, line;
	int rc, e;

	buf_init(&said, 16384);
	buf_init(&line, 16384);
	rc = run_tool(argv, &said, &e);
	one_line(&said, &line);
	if (rc == 127 && e != 0) {
		if (e == ENOENT)
			buf_printf(why,
			           "pg_dump was not found on PATH; install the PostgreSQL client "
			           "of the server's major version (Debian: postgresql-client) or "
			           "put its bin folder first on PATH");
		else
			buf_printf(why, "cannot run pg_dump: %s", strerror(e));
	} else if (rc != 0) {
		buf_printf(why, "pg_dump failed (%.1000s)%s", line.data,
		           strstr(line.data, "version mismatch")
		               ? "; use the pg_dump of the server's major version, e.g. put "
		                 "/usr/lib/postgresql/NN/bin first on PATH"
		               : "; check the database URL and that the server is running");
	}
	buf_release(&said);
	buf_release(&line);
	return rc == 0 ? 0 : -1;
}

static int pg_check(const char *tmp, struct buf *why, bool *checked)
{
	const char *argv[] = {"pg_restore", "--list", tmp, NULL};
	struct buf said, line;
	int rc, e;

	*checked = false;
	buf_init(&said, 1 << 20);
	buf_init(&line, 4096);
	rc = run_tool(argv, &said, &e);
	if (rc == 127 && e == ENOENT) {
		rc = 0; /* pg_dump without pg_restore: not checked, as the summary says */
	} else if (rc != 0) {
		one_line(&said, &line);
		buf_printf(why, "pg_restore --list cannot read the archive pg_dump wrote (%.300s)",
		           line.data);
	} else {
		*checked = true;
	}
	buf_release(&said);
	buf_release(&line);
	return rc == 0 ? 0 : -1;
}

int sq_backup(const char *url, const char *path, struct buf *why)
{
	const char *db = url + strlen("sqlite:");
	struct stat st;

	if (stat(db, &st) != 0) {
		buf_printf(why,
		           "the SQLite database %s does not exist; check --database or "
		           "DATABASE_URL",
		           db);
		return -1;
	}
	return sqlite_copy(db, path, why);
}

int sq_backup_check(const char *path, const char **kind, struct buf *why)
{
	*kind = "SQLite online backup, PRAGMA integrity_check ok";
	return sqlite_check(path, why);
}

int pg_backup(const char *url, const char *path, struct buf *why)
{
	return pg_copy(url, path, why);
}

int pg_backup_check(const char *path, const char **kind, struct buf *why)
{
	bool checked = true;

	if (pg_check(path, why, &checked) != 0)
		return -1;
	*kind = checked ? "pg_dump --format=custom, read back with pg_restore --list"
	                : "pg_dump --format=custom; not read back: pg_restore was not found";
	return 0;
}
