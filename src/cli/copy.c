/* Placeholder until copy lands. */
#include "cli/cli.h"

int cmd_copy(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail(EXIT_RUNTIME, "copy is not built yet.");
}
