/* SPDX-License-Identifier: MIT
 * Tests for src/queue/queue_state.c: dispatch order and cursors, insert/take, the
 * cancel and retry transitions, the history ring, idempotency keys, incremental
 * counts (checked against ac_queue_state_check after every change) and scale.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
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

TestSuite(queue_state, .init = setup, .fini = teardown);

static ac_task *add(uint64_t id, ac_priority prio, int64_t enqueued_ms, ac_task_status st)
{
	ac_task *t = ac_task_alloc();

	cr_assert_not_null(t);
	t->id = id;
	t->priority = prio;
	t->status = st;
	t->created_at_ms = t->enqueued_at_ms = t->updated_at_ms = enqueued_ms;
	cr_assert_eq(ac_queue_state_insert(qs, t), AC_OK);
	cr_assert(ac_queue_state_check(qs));
	return t;
}

static ac_task *add_queued(uint64_t id, ac_priority prio, int64_t enqueued_ms)
{
	return add(id, prio, enqueued_ms, AC_TASK_QUEUED);
}

typedef struct seen {
	uint64_t ids[64];
	size_t count, limit;
} seen;

static bool collect(void *ctx, const ac_task *t)
{
	seen *s = ctx;

	if (s->count == s->limit) {
		return false;
	}
	s->ids[s->count++] = t->id;
	return true;
}

/* Walks with the given cursor and compares the visited ids with want[0..n). */
static void expect_walk(int prio, const ac_task *cursor, const uint64_t *want, size_t n)
{
	seen s = { .limit = 64 };

	ac_queue_state_walk_queued(qs, prio, cursor != NULL,
	    cursor ? cursor->priority : AC_PRIO_URGENT, cursor ? cursor->enqueued_at_ms : 0,
	    cursor ? cursor->id : 0, collect, &s);
	cr_assert_eq(s.count, n, "visited %zu tasks, want %zu", s.count, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(s.ids[i], want[i], "position %zu: id %llu, want %llu", i,
		    (unsigned long long)s.ids[i], (unsigned long long)want[i]);
	}
}

static void expect_counts(const uint64_t by_status[AC_TASK_STATUS_COUNT],
    const uint64_t by_prio[AC_PRIO_COUNT])
{
	uint64_t st[AC_TASK_STATUS_COUNT], pr[AC_PRIO_COUNT];

	ac_queue_state_counts(qs, st, pr);
	cr_assert_arr_eq(st, by_status, sizeof(st));
	cr_assert_arr_eq(pr, by_prio, sizeof(pr));
	cr_assert(ac_queue_state_check(qs));
}

/* --- dispatch order --- */

Test(queue_state, pop_order_is_urgent_high_normal_low)
{
	add_queued(1, AC_PRIO_LOW, 10);
	add_queued(2, AC_PRIO_NORMAL, 20);
	add_queued(3, AC_PRIO_URGENT, 30);
	add_queued(4, AC_PRIO_HIGH, 40);
	add_queued(5, AC_PRIO_URGENT, 50);
	expect_walk(-1, NULL, (uint64_t[]){ 3, 5, 4, 2, 1 }, 5);
	expect_counts((uint64_t[]){ 5, 0, 0, 0, 0, 0 }, (uint64_t[]){ 2, 1, 1, 1 });
}

Test(queue_state, fifo_by_enqueued_at_within_a_lane_then_id)
{
	add_queued(7, AC_PRIO_NORMAL, 100);
	add_queued(3, AC_PRIO_NORMAL, 200);
	add_queued(9, AC_PRIO_NORMAL, 200);
	add_queued(4, AC_PRIO_NORMAL, 300);
	expect_walk(-1, NULL, (uint64_t[]){ 7, 3, 9, 4 }, 4);
}

Test(queue_state, out_of_order_insert_lands_sorted)
{
	add_queued(1, AC_PRIO_HIGH, 50);
	add_queued(2, AC_PRIO_HIGH, 10);  /* before the head */
	add_queued(3, AC_PRIO_HIGH, 30);  /* in the middle */
	add_queued(4, AC_PRIO_HIGH, 60);  /* append */
	add_queued(5, AC_PRIO_HIGH, 5);   /* new head */
	add_queued(6, AC_PRIO_HIGH, 30);  /* tie: after id 3 */
	add_queued(0, AC_PRIO_HIGH, 30);  /* tie: before id 3 */
	expect_walk(-1, NULL, (uint64_t[]){ 5, 2, 0, 3, 6, 1, 4 }, 7);
	expect_walk(AC_PRIO_HIGH, NULL, (uint64_t[]){ 5, 2, 0, 3, 6, 1, 4 }, 7);
}

Test(queue_state, walk_stops_when_fn_returns_false)
{
	seen s = { .limit = 2 };

	for (uint64_t id = 1; id <= 5; id++) {
		add_queued(id, AC_PRIO_NORMAL, (int64_t)id);
	}
	ac_queue_state_walk_queued(qs, -1, false, AC_PRIO_URGENT, 0, 0, collect, &s);
	cr_assert_eq(s.count, 2);
	cr_assert_eq(s.ids[1], 2);
}

Test(queue_state, walk_with_cursor_continues_into_lower_lanes)
{
	ac_task *t2;

	add_queued(1, AC_PRIO_URGENT, 1);
	t2 = add_queued(2, AC_PRIO_URGENT, 2);
	add_queued(3, AC_PRIO_URGENT, 3);
	add_queued(4, AC_PRIO_LOW, 4);
	add_queued(5, AC_PRIO_HIGH, 5);
	expect_walk(-1, t2, (uint64_t[]){ 3, 5, 4 }, 3);
}

Test(queue_state, walk_with_cursor_after_removed_task)
{
	ac_task cursor;

	add_queued(1, AC_PRIO_NORMAL, 10);
	add_queued(2, AC_PRIO_NORMAL, 20);
	add_queued(3, AC_PRIO_NORMAL, 20);
	add_queued(4, AC_PRIO_NORMAL, 30);
	add_queued(5, AC_PRIO_LOW, 1);
	cursor = *ac_queue_state_find(qs, 2);
	ac_task_free(ac_queue_state_take(qs, 2));
	cr_assert(ac_queue_state_check(qs));
	expect_walk(-1, &cursor, (uint64_t[]){ 3, 4, 5 }, 3);
	/* cursor task cancelled: no longer in the lane, same answer */
	cursor = *ac_queue_state_find(qs, 3);
	cr_assert_eq(ac_task_cancel(qs, ac_queue_state_find(qs, 3), 99), AC_OK);
	expect_walk(-1, &cursor, (uint64_t[]){ 4, 5 }, 2);
	/* cursor past the last task of its lane */
	cursor.enqueued_at_ms = 1000;
	expect_walk(-1, &cursor, (uint64_t[]){ 5 }, 1);
}

Test(queue_state, walk_with_cursor_after_task_requeued_elsewhere)
{
	ac_task *t, cursor;

	add_queued(1, AC_PRIO_NORMAL, 10);
	t = add_queued(2, AC_PRIO_NORMAL, 20);
	add_queued(3, AC_PRIO_NORMAL, 30);
	cursor = *t;
	cr_assert_eq(ac_task_cancel(qs, t, 40), AC_OK);
	cr_assert_eq(ac_task_retry(qs, t, 50), AC_OK); /* queued again, at the tail */
	expect_walk(-1, &cursor, (uint64_t[]){ 3, 2 }, 2);
}

Test(queue_state, walk_single_priority)
{
	ac_task *u, *h1, *l;

	u = add_queued(1, AC_PRIO_URGENT, 1);
	h1 = add_queued(2, AC_PRIO_HIGH, 2);
	add_queued(3, AC_PRIO_HIGH, 3);
	l = add_queued(4, AC_PRIO_LOW, 4);
	add_queued(5, AC_PRIO_NORMAL, 5);
	expect_walk(AC_PRIO_HIGH, NULL, (uint64_t[]){ 2, 3 }, 2);
	expect_walk(AC_PRIO_HIGH, h1, (uint64_t[]){ 3 }, 1);
	expect_walk(AC_PRIO_HIGH, u, (uint64_t[]){ 2, 3 }, 2); /* cursor in a higher lane */
	expect_walk(AC_PRIO_HIGH, l, NULL, 0);                 /* cursor in a lower lane */
	expect_walk(AC_PRIO_URGENT, NULL, (uint64_t[]){ 1 }, 1);
}

/* --- insert / take --- */

Test(queue_state, insert_duplicate_id_conflicts)
{
	ac_task *t = ac_task_alloc();

	add_queued(1, AC_PRIO_NORMAL, 1);
	t->id = 1;
	cr_assert_eq(ac_queue_state_insert(qs, t), AC_ECONFLICT);
	cr_assert_eq(ac_queue_state_count(qs), 1);
	expect_counts((uint64_t[]){ 1, 0, 0, 0, 0, 0 }, (uint64_t[]){ 0, 0, 1, 0 });
	ac_task_free(t);
}

Test(queue_state, take_removes_from_lane_and_map)
{
	ac_task *t;

	add_queued(1, AC_PRIO_NORMAL, 1);
	add_queued(2, AC_PRIO_NORMAL, 2);
	add(3, AC_PRIO_HIGH, 3, AC_TASK_WORKING);
	t = ac_queue_state_take(qs, 1);
	cr_assert_not_null(t);
	cr_assert_not(t->in_lane);
	cr_assert_null(ac_queue_state_find(qs, 1));
	cr_assert_null(ac_queue_state_take(qs, 1));
	cr_assert_null(ac_queue_state_take(qs, 77));
	expect_walk(-1, NULL, (uint64_t[]){ 2 }, 1);
	expect_counts((uint64_t[]){ 1, 0, 1, 0, 0, 0 }, (uint64_t[]){ 0, 0, 1, 0 });
	ac_task_free(t);
	ac_task_free(ac_queue_state_take(qs, 3));
	expect_counts((uint64_t[]){ 1, 0, 0, 0, 0, 0 }, (uint64_t[]){ 0, 0, 1, 0 });
	cr_assert_eq(ac_queue_state_count(qs), 1);
}

/* --- transitions --- */

Test(queue_state, cancel_from_queued_assigned_and_working)
{
	ac_task *q = add_queued(1, AC_PRIO_URGENT, 1);
	ac_task *a = add(2, AC_PRIO_HIGH, 2, AC_TASK_ASSIGNED);
	ac_task *w = add(3, AC_PRIO_LOW, 3, AC_TASK_WORKING);

	expect_counts((uint64_t[]){ 1, 1, 1, 0, 0, 0 }, (uint64_t[]){ 1, 0, 0, 0 });
	cr_assert_eq(ac_task_set_str(&q->pending_reason, "no_healthy_ollama_endpoints", 27), AC_OK);
	cr_assert_eq(ac_task_cancel(qs, q, 100), AC_OK);
	cr_assert_eq(q->status, AC_TASK_CANCELLED);
	cr_assert_not(q->in_lane);
	cr_assert_null(q->pending_reason);
	cr_assert_eq(q->updated_at_ms, 100);
	cr_assert_str_eq(ac_task_history_at(q, 0)->event, "cancelled");
	cr_assert_eq(ac_task_history_at(q, 0)->at_ms, 100);
	expect_counts((uint64_t[]){ 0, 1, 1, 0, 0, 1 }, (uint64_t[]){ 0, 0, 0, 0 });
	cr_assert_eq(ac_task_cancel(qs, a, 101), AC_OK);
	expect_counts((uint64_t[]){ 0, 0, 1, 0, 0, 2 }, (uint64_t[]){ 0, 0, 0, 0 });
	cr_assert_eq(ac_task_cancel(qs, w, 102), AC_OK);
	expect_counts((uint64_t[]){ 0, 0, 0, 0, 0, 3 }, (uint64_t[]){ 0, 0, 0, 0 });
	expect_walk(-1, NULL, NULL, 0);
}

Test(queue_state, cancel_conflicts_when_terminal_and_changes_nothing)
{
	ac_task_status terminal[] = { AC_TASK_COMPLETED, AC_TASK_DEAD_LETTER, AC_TASK_CANCELLED };

	for (uint64_t i = 0; i < 3; i++) {
		ac_task *t = add(i + 1, AC_PRIO_NORMAL, 5, terminal[i]);
		cr_assert_eq(ac_task_cancel(qs, t, 50), AC_ECONFLICT);
		cr_assert_eq(t->status, terminal[i]);
		cr_assert_eq(t->updated_at_ms, 5);
		cr_assert_eq(t->history_count, 0);
	}
	expect_counts((uint64_t[]){ 0, 0, 0, 1, 1, 1 }, (uint64_t[]){ 0, 0, 0, 0 });
}

static ac_task *add_failed(uint64_t id, ac_task_status st)
{
	ac_task *t = add(id, AC_PRIO_NORMAL, 10, st);

	t->retry_count = 3;
	t->reclaim_count = 2;
	t->generation = 4;
	t->assigned_at_ms = 11;
	t->not_before_ms = 12;
	cr_assert_eq(ac_task_set_str(&t->assigned_to, "agent-1", 7), AC_OK);
	cr_assert_eq(ac_task_set_str(&t->last_error, "boom", 4), AC_OK);
	cr_assert_eq(ac_task_set_str(&t->pending_reason, "x", 1), AC_OK);
	return t;
}

static void expect_retried(const ac_task *t, int64_t now)
{
	cr_assert_eq(t->status, AC_TASK_QUEUED);
	cr_assert(t->in_lane);
	cr_assert_eq(t->retry_count, 0);
	cr_assert_eq(t->reclaim_count, 0);
	cr_assert_eq(t->generation, 5);
	cr_assert_null(t->assigned_to);
	cr_assert_eq(t->assigned_at_ms, 0);
	cr_assert_null(t->last_error);
	cr_assert_null(t->pending_reason);
	cr_assert_eq(t->not_before_ms, 0);
	cr_assert_eq(t->enqueued_at_ms, now);
	cr_assert_eq(t->updated_at_ms, now);
	cr_assert_str_eq(ac_task_history_at(t, 0)->event, "retried");
}

Test(queue_state, retry_from_dead_letter_resets_and_enqueues_at_the_tail)
{
	ac_task *t = add_failed(1, AC_TASK_DEAD_LETTER);

	add_queued(2, AC_PRIO_NORMAL, 500);
	add_queued(3, AC_PRIO_NORMAL, 900);
	expect_counts((uint64_t[]){ 2, 0, 0, 0, 1, 0 }, (uint64_t[]){ 0, 0, 2, 0 });
	cr_assert_eq(ac_task_retry(qs, t, 1000), AC_OK);
	expect_retried(t, 1000);
	expect_walk(-1, NULL, (uint64_t[]){ 2, 3, 1 }, 3);
	expect_counts((uint64_t[]){ 3, 0, 0, 0, 0, 0 }, (uint64_t[]){ 0, 0, 3, 0 });
}

Test(queue_state, retry_from_cancelled_resets_and_enqueues)
{
	ac_task *t = add_failed(1, AC_TASK_CANCELLED);

	cr_assert_eq(ac_task_retry(qs, t, 2000), AC_OK);
	expect_retried(t, 2000);
	expect_counts((uint64_t[]){ 1, 0, 0, 0, 0, 0 }, (uint64_t[]){ 0, 0, 1, 0 });
}

Test(queue_state, retry_conflicts_unless_dead_letter_or_cancelled)
{
	ac_task_status other[] = { AC_TASK_QUEUED, AC_TASK_ASSIGNED, AC_TASK_WORKING,
		AC_TASK_COMPLETED };

	for (uint64_t i = 0; i < 4; i++) {
		ac_task *t = add_failed(i + 1, other[i]);
		cr_assert_eq(ac_task_retry(qs, t, 3000), AC_ECONFLICT);
		cr_assert_eq(t->status, other[i]);
		cr_assert_eq(t->generation, 4);
		cr_assert_eq(t->retry_count, 3);
		cr_assert_str_eq(t->last_error, "boom");
		cr_assert_eq(t->enqueued_at_ms, 10);
		cr_assert_eq(t->history_count, 0);
	}
	expect_counts((uint64_t[]){ 1, 1, 1, 1, 0, 0 }, (uint64_t[]){ 0, 0, 1, 0 });
}

/* A transition on a task the state does not hold is a bug in the caller: abort. */
Test(queue_state, transition_on_task_not_held_aborts, .signal = SIGABRT)
{
	ac_task *t = ac_task_alloc();

	t->id = 9;
	t->status = AC_TASK_DEAD_LETTER;
	ac_task_retry(qs, t, 1);
}

/* --- records --- */

Test(queue_state, history_cap_keeps_newest)
{
	ac_task *t = ac_task_alloc();
	char detail[16];

	for (int i = 0; i < AC_HISTORY_MAX + 25; i++) {
		snprintf(detail, sizeof(detail), "d%d", i);
		ac_task_add_history(t, i, "queued", i % 2 ? detail : NULL);
	}
	cr_assert_eq(t->history_count, AC_HISTORY_MAX);
	for (uint32_t i = 0; i < AC_HISTORY_MAX; i++) {
		const ac_history_item *h = ac_task_history_at(t, i);
		int64_t at = AC_HISTORY_MAX + 24 - (int64_t)i;
		cr_assert_eq(h->at_ms, at);
		if (at % 2) {
			snprintf(detail, sizeof(detail), "d%d", (int)at);
			cr_assert_str_eq(h->detail, detail);
		} else {
			cr_assert_null(h->detail);
		}
	}
	ac_task_free(t);
}

Test(queue_state, task_alloc_defaults_and_set_str_replaces)
{
	ac_task *t = ac_task_alloc();

	cr_assert_eq(t->ttl_ms, -1);
	cr_assert_eq(t->tokens_used, -1);
	cr_assert_eq(t->status, AC_TASK_QUEUED);
	cr_assert_eq(ac_task_set_str(&t->last_error, "first", 5), AC_OK);
	cr_assert_eq(ac_task_set_str(&t->last_error, "second!", 6), AC_OK);
	cr_assert_str_eq(t->last_error, "second");
	cr_assert_eq(ac_task_set_str(&t->last_error, NULL, 0), AC_OK);
	cr_assert_null(t->last_error);
	for (int s = 0; s < AC_TASK_STATUS_COUNT; s++) {
		cr_assert_eq(ac_task_status_is_terminal((ac_task_status)s), s >= AC_TASK_COMPLETED);
	}
	ac_task_free(t);
	ac_task_free(NULL);
}

/* --- idempotency --- */

Test(queue_state, idempotency_key_found_only_within_window)
{
	int64_t t0 = 1700000000000;

	cr_assert_eq(ac_queue_state_remember_key(qs, "k1", 2, 42, t0), AC_OK);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "k1", 2, t0), 42);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "k1", 2, t0 + AC_IDEMPOTENCY_WINDOW_MS - 1), 42);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "k1", 2, t0 + AC_IDEMPOTENCY_WINDOW_MS), 0);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "k2", 2, t0), 0);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "k", 1, t0), 0);
	cr_assert(ac_queue_state_check(qs));
}

Test(queue_state, expire_keys_frees_old_keys_oldest_first_up_to_limit)
{
	int64_t t0 = 1700000000000;
	char key[16];

	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		cr_assert_eq(ac_queue_state_remember_key(qs, key, strlen(key), (uint64_t)i + 1, t0 + i),
		    AC_OK);
	}
	ac_queue_state_expire_keys(qs, t0 + AC_IDEMPOTENCY_WINDOW_MS + 4, 3); /* 0..4 due; limit 3 */
	cr_assert_eq(ac_queue_state_key_count(qs), 7);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "key-3", 5, t0), 4);
	ac_queue_state_expire_keys(qs, t0 + AC_IDEMPOTENCY_WINDOW_MS + 4, 100);
	cr_assert_eq(ac_queue_state_key_count(qs), 5);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "key-4", 5, t0), 0);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "key-5", 5, t0), 6);
	cr_assert(ac_queue_state_check(qs));
}

Test(queue_state, forget_and_replace_keys)
{
	cr_assert_eq(ac_queue_state_remember_key(qs, "a", 1, 1, 100), AC_OK);
	cr_assert_eq(ac_queue_state_remember_key(qs, "b", 1, 2, 200), AC_OK);
	ac_queue_state_forget_key(qs, "a", 1);
	ac_queue_state_forget_key(qs, "zz", 2);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "a", 1, 300), 0);
	cr_assert_eq(ac_queue_state_remember_key(qs, "b", 1, 3, 50), AC_OK); /* replaces */
	cr_assert_eq(ac_queue_state_key_count(qs), 1);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "b", 1, 300), 3);
	cr_assert(ac_queue_state_check(qs));
}

Test(queue_state, insert_remembers_key_and_take_keeps_it)
{
	ac_task *t = ac_task_alloc(), *old = ac_task_alloc();

	t->id = 5;
	t->created_at_ms = 1000;
	cr_assert_eq(ac_task_set_str(&t->idempotency_key, "key", 3), AC_OK);
	cr_assert_eq(ac_queue_state_insert(qs, t), AC_OK);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "key", 3, 2000), 5);
	ac_task_free(ac_queue_state_take(qs, 5));
	cr_assert_eq(ac_queue_state_lookup_key(qs, "key", 3, 2000), 5);
	/* an older task with the same key does not take the key back */
	old->id = 1;
	old->status = AC_TASK_DEAD_LETTER;
	old->created_at_ms = 10;
	cr_assert_eq(ac_task_set_str(&old->idempotency_key, "key", 3), AC_OK);
	cr_assert_eq(ac_queue_state_insert(qs, old), AC_OK);
	cr_assert_eq(ac_queue_state_lookup_key(qs, "key", 3, 2000), 5);
	cr_assert(ac_queue_state_check(qs));
}

/* --- scale --- */

#define MANY 1000000u

/* Proves insert, find and take are not quadratic (no timing assertion: ASan and CI
 * machines differ); the whole test takes well under a second in a plain build. */
Test(queue_state, million_tasks_insert_find_take)
{
	uint64_t by_status[AC_TASK_STATUS_COUNT] = { MANY };
	uint64_t by_prio[AC_PRIO_COUNT] = { MANY / 4, MANY / 4, MANY / 4, MANY / 4 };

	for (uint32_t i = 1; i <= MANY; i++) {
		ac_task *t = ac_task_alloc();
		cr_assert_not_null(t);
		t->id = i;
		t->priority = (ac_priority)(i % AC_PRIO_COUNT);
		t->enqueued_at_ms = i;
		cr_assert_eq(ac_queue_state_insert(qs, t), AC_OK);
	}
	expect_counts(by_status, by_prio);
	cr_assert_eq(ac_queue_state_find(qs, 123457)->id, 123457);
	/* take in a scattered order (7919 is prime, so i * 7919 mod MANY visits all) */
	for (uint64_t i = 0; i < MANY; i++) {
		uint64_t id = i * 7919 % MANY + 1;
		ac_task *t = ac_queue_state_take(qs, id);
		cr_assert_not_null(t);
		ac_task_free(t);
	}
	cr_assert_eq(ac_queue_state_count(qs), 0);
	expect_counts((uint64_t[]){ 0, 0, 0, 0, 0, 0 }, (uint64_t[]){ 0, 0, 0, 0 });
}
