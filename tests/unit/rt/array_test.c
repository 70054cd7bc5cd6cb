/* SPDX-License-Identifier: MIT
 * ac_array_reserve (src/rt/array.c): room for one more element, by doubling.
 */
#include <stdint.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "rt/array.h"

Test(array, grows_by_doubling_only_when_full_and_keeps_the_elements)
{
	uint64_t *v = NULL, *p;
	size_t cap = 0, n = 0;

	for (uint64_t i = 0; i < 100; i++) {
		size_t before = cap;
		cr_assert_not_null(p = ac_array_reserve(v, &cap, n, sizeof(*v), 4));
		cr_assert(cap == before || (n == before && cap == (before ? before * 2 : 4)),
		    "cap %zu -> %zu at count %zu", before, cap, n);
		v = p;
		v[n++] = i;
	}
	cr_assert_eq(cap, 128);
	for (uint64_t i = 0; i < 100; i++) {
		cr_assert_eq(v[i], i);
	}
	free(v);
}

Test(array, an_impossible_size_fails_and_leaves_the_array_alone)
{
	uint8_t *v = malloc(8);
	size_t cap = 8;

	cr_assert_not_null(v);
	cr_assert_null(ac_array_reserve(v, &cap, 8, SIZE_MAX / 4, 1));
	cr_assert_eq(cap, 8);
	free(v);
}
