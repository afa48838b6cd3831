/* Placeholder until backup lands. */
#include "cli/cli.h"

int cmd_backup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail(EXIT_RUNTIME, "backup is not built yet.");
}
