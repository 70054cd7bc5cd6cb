/* SPDX-License-Identifier: MIT
 * Tests for src/queue/task_fsm.c: every agent-facing transition allowed and refused,
 * generation bumps, history, retry counting and backoff, reclaims and the poison-task
 * guard, fencing with its repeat memory. After every operation the state must pass
 * ac_queue_state_check and the in-flight list must hold exactly the assigned/working tasks.
 * Over 500 lines: one Test per transition and refusal.
 */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "queue/queue_state.h"

static ac_queue_state *qs;

static void setup(void)
{
	cr_assert_eq(ac_queue_state_alloc(&qs), AC_OK);
}

static void teardown(void)
{
	ac_queue_state_free(qs);
}

TestSuite(task_fsm, .init = setup, .fini = teardown);

/* ---- helpers ---- */

typedef struct flight {
	const ac_task *tasks[64];
	size_t count;
} flight;

static bool collect_flight(void *ctx, const ac_task *t)
{
	flight *f = ctx;

	cr_assert_lt(f->count, 64);
	f->tasks[f->count++] = t;
	return true;
}

/* The whole state is consistent and the in-flight list holds exactly the assigned and
 * working tasks, each once. */
static void check_state(void)
{
	uint64_t st[AC_TASK_STATUS_COUNT], pr[AC_PRIO_COUNT];
	flight f = { .count = 0 };

	cr_assert(ac_queue_state_check(qs));
	ac_queue_state_walk_in_flight(qs, collect_flight, &f);
	ac_queue_state_counts(qs, st, pr);
	cr_assert_eq(f.count, st[AC_TASK_ASSIGNED] + st[AC_TASK_WORKING],
	    "in-flight list has %zu tasks, %llu are assigned or working", f.count,
	    (unsigned long long)(st[AC_TASK_ASSIGNED] + st[AC_TASK_WORKING]));
	for (size_t i = 0; i < f.count; i++) {
		const ac_task *t = f.tasks[i];
		cr_assert(t->status == AC_TASK_ASSIGNED || t->status == AC_TASK_WORKING,
		    "task %llu in the in-flight list with status %d", (unsigned long long)t->id,
		    (int)t->status);
		cr_assert(t->in_flight);
		cr_assert_eq(ac_queue_state_find(qs, t->id), t);
		for (size_t j = 0; j < i; j++) {
			cr_assert_neq(f.tasks[j], t, "task listed twice");
		}
	}
}

static bool flight_has(uint64_t id)
{
	flight f = { .count = 0 };

	ac_queue_state_walk_in_flight(qs, collect_flight, &f);
	for (size_t i = 0; i < f.count; i++) {
		if (f.tasks[i]->id == id) {
			return true;
		}
	}
	return false;
}

static ac_task *add_task(uint64_t id, ac_task_status st, uint32_t generation, const char *agent)
{
	ac_task *t = ac_task_alloc();

	cr_assert_not_null(t);
	t->id = id;
	t->priority = AC_PRIO_NORMAL;
	t->status = st;
	t->generation = generation;
	t->max_retries = 3;
	t->created_at_ms = t->enqueued_at_ms = t->updated_at_ms = 10;
	if (agent != NULL) {
		cr_assert_eq(ac_task_set_str(&t->assigned_to, agent, strlen(agent)), AC_OK);
		t->assigned_at_ms = 11;
	}
	cr_assert_eq(ac_queue_state_insert(qs, t), AC_OK);
	check_state();
	return t;
}

static ac_task *add_queued(uint64_t id)
{
	return add_task(id, AC_TASK_QUEUED, 0, NULL);
}

/* Assigns a queued task to agent at now, checking the call succeeds. */
static void assign(ac_task *t, const char *agent, bool accept, int64_t now)
{
	cr_assert_eq(ac_task_assign(qs, t, t->generation, agent, accept, now), AC_OK);
	check_state();
}

static const char *newest_event(const ac_task *t, uint32_t i)
{
	cr_assert_lt(i, t->history_count);
	return ac_task_history_at(t, i)->event;
}

static const char *newest_detail(const ac_task *t, uint32_t i)
{
	cr_assert_lt(i, t->history_count);
	return ac_task_history_at(t, i)->detail;
}

static ac_err fence(const ac_task *t, const char *agent, uint32_t gen, ac_fenced_op op,
    bool *is_repeat)
{
	return ac_task_fence(t, agent, strlen(agent), gen, op, is_repeat);
}

static const ac_task_status all_statuses[] = { AC_TASK_QUEUED, AC_TASK_ASSIGNED,
	AC_TASK_WORKING, AC_TASK_COMPLETED, AC_TASK_DEAD_LETTER, AC_TASK_CANCELLED };

/* Adds one task per status other than those in allowed (bit per status), each with
 * generation 7 and, when not queued, assigned to "agent-x". */
static size_t add_refused(unsigned allowed, ac_task **out)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(all_statuses) / sizeof(all_statuses[0]); i++) {
		ac_task_status s = all_statuses[i];
		if (allowed & (1u << s)) {
			continue;
		}
		out[n] = add_task(100 + i, s, 7, s == AC_TASK_QUEUED ? NULL : "agent-x");
		n++;
	}
	return n;
}

/* t is unchanged by a refused transition: status, generation, counters, history. */
static void expect_untouched(const ac_task *t, ac_task_status s)
{
	cr_assert_eq(t->status, s);
	cr_assert_eq(t->generation, 7);
	cr_assert_eq(t->retry_count, 0);
	cr_assert_eq(t->reclaim_count, 0);
	cr_assert_eq(t->updated_at_ms, 10);
	cr_assert_eq(t->history_count, 0);
	cr_assert_null(t->last_error);
	check_state();
}

/* ---- assign ---- */

Test(task_fsm, assign_moves_queued_to_assigned_and_bumps_generation)
{
	ac_task *t = add_queued(1);

	cr_assert_eq(ac_task_set_str(&t->pending_reason, "no_healthy_ollama_endpoints", 27), AC_OK);
	assign(t, "agent-a", false, 500);
	cr_assert_eq(t->status, AC_TASK_ASSIGNED);
	cr_assert_eq(t->generation, 1);
	cr_assert_str_eq(t->assigned_to, "agent-a");
	cr_assert_eq(t->assigned_at_ms, 500);
	cr_assert_eq(t->updated_at_ms, 500);
	cr_assert_null(t->pending_reason);
	cr_assert_not(t->in_lane);
	cr_assert(flight_has(1));
	cr_assert_eq(t->history_count, 1);
	cr_assert_str_eq(newest_event(t, 0), "assigned");
	cr_assert_str_eq(newest_detail(t, 0), "agent-a (generation 1)");
	cr_assert_eq(ac_task_history_at(t, 0)->at_ms, 500);
}

Test(task_fsm, assign_with_accept_goes_straight_to_working)
{
	ac_task *t = add_queued(1);

	assign(t, "agent-a", true, 600);
	cr_assert_eq(t->status, AC_TASK_WORKING);
	cr_assert_eq(t->generation, 1);
	cr_assert(flight_has(1));
	cr_assert_eq(t->history_count, 2);
	cr_assert_str_eq(newest_event(t, 0), "accepted");
	cr_assert_str_eq(newest_event(t, 1), "assigned");
}

Test(task_fsm, assign_refused_unless_queued)
{
	ac_task *ts[8];
	size_t n = add_refused(1u << AC_TASK_QUEUED, ts);

	cr_assert_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		ac_task_status s = ts[i]->status;
		cr_assert_eq(ac_task_assign(qs, ts[i], 7, "agent-b", false, 900), AC_ECONFLICT);
		cr_assert_str_eq(ts[i]->assigned_to, "agent-x");
		expect_untouched(ts[i], s);
	}
}

Test(task_fsm, assign_with_other_generation_is_stale)
{
	ac_task *t = add_task(1, AC_TASK_QUEUED, 7, NULL);

	cr_assert_eq(ac_task_assign(qs, t, 6, "agent-a", false, 900), AC_ESTALE);
	cr_assert_eq(ac_task_assign(qs, t, 8, "agent-a", true, 900), AC_ESTALE);
	cr_assert_null(t->assigned_to);
	cr_assert(t->in_lane);
	cr_assert_not(flight_has(1));
	expect_untouched(t, AC_TASK_QUEUED);
}

/* ---- accept ---- */

Test(task_fsm, accept_moves_assigned_to_working)
{
	ac_task *t = add_queued(1);

	assign(t, "agent-a", false, 100);
	cr_assert_eq(ac_task_accept(qs, t, 150), AC_OK);
	check_state();
	cr_assert_eq(t->status, AC_TASK_WORKING);
	cr_assert_eq(t->generation, 1);
	cr_assert_eq(t->updated_at_ms, 150);
	cr_assert_eq(t->assigned_at_ms, 100);
	cr_assert(flight_has(1));
	cr_assert_str_eq(newest_event(t, 0), "accepted");
	cr_assert_eq(t->history_count, 2);
}

Test(task_fsm, accept_on_working_is_ok_and_changes_nothing)
{
	ac_task *t = add_queued(1);

	assign(t, "agent-a", true, 100);
	cr_assert_eq(ac_task_accept(qs, t, 200), AC_OK);
	check_state();
	cr_assert_eq(t->status, AC_TASK_WORKING);
	cr_assert_eq(t->generation, 1);
	cr_assert_eq(t->updated_at_ms, 100);
	cr_assert_eq(t->history_count, 2);
}

Test(task_fsm, accept_refused_from_queued_and_terminal)
{
	ac_task *ts[8];
	size_t n = add_refused(1u << AC_TASK_ASSIGNED | 1u << AC_TASK_WORKING, ts);

	cr_assert_eq(n, 4);
	for (size_t i = 0; i < n; i++) {
		ac_task_status s = ts[i]->status;
		cr_assert_eq(ac_task_accept(qs, ts[i], 900), AC_ECONFLICT);
		expect_untouched(ts[i], s);
	}
}

/* ---- complete ---- */

Test(task_fsm, complete_from_working_remembers_the_applied_agent_and_generation)
{
	ac_task *t = add_queued(1);

	assign(t, "agent-a", true, 100);
	cr_assert_eq(ac_task_complete(qs, t, 300), AC_OK);
	check_state();
	cr_assert_eq(t->status, AC_TASK_COMPLETED);
	cr_assert_eq(t->generation, 1);
	cr_assert_eq(t->updated_at_ms, 300);
	cr_assert_not(flight_has(1));
	cr_assert_not(t->in_flight);
	cr_assert_str_eq(t->applied_agent, "agent-a");
	cr_assert_eq(t->applied_generation, 1);
	cr_assert_eq(t->applied_op, AC_FENCED_COMPLETE);
	cr_assert_str_eq(newest_event(t, 0), "completed");
}

/* queue_state.h: "working -> completed (assigned is a conflict: accept first)". */
Test(task_fsm, complete_from_assigned_is_a_conflict)
{
	ac_task *t = add_queued(1);

	assign(t, "agent-a", false, 100);
	cr_assert_eq(ac_task_complete(qs, t, 300), AC_ECONFLICT);
	check_state();
	cr_assert_eq(t->status, AC_TASK_ASSIGNED);
	cr_assert_eq(t->applied_op, AC_FENCED_NONE);
	cr_assert_eq(t->updated_at_ms, 100);
	cr_assert(flight_has(1));
	cr_assert_eq(ac_task_accept(qs, t, 310), AC_OK);
	cr_assert_eq(ac_task_complete(qs, t, 320), AC_OK);
	check_state();
	cr_assert_not(flight_has(1));
}

Test(task_fsm, complete_refused_unless_working)
{
	ac_task *ts[8];
	size_t n = add_refused(1u << AC_TASK_WORKING, ts);

	for (size_t i = 0; i < n; i++) {
		ac_task_status s = ts[i]->status;
		cr_assert_eq(ac_task_complete(qs, ts[i], 900), AC_ECONFLICT);
		cr_assert_eq(ts[i]->applied_op, AC_FENCED_NONE);
		cr_assert_null(ts[i]->applied_agent);
		expect_untouched(ts[i], s);
	}
}

/* ---- fail and retries ---- */

Test(task_fsm, fail_with_retries_left_requeues_after_backoff)
{
	ac_task *t = add_queued(1);
	bool is_dead = true;

	assign(t, "agent-a", true, 100);
	cr_assert_eq(ac_task_fail(qs, t, "boom", true, 2000, 400, &is_dead), AC_OK);
	check_state();
	cr_assert_not(is_dead);
	cr_assert_eq(t->status, AC_TASK_QUEUED);
	cr_assert(t->in_lane);
	cr_assert_not(flight_has(1));
	cr_assert_eq(t->retry_count, 1);
	cr_assert_eq(t->generation, 2, "the requeue bumps the generation");
	cr_assert_eq(t->not_before_ms, 2400);
	cr_assert_eq(t->enqueued_at_ms, 400);
	cr_assert_eq(t->updated_at_ms, 400);
	cr_assert_null(t->assigned_to);
	cr_assert_eq(t->assigned_at_ms, 0);
	cr_assert_str_eq(t->last_error, "boom");
	cr_assert_str_eq(newest_event(t, 0), "failed");
	cr_assert_str_eq(newest_detail(t, 0), "boom");
	cr_assert_str_eq(t->applied_agent, "agent-a");
	cr_assert_eq(t->applied_generation, 1);
	cr_assert_eq(t->applied_op, AC_FENCED_FAIL_QUEUED);
}

Test(task_fsm, third_failure_dead_letters_with_max_retries_3)
{
	ac_task *t = add_queued(1);
	bool is_dead = true;

	for (uint32_t attempt = 1; attempt <= 3; attempt++) {
		int64_t now = 1000 * attempt;
		assign(t, "agent-a", attempt % 2 == 0, now);
		cr_assert_eq(t->generation, 2 * attempt - 1);
		cr_assert_eq(ac_task_fail(qs, t, "boom", true, 50, now + 10, &is_dead), AC_OK);
		check_state();
		cr_assert_eq(t->retry_count, attempt);
		if (attempt < 3) {
			cr_assert_not(is_dead, "attempt %u", attempt);
			cr_assert_eq(t->status, AC_TASK_QUEUED);
			cr_assert_eq(t->not_before_ms, now + 60);
		}
	}
	cr_assert(is_dead);
	cr_assert_eq(t->status, AC_TASK_DEAD_LETTER);
	cr_assert_not(t->in_lane);
	cr_assert_not(flight_has(1));
	cr_assert_str_eq(t->last_error, "boom");
	cr_assert_eq(t->updated_at_ms, 3010);
	cr_assert_eq(t->applied_op, AC_FENCED_FAIL_DEAD);
	cr_assert_eq(t->applied_generation, 5);
	cr_assert_str_eq(newest_event(t, 0), "dead_letter");
	cr_assert_str_eq(newest_detail(t, 0), "boom");
	/* newest first: dead_letter, assigned (third attempt), failed (second) */
	cr_assert_str_eq(newest_event(t, 1), "assigned");
	cr_assert_str_eq(newest_event(t, 2), "failed");
}

Test(task_fsm, max_retries_0_behaves_as_1)
{
	ac_task *t = add_queued(1);
	bool is_dead = false;

	t->max_retries = 0;
	assign(t, "agent-a", false, 100);
	cr_assert_eq(ac_task_fail(qs, t, "nope", true, 50, 200, &is_dead), AC_OK);
	check_state();
	cr_assert(is_dead);
	cr_assert_eq(t->retry_count, 1);
	cr_assert_eq(t->status, AC_TASK_DEAD_LETTER);
}

Test(task_fsm, max_retries_1_dead_letters_the_first_failure)
{
	ac_task *t = add_queued(1);
	bool is_dead = false;

	t->max_retries = 1;
	assign(t, "agent-a", true, 100);
	cr_assert_eq(ac_task_fail(qs, t, "nope", true, 50, 200, &is_dead), AC_OK);
	check_state();
	cr_assert(is_dead);
	cr_assert_eq(t->status, AC_TASK_DEAD_LETTER);
}

Test(task_fsm, not_retryable_failure_dead_letters_with_retries_left)
{
	ac_task *t = add_queued(1);
	bool is_dead = false;

	t->max_retries = 20;
	assign(t, "agent-a", true, 100);
	cr_assert_eq(ac_task_fail(qs, t, "bad input", false, 50, 200, &is_dead), AC_OK);
	check_state();
	cr_assert(is_dead);
	cr_assert_eq(t->retry_count, 1);
	cr_assert_eq(t->status, AC_TASK_DEAD_LETTER);
	cr_assert_str_eq(t->last_error, "bad input");
	cr_assert_eq(t->not_before_ms, 0, "a dead task has no backoff");
	cr_assert_eq(t->applied_op, AC_FENCED_FAIL_DEAD);
}

Test(task_fsm, fail_refused_unless_assigned_or_working)
{
	ac_task *ts[8];
	size_t n = add_refused(1u << AC_TASK_ASSIGNED | 1u << AC_TASK_WORKING, ts);
	bool is_dead = false;

	for (size_t i = 0; i < n; i++) {
		ac_task_status s = ts[i]->status;
		cr_assert_eq(ac_task_fail(qs, ts[i], "x", true, 10, 900, &is_dead), AC_ECONFLICT);
		cr_assert_eq(ts[i]->applied_op, AC_FENCED_NONE);
		expect_untouched(ts[i], s);
	}
}

Test(task_fsm, fail_from_assigned_is_allowed)
{
	ac_task *t = add_queued(1);
	bool is_dead = true;

	assign(t, "agent-a", false, 100);
	cr_assert_eq(ac_task_fail(qs, t, "x", true, 0, 150, &is_dead), AC_OK);
	check_state();
	cr_assert_not(is_dead);
	cr_assert_eq(t->status, AC_TASK_QUEUED);
	cr_assert_eq(t->not_before_ms, 150);
}

/* ---- reclaim ---- */

Test(task_fsm, reclaim_requeues_and_counts)
{
	ac_task *t = add_queued(1);
	ac_task *other = add_queued(2);
	bool is_dead = true;

	assign(t, "agent-a", false, 100);
	assign(other, "agent-b", true, 100);
	cr_assert_eq(ac_task_reclaim(qs, t, "accept_timeout", 5, 700, &is_dead), AC_OK);
	check_state();
	cr_assert_not(is_dead);
	cr_assert_eq(t->status, AC_TASK_QUEUED);
	cr_assert_eq(t->reclaim_count, 1);
	cr_assert_eq(t->retry_count, 0);
	cr_assert_eq(t->generation, 2);
	cr_assert_null(t->assigned_to);
	cr_assert_eq(t->enqueued_at_ms, 700);
	cr_assert_str_eq(newest_event(t, 0), "reclaimed");
	cr_assert_str_eq(newest_detail(t, 0), "accept_timeout");
	cr_assert_not(flight_has(1));
	cr_assert(flight_has(2));
	cr_assert_eq(ac_task_reclaim(qs, other, "lease_expired", 5, 800, &is_dead), AC_OK);
	check_state();
	cr_assert_not(flight_has(2));
}

Test(task_fsm, reclaim_reaching_max_reclaims_dead_letters_too_many_reclaims)
{
	ac_task *t = add_queued(1);
	bool is_dead = true;

	for (uint32_t i = 1; i <= 5; i++) {
		assign(t, "agent-a", i % 2 == 1, 100 * i);
		cr_assert_eq(ac_task_reclaim(qs, t, "lease_expired", 5, 100 * i + 50, &is_dead), AC_OK);
		check_state();
		cr_assert_eq(t->reclaim_count, i);
		if (i < 5) {
			cr_assert_not(is_dead, "reclaim %u", i);
			cr_assert_eq(t->status, AC_TASK_QUEUED);
		}
	}
	cr_assert(is_dead);
	cr_assert_eq(t->status, AC_TASK_DEAD_LETTER);
	cr_assert_str_eq(t->last_error, "too_many_reclaims");
	cr_assert_eq(t->retry_count, 0);
	cr_assert_not(flight_has(1));
	cr_assert_not(t->in_lane);
	cr_assert_str_eq(newest_event(t, 0), "dead_letter");
	cr_assert_str_eq(newest_detail(t, 0), "too_many_reclaims");
	cr_assert_str_eq(newest_event(t, 1), "reclaimed");
	cr_assert_str_eq(newest_detail(t, 1), "lease_expired");
}

/* The agent that lost a task to the poison guard cannot complete it afterwards. */
Test(task_fsm, complete_after_poison_reclaim_is_refused)
{
	ac_task *t = add_queued(1);
	bool is_dead = false, rep = true;
	uint32_t gen;

	assign(t, "agent-a", true, 100);
	gen = t->generation;
	cr_assert_eq(ac_task_reclaim(qs, t, "lease_expired", 1, 200, &is_dead), AC_OK);
	cr_assert(is_dead);
	cr_assert_neq(fence(t, "agent-a", gen, AC_FENCED_COMPLETE, &rep), AC_OK);
	cr_assert_not(rep);
	cr_assert_eq(ac_task_complete(qs, t, 300), AC_ECONFLICT);
	check_state();
}

Test(task_fsm, reclaim_refused_unless_assigned_or_working)
{
	ac_task *ts[8];
	size_t n = add_refused(1u << AC_TASK_ASSIGNED | 1u << AC_TASK_WORKING, ts);
	bool is_dead = false;

	for (size_t i = 0; i < n; i++) {
		ac_task_status s = ts[i]->status;
		cr_assert_eq(ac_task_reclaim(qs, ts[i], "x", 5, 900, &is_dead), AC_ECONFLICT);
		expect_untouched(ts[i], s);
	}
}

/* ---- expire ---- */

Test(task_fsm, expire_dead_letters_a_queued_task_with_ttl_expired)
{
	ac_task *t = add_queued(1);

	cr_assert_eq(ac_task_expire(qs, t, 600000), AC_OK);
	check_state();
	cr_assert_eq(t->status, AC_TASK_DEAD_LETTER);
	cr_assert_str_eq(t->last_error, "ttl_expired");
	cr_assert_eq(t->updated_at_ms, 600000);
	cr_assert_not(t->in_lane);
	cr_assert_str_eq(newest_event(t, 0), "dead_letter");
	cr_assert_str_eq(newest_detail(t, 0), "ttl_expired");
}

Test(task_fsm, expire_refused_unless_queued)
{
	ac_task *ts[8];
	size_t n = add_refused(1u << AC_TASK_QUEUED, ts);

	for (size_t i = 0; i < n; i++) {
		ac_task_status s = ts[i]->status;
		cr_assert_eq(ac_task_expire(qs, ts[i], 900), AC_ECONFLICT);
		expect_untouched(ts[i], s);
	}
}

/* ---- fencing ---- */

Test(task_fsm, fence_allows_the_assignee_with_its_generation)
{
	ac_task *t = add_queued(1);
	bool rep = true;

	assign(t, "agent-a", false, 100);
	for (int op = AC_FENCED_NONE; op < AC_FENCED_COUNT; op++) {
		rep = true;
		cr_assert_eq(fence(t, "agent-a", 1, (ac_fenced_op)op, &rep), AC_OK, "op %d", op);
		cr_assert_not(rep);
	}
	cr_assert_eq(ac_task_accept(qs, t, 110), AC_OK);
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_NONE, &rep), AC_OK);
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_COMPLETE, &rep), AC_OK);
	cr_assert_not(rep);
}

Test(task_fsm, fence_other_agent_is_stale)
{
	ac_task *t = add_queued(1);
	bool rep = true;

	assign(t, "agent-a", true, 100);
	cr_assert_eq(fence(t, "agent-b", 1, AC_FENCED_NONE, &rep), AC_ESTALE);
	cr_assert_not(rep);
	cr_assert_eq(fence(t, "agent-b", 1, AC_FENCED_COMPLETE, &rep), AC_ESTALE);
	cr_assert_eq(fence(t, "agent-ab", 1, AC_FENCED_FAIL_QUEUED, &rep), AC_ESTALE);
	cr_assert_eq(fence(t, "agent-", 1, AC_FENCED_NONE, &rep), AC_ESTALE);
	cr_assert_eq(ac_task_fence(t, "agent-a", 0, 1, AC_FENCED_NONE, &rep), AC_ESTALE);
}

Test(task_fsm, fence_other_generation_is_stale)
{
	ac_task *t = add_queued(1);
	bool rep = true;

	assign(t, "agent-a", true, 100);
	cr_assert_eq(fence(t, "agent-a", 0, AC_FENCED_NONE, &rep), AC_ESTALE);
	cr_assert_eq(fence(t, "agent-a", 2, AC_FENCED_COMPLETE, &rep), AC_ESTALE);
	cr_assert_eq(fence(t, "agent-a", UINT32_MAX, AC_FENCED_FAIL_QUEUED, &rep), AC_ESTALE);
	cr_assert_not(rep);
}

Test(task_fsm, fence_on_task_requeued_since_is_stale_for_the_old_assignment)
{
	ac_task *t = add_queued(1);
	bool rep = true, is_dead;

	assign(t, "agent-a", true, 100);
	cr_assert_eq(ac_task_reclaim(qs, t, "lease_expired", 5, 200, &is_dead), AC_OK);
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_NONE, &rep), AC_ESTALE);
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_COMPLETE, &rep), AC_ESTALE);
	cr_assert_not(rep);
	/* reassigned to another agent: still stale for the first one */
	assign(t, "agent-b", false, 300);
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_COMPLETE, &rep), AC_ESTALE);
	cr_assert_eq(fence(t, "agent-b", 3, AC_FENCED_COMPLETE, &rep), AC_OK);
}

Test(task_fsm, fence_on_terminal_task_for_its_last_assignee_is_conflict)
{
	ac_task *t = add_queued(1);
	bool rep = true;

	assign(t, "agent-a", true, 100);
	cr_assert_eq(ac_task_complete(qs, t, 200), AC_OK);
	/* accept/progress after completion: the status does not allow them */
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_NONE, &rep), AC_ECONFLICT);
	cr_assert_not(rep);
	/* a fail after the complete is not a repeat of it */
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_FAIL_QUEUED, &rep), AC_ECONFLICT);
	cr_assert_not(rep);
}

Test(task_fsm, repeat_complete_with_same_agent_and_generation_is_repeat)
{
	ac_task *t = add_queued(1);
	bool rep = false;

	assign(t, "agent-a", true, 100);
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_COMPLETE, &rep), AC_OK);
	cr_assert_not(rep);
	cr_assert_eq(ac_task_complete(qs, t, 200), AC_OK);
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_COMPLETE, &rep), AC_OK);
	cr_assert(rep);
	/* another agent or generation is not the same request */
	cr_assert_neq(fence(t, "agent-b", 1, AC_FENCED_COMPLETE, &rep), AC_OK);
	cr_assert_not(rep);
	cr_assert_neq(fence(t, "agent-a", 2, AC_FENCED_COMPLETE, &rep), AC_OK);
	cr_assert_not(rep);
}

Test(task_fsm, repeat_fail_is_repeat_after_requeue_and_reassignment)
{
	ac_task *t = add_queued(1);
	bool rep = false, is_dead = true;

	assign(t, "agent-a", true, 100);
	cr_assert_eq(ac_task_fail(qs, t, "boom", true, 10, 200, &is_dead), AC_OK);
	cr_assert_not(is_dead);
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_FAIL_QUEUED, &rep), AC_OK);
	cr_assert(rep);
	assign(t, "agent-b", true, 300); /* gen 3 */
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_FAIL_QUEUED, &rep), AC_OK);
	cr_assert(rep);
	/* the same agent got it again: its old fail is still a repeat, its new one is not */
	cr_assert_eq(ac_task_reclaim(qs, t, "agent_gone", 5, 350, &is_dead), AC_OK);
	assign(t, "agent-a", true, 400); /* gen 5 */
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_FAIL_QUEUED, &rep), AC_OK);
	cr_assert(rep);
	cr_assert_eq(fence(t, "agent-a", 5, AC_FENCED_FAIL_QUEUED, &rep), AC_OK);
	cr_assert_not(rep);
	/* a complete with the old generation is not a repeat of the fail */
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_COMPLETE, &rep), AC_ESTALE);
	cr_assert_not(rep);
	check_state();
}

Test(task_fsm, repeat_fail_that_dead_lettered_is_repeat)
{
	ac_task *t = add_queued(1);
	bool rep = false, is_dead = false;

	assign(t, "agent-a", true, 100);
	cr_assert_eq(ac_task_fail(qs, t, "bad", false, 10, 200, &is_dead), AC_OK);
	cr_assert(is_dead);
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_FAIL_QUEUED, &rep), AC_OK);
	cr_assert(rep);
	cr_assert_eq(t->applied_op, AC_FENCED_FAIL_DEAD);
	cr_assert_eq(ac_task_retry(qs, t, 300), AC_OK);
	assign(t, "agent-b", false, 400);
	cr_assert_eq(fence(t, "agent-a", 1, AC_FENCED_FAIL_QUEUED, &rep), AC_OK);
	cr_assert(rep);
	check_state();
}

/* ---- the in-flight list across a mix of operations ---- */

Test(task_fsm, in_flight_list_follows_every_operation)
{
	ac_task *t[6];
	bool is_dead;

	for (uint64_t i = 0; i < 6; i++) {
		t[i] = add_queued(i + 1);
	}
	add_task(7, AC_TASK_WORKING, 3, "agent-w"); /* inserted in flight */
	cr_assert(flight_has(7));
	assign(t[0], "a0", false, 10);
	assign(t[1], "a1", true, 11);
	assign(t[2], "a2", false, 12);
	assign(t[3], "a3", true, 13);
	assign(t[4], "a4", false, 14);
	cr_assert_eq(ac_task_accept(qs, t[0], 20), AC_OK);
	check_state();
	cr_assert_eq(ac_task_complete(qs, t[1], 21), AC_OK);
	check_state();
	cr_assert_eq(ac_task_fail(qs, t[2], "x", true, 5, 22, &is_dead), AC_OK);
	check_state();
	cr_assert_eq(ac_task_reclaim(qs, t[3], "r", 5, 23, &is_dead), AC_OK);
	check_state();
	cr_assert_eq(ac_task_cancel(qs, t[4], 24), AC_OK);
	check_state();
	cr_assert_eq(ac_task_expire(qs, t[5], 25), AC_OK);
	check_state();
	cr_assert(flight_has(1));
	cr_assert(flight_has(7));
	for (uint64_t id = 2; id <= 6; id++) {
		cr_assert_not(flight_has(id), "task %llu", (unsigned long long)id);
	}
	ac_task_free(ac_queue_state_take(qs, 1));
	check_state();
	cr_assert_not(flight_has(1));
	assign(t[2], "a2", true, 30);
	cr_assert(flight_has(3));
}
