/* SPDX-License-Identifier: MIT
 * Tests for src/scheduler/scheduler_state.c: dispatch order across classes, capability
 * and target matching, waiters in profiles, the avoid rule, replace/drop/release of
 * pending tasks, and a cost run with 100 000 pending tasks and 1000 held fetches.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "scheduler/scheduler_state.h"


/* Sets (or clears, NULL) the agent p avoids; the state frees it with p. */
static void set_avoid(ac_pending *p, const char *agent)
{
	free(p->avoid);
	p->avoid = agent != NULL ? strdup(agent) : NULL;
	cr_assert(agent == NULL || p->avoid != NULL);
}

static ac_sched_state *st;

static void setup(void)
{
	cr_assert_eq(ac_sched_state_alloc(&st), AC_OK);
}

static void teardown(void)
{
	ac_sched_state_free(st);
}

TestSuite(scheduler_state, .init = setup, .fini = teardown);

#define TGT(t) ((uint8_t)(1u << (t)))

/* ---- helpers ---- */

/* Owned capability list from a NULL-terminated argument list. */
static ac_caps caps_of(const char *first, ...)
{
	ac_caps c = { 0 };
	va_list ap;
	const char *s;
	uint32_t n = 0;

	va_start(ap, first);
	for (s = first; s != NULL; s = va_arg(ap, const char *)) {
		n++;
	}
	va_end(ap);
	if (n == 0) {
		return c;
	}
	c.items = calloc(n, sizeof(char *));
	cr_assert_not_null(c.items);
	va_start(ap, first);
	for (s = first; s != NULL; s = va_arg(ap, const char *)) {
		c.items[c.count] = strdup(s);
		cr_assert_not_null(c.items[c.count]);
		c.count++;
	}
	va_end(ap);
	return c;
}

#define CAPS(...) caps_of(__VA_ARGS__, (const char *)NULL)
#define NO_CAPS caps_of((const char *)NULL)

/* Adds a pending task (not yet released). */
static ac_pending *add_held(uint64_t id, ac_priority prio, int64_t enq, ac_target target,
    ac_caps caps)
{
	ac_pending *p = calloc(1, sizeof(*p));

	cr_assert_not_null(p);
	p->id = id;
	p->priority = prio;
	p->enqueued_at_ms = enq;
	p->target = target;
	cr_assert_eq(ac_sched_add_task(st, p, &caps), AC_OK);
	cr_assert_eq(caps.count, 0, "caps are taken");
	cr_assert_null(caps.items);
	return p;
}

static ac_pending *add_task(uint64_t id, ac_priority prio, int64_t enq, ac_target target,
    ac_caps caps)
{
	ac_pending *p = add_held(id, prio, enq, target, caps);

	ac_sched_release(st, p);
	return p;
}

static ac_waiter *add_waiter(const char *agent, ac_caps caps, uint8_t targets)
{
	ac_waiter *w = calloc(1, sizeof(*w));

	cr_assert_not_null(w);
	snprintf(w->agent, sizeof(w->agent), "%s", agent);
	cr_assert_eq(ac_sched_add_waiter(st, w, &caps, targets), AC_OK);
	cr_assert_eq(caps.count, 0, "caps are taken");
	return w;
}

static void remove_waiter(ac_waiter *w)
{
	ac_sched_take_waiter(st, w);
	ac_waiter_free(w);
}

static uint64_t best_id(const ac_waiter *w)
{
	ac_pending *p = ac_sched_best_task(st, w);

	return p != NULL ? p->id : 0;
}

/* Takes tasks one by one the way the scheduler does (best, then drop) and compares
 * the order with want[0..n); then no task is left for w. */
static void expect_order(const ac_waiter *w, const uint64_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t got = best_id(w);
		cr_assert_eq(got, want[i], "position %zu: task %llu, want %llu", i,
		    (unsigned long long)got, (unsigned long long)want[i]);
		ac_sched_drop_task(st, got);
	}
	cr_assert_eq(best_id(w), 0);
}

/* ---- best task ---- */

Test(scheduler_state, best_task_priority_then_fifo_across_classes)
{
	ac_waiter *w = add_waiter("a1", CAPS("git", "py"), 0);

	add_task(1, AC_PRIO_NORMAL, 100, AC_TARGET_SIDECAR, NO_CAPS);
	add_task(2, AC_PRIO_HIGH, 200, AC_TARGET_SIDECAR, CAPS("git"));
	add_task(3, AC_PRIO_HIGH, 150, AC_TARGET_SIDECAR, NO_CAPS);
	add_task(4, AC_PRIO_HIGH, 150, AC_TARGET_OLLAMA, CAPS("py"));   /* tie with 3: id */
	add_task(5, AC_PRIO_LOW, 1, AC_TARGET_CLAUDE, NO_CAPS);
	add_task(6, AC_PRIO_URGENT, 900, AC_TARGET_CLAUDE, CAPS("git", "py"));
	add_task(7, AC_PRIO_NORMAL, 50, AC_TARGET_OLLAMA, CAPS("py"));
	add_task(8, AC_PRIO_HIGH, 150, AC_TARGET_SIDECAR, CAPS("git")); /* tie: after 4 */
	cr_assert_eq(ac_sched_task_count(st), 8);
	expect_order(w, (uint64_t[]){ 6, 3, 4, 8, 2, 7, 1, 5 }, 8);
	cr_assert_eq(ac_sched_task_count(st), 0);
}

Test(scheduler_state, best_task_fifo_ties_broken_by_id_within_a_lane)
{
	ac_waiter *w = add_waiter("a1", NO_CAPS, 0);

	add_task(30, AC_PRIO_NORMAL, 10, AC_TARGET_SIDECAR, NO_CAPS);
	add_task(20, AC_PRIO_NORMAL, 10, AC_TARGET_SIDECAR, NO_CAPS);
	add_task(40, AC_PRIO_NORMAL, 5, AC_TARGET_SIDECAR, NO_CAPS);
	add_task(10, AC_PRIO_NORMAL, 20, AC_TARGET_SIDECAR, NO_CAPS);
	expect_order(w, (uint64_t[]){ 40, 20, 30, 10 }, 4);
}

Test(scheduler_state, agent_caps_must_be_a_superset_of_task_caps)
{
	ac_waiter *rich = add_waiter("rich", CAPS("b", "c", "a"), 0);
	ac_waiter *poor = add_waiter("poor", CAPS("a"), 0);
	ac_waiter *none = add_waiter("none", NO_CAPS, 0);
	ac_waiter *other = add_waiter("other", CAPS("ab", "x"), 0);

	add_task(1, AC_PRIO_NORMAL, 10, AC_TARGET_SIDECAR, CAPS("a", "b"));
	cr_assert_eq(best_id(rich), 1);
	cr_assert_eq(best_id(poor), 0);
	cr_assert_eq(best_id(none), 0);
	cr_assert_eq(best_id(other), 0, "capabilities match whole names only");
	add_task(2, AC_PRIO_LOW, 20, AC_TARGET_SIDECAR, NO_CAPS);
	cr_assert_eq(best_id(none), 2, "a task without capabilities suits every agent");
	cr_assert_eq(best_id(poor), 2);
	cr_assert_eq(best_id(rich), 1);
	cr_assert_eq(ac_sched_best_waiter(st, ac_sched_find_task(st, 1)), rich);
}

Test(scheduler_state, target_mask_limits_tasks_and_zero_means_all)
{
	ac_waiter *all = add_waiter("all", NO_CAPS, 0);
	ac_waiter *local = add_waiter("local", NO_CAPS, TGT(AC_TARGET_SIDECAR) | TGT(AC_TARGET_OLLAMA));
	ac_waiter *api = add_waiter("api", NO_CAPS, TGT(AC_TARGET_CLAUDE));

	add_task(1, AC_PRIO_NORMAL, 10, AC_TARGET_CLAUDE, NO_CAPS);
	cr_assert_eq(best_id(all), 1);
	cr_assert_eq(best_id(local), 0);
	cr_assert_eq(best_id(api), 1);
	add_task(2, AC_PRIO_NORMAL, 20, AC_TARGET_OLLAMA, NO_CAPS);
	cr_assert_eq(best_id(local), 2);
	cr_assert_eq(best_id(api), 1);
	cr_assert_eq(ac_sched_best_waiter(st, ac_sched_find_task(st, 2)), all);
	remove_waiter(all);
	cr_assert_eq(ac_sched_best_waiter(st, ac_sched_find_task(st, 2)), local);
	cr_assert_eq(ac_sched_best_waiter(st, ac_sched_find_task(st, 1)), api);
}

Test(scheduler_state, task_in_unmatched_class_is_never_returned)
{
	ac_waiter *w = add_waiter("a1", CAPS("git"), TGT(AC_TARGET_SIDECAR));

	add_task(1, AC_PRIO_URGENT, 1, AC_TARGET_SIDECAR, CAPS("gpu"));
	add_task(2, AC_PRIO_URGENT, 2, AC_TARGET_CLAUDE, CAPS("git"));
	add_task(3, AC_PRIO_LOW, 3, AC_TARGET_SIDECAR, CAPS("git"));
	add_task(4, AC_PRIO_URGENT, 4, AC_TARGET_OLLAMA, NO_CAPS);
	expect_order(w, (uint64_t[]){ 3 }, 1);
	cr_assert_eq(ac_sched_task_count(st), 3);
	cr_assert_null(ac_sched_best_waiter(st, ac_sched_find_task(st, 1)));
	cr_assert_null(ac_sched_best_waiter(st, ac_sched_find_task(st, 2)));
	cr_assert_null(ac_sched_best_waiter(st, ac_sched_find_task(st, 4)));
}

/* ---- best waiter ---- */

Test(scheduler_state, best_waiter_is_the_longest_waiting_capable_one)
{
	ac_pending *p = add_task(1, AC_PRIO_NORMAL, 10, AC_TARGET_SIDECAR, CAPS("x"));
	ac_waiter *w1, *w2, *w3;

	add_waiter("w0", NO_CAPS, 0); /* cannot take p */
	w1 = add_waiter("w1", CAPS("x"), 0);
	w2 = add_waiter("w2", CAPS("x"), 0);
	w3 = add_waiter("w3", CAPS("x"), 0);
	cr_assert_eq(ac_sched_best_waiter(st, p), w1);
	remove_waiter(w1);
	cr_assert_eq(ac_sched_best_waiter(st, p), w2);
	remove_waiter(w2);
	cr_assert_eq(ac_sched_best_waiter(st, p), w3);
	remove_waiter(w3);
	cr_assert_null(ac_sched_best_waiter(st, p));
}

/* Waiting order holds across profiles: the agent of a profile created later that has
 * waited longer goes before a newer fetch in an older profile. */
Test(scheduler_state, best_waiter_is_the_longest_waiting_across_profiles)
{
	ac_pending *p = add_task(1, AC_PRIO_NORMAL, 10, AC_TARGET_SIDECAR, CAPS("x"));
	ac_waiter *a = add_waiter("a", CAPS("x"), 0);         /* profile P1 */
	ac_waiter *b = add_waiter("b", CAPS("x", "y"), 0);    /* profile P2, waits from now on */

	cr_assert_eq(ac_sched_best_waiter(st, p), a);
	remove_waiter(a);                                     /* a got a task... */
	a = add_waiter("a", CAPS("x"), 0);                    /* ...and fetches again, in P1 */
	cr_assert_eq(ac_sched_best_waiter(st, p), b,
	    "b has waited longer than a's new fetch but %s was chosen",
	    ac_sched_best_waiter(st, p)->agent);
}

/* Like add_waiter, with the endpoint its agent's ollama_url names. */
static ac_waiter *add_near(const char *agent, const char *endpoint, ac_caps caps)
{
	ac_waiter *w = calloc(1, sizeof(*w));

	cr_assert_not_null(w);
	snprintf(w->agent, sizeof(w->agent), "%s", agent);
	snprintf(w->endpoint, sizeof(w->endpoint), "%s", endpoint);
	cr_assert_eq(ac_sched_add_waiter(st, w, &caps, 0), AC_OK);
	return w;
}

/* DESIGN 5.5 agent choice for ollama: among the fetches that can take the task, the
 * longest-waiting one whose endpoint is exactly the chosen one; none, NULL. */
Test(scheduler_state, best_waiter_near_is_the_longest_waiting_capable_one_at_that_endpoint)
{
	ac_pending *p = add_task(1, AC_PRIO_NORMAL, 10, AC_TARGET_OLLAMA, CAPS("x"));
	ac_waiter *far, *near1, *near2, *near3;

	far = add_near("far", "10.0.0.2:11434", CAPS("x"));
	add_near("cannot", "10.0.0.1:11434", NO_CAPS);          /* at the endpoint, lacks x */
	add_near("prefix", "10.0.0.1:1143", CAPS("x"));         /* not an exact match */
	near1 = add_near("near1", "10.0.0.1:11434", CAPS("x"));
	near2 = add_near("near2", "10.0.0.1:11434", CAPS("x", "y")); /* another profile */
	cr_assert_eq(ac_sched_best_waiter(st, p), far, "the longest-waiting one overall");
	cr_assert_eq(ac_sched_best_waiter_near(st, p, "10.0.0.1:11434"), near1);
	cr_assert_eq(ac_sched_best_waiter_near(st, p, "10.0.0.2:11434"), far);
	cr_assert_null(ac_sched_best_waiter_near(st, p, "10.0.0.3:11434"));
	set_avoid(p, "near1");
	cr_assert_eq(ac_sched_best_waiter_near(st, p, "10.0.0.1:11434"), near2, "near1 is avoided");
	set_avoid(p, NULL);
	remove_waiter(near1);
	near3 = add_near("near3", "10.0.0.1:11434", CAPS("x"));
	cr_assert_eq(ac_sched_best_waiter_near(st, p, "10.0.0.1:11434"), near2);
	remove_waiter(near2);
	cr_assert_eq(ac_sched_best_waiter_near(st, p, "10.0.0.1:11434"), near3);
	remove_waiter(near3);
	cr_assert_null(ac_sched_best_waiter_near(st, p, "10.0.0.1:11434"));
	cr_assert(ac_sched_waiter_takes(far, p));
	cr_assert_not(ac_sched_waiter_takes(ac_sched_find_waiter(st, "cannot"), p));
}

Test(scheduler_state, avoided_agent_is_skipped_when_another_can_take_it)
{
	ac_pending *p = add_task(1, AC_PRIO_NORMAL, 10, AC_TARGET_SIDECAR, NO_CAPS);
	ac_waiter *a = add_waiter("agent-a", NO_CAPS, 0);
	ac_waiter *b = add_waiter("agent-b", NO_CAPS, 0);

	set_avoid(p, "agent-a");
	cr_assert_eq(ac_sched_best_waiter(st, p), b);
	set_avoid(p, "agent-b");
	cr_assert_eq(ac_sched_best_waiter(st, p), a);
	set_avoid(p, NULL);
	cr_assert_eq(ac_sched_best_waiter(st, p), a);
}

Test(scheduler_state, avoided_agent_is_skipped_for_one_in_another_profile)
{
	ac_pending *p = add_task(1, AC_PRIO_NORMAL, 10, AC_TARGET_OLLAMA, NO_CAPS);
	ac_waiter *b;

	set_avoid(p, "agent-a");
	add_waiter("agent-a", NO_CAPS, 0);
	add_waiter("agent-c", NO_CAPS, TGT(AC_TARGET_CLAUDE)); /* cannot take it */
	b = add_waiter("agent-b", CAPS("gpu"), TGT(AC_TARGET_OLLAMA));
	cr_assert_eq(ac_sched_best_waiter(st, p), b);
}

Test(scheduler_state, avoided_agent_is_used_when_it_is_the_only_one)
{
	ac_pending *p = add_task(1, AC_PRIO_NORMAL, 10, AC_TARGET_SIDECAR, CAPS("x"));
	ac_waiter *a;

	set_avoid(p, "agent-a");
	a = add_waiter("agent-a", CAPS("x"), 0);
	add_waiter("agent-b", NO_CAPS, 0); /* idle, but cannot take it */
	cr_assert_eq(ac_sched_best_waiter(st, p), a);
}

/* ---- pending tasks: replace, drop, release ---- */

Test(scheduler_state, adding_a_task_with_the_same_id_replaces_it)
{
	ac_waiter *w = add_waiter("a1", CAPS("x"), 0);
	ac_pending *p;

	add_task(1, AC_PRIO_LOW, 10, AC_TARGET_SIDECAR, NO_CAPS);
	add_task(2, AC_PRIO_NORMAL, 20, AC_TARGET_SIDECAR, NO_CAPS);
	p = add_task(1, AC_PRIO_URGENT, 30, AC_TARGET_SIDECAR, CAPS("x")); /* new class */
	p->generation = 9;
	cr_assert_eq(ac_sched_task_count(st), 2);
	cr_assert_eq(ac_sched_find_task(st, 1), p);
	cr_assert_eq(ac_sched_best_task(st, w), p);
	/* replaced by one not yet released: the old lane entry is gone */
	add_held(1, AC_PRIO_URGENT, 40, AC_TARGET_SIDECAR, NO_CAPS);
	cr_assert_eq(ac_sched_task_count(st), 2);
	expect_order(w, (uint64_t[]){ 2 }, 1);
	cr_assert_eq(ac_sched_task_count(st), 1);
}

Test(scheduler_state, drop_task_removes_it_from_its_lane)
{
	ac_waiter *w = add_waiter("a1", NO_CAPS, 0);

	for (uint64_t id = 1; id <= 5; id++) {
		add_task(id, AC_PRIO_HIGH, (int64_t)id * 10, AC_TARGET_SIDECAR, NO_CAPS);
	}
	ac_sched_drop_task(st, 3); /* middle */
	ac_sched_drop_task(st, 1); /* head */
	ac_sched_drop_task(st, 5); /* tail */
	ac_sched_drop_task(st, 77); /* absent: no-op */
	cr_assert_eq(ac_sched_task_count(st), 2);
	cr_assert_null(ac_sched_find_task(st, 3));
	add_task(6, AC_PRIO_HIGH, 60, AC_TARGET_SIDECAR, NO_CAPS); /* tail after a dropped tail */
	add_task(7, AC_PRIO_HIGH, 1, AC_TARGET_SIDECAR, NO_CAPS);  /* head after a dropped head */
	expect_order(w, (uint64_t[]){ 7, 2, 4, 6 }, 4);
	add_held(8, AC_PRIO_HIGH, 1, AC_TARGET_SIDECAR, NO_CAPS);
	ac_sched_drop_task(st, 8); /* never released */
	cr_assert_eq(ac_sched_task_count(st), 0);
}

Test(scheduler_state, unreleased_task_is_not_offered_and_release_puts_it_in_order)
{
	ac_waiter *w = add_waiter("a1", NO_CAPS, 0);
	ac_pending *delayed;

	add_task(1, AC_PRIO_NORMAL, 100, AC_TARGET_SIDECAR, NO_CAPS);
	delayed = add_held(2, AC_PRIO_NORMAL, 200, AC_TARGET_SIDECAR, NO_CAPS);
	add_task(3, AC_PRIO_NORMAL, 300, AC_TARGET_SIDECAR, NO_CAPS);
	add_held(4, AC_PRIO_URGENT, 1, AC_TARGET_SIDECAR, NO_CAPS);
	cr_assert_eq(best_id(w), 1);
	ac_sched_drop_task(st, 1);
	cr_assert_eq(best_id(w), 3);
	ac_sched_release(st, delayed);
	ac_sched_release(st, delayed); /* twice: no-op */
	expect_order(w, (uint64_t[]){ 2, 3 }, 2);
	cr_assert_eq(ac_sched_task_count(st), 1);
}

Test(scheduler_state, release_out_of_order_lands_sorted)
{
	ac_waiter *w = add_waiter("a1", NO_CAPS, 0);
	ac_pending *ps[5];
	int64_t enq[5] = { 50, 10, 30, 60, 5 };

	for (int i = 0; i < 5; i++) {
		ps[i] = add_held((uint64_t)i + 1, AC_PRIO_LOW, enq[i], AC_TARGET_SIDECAR, NO_CAPS);
	}
	for (int i = 0; i < 5; i++) {
		ac_sched_release(st, ps[i]);
	}
	expect_order(w, (uint64_t[]){ 5, 2, 3, 1, 4 }, 5);
}

/* ---- waiters ---- */

typedef struct visit {
	const char *agents[16];
	size_t count;
	ac_sched_state *take_from;
} visit;

static void visit_waiter(void *ctx, ac_waiter *w)
{
	visit *v = ctx;

	v->agents[v->count++] = w->agent;
	if (v->take_from != NULL && strcmp(w->agent, "b2") == 0) {
		ac_sched_take_waiter(v->take_from, w);
		ac_waiter_free(w);
	}
}

Test(scheduler_state, waiters_in_several_profiles)
{
	ac_waiter *a1 = add_waiter("a1", CAPS("x"), 0);
	ac_waiter *b1 = add_waiter("b1", CAPS("x", "y"), 0);
	ac_waiter *c1 = add_waiter("c1", CAPS("x"), TGT(AC_TARGET_CLAUDE));
	ac_waiter *a2 = add_waiter("a2", CAPS("x"), 0);
	ac_waiter *b2 = add_waiter("b2", CAPS("x", "y"), 0);
	visit v = { .count = 0 };

	cr_assert_eq(ac_sched_waiter_count(st), 5);
	cr_assert_eq(ac_sched_find_waiter(st, "a1"), a1);
	cr_assert_eq(ac_sched_find_waiter(st, "b1"), b1);
	cr_assert_eq(ac_sched_find_waiter(st, "c1"), c1);
	cr_assert_eq(ac_sched_find_waiter(st, "a2"), a2);
	cr_assert_eq(ac_sched_find_waiter(st, "b2"), b2);
	cr_assert_null(ac_sched_find_waiter(st, "zz"));
	cr_assert_null(ac_sched_find_waiter(st, "a"));
	ac_sched_each_waiter(st, visit_waiter, &v);
	cr_assert_eq(v.count, 5);
	/* a task needing y: only the b profile */
	ac_pending *p = add_task(1, AC_PRIO_NORMAL, 1, AC_TARGET_CLAUDE, CAPS("y"));
	cr_assert_eq(ac_sched_best_waiter(st, p), b1);
	remove_waiter(b1);
	cr_assert_eq(ac_sched_best_waiter(st, p), b2);
	/* each_waiter may take the waiter it is given */
	v = (visit){ .count = 0, .take_from = st };
	ac_sched_each_waiter(st, visit_waiter, &v);
	cr_assert_eq(v.count, 4);
	cr_assert_eq(ac_sched_waiter_count(st), 3);
	cr_assert_null(ac_sched_find_waiter(st, "b2"));
	cr_assert_null(ac_sched_best_waiter(st, p));
	/* the emptied profile comes back to life */
	b2 = add_waiter("b2", CAPS("x", "y"), 0);
	cr_assert_eq(ac_sched_best_waiter(st, p), b2);
	remove_waiter(a1);
	cr_assert_eq(ac_sched_find_waiter(st, "a2"), a2);
	cr_assert_eq(ac_sched_waiter_count(st), 3);
}

Test(scheduler_state, freeing_the_state_frees_held_waiters_and_tasks)
{
	ac_waiter *w = add_waiter("a1", CAPS("x"), 0);

	w->fetch = malloc(16);
	w->fetch_len = 16;
	add_task(1, AC_PRIO_NORMAL, 1, AC_TARGET_SIDECAR, CAPS("x"));
	add_held(2, AC_PRIO_NORMAL, 1, AC_TARGET_SIDECAR, NO_CAPS)->model = strdup("m");
	/* teardown frees everything; ASan reports what it would not */
}

/* ---- cost ---- */

/* 100 000 pending tasks in one class and 1000 held fetches in one profile: each match
 * looks at class and profile heads only, so 100 000 rounds of each finish at once
 * (a scan of tasks or agents would take 10^10 steps). */
Test(scheduler_state, matching_costs_classes_and_profiles_not_tasks_or_agents,
    .timeout = 120)
{
	enum { TASKS = 100000, WAITERS = 1000, ROUNDS = 100000 };
	ac_waiter *first = NULL, *last = NULL;
	ac_pending *tail = NULL;
	char name[32];

	for (uint64_t id = 1; id <= TASKS; id++) {
		tail = add_task(id, (ac_priority)(id % AC_PRIO_COUNT), (int64_t)id, AC_TARGET_OLLAMA,
		    CAPS("git", "py"));
	}
	for (int i = 0; i < WAITERS; i++) {
		snprintf(name, sizeof(name), "agent-%04d", i);
		last = add_waiter(name, CAPS("py", "git", "docker"), 0);
		first = first ? first : last;
	}
	cr_assert_eq(ac_sched_task_count(st), TASKS);
	cr_assert_eq(ac_sched_waiter_count(st), WAITERS);
	set_avoid(tail, "agent-0000");
	for (int i = 0; i < ROUNDS; i++) {
		ac_pending *p = ac_sched_best_task(st, i % 2 ? first : last);
		cr_assert_eq(p->id, 4); /* urgent lane head: id % 4 == 0 */
		cr_assert_eq(ac_sched_best_waiter(st, p), first);
		cr_assert_neq(ac_sched_best_waiter(st, tail), first);
	}
	/* and the same while matches are consumed */
	for (int i = 0; i < WAITERS; i++) {
		ac_pending *p = ac_sched_best_task(st, first);
		ac_waiter *w = ac_sched_best_waiter(st, p);
		cr_assert_eq(w, first);
		ac_sched_drop_task(st, p->id);
		if (w == last) {
			remove_waiter(w);
			break;
		}
		remove_waiter(w);
		snprintf(name, sizeof(name), "agent-%04d", i + 1);
		first = ac_sched_find_waiter(st, name);
		cr_assert_not_null(first);
	}
	cr_assert_eq(ac_sched_task_count(st), TASKS - WAITERS);
	cr_assert_eq(ac_sched_waiter_count(st), 0);
}

/* ---- sweeping what nothing uses ---- */

/* Classes and profiles live while a task or fetch uses them: a stream of one-off
 * capability sets must not leave the linear walks longer and memory higher for good. */
Test(scheduler_state, sweep_frees_classes_and_profiles_nothing_uses)
{
	char cap[32], agent[32];
	ac_waiter *keep_w, *w;

	add_task(1, AC_PRIO_NORMAL, 10, AC_TARGET_SIDECAR, CAPS("kept"));
	keep_w = add_waiter("kept-agent", CAPS("kept"), 0);
	for (int i = 0; i < 500; i++) {
		snprintf(cap, sizeof(cap), "one-off-%d", i);
		add_task(100 + (uint64_t)i, AC_PRIO_NORMAL, 20, AC_TARGET_SIDECAR, CAPS(cap));
		snprintf(agent, sizeof(agent), "agent-%d", i);
		w = add_waiter(agent, CAPS(cap), 0);
		cr_assert_eq(best_id(w), 100 + (uint64_t)i);
		ac_sched_drop_task(st, 100 + (uint64_t)i);
		remove_waiter(w);
	}
	cr_assert_eq(ac_sched_class_count(st), 501, "nothing is freed before the sweep");
	ac_sched_sweep(st, 1002);
	cr_assert_eq(ac_sched_class_count(st), 501, "a few empty ones are kept");
	ac_sched_sweep(st, 0);
	cr_assert_eq(ac_sched_class_count(st), 1);
	cr_assert_eq(ac_sched_profile_count(st), 1);
	cr_assert_eq(best_id(keep_w), 1, "the live class and profile still match");
	/* a held (unreleased) task keeps its class too; so does a retargeted one */
	add_held(2, AC_PRIO_NORMAL, 30, AC_TARGET_OLLAMA, CAPS("held"));
	ac_sched_sweep(st, 0);
	cr_assert_eq(ac_sched_class_count(st), 2);
	cr_assert_eq(ac_sched_retarget(st, ac_sched_find_task(st, 2), AC_TARGET_CLAUDE), AC_OK);
	ac_sched_sweep(st, 0);
	cr_assert_eq(ac_sched_class_count(st), 2, "the class it left goes, the new one stays");
	ac_sched_drop_task(st, 2);
	ac_sched_drop_task(st, 1);
	remove_waiter(keep_w);
	ac_sched_sweep(st, 0);
	cr_assert_eq(ac_sched_class_count(st), 0);
	cr_assert_eq(ac_sched_profile_count(st), 0);
	/* and the view works on from empty */
	add_task(3, AC_PRIO_NORMAL, 40, AC_TARGET_SIDECAR, CAPS("kept"));
	w = add_waiter("again", CAPS("kept"), 0);
	cr_assert_eq(best_id(w), 3);
	remove_waiter(w);
}
