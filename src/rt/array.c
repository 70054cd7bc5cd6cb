/* SPDX-License-Identifier: MIT
 * See array.h.
 */
#include <stdint.h>
#include <stdlib.h>

#include "rt/array.h"

void *ac_array_reserve(void *items, size_t *cap, size_t count, size_t elem_size, size_t first)
{
	size_t want;
	void *p;

	if (count < *cap) {
		return items;
	}
	want = *cap ? *cap * 2 : first;
	if (want <= count || want > SIZE_MAX / elem_size ||
	    (p = realloc(items, want * elem_size)) == NULL) {
		return NULL;
	}
	*cap = want;
	return p;
}
