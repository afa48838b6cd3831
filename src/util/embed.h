/*
 * Files built into the binary by tools/embed.c: the SQL migrations and the
 * web pages. Names are the paths relative to the repository root
 * ("migrations/sqlite/0001_init.sql", "web/board.html").
 */
#ifndef TOKENQ_EMBED_H
#define TOKENQ_EMBED_H

#include <stddef.h>

struct embedded_file {
	const char *name;
	const unsigned char *data; /* NUL-terminated; the NUL is not in size */
	int size;
};

/* Ended by an entry whose name is NULL. */
extern const struct embedded_file embedded_files[];

/* The file called name, or NULL. */
const struct embedded_file *embedded_find(const char *name);

#endif
