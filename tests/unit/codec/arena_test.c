/* SPDX-License-Identifier: MIT
 * Tests for src/codec/arena.c: alignment, zeroing, big allocations, reset and reuse.
 */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "codec/arena.h"

static bool is_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

Test(arena, zeroed_arena_fini_and_reset_are_noops)
{
	ac_arena a;

	ac_arena_init(&a);
	ac_arena_reset(&a);
	ac_arena_fini(&a);
	ac_arena_fini(&a);
	cr_assert_null(a.head);
}

Test(arena, allocations_are_aligned_zeroed_and_disjoint)
{
	ac_arena a;
	unsigned char *prev = NULL;

	ac_arena_init(&a);
	for (size_t len = 0; len < 300; len++) {
		unsigned char *p = ac_arena_alloc(&a, len);
		cr_assert_not_null(p);
		cr_assert_eq((uintptr_t)p % 16, 0);
		cr_assert(is_zero(p, len));
		cr_assert_neq(p, prev);
		memset(p, 0xab, len);
		prev = p;
	}
	ac_arena_fini(&a);
}

Test(arena, zero_length_returns_distinct_valid_pointers)
{
	ac_arena a;

	ac_arena_init(&a);
	void *p = ac_arena_alloc(&a, 0);
	void *q = ac_arena_alloc(&a, 0);
	cr_assert_not_null(p);
	cr_assert_not_null(q);
	cr_assert_neq(p, q);
	ac_arena_fini(&a);
}

Test(arena, big_allocation_gets_own_block_and_head_keeps_filling)
{
	ac_arena a;

	ac_arena_init(&a);
	unsigned char *s1 = ac_arena_alloc(&a, 32);
	unsigned char *big = ac_arena_alloc(&a, 100000);
	unsigned char *s2 = ac_arena_alloc(&a, 32);
	cr_assert_not_null(big);
	cr_assert(is_zero(big, 100000));
	memset(big, 1, 100000);
	cr_assert_eq(s2, s1 + 32, "small allocations continue in the same block");
	cr_assert_eq(a.total, 100064);
	ac_arena_fini(&a);
}

Test(arena, many_allocations_span_blocks)
{
	ac_arena a;
	unsigned char *ptrs[1000];

	ac_arena_init(&a);
	for (int i = 0; i < 1000; i++) {
		ptrs[i] = ac_arena_alloc(&a, 100);
		cr_assert_not_null(ptrs[i]);
		memset(ptrs[i], i & 0xff, 100);
	}
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(ptrs[i][0], i & 0xff);
		cr_assert_eq(ptrs[i][99], i & 0xff);
	}
	ac_arena_fini(&a);
}

Test(arena, reset_keeps_one_block_and_rezeroes)
{
	ac_arena a;

	ac_arena_init(&a);
	for (int i = 0; i < 100; i++) {
		memset(ac_arena_alloc(&a, 200), 0xff, 200);
	}
	ac_arena_alloc(&a, 1 << 20); /* oversized: not kept */
	ac_arena_reset(&a);
	cr_assert_not_null(a.head);
	cr_assert_eq(a.total, 0);
	unsigned char *p = ac_arena_alloc(&a, 200);
	cr_assert(is_zero(p, 200), "reused memory is zeroed again");
	ac_arena_fini(&a);
}

Test(arena, dup_copies_bytes)
{
	ac_arena a;
	const char src[] = "hello\0world";

	ac_arena_init(&a);
	char *p = ac_arena_dup(&a, src, sizeof(src));
	cr_assert_not_null(p);
	cr_assert_eq(memcmp(p, src, sizeof(src)), 0);
	cr_assert_not_null(ac_arena_dup(&a, NULL, 0));
	ac_arena_fini(&a);
}

Test(arena, impossible_size_returns_null)
{
	ac_arena a;

	ac_arena_init(&a);
	cr_assert_null(ac_arena_alloc(&a, SIZE_MAX));
	cr_assert_null(ac_arena_alloc(&a, SIZE_MAX - 8));
	ac_arena_fini(&a);
}
