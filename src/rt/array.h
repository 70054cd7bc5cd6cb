/* SPDX-License-Identifier: MIT
 * Growing an array owned by one place: the one piece of code that doubles a
 * malloc'ed array's capacity, for every list that grows by appending.
 */
#ifndef AC_RT_ARRAY_H
#define AC_RT_ARRAY_H

#include <stddef.h>

/* Room for one more element in items (count used, *cap allocated, elements of
 * elem_size bytes): returns items when count < *cap, else items reallocated to twice
 * *cap (first when *cap is 0) with *cap updated. NULL when out of memory: items and
 * *cap are untouched, and items is still the caller's. */
void *ac_array_reserve(void *items, size_t *cap, size_t count, size_t elem_size, size_t first);

#endif
