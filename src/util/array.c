/*
 * Growing arrays (see array.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "util/array.h"

int array_grow(void **v, size_t sz, size_t need, size_t *cap)
{
	size_t nc = *cap ? *cap : 16;
	void *nv;

	if (need <= *cap)
		return 0;
	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			return -1;
		nc *= 2;
	}
	if (sz != 0 && nc > SIZE_MAX / sz)
		return -1;
	nv = realloc(*v, nc * sz);
	if (nv == NULL)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}
