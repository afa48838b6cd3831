/*
 * Shared by the libFuzzer harnesses in tests/fuzz/: the entry points'
 * prototypes (the build uses -Wmissing-prototypes), a NUL-terminated copy of
 * the input, and a check that aborts with a message libFuzzer reports as a
 * crash.
 */
#ifndef TOKENQ_FUZZ_COMMON_H
#define TOKENQ_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A malloc'd copy of data with a NUL after it (NULs inside are kept). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__,    \
			        #cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
