/*
 * tokenq backup PATH [--force]: a consistent copy of the database, made
 * while the server runs and takes orders.
 *
 * How the copy is made is the store backend's (store_backup: SQLite's
 * online backup API, or pg_dump). Here is what makes it safe to keep: the
 * copy is written to a temporary file beside PATH, synced to disk and
 * checked (store_backup_check), and only then put in place,
 * with the folder synced too: PATH is either the old file or the complete
 * new one, never half a backup. Without --force an existing PATH is
 * refused, also when it appears while the backup runs.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
	bool force = false;
	const struct cli_opt opts[] = {
	    {"database", &database, NULL}, {"force", NULL, &force}, {NULL, NULL, NULL}};
	char dir[NAME_MAX_LEN], size[32];
	const char *path, *kind;
	struct store *store = NULL;
	struct tq_error err;
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
	if (store_open(cfg.database, &store, &err) != 0)
		return cli_fail(EXIT_USAGE, "%s.", err.detail);
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
	if (store_backup(store, tmp_path, &why) != 0)
		goto out;
	if (fsync_path(tmp_path, 0) != 0) {
		buf_printf(&why, "cannot sync %s: %s", tmp_path, strerror(errno));
		goto out;
	}
	if (store_backup_check(store, tmp_path, &kind, &why) != 0)
		goto out;
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
	store_free(store);
	return rc;
}
