/* SPDX-License-Identifier: MIT
 * Tests for src/scheduler/sched_wait.c: tasks that wait for an endpoint group by how
 * they route (model; whether an endpoint can unblock them), each group FIFO per
 * priority; the heads walk sees one task per group that endpoints can unblock, and a
 * group goes away with its last task.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "scheduler/sched_wait.h"

#define MAX_TASKS 16

static ac_sched_waits *ws;
static ac_pending tasks[MAX_TASKS];

static void setup(void)
{
	memset(tasks, 0, sizeof(tasks));
	cr_assert_eq(ac_sched_waits_alloc(&ws), AC_OK);
}

static void teardown(void)
{
	ac_sched_waits_free(ws);
}

TestSuite(sched_wait, .init = setup, .fini = teardown);

/* Task i (borrowed from tasks[]) of tier with model, allowed targets and priority. */
static ac_pending *task(int i, ac_tier tier, const char *model, unsigned allowed, ac_priority prio)
{
	ac_pending *p = &tasks[i];

	p->id = (uint64_t)i;
	p->tier = tier;
	p->model = (char *)model; /* never freed here: the state owns pending tasks */
	p->allowed_targets = allowed;
	p->priority = prio;
	return p;
}

typedef struct heads {
	uint64_t ids[MAX_TASKS];
	size_t n;
} heads;

static void collect(void *ctx, ac_pending *p)
{
	heads *h = ctx;

	h->ids[h->n++] = p->id;
}

static heads walk(void)
{
	heads h = { .n = 0 };

	ac_sched_waits_each_head(ws, collect, &h);
	return h;
}

static bool has(const heads *h, uint64_t id)
{
	for (size_t i = 0; i < h->n; i++) {
		if (h->ids[i] == id) {
			return true;
		}
	}
	return false;
}

Test(sched_wait, one_head_per_group_of_alike_tasks_by_priority_then_arrival)
{
	heads h;

	cr_assert_eq(ac_sched_waits_add(ws, task(1, AC_TIER_STANDARD, NULL, 0, AC_PRIO_LOW)), AC_OK);
	cr_assert_eq(ac_sched_waits_add(ws, task(2, AC_TIER_UNKNOWN, NULL, 0, AC_PRIO_NORMAL)), AC_OK);
	cr_assert_eq(ac_sched_waits_add(ws, task(3, AC_TIER_STANDARD, NULL, 0, AC_PRIO_NORMAL)), AC_OK);
	cr_assert_eq(ac_sched_waits_add(ws, task(4, AC_TIER_STANDARD, "m:1b", 0, AC_PRIO_LOW)), AC_OK);
	cr_assert_eq(ac_sched_waits_add(ws, task(5, AC_TIER_STANDARD, "m:1b", 0, AC_PRIO_LOW)), AC_OK);
	cr_assert_eq(ac_sched_waits_count(ws), 5);
	cr_assert(ac_sched_waits_check(ws));
	h = walk();
	cr_assert_eq(h.n, 2, "two groups: no model, and m:1b");
	cr_assert(has(&h, 2), "normal before low, first come first within a priority");
	cr_assert(has(&h, 4));
	ac_sched_waits_remove(ws, &tasks[2]);
	h = walk();
	cr_assert(has(&h, 3) && has(&h, 4));
	ac_sched_waits_remove(ws, &tasks[3]);
	ac_sched_waits_remove(ws, &tasks[4]);
	h = walk();
	cr_assert(h.n == 2 && has(&h, 1) && has(&h, 5));
	ac_sched_waits_remove(ws, &tasks[5]);
	h = walk();
	cr_assert(h.n == 1 && has(&h, 1), "the m:1b group left with its last task");
	cr_assert(ac_sched_waits_check(ws));
}

/* A task whose own target is not ollama, or that forbids ollama, cannot be let go by an
 * endpoint: it waits, but the heads walk never shows it. */
Test(sched_wait, tasks_no_endpoint_can_unblock_are_not_walked)
{
	unsigned claude_only = 1u << AC_TARGET_CLAUDE;
	heads h;

	cr_assert_eq(ac_sched_waits_add(ws, task(1, AC_TIER_STANDARD, NULL, claude_only, AC_PRIO_NORMAL)),
	    AC_OK);
	cr_assert_eq(ac_sched_waits_add(ws, task(2, AC_TIER_COMPLEX, NULL, 1u << AC_TARGET_OLLAMA,
	                                            AC_PRIO_NORMAL)),
	    AC_OK);
	cr_assert_eq(ac_sched_waits_add(ws, task(3, AC_TIER_STANDARD, NULL, 0, AC_PRIO_LOW)), AC_OK);
	cr_assert_eq(ac_sched_waits_count(ws), 3);
	h = walk();
	cr_assert(h.n == 1 && has(&h, 3));
	ac_sched_waits_remove(ws, &tasks[3]);
	cr_assert_eq(walk().n, 0);
	cr_assert_eq(ac_sched_waits_count(ws), 2);
	cr_assert(ac_sched_waits_check(ws));
}

Test(sched_wait, adding_twice_or_removing_a_task_that_does_not_wait_changes_nothing)
{
	ac_pending *p = task(1, AC_TIER_STANDARD, NULL, 0, AC_PRIO_NORMAL);

	ac_sched_waits_remove(ws, p);
	cr_assert_eq(ac_sched_waits_add(ws, p), AC_OK);
	cr_assert_eq(ac_sched_waits_add(ws, p), AC_OK);
	cr_assert_eq(ac_sched_waits_count(ws), 1);
	cr_assert(p->is_waiting);
	ac_sched_waits_remove(ws, p);
	ac_sched_waits_remove(ws, p);
	cr_assert_eq(ac_sched_waits_count(ws), 0);
	cr_assert_not(p->is_waiting);
	cr_assert(ac_sched_waits_check(ws));
}
