/* SPDX-License-Identifier: MIT
 * Unit tests of the deadline heap (src/rt/timers.c).
 */
#include <stdlib.h>

#include <criterion/criterion.h>

#include "rt/timers.h"

static ac_timers *t;

static void setup(void)
{
	cr_assert_eq(ac_timers_alloc(&t), AC_OK);
}

static void teardown(void)
{
	ac_timers_free(t);
}

TestSuite(timers, .init = setup, .fini = teardown);

Test(timers, pops_in_deadline_order_then_insertion_order)
{
	ac_timer_entry e;

	ac_timers_add(t, 30, 1, 3, NULL);
	ac_timers_add(t, 10, 1, 1, NULL);
	ac_timers_add(t, 20, 1, 21, NULL);
	ac_timers_add(t, 20, 1, 22, NULL);
	cr_assert_eq(ac_timers_next_deadline(t), 10);
	cr_assert_not(ac_timers_pop_due(t, 9, &e));
	uint64_t want[] = { 1, 21, 22, 3 };
	for (int i = 0; i < 4; i++) {
		cr_assert(ac_timers_pop_due(t, 100, &e));
		cr_assert_eq(e.tag, want[i]);
	}
	cr_assert_not(ac_timers_pop_due(t, 100, &e));
	cr_assert_eq(ac_timers_next_deadline(t), INT64_MAX);
}

Test(timers, cancel_removes_only_that_timer)
{
	ac_timer_id a, b, c;
	ac_timer_entry e;

	ac_timers_add(t, 5, 0, 1, &a);
	ac_timers_add(t, 6, 0, 2, &b);
	ac_timers_add(t, 7, 0, 3, &c);
	cr_assert(ac_timers_cancel(t, b));
	cr_assert_not(ac_timers_cancel(t, b), "second cancel is a no-op");
	cr_assert(ac_timers_check(t));
	cr_assert(ac_timers_pop_due(t, 10, &e) && e.tag == 1);
	cr_assert(ac_timers_pop_due(t, 10, &e) && e.tag == 3);
	cr_assert_eq(ac_timers_count(t), 0);
}

Test(timers, stale_handle_never_cancels_a_reused_slot)
{
	ac_timer_id a, b;
	ac_timer_entry e;

	ac_timers_add(t, 1, 0, 1, &a);
	cr_assert(ac_timers_pop_due(t, 1, &e));
	ac_timers_add(t, 2, 0, 2, &b); /* reuses a's slot */
	cr_assert_neq(a, b);
	cr_assert_not(ac_timers_cancel(t, a));
	cr_assert_eq(ac_timers_count(t), 1);
	cr_assert_not(ac_timers_cancel(t, 0));
}

Test(timers, random_operations_keep_the_heap_valid)
{
	ac_timer_id ids[2000];
	int64_t last = INT64_MIN;
	ac_timer_entry e;

	srand(7);
	for (int i = 0; i < 2000; i++) {
		ac_timers_add(t, rand() % 1000, 0, (uint64_t)i, &ids[i]);
	}
	for (int i = 0; i < 2000; i += 3) {
		cr_assert(ac_timers_cancel(t, ids[i]));
	}
	cr_assert(ac_timers_check(t));
	while (ac_timers_pop_due(t, 1000, &e)) {
		cr_assert_geq(e.deadline_ms, last);
		cr_assert_neq(e.tag % 3, 0);
		last = e.deadline_ms;
	}
	cr_assert_eq(ac_timers_count(t), 0);
}
