/*
 * tokenq routes: the HTTP routes this tokenq serves and who may call each,
 * one per line (method, path, roles), straight from the route table. For
 * operators deciding which key a till or a screen needs, and for the tests
 * that prove every route's roles from the table itself.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "http/http.h"

int cmd_routes(int argc, char **argv)
{
	const struct command *cmd = cli_command("routes");
	const struct route *rt;
	int n;

	n = cli_parse(cmd, argc, argv, NULL, NULL, 0);
	if (n < 0)
		return n == -1 ? EXIT_OK : EXIT_USAGE;
	for (rt = routes; rt->method != NULL; rt++) {
		char roles[64];
		routes_roles_text(rt->roles, roles, sizeof(roles));
		printf("%s\t%s\t%s\n", rt->method, rt->pattern, roles[0] ? roles : "-");
	}
	return EXIT_OK;
}
