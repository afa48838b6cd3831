/*
 * Growing an array by doubling, written once (git's ALLOC_GROW): every
 * list that grows row by row uses this instead of its own realloc loop.
 */
#ifndef TOKENQ_UTIL_ARRAY_H
#define TOKENQ_UTIL_ARRAY_H

#include <stddef.h>

/*
 * Makes room in *v, an array of elements of size sz with *cap allocated,
 * for at least need elements: the capacity doubles, from 16. Returns 0, or
 * -1 when out of memory (then *v and *cap are unchanged).
 */
int array_grow(void **v, size_t sz, size_t need, size_t *cap);

#endif
