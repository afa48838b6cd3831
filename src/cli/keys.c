/*
 * tokenq keys create|list|revoke: API keys. A secret is shown once, on the
 * first line of stdout; only its sha256 is stored.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/num.h"
#include "domain/order.h"
#include "domain/keys.h"
#include "domain/venue.h"
#include "util/log.h"

static void time_or(int64_t ms, const char *none, char out[32])
{
	if (ms <= 0)
		snprintf(out, 32, "%s", none);
	else
		format_rfc3339(ms, out);
}

/* Writes len bytes of s at out[at], cut to fit; returns the new length. */
static size_t append(char *out, size_t size, size_t at, const char *s, size_t len)
{
	if (at >= size)
		return at;
	if (len > size - at - 1)
		len = size - at - 1;
	memcpy(out + at, s, len);
	out[at + len] = '\0';
	return at + len;
}

/*
 * Where the keys are kept, for people: a SQLite file's absolute path, or the
 * PostgreSQL URL without its password. Sets *is_new when the file does not
 * exist yet (opening it will make a new, empty database).
 */
static void describe_database(const char *url, char *out, size_t size, bool *is_new)
{
	struct stat st;

	*is_new = false;
	if (store_file(url) != NULL) {
		const char *path = store_file(url);
		size_t n = 0;
		*is_new = stat(path, &st) != 0 && errno == ENOENT;
		if (path[0] != '/' && getcwd(out, size) != NULL) {
			n = strlen(out);
			if (n + 1 < size)
				out[n++] = '/';
		}
		append(out, size, n, path, strlen(path));
		return;
	}
	{
		const char *at = strrchr(url, '@'), *scheme = strstr(url, "://");
		size_t n = 0;
		if (at != NULL && scheme != NULL && scheme < at) {
			n = append(out, size, 0, url, (size_t)(scheme + 3 - url));
			url = at + 1;
		}
		append(out, size, n, url, strlen(url));
	}
}

static int create(struct store_conn *c, const char *role_s, const char *label, const char *venue,
                  const char *where)
{
	enum role role;
	struct tq_error err;
	struct venue_row v;
	char secret[64], hash[65];
	int64_t id;

	v.id = 0;
	if (venue != NULL && store_venue_get(c, venue, &v, &err) != 0)
		return cli_fail(err.status == TQ_NOT_FOUND ? EXIT_USAGE : EXIT_RUNTIME,
		                "%s; see `tokenq venues list`.", err.detail);
	if (role_s == NULL || role_parse(role_s, &role) != 0)
		return cli_fail(EXIT_USAGE, "keys create needs --role pos, staff or admin.");
	if (label != NULL) {
		long len = text_length(label, 0);
		if (len < 1 || len > 100)
			return cli_fail(EXIT_USAGE, "--label must be 1 to 100 characters without "
			                            "control characters.");
	}
	if (keys_generate(secret, hash) != 0)
		return cli_fail(EXIT_RUNTIME, "the system's random source failed; try again.");
	if (store_key_create(c, role, v.id, label, hash, now_ms(), &id, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	printf("%s\n", secret);
	fflush(stdout);
	fprintf(stderr,
	        "created key %" PRId64 " with role %s%s%s for %s%s in %s; the secret above is "
	        "shown only once\n",
	        id, role_name(role), label ? " and label " : "", label ? label : "",
	        venue ? "the venue " : "every venue", venue ? venue : "", where);
	return EXIT_OK;
}

static int list(struct store_conn *c)
{
	struct api_key *v;
	struct venue_row *venues;
	struct tq_error err;
	size_t n, nv, i, j;

	if (store_key_list(c, &v, &n, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	if (store_venue_list(c, &venues, &nv, &err) != 0) {
		free(v);
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	}
	for (i = 0; i < n; i++) {
		char created[32], used[32], revoked[32];
		const char *venue = "*";
		time_or(v[i].created_at, "-", created);
		time_or(v[i].last_used_at, "never", used);
		time_or(v[i].revoked_at, "active", revoked);
		for (j = 0; j < nv && v[i].venue_id != 0; j++)
			if (venues[j].id == v[i].venue_id)
				venue = venues[j].slug;
		printf("%" PRId64 "\t%s\t%s\t%s\t%s\t%s\t%s\n", v[i].id, role_name(v[i].role),
		       v[i].label[0] ? v[i].label : "-", created, used,
		       v[i].revoked_at ? revoked : "active", venue);
	}
	free(venues);
	free(v);
	return EXIT_OK;
}

static int revoke_one(struct store_conn *c, const char *id_s)
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
	const char *database = NULL, *role = NULL, *label = NULL, *venue = NULL,
	           *pos[2] = {NULL, NULL};
	const struct cli_opt opts[] = {{"database", &database, NULL},
	                               {"role", &role, NULL},
	                               {"label", &label, NULL},
	                               {"venue", &venue, NULL},
	                               {NULL, NULL, NULL}};
	const struct command *cmd = cli_command("keys");
	struct config cfg;
	struct store *s;
	struct store_conn *c;
	char where[PATH_MAX + 16];
	bool is_new;
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
	if (strcmp(pos[0], "create") != 0 && (role || label || venue))
		return cli_fail(EXIT_USAGE, "--role, --label and --venue go with keys create.");
	if (venue != NULL && !venue_slug_valid(venue, strlen(venue)))
		return cli_fail(EXIT_USAGE, "--venue must be a venue's slug: 1 to 32 of a-z, 0-9 "
		                            "and -, starting with a letter.");
	if (strcmp(pos[0], "create") == 0 && (role == NULL || role_parse(role, &(enum role){0})))
		return cli_fail(EXIT_USAGE, "keys create needs --role pos, staff or admin.");
	if (cli_config(&cfg, database, NULL) != 0)
		return EXIT_USAGE;
	describe_database(cfg.database, where, sizeof(where), &is_new);
	if ((rc = cli_open(&cfg, false, &s, &c)) != EXIT_OK)
		return rc;
	if (is_new)
		fprintf(
		    stderr,
		    "tokenq: warning: there was no database at %s, so a new one was made there; "
		    "a server started on another database will not know these keys (give the "
		    "server's with --database or DATABASE_URL)\n",
		    where);
	if (strcmp(pos[0], "create") == 0)
		rc = create(c, role, label, venue, where);
	else if (strcmp(pos[0], "list") == 0)
		rc = list(c);
	else
		rc = revoke_one(c, pos[1]);
	cli_close(s, c);
	return rc;
}
