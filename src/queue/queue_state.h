/* SPDX-License-Identifier: MIT
 * The queue's pure state: live (non-terminal) task records, the dispatch index
 * (four priority lanes, FIFO by enqueued_at_ms), the id map, idempotency keys, and
 * the task state machine of DESIGN §3. No nng, no threads, no I/O: unit-tested alone.
 */
#ifndef AC_QUEUE_QUEUE_STATE_H
#define AC_QUEUE_QUEUE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"
#include "codec/task_wire.h"
#include "routing/complexity.h"

#define AC_HISTORY_MAX 50
#define AC_IDEMPOTENCY_WINDOW_MS (24LL * 3600 * 1000)

typedef struct ac_blob {
	uint8_t *p; /* owned, malloc'ed; NULL when empty */
	uint32_t len;
} ac_blob;

typedef struct ac_history_item {
	int64_t at_ms;
	const char *event; /* static string */
	char *detail;      /* owned, may be NULL */
} ac_history_item;

typedef struct ac_task ac_task;
struct ac_task {
	uint64_t id;
	ac_task_status status;
	ac_priority priority;
	ac_tier tier;                 /* effective complexity tier */
	uint32_t generation;
	uint32_t retry_count, max_retries, reclaim_count;
	int64_t created_at_ms, enqueued_at_ms, updated_at_ms;
	int64_t assigned_at_ms;       /* 0 when unassigned */
	int64_t not_before_ms;        /* 0 when eligible at once */
	int64_t ttl_ms;               /* -1: not given (server default applies) */
	int64_t tokens_used;          /* -1: not reported */
	char *assigned_to;            /* owned strings, NULL when absent */
	char *last_error;
	char *pending_reason;
	char *submitted_by;
	char *idempotency_key;
	ac_blob spec;                 /* encoded map entries of ac_task_spec_schema */
	uint32_t spec_count;          /* entries in spec */
	ac_blob result;               /* one encoded value */
	ac_blob decision;             /* routing_decision map */
	/* History ring, newest at history_head - 1. Storage grows 4, 8, 16, 32, 50 entries
	 * (most tasks have a handful), so it wraps only once it holds AC_HISTORY_MAX. */
	ac_history_item *history;
	uint32_t history_cap, history_head, history_count;
	uint64_t timer_id;            /* the queue actor's pending timer for this task, 0 = none */
	ac_task *flight_prev, *flight_next; /* in-flight list (assigned/working), queue_state's */
	bool in_flight;
	char *applied_agent;          /* last applied complete/fail (fencing memory) */
	uint32_t applied_generation;
	ac_fenced_op applied_op;
	/* owned by ac_queue_state */
	ac_task *lane_prev, *lane_next;
	bool in_lane;
	bool is_dirty;                /* changed in the current batch */
	bool is_new;                  /* created in the current batch (not stored yet) */
};

typedef struct ac_queue_state ac_queue_state;

/* Allocates an empty state (AC_ENOMEM). Caller owns; free with ac_queue_state_free,
 * which frees every task it holds (NULL is a no-op). Single-threaded: the owning
 * actor's thread only, like everything in this header. */
ac_err ac_queue_state_alloc(ac_queue_state **out);
void ac_queue_state_free(ac_queue_state *qs);

/* --- task records --- */
/* Allocates a zeroed task (ttl_ms and tokens_used -1), or NULL when out of memory.
 * Caller owns until inserted. */
ac_task *ac_task_alloc(void);
/* Frees t and everything it owns; NULL is a no-op. t must not be in a state. */
void ac_task_free(ac_task *t);
/* Sets *slot to a malloc'ed, NUL-terminated copy of s[0..len) (NULL when s is NULL),
 * freeing the previous value. AC_ENOMEM (then *slot is unchanged). */
ac_err ac_task_set_str(char **slot, const char *s, size_t len);
/* Adds a history entry (event must be a static string; detail copied, may be NULL;
 * kept without detail when the copy fails). The oldest entry is dropped (and its
 * detail freed) past AC_HISTORY_MAX. */
void ac_task_add_history(ac_task *t, int64_t at_ms, const char *event, const char *detail);
/* The i-th newest history entry (0 = newest), i < history_count. Borrowed; valid
 * until the next ac_task_add_history or ac_task_free. */
const ac_history_item *ac_task_history_at(const ac_task *t, uint32_t i);
/* True for completed, dead_letter, cancelled. */
bool ac_task_status_is_terminal(ac_task_status s);

/* Inserts t (taking ownership on AC_OK): into the id map, the lane when queued, the
 * idempotency map when it has a key (as with remember_key at t->created_at_ms, except
 * that a key already remembered for a newer creation time is left alone: a terminal
 * task reloaded for a retry must not take back a key reused after its window).
 * AC_ECONFLICT when the id exists, AC_ENOMEM; on error nothing changed and the
 * caller still owns t. */
ac_err ac_queue_state_insert(ac_queue_state *qs, ac_task *t);
/* Removes the task with id from the id map and its lane and returns it (caller
 * owns), or NULL. Its idempotency key stays: the window outlives the task in memory
 * (use ac_queue_state_forget_key to drop it). */
ac_task *ac_queue_state_take(ac_queue_state *qs, uint64_t id);
/* Borrowed; valid until the task is taken or the state freed. */
ac_task *ac_queue_state_find(const ac_queue_state *qs, uint64_t id);
size_t ac_queue_state_count(const ac_queue_state *qs);

/* --- idempotency (24 h window) --- */
/* Remembers key -> id created at created_at_ms (copying key), replacing the id and
 * time of a key already remembered. O(1) when keys arrive in creation order.
 * AC_ENOMEM (then nothing changed). */
ac_err ac_queue_state_remember_key(ac_queue_state *qs, const char *key, size_t len,
    uint64_t id, int64_t created_at_ms);
/* The id submitted with key within the window ending at now_ms, or 0. */
uint64_t ac_queue_state_lookup_key(const ac_queue_state *qs, const char *key, size_t len,
    int64_t now_ms);
/* Forgets key (used when a submit is rolled back). */
void ac_queue_state_forget_key(ac_queue_state *qs, const char *key, size_t len);
/* Forgets keys older than the window (created_at_ms <= now_ms - window), oldest
 * first; at most limit of them per call. O(forgotten). */
void ac_queue_state_expire_keys(ac_queue_state *qs, int64_t now_ms, size_t limit);
/* Keys remembered (for tests and stats). */
size_t ac_queue_state_key_count(const ac_queue_state *qs);

/* --- dispatch order --- */
/* Calls fn for queued tasks in dispatch order (urgent -> low, FIFO by
 * enqueued_at_ms, then id), starting after the position (priority, enqueued_at_ms,
 * id) when after is true, optionally only one priority (prio < 0 = all). Stops when
 * fn returns false. fn must not change the state. O(1) to resume while the cursor's
 * task is still queued at that position, else one scan of the cursor's lane. */
typedef bool (*ac_task_fn)(void *ctx, const ac_task *t);
void ac_queue_state_walk_queued(const ac_queue_state *qs, int prio, bool after,
    ac_priority after_prio, int64_t after_enqueued_ms, uint64_t after_id, ac_task_fn fn,
    void *ctx);
/* Tasks held per status and queued tasks per priority. O(1). */
void ac_queue_state_counts(const ac_queue_state *qs, uint64_t by_status[AC_TASK_STATUS_COUNT],
    uint64_t queued_by_priority[AC_PRIO_COUNT]);

/* --- transitions (DESIGN §3); each sets updated_at_ms and adds history ---
 * While a task is held by a state, its id, status, priority and enqueued_at_ms key the
 * id map, its lane and the counts: change them only through these functions (or take
 * the task, change it, and insert it again). */
/* Any non-terminal -> cancelled, out of its lane; pending_reason cleared (assignment
 * kept for the record). AC_ECONFLICT when terminal (nothing changed). t must be in qs. */
ac_err ac_task_cancel(ac_queue_state *qs, ac_task *t, int64_t now_ms);
/* dead_letter/cancelled -> queued: retry_count and reclaim_count reset, generation + 1,
 * assignment, last_error, pending_reason and not_before_ms cleared, enqueued now (the
 * tail of its lane). AC_ECONFLICT otherwise (nothing changed). t must be in qs. */
ac_err ac_task_retry(ac_queue_state *qs, ac_task *t, int64_t now_ms);

/* Changes t's status keeping lanes, the in-flight list and the counts right. For the
 * transition functions (queue_state.c, task_fsm.c) only. */
void ac_queue_state_set_status(ac_queue_state *qs, ac_task *t, ac_task_status s);
/* Calls fn for every assigned or working task (fn may change that task). */
void ac_queue_state_walk_in_flight(const ac_queue_state *qs, ac_task_fn fn, void *ctx);

/* --- the agent-facing transitions (task_fsm.c) --- */
/* queued -> assigned, or working when accept: generation + 1, assigned_to = agent,
 * assigned_at now, pending_reason cleared. AC_ECONFLICT unless queued; AC_ESTALE when
 * the generation is not expected_generation. */
ac_err ac_task_assign(ac_queue_state *qs, ac_task *t, uint32_t expected_generation,
    const char *agent, bool accept, int64_t now_ms);
/* Fencing of accept/progress/complete/fail (DESIGN §4): AC_OK to apply; AC_OK with
 * *is_repeat for a complete/fail that was already applied with this agent and
 * generation; AC_ESTALE for another agent or generation; AC_ECONFLICT when the status
 * does not allow op (AC_FENCED_NONE stands for accept/progress). */
ac_err ac_task_fence(const ac_task *t, const char *agent, size_t agent_len, uint32_t generation,
    ac_fenced_op op, bool *is_repeat);
/* assigned -> working. */
ac_err ac_task_accept(ac_queue_state *qs, ac_task *t, int64_t now_ms);
/* working -> completed (assigned is a conflict: accept first); remembers the applied
 * (agent, generation). */
ac_err ac_task_complete(ac_queue_state *qs, ac_task *t, int64_t now_ms);
/* assigned/working: retry_count + 1; back to queued (not before now + backoff_ms) when
 * retryable and attempts remain (max_retries 0 behaves as 1), else dead_letter with
 * error. *is_dead tells which. */
ac_err ac_task_fail(ac_queue_state *qs, ac_task *t, const char *error, bool retryable,
    int64_t backoff_ms, int64_t now_ms, bool *is_dead);
/* assigned/working -> queued with reclaim_count + 1 (reason in history), or
 * dead_letter "too_many_reclaims" when reclaim_count reaches max_reclaims. */
ac_err ac_task_reclaim(ac_queue_state *qs, ac_task *t, const char *reason,
    uint32_t max_reclaims, int64_t now_ms, bool *is_dead);
/* queued -> dead_letter "ttl_expired". */
ac_err ac_task_expire(ac_queue_state *qs, ac_task *t, int64_t now_ms);

/* Structural check of the whole state (lanes, counts, map) for asserts and tests. */
bool ac_queue_state_check(const ac_queue_state *qs);

#endif
