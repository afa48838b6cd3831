/*
 * The command line: a table of commands (after git's git.c), each with its
 * usage and help beside its code, and the helpers they share.
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error. Errors are one
 * plain sentence on stderr that says what to do.
 */
#ifndef TOKENQ_CLI_H
#define TOKENQ_CLI_H

#include <stdbool.h>

#include "store/store.h"
#include "util/config.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;   /* one line */
	const char *summary; /* one line */
	const char *help;    /* paragraphs after the usage */
};

extern const struct command commands[];

/* The command of this name, or NULL. */
const struct command *cli_command(const char *name);

/* Prints "tokenq: <sentence>" to stderr and returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One flag a command takes: --name VALUE (or --name=VALUE), or a bare --name. */
struct cli_opt {
	const char *name;
	const char **value; /* set for a flag with a value */
	bool *set;          /* set for a bare flag */
};

/*
 * Reads argv[1..] (argv[0] is the command) against opts; positional
 * arguments are collected into pos (at most maxpos). Returns -1 after
 * printing help (for --help: exit 0), -2 after a usage error (exit 2), or
 * the number of positional arguments.
 */
int cli_parse(const struct command *cmd, int argc, char **argv, const struct cli_opt *opts,
              const char **pos, int maxpos);

/* Loads the settings; on a bad one prints it and returns -1 (exit 2). */
int cli_config(struct config *cfg, const char *database, const char *listen);

/*
 * Opens the configured database and checks its schema as `serve` does (a
 * brand-new database is migrated; pending or drifted ones are refused,
 * unless auto_migrate). Returns EXIT_OK, or an exit code after printing why.
 */
int cli_open(const struct config *cfg, bool auto_migrate, struct store **s, struct store_conn **c);
void cli_close(struct store *s, struct store_conn *c);

int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_routes(int argc, char **argv);
int cmd_webhooks(int argc, char **argv);
int cmd_venues(int argc, char **argv);

#endif
