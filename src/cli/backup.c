/*
 * tokenq backup PATH [--force]: a consistent copy of the database, made
 * while the server runs and takes orders.
 *
 * SQLite: the online backup API copies every page in one read transaction
 * (in WAL mode readers do not block the server's writes); PostgreSQL:
 * pg_dump --format=custom, which reads one snapshot. Either way the copy is
 * written to a temporary file beside PATH, synced to disk and checked
 * (PRAGMA integrity_check; pg_restore --list), and only then put in place,
 * with the folder synced too: PATH is either the old file or the complete
 * new one, never half a backup. Without --force an existing PATH is
 * refused, also when it appears while the backup runs.
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

#include "cli/cli.h"
#include "util/buf.h"
#include "util/log.h"

#define NAME_MAX_LEN 4096

/* The temporary file, removed if a signal ends the command half-way. */
static char tmp_path[NAME_MAX_LEN];

static void on_signal(int sig)
{
	if (tmp_path[0] != '\0')
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const struct command *backup_command(void)
{
	const struct command *c;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, "backup") == 0)
			break;
	return c;
}

/* Splits path into its folder and makes the temporary name beside it. */
static int temp_beside(const char *path, char *dir, size_t dirlen, char *tmp, size_t tmplen)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int n;

	if (slash == NULL)
		n = snprintf(dir, dirlen, ".");
	else if (slash == path)
		n = snprintf(dir, dirlen, "/");
	else
		n = snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
	if (n < 0 || (size_t)n >= dirlen)
		return -1;
	n = snprintf(tmp, tmplen, "%s/.%s.tmp-XXXXXX", dir, base);
	return n < 0 || (size_t)n >= tmplen ? -1 : 0;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* ---- SQLite ---- */

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

/* ---- PostgreSQL ---- */

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

/* ---- the command ---- */

static void human_size(long long bytes, char out[32])
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(out, 32, "%lld bytes", bytes);
		return;
	}
	while (v >= 1024.0 && u < 3) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, 32, "%.1f %s", v, unit[u]);
}

/* Puts tmp in place as path: never over an existing file unless force. */
static int place(const char *tmp, const char *path, bool force, struct buf *why)
{
	if (force) {
		if (rename(tmp, path) == 0)
			return 0;
	} else if (link(tmp, path) == 0) {
		unlink(tmp);
		return 0;
	} else if (errno == EEXIST) {
		buf_printf(why,
		           "%s appeared while the backup ran; choose another name or pass "
		           "--force to replace it",
		           path);
		return -1;
	} else if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != EXDEV) {
		buf_printf(why, "cannot create %s: %s", path, strerror(errno));
		return -1;
	} else if (access(path, F_OK) != 0 && rename(tmp, path) == 0) {
		return 0; /* a file system without hard links */
	}
	buf_printf(why, "cannot put the backup at %s: %s", path, strerror(errno));
	return -1;
}

int cmd_backup(int argc, char **argv)
{
	const char *database = NULL, *pos[1] = {NULL};
	bool force = false, checked = true;
	const struct cli_opt opts[] = {
	    {"database", &database, NULL}, {"force", NULL, &force}, {NULL, NULL, NULL}};
	char dir[NAME_MAX_LEN], size[32];
	const char *path, *kind;
	struct config cfg;
	struct buf why;
	struct stat st;
	int64_t started;
	int n, fd, rc = EXIT_RUNTIME;

	n = cli_parse(backup_command(), argc, argv, opts, pos, 1);
	if (n < 0)
		return n == -1 ? EXIT_OK : EXIT_USAGE;
	if (n != 1 || pos[0][0] == '\0')
		return cli_fail(EXIT_USAGE,
		                "backup needs the PATH of the file to write; see `tokenq "
		                "backup --help`.");
	path = pos[0];
	if (cli_config(&cfg, database, NULL) != 0)
		return EXIT_USAGE;
	if (path[strlen(path) - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return cli_fail(EXIT_USAGE,
		                "%s is a folder; give the name of the backup file, such "
		                "as %s/tokenq.db.",
		                path, path);
	if (!force && lstat(path, &st) == 0)
		return cli_fail(EXIT_RUNTIME,
		                "%s already exists; choose another name or pass --force to replace "
		                "it.",
		                path);
	if (temp_beside(path, dir, sizeof(dir), tmp_path, sizeof(tmp_path)) != 0)
		return cli_fail(EXIT_USAGE, "the backup path is too long.");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_fail(EXIT_RUNTIME, "the folder %s does not exist; create it first.",
		                dir);
	if (strncmp(cfg.database, "sqlite:", 7) == 0 && stat(cfg.database + 7, &st) != 0)
		return cli_fail(EXIT_RUNTIME,
		                "the SQLite database %s does not exist; check --database or "
		                "DATABASE_URL.",
		                cfg.database + 7);

	started = mono_ms();
	buf_init(&why, 2048);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	fd = mkstemp(tmp_path);
	if (fd < 0) {
		buf_printf(&why, "cannot create a file in %s: %s", dir, strerror(errno));
		tmp_path[0] = '\0';
		goto out;
	}
	close(fd);
	if (strncmp(cfg.database, "sqlite:", 7) == 0) {
		kind = "SQLite online backup, PRAGMA integrity_check ok";
		if (sqlite_copy(cfg.database + 7, tmp_path, &why) != 0)
			goto out;
		if (fsync_path(tmp_path, 0) != 0) {
			buf_printf(&why, "cannot sync %s: %s", tmp_path, strerror(errno));
			goto out;
		}
		if (sqlite_check(tmp_path, &why) != 0)
			goto out;
	} else {
		kind = "pg_dump --format=custom, read back with pg_restore --list";
		if (pg_copy(cfg.database, tmp_path, &why) != 0)
			goto out;
		if (fsync_path(tmp_path, 0) != 0) {
			buf_printf(&why, "cannot sync %s: %s", tmp_path, strerror(errno));
			goto out;
		}
		if (pg_check(tmp_path, &why, &checked) != 0)
			goto out;
		if (!checked)
			kind = "pg_dump --format=custom; not read back: pg_restore was not found";
	}
	if (stat(tmp_path, &st) != 0) {
		buf_printf(&why, "the backup file vanished: %s", strerror(errno));
		goto out;
	}
	if (place(tmp_path, path, force, &why) != 0)
		goto out;
	tmp_path[0] = '\0';
	if (fsync_path(dir, O_DIRECTORY) != 0) {
		buf_printf(&why, "wrote %s but cannot sync its folder: %s", path, strerror(errno));
		goto out;
	}
	human_size((long long)st.st_size, size);
	fprintf(stderr, "wrote %s (%s) in %.2f s (%s)\n", path, size,
	        (double)(mono_ms() - started) / 1000.0, kind);
	rc = EXIT_OK;
out:
	if (tmp_path[0] != '\0')
		unlink(tmp_path);
	tmp_path[0] = '\0';
	if (rc != EXIT_OK)
		cli_fail(EXIT_RUNTIME, "%s.", why.data ? why.data : "the backup failed");
	buf_release(&why);
	return rc;
}
