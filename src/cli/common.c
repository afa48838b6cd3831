/*
 * What the commands share: flag parsing, settings, opening the database.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/migrate.h"

int cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("tokenq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

const struct command *cli_command(const char *name)
{
	const struct command *c;

	for (c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void print_help(const struct command *cmd)
{
	printf("usage: %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->help && *cmd->help)
		printf("\n%s", cmd->help);
}

int cli_parse(const struct command *cmd, int argc, char **argv, const struct cli_opt *opts,
              const char **pos, int maxpos)
{
	int i, npos = 0;
	bool only_pos = false;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_opt *o;
		const char *eq;
		size_t len;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (npos == maxpos) {
				cli_fail(EXIT_USAGE,
				         "`tokenq %s` does not take the argument \"%.80s\"; see "
				         "`tokenq %s --help`.",
				         cmd->name, a, cmd->name);
				return -2;
			}
			pos[npos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			print_help(cmd);
			return -1;
		}
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		for (o = opts; o && o->name; o++)
			if (strncmp(a, "--", 2) == 0 && strlen(o->name) == len - 2 &&
			    strncmp(a + 2, o->name, len - 2) == 0)
				break;
		if (o == NULL || o->name == NULL) {
			cli_fail(EXIT_USAGE,
			         "`tokenq %s` has no option %.*s; see `tokenq %s --help`.",
			         cmd->name, (int)(len > 80 ? 80 : len), a, cmd->name);
			return -2;
		}
		if (o->set != NULL) {
			if (eq) {
				cli_fail(EXIT_USAGE, "--%s takes no value; see `tokenq %s --help`.",
				         o->name, cmd->name);
				return -2;
			}
			*o->set = true;
		} else if (eq) {
			*o->value = eq + 1;
		} else if (i + 1 < argc) {
			*o->value = argv[++i];
		} else {
			cli_fail(EXIT_USAGE, "--%s needs a value; see `tokenq %s --help`.", o->name,
			         cmd->name);
			return -2;
		}
	}
	return npos;
}

int cli_config(struct config *cfg, const char *database, const char *listen)
{
	char err[512];

	if (config_load(cfg, database, listen, err, sizeof(err)) != 0) {
		cli_fail(EXIT_USAGE, "%s", err);
		return -1;
	}
	return 0;
}

int cli_open(const struct config *cfg, bool auto_migrate, struct store **s, struct store_conn **c)
{
	struct tq_error err;

	*s = NULL;
	*c = NULL;
	if (store_open(cfg->database, s, &err) != 0)
		return cli_fail(EXIT_USAGE, "%s.", err.detail);
	if (store_connect(*s, c, &err) != 0) {
		store_free(*s);
		*s = NULL;
		return cli_fail(EXIT_RUNTIME,
		                "%s; check the database URL and that the database "
		                "is running.",
		                err.detail);
	}
	if (migrate_for_serve(*c, auto_migrate, &err) != 0) {
		cli_close(*s, *c);
		*s = NULL;
		*c = NULL;
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	}
	return EXIT_OK;
}

void cli_close(struct store *s, struct store_conn *c)
{
	store_disconnect(c);
	store_free(s);
}
