/* SPDX-License-Identifier: MIT
 * Tests for src/queue/task_map.c: put/find/remove against a reference array under
 * random churn (backward-shift deletion must keep every entry reachable), colliding
 * keys resolved by the equality callback, growth at 70% load, reserve.
 */
#include <stdint.h>

#include <criterion/criterion.h>

#include "queue/task_map.h"

static bool is_val(const void *val, const void *ctx)
{
	return val == ctx;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

Test(task_map, zeroed_map_is_empty_and_fini_is_a_noop)
{
	ac_task_map m;

	ac_task_map_init(&m);
	cr_assert_null(ac_task_map_find(&m, 1, NULL, NULL));
	cr_assert_null(ac_task_map_remove(&m, 1, NULL, NULL));
	cr_assert(ac_task_map_check(&m));
	ac_task_map_fini(&m);
	ac_task_map_fini(&m);
}

Test(task_map, random_churn_matches_reference)
{
	enum { KEYS = 4096, STEPS = 200000 };
	static char present[KEYS];
	static int vals[KEYS];
	ac_task_map m;
	uint64_t seed = 0x1234567u;
	size_t count = 0;

	ac_task_map_init(&m);
	for (int step = 0; step < STEPS; step++) {
		uint64_t k = next_rand(&seed) % KEYS;
		void *v = ac_task_map_find(&m, k, NULL, NULL);
		cr_assert_eq(v, present[k] ? &vals[k] : NULL, "key %llu", (unsigned long long)k);
		if (present[k]) {
			cr_assert_eq(ac_task_map_remove(&m, k, NULL, NULL), &vals[k]);
			count--;
		} else {
			cr_assert_eq(ac_task_map_put(&m, k, &vals[k]), AC_OK);
			count++;
		}
		present[k] = !present[k];
		cr_assert_eq(m.count, count);
		if (step % 4096 == 0) {
			cr_assert(ac_task_map_check(&m));
		}
	}
	cr_assert(ac_task_map_check(&m));
	ac_task_map_fini(&m);
}

Test(task_map, colliding_keys_are_told_apart_by_eq)
{
	int vals[40];
	ac_task_map m;

	ac_task_map_init(&m);
	for (int i = 0; i < 40; i++) {
		cr_assert_eq(ac_task_map_put(&m, (uint64_t)(i % 3), &vals[i]), AC_OK);
	}
	cr_assert(ac_task_map_check(&m));
	for (int i = 0; i < 40; i += 2) {
		cr_assert_eq(ac_task_map_remove(&m, (uint64_t)(i % 3), is_val, &vals[i]), &vals[i]);
		cr_assert(ac_task_map_check(&m));
	}
	for (int i = 0; i < 40; i++) {
		void *want = i % 2 ? &vals[i] : NULL;
		cr_assert_eq(ac_task_map_find(&m, (uint64_t)(i % 3), is_val, &vals[i]), want);
	}
	cr_assert_eq(m.count, 20);
	ac_task_map_fini(&m);
}

Test(task_map, grows_before_seventy_percent_load)
{
	int v;
	ac_task_map m;

	ac_task_map_init(&m);
	for (uint64_t k = 0; k < 1000; k++) {
		cr_assert_eq(ac_task_map_put(&m, k, &v), AC_OK);
		cr_assert_leq(m.count * 10, m.cap * 7);
	}
	cr_assert_eq(m.cap, 2048);
	cr_assert_eq(ac_task_map_reserve(&m, 3000), AC_OK);
	cr_assert_eq(m.cap, 8192);
	cr_assert_eq(ac_task_map_reserve(&m, 10), AC_OK);
	cr_assert_eq(m.cap, 8192);
	for (uint64_t k = 0; k < 1000; k++) {
		cr_assert_eq(ac_task_map_find(&m, k, NULL, NULL), &v);
	}
	cr_assert(ac_task_map_check(&m));
	ac_task_map_fini(&m);
}
