/*
 * tokenq migrate [status]: apply pending migrations, or list each as
 * applied, pending, drifted or unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/venue.h"
#include "store/migrate.h"

static int status(struct store_conn *c)
{
	struct migration_info *v;
	struct tq_error err;
	size_t n, i;
	int bad = 0;

	if (migrate_status(c, &v, &n, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	for (i = 0; i < n; i++) {
		const struct migration_info *m = &v[i];
		switch (m->state) {
		case MIG_APPLIED:
			printf("%04d_%s\tapplied\t%s\n", m->version, m->name, m->applied_at);
			break;
		case MIG_PENDING:
			printf("%04d_%s\tpending\n", m->version, m->name);
			bad = 1;
			break;
		case MIG_DRIFTED:
			printf("%04d_%s\tDRIFTED\tapplied %s, but its checksum differs from the "
			       "built-in file\n",
			       m->version, m->name, m->applied_at);
			bad = 1;
			break;
		case MIG_UNKNOWN:
			printf("%04d_%s\tUNKNOWN\tapplied %s, but this tokenq does not know it "
			       "(the database is newer)\n",
			       m->version, m->name, m->applied_at);
			bad = 1;
			break;
		}
	}
	free(v);
	return bad ? EXIT_RUNTIME : EXIT_OK;
}

int cmd_migrate(int argc, char **argv)
{
	const char *database = NULL, *pos[1];
	const struct cli_opt opts[] = {{"database", &database, NULL}, {NULL, NULL, NULL}};
	const struct command *cmd = cli_command("migrate");
	struct config cfg;
	struct store *s;
	struct store_conn *c;
	struct tq_error err;
	int n, rc, applied;

	n = cli_parse(cmd, argc, argv, opts, pos, 1);
	if (n < 0)
		return n == -1 ? EXIT_OK : EXIT_USAGE;
	if (n == 1 && strcmp(pos[0], "status") != 0)
		return cli_fail(EXIT_USAGE, "`tokenq migrate` takes only `status`; see `tokenq "
		                            "migrate --help`.");
	if (cli_config(&cfg, database, NULL) != 0)
		return EXIT_USAGE;
	if (store_open(cfg.database, &s, &err) != 0)
		return cli_fail(EXIT_USAGE, "%s.", err.detail);
	if (store_connect(s, &c, &err) != 0) {
		store_free(s);
		return cli_fail(EXIT_RUNTIME,
		                "%s; check the database URL and that the database "
		                "is running.",
		                err.detail);
	}
	if (n == 1) {
		rc = status(c);
	} else if (migrate_apply(c, &applied, &err) != 0) {
		rc = cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	} else if (venues_apply_env(c, &cfg, &err) != 0) {
		/* The environment's settings are main's, as serve writes them at start. */
		rc = cli_fail(EXIT_RUNTIME, "cannot write the settings of the venue main: %s.",
		              err.detail);
	} else {
		if (applied)
			printf("applied %d migration%s\n", applied, applied == 1 ? "" : "s");
		else
			printf("the database is up to date\n");
		rc = EXIT_OK;
	}
	cli_close(s, c);
	return rc;
}
