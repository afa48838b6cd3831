/*
 * tokenq keys create|list|revoke: API keys. A secret is shown once, on the
 * first line of stdout; only its sha256 is stored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/order.h"
#include "http/auth.h"
#include "util/log.h"

static void time_or(int64_t ms, const char *none, char out[32])
{
	if (ms <= 0)
		snprintf(out, 32, "%s", none);
	else
		format_rfc3339(ms, out);
}

static int create(struct store_conn *c, const char *role_s, const char *label)
{
	enum role role;
	struct tq_error err;
	char secret[64], hash[65];
	int64_t id;

	if (role_s == NULL || role_parse(role_s, &role) != 0)
		return cli_fail(EXIT_USAGE, "keys create needs --role pos, staff or admin.");
	if (label != NULL) {
		long len = text_length(label, 0);
		if (len < 1 || len > 100)
			return cli_fail(EXIT_USAGE, "--label must be 1 to 100 characters without "
			                            "control characters.");
	}
	if (key_generate(secret, hash) != 0)
		return cli_fail(EXIT_RUNTIME, "the system's random source failed; try again.");
	if (store_key_create(c, role, label, hash, now_ms(), &id, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	printf("%s\n", secret);
	fflush(stdout);
	fprintf(stderr,
	        "created key %" PRId64 " with role %s%s%s; the secret above is shown only "
	        "once\n",
	        id, role_name(role), label ? " and label " : "", label ? label : "");
	return EXIT_OK;
}

static int list(struct store_conn *c)
{
	struct api_key *v;
	struct tq_error err;
	size_t n, i;

	if (store_key_list(c, &v, &n, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	for (i = 0; i < n; i++) {
		char created[32], used[32], revoked[32];
		time_or(v[i].created_at, "-", created);
		time_or(v[i].last_used_at, "never", used);
		time_or(v[i].revoked_at, "active", revoked);
		printf("%" PRId64 "\t%s\t%s\t%s\t%s\t%s\n", v[i].id, role_name(v[i].role),
		       v[i].label[0] ? v[i].label : "-", created, used,
		       v[i].revoked_at ? revoked : "active");
	}
	free(v);
	return EXIT_OK;
}

static int revoke(struct store_conn *c, const char *id_s)
{
	struct tq_error err;
	int64_t id;

	if (id_s == NULL || parse_i64(id_s, &id) != 0 || id < 1)
		return cli_fail(EXIT_USAGE,
		                "keys revoke needs the numeric id of a key (see `tokenq "
		                "keys list`).");
	if (store_key_revoke(c, id, now_ms(), &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s; see `tokenq keys list`.", err.detail);
	fprintf(stderr, "revoked key %" PRId64 "\n", id);
	return EXIT_OK;
}

int cmd_keys(int argc, char **argv)
{
	const char *database = NULL, *role = NULL, *label = NULL, *pos[2] = {NULL, NULL};
	const struct cli_opt opts[] = {{"database", &database, NULL},
	                               {"role", &role, NULL},
	                               {"label", &label, NULL},
	                               {NULL, NULL, NULL}};
	const struct command *cmd = cli_command("keys");
	struct config cfg;
	struct store *s;
	struct store_conn *c;
	int n, rc;

	n = cli_parse(cmd, argc, argv, opts, pos, 2);
	if (n < 0)
		return n == -1 ? EXIT_OK : EXIT_USAGE;
	if (n == 0 || (strcmp(pos[0], "create") != 0 && strcmp(pos[0], "list") != 0 &&
	               strcmp(pos[0], "revoke") != 0))
		return cli_fail(EXIT_USAGE, "keys needs create, list or revoke; see `tokenq keys "
		                            "--help`.");
	if ((strcmp(pos[0], "revoke") == 0) != (n == 2))
		return cli_fail(EXIT_USAGE, "%s",
		                strcmp(pos[0], "revoke") == 0
		                    ? "keys revoke needs the id of a key."
		                    : "keys create and keys list take no other "
		                      "argument.");
	if (strcmp(pos[0], "create") != 0 && (role || label))
		return cli_fail(EXIT_USAGE, "--role and --label go with keys create.");
	if (strcmp(pos[0], "create") == 0 && (role == NULL || role_parse(role, &(enum role){0})))
		return cli_fail(EXIT_USAGE, "keys create needs --role pos, staff or admin.");
	if (cli_config(&cfg, database, NULL) != 0)
		return EXIT_USAGE;
	if ((rc = cli_open(&cfg, false, &s, &c)) != EXIT_OK)
		return rc;
	if (strcmp(pos[0], "create") == 0)
		rc = create(c, role, label);
	else if (strcmp(pos[0], "list") == 0)
		rc = list(c);
	else
		rc = revoke(c, pos[1]);
	cli_close(s, c);
	return rc;
}
