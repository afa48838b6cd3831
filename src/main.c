/*
 * tokenq: a token-queue server. argv -> the command table; nothing else.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int command_help(const struct command *c);

/* clang-format off */
const struct command commands[] = {
	{"serve", cmd_serve,
	 "tokenq serve [--listen HOST:PORT] [--database URL] [--migrate]",
	 "Serve the HTTP API, the event stream and the web pages.",
	 "  --listen HOST:PORT  where to listen (TOKENQ_LISTEN; default 127.0.0.1:8080);\n"
	 "                      IPv6 as [::1]:8080\n"
	 "  --database URL      sqlite:PATH or postgres://... (DATABASE_URL; default\n"
	 "                      sqlite:tokenq.db)\n"
	 "  --migrate           apply pending migrations first (a brand-new database is\n"
	 "                      always migrated)\n\n"
	 "Settings from the environment: TOKENQ_TIMEZONE (IANA name; default the\n"
	 "system's), TOKENQ_DAY_START (HH:MM; default 00:00), TOKENQ_QUEUES (default\n"
	 "A=Orders, e.g. A=Dine-in,B=Takeaway), TOKENQ_TOKEN_DIGITS (1-9; default 3),\n"
	 "TOKENQ_PUBLIC_URL (the address printed on tickets). SIGTERM or SIGINT drains\n"
	 "requests in flight and exits 0.\n"},
	{"migrate", cmd_migrate,
	 "tokenq migrate [status] [--database URL]",
	 "Apply pending schema migrations, or list their state.",
	 "  status          list each migration as applied (with its time), pending,\n"
	 "                  DRIFTED (changed since applied) or UNKNOWN (the database is\n"
	 "                  newer than this tokenq); exits 1 unless all are applied\n"
	 "  --database URL  the database (DATABASE_URL; default sqlite:tokenq.db)\n\n"
	 "Each migration runs in one transaction with its history row, under a lock, so\n"
	 "two runs at once are safe.\n"},
	{"keys", cmd_keys,
	 "tokenq keys create --role ROLE [--label TEXT] [--venue SLUG] | list | revoke ID  [--database URL]",
	 "Create, list and revoke API keys.",
	 "  create --role pos|staff|admin [--label TEXT] [--venue SLUG]\n"
	 "                  prints the secret alone on stdout (shown once; only its hash\n"
	 "                  is stored), and the key's id, role and label on stderr; with\n"
	 "                  --venue the key works on that venue's routes only\n"
	 "  list            one key per line: id, role, label, created, last used, revoked,\n"
	 "                  venue (* for every venue)\n"
	 "  revoke ID       the key stops working on its next request\n\n"
	 "Roles: pos creates and reads orders; staff reads orders, changes status and\n"
	 "reads stats; admin may do everything. While no key exists, protected routes\n"
	 "answer clients on this machine only.\n"},
	{"webhooks", cmd_webhooks,
	 "tokenq webhooks create URL [--events LIST] [--allow-private] [--venue main] | list | revoke ID | deliveries ID  [--database URL]",
	 "Create, list and revoke webhook endpoints, and show their deliveries.",
	 "  create URL      POST every event to URL (http or https); prints the signing\n"
	 "                  secret (whsec_...) alone on stdout, shown once\n"
	 "    --events LIST   only these kinds: token,recall,transfer (default: all)\n"
	 "    --allow-private let URL reach loopback and private addresses\n"
	 "  list            one endpoint per line: id, URL, events, state (active,\n"
	 "                  failing or revoked), created\n"
	 "  revoke ID       the endpoint is sent nothing more\n"
	 "  deliveries ID   the endpoint's latest deliveries: id, event, type, state,\n"
	 "                  attempts, last status and error; then each attempt\n\n"
	 "Deliveries are signed per the Standard Webhooks specification, sent at least\n"
	 "once in event order, and retried with backoff for 24 hours.\n"},
	{"venues", cmd_venues,
	 "tokenq venues create SLUG --name TEXT [SETTINGS] | set SLUG SETTINGS | list | delete SLUG  [--database URL]",
	 "Create, change, list and delete the venues of this install.",
	 "  create SLUG     a new venue; its pages and routes are under /v/SLUG/\n"
	 "  set SLUG        change some of a venue's settings (main: the environment's\n"
	 "                  settings are written to it each time serve starts)\n"
	 "  list            one venue per line: slug, name, time zone, day start, queues,\n"
	 "                  digits, language, currency\n"
	 "  delete SLUG     only a venue that has no orders\n\n"
	 "Settings:\n"
	 "  --name TEXT         shown on its pages and tickets (1 to 80 characters)\n"
	 "  --timezone ZONE     an IANA zone such as Asia/Kolkata (default: the system's)\n"
	 "  --day-start HH:MM   when its business day begins (default 00:00)\n"
	 "  --queues SPEC       PREFIX=Name,... such as A=Dine-in,B=Takeaway (default A=Orders)\n"
	 "  --digits N          token digits, 1 to 9 (default 3)\n"
	 "  --language TAG      BCP 47, such as en or pt-BR (\"\" for none)\n"
	 "  --currency CODE     ISO 4217, such as USD or INR (default USD)\n"
	 "  --accent #rrggbb    the colour of its pages (\"\" for the default)\n"
	 "  --logo FILE         a PNG, JPEG, WebP or SVG of up to 256 KiB (\"\" removes it)\n\n"
	 "A running server sees a change on its next request.\n"},
	{"backup", cmd_backup,
	 "tokenq backup PATH [--force] [--database URL]",
	 "Write a consistent copy of the database to PATH while the server runs.",
	 "  --force         overwrite PATH if it exists\n\n"
	 "SQLite: the online backup API, checked with PRAGMA integrity_check.\n"
	 "PostgreSQL: pg_dump --format=custom (restore with pg_restore).\n"},
	{"copy", cmd_copy,
	 "tokenq copy --to URL [--database URL]",
	 "Copy every row into another, empty database of either kind.",
	 "  --to URL        the target: sqlite:PATH or postgres://...; it must hold no\n"
	 "                  tokenq rows (a brand-new one is migrated first)\n\n"
	 "Ids, numbers and counters are kept, so the next order continues the day.\n"},
	{"routes", cmd_routes,
	 "tokenq routes",
	 "List the HTTP routes and the key roles that may call each.",
	 "One route per line: method, path and roles (public, or the roles of the keys\n"
	 "it accepts), separated by tabs. GET routes also answer HEAD.\n"},
	{"version", cmd_version, "tokenq version", "Print the version.", ""},
	{"help", cmd_help, "tokenq help [COMMAND]", "Show help for tokenq or a command.", ""},
	{NULL, NULL, NULL, NULL, NULL},
};
/* clang-format on */

static int cmd_version(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return command_help(cli_command("version"));
	if (argc > 1)
		return cli_fail(EXIT_USAGE, "`tokenq version` takes no arguments.");
	printf("tokenq %s (SQLite %s, libpq %d, libmicrohttpd %s, jansson %s)\n", TOKENQ_VERSION,
	       sqlite3_libversion(), PQlibVersion(), MHD_get_version(), jansson_version_str());
	return EXIT_OK;
}

static void usage(FILE *f)
{
	const struct command *c;

	fprintf(f, "usage: tokenq COMMAND [OPTIONS]\n\ntokenq issues daily order tokens "
	           "(A-001, A-002, ...) and shows them on live boards.\n\ncommands:\n");
	for (c = commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f, "\nSee `tokenq help COMMAND` or `tokenq COMMAND --help`.\n");
}

static int command_help(const struct command *c)
{
	printf("usage: %s\n\n%s\n", c->usage, c->summary);
	if (c->help[0])
		printf("\n%s", c->help);
	return EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return command_help(cli_command("help"));
	if (argc == 1) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 2 || (c = cli_command(argv[1])) == NULL)
		return cli_fail(EXIT_USAGE, "there is no command \"%.40s\"; see `tokenq help`.",
		                argv[1]);
	return command_help(c);
}

int main(int argc, char **argv)
{
	const struct command *c;

	signal(SIGPIPE, SIG_IGN);
	/* Before any thread: libcurl's global set-up is not thread-safe (webhooks). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return cli_fail(EXIT_RUNTIME, "libcurl could not be initialised.");
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv + 1);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	c = cli_command(argv[1]);
	if (c == NULL)
		return cli_fail(EXIT_USAGE, "there is no command \"%.40s\"; see `tokenq help`.",
		                argv[1]);
	return c->run(argc - 1, argv + 1);
}
