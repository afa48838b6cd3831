/*
 * Lookup of the files built into the binary (see tools/embed.c).
 */
#include <string.h>

#include "util/embed.h"

const struct embedded_file *embedded_find(const char *name)
{
	const struct embedded_file *f;

	for (f = embedded_files; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}
