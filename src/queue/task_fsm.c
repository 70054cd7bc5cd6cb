/* SPDX-License-Identifier: MIT
 * The agent-facing half of the task state machine (DESIGN §3, §4): assignment,
 * fencing, accept, complete, fail with retries, reclaim with the poison-task guard,
 * TTL expiry. Pure functions over queue_state; no I/O, no clocks (now is passed in).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_state.h"

static bool is_in_flight(const ac_task *t)
{
	return t->status == AC_TASK_ASSIGNED || t->status == AC_TASK_WORKING;
}

/* Clears the assignment and puts the task back in its lane as of now. */
static void requeue(ac_queue_state *qs, ac_task *t, int64_t now_ms)
{
	free(t->assigned_to);
	t->assigned_to = NULL;
	t->assigned_at_ms = 0;
	t->generation++;
	t->enqueued_at_ms = t->updated_at_ms = now_ms;
	ac_queue_state_set_status(qs, t, AC_TASK_QUEUED);
}

static void dead_letter(ac_queue_state *qs, ac_task *t, const char *error, int64_t now_ms)
{
	ac_task_set_str(&t->last_error, error, strlen(error));
	t->updated_at_ms = now_ms;
	ac_queue_state_set_status(qs, t, AC_TASK_DEAD_LETTER);
	ac_task_add_history(t, now_ms, "dead_letter", error);
}

ac_err ac_task_assign(ac_queue_state *qs, ac_task *t, uint32_t expected_generation,
    const char *agent, bool accept, int64_t now_ms)
{
	char detail[160];

	if (t->status != AC_TASK_QUEUED) {
		return AC_ECONFLICT;
	}
	if (t->generation != expected_generation) {
		return AC_ESTALE;
	}
	if (ac_task_set_str(&t->assigned_to, agent, strlen(agent)) != AC_OK) {
		return AC_ENOMEM;
	}
	free(t->pending_reason);
	t->pending_reason = NULL;
	t->generation++;
	t->assigned_at_ms = t->updated_at_ms = now_ms;
	ac_queue_state_set_status(qs, t, accept ? AC_TASK_WORKING : AC_TASK_ASSIGNED);
	snprintf(detail, sizeof(detail), "%s (generation %u)", agent, t->generation);
	ac_task_add_history(t, now_ms, "assigned", detail);
	if (accept) {
		ac_task_add_history(t, now_ms, "accepted", NULL);
	}
	return AC_OK;
}

static bool same_agent(const char *have, const char *agent, size_t len)
{
	return have != NULL && strlen(have) == len && memcmp(have, agent, len) == 0;
}

ac_err ac_task_fence(const ac_task *t, const char *agent, size_t agent_len, uint32_t generation,
    ac_fenced_op op, bool *is_repeat)
{
	*is_repeat = false;
	if (op != AC_FENCED_NONE && t->applied_op != AC_FENCED_NONE &&
	    t->applied_generation == generation && same_agent(t->applied_agent, agent, agent_len) &&
	    (t->applied_op == op || (op == AC_FENCED_FAIL_QUEUED && t->applied_op == AC_FENCED_FAIL_DEAD))) {
		*is_repeat = true;
		return AC_OK;
	}
	if (!is_in_flight(t)) {
		/* the task moved on; was it ever this agent's with this generation? */
		return t->generation == generation && same_agent(t->assigned_to, agent, agent_len) ?
		    AC_ECONFLICT : (ac_task_status_is_terminal(t->status) ? AC_ECONFLICT : AC_ESTALE);
	}
	if (t->generation != generation || !same_agent(t->assigned_to, agent, agent_len)) {
		return AC_ESTALE;
	}
	return AC_OK;
}

ac_err ac_task_accept(ac_queue_state *qs, ac_task *t, int64_t now_ms)
{
	if (t->status == AC_TASK_WORKING) {
		return AC_OK; /* a resent accept */
	}
	if (t->status != AC_TASK_ASSIGNED) {
		return AC_ECONFLICT;
	}
	t->updated_at_ms = now_ms;
	ac_queue_state_set_status(qs, t, AC_TASK_WORKING);
	ac_task_add_history(t, now_ms, "accepted", NULL);
	return AC_OK;
}

static ac_err remember_applied(ac_task *t, ac_fenced_op op)
{
	if (ac_task_set_str(&t->applied_agent, t->assigned_to,
	        t->assigned_to ? strlen(t->assigned_to) : 0) != AC_OK) {
		return AC_ENOMEM;
	}
	t->applied_generation = t->generation;
	t->applied_op = op;
	return AC_OK;
}

ac_err ac_task_complete(ac_queue_state *qs, ac_task *t, int64_t now_ms)
{
	if (t->status != AC_TASK_WORKING) {
		return AC_ECONFLICT; /* accept first (or fetch with accept: true) */
	}
	if (remember_applied(t, AC_FENCED_COMPLETE) != AC_OK) {
		return AC_ENOMEM;
	}
	t->updated_at_ms = now_ms;
	ac_queue_state_set_status(qs, t, AC_TASK_COMPLETED);
	ac_task_add_history(t, now_ms, "completed", NULL);
	return AC_OK;
}

ac_err ac_task_fail(ac_queue_state *qs, ac_task *t, const char *error, bool retryable,
    int64_t backoff_ms, int64_t now_ms, bool *is_dead)
{
	uint32_t allowed = t->max_retries ? t->max_retries : 1;

	if (!is_in_flight(t)) {
		return AC_ECONFLICT;
	}
	t->retry_count++;
	*is_dead = !retryable || t->retry_count >= allowed;
	if (remember_applied(t, *is_dead ? AC_FENCED_FAIL_DEAD : AC_FENCED_FAIL_QUEUED) != AC_OK) {
		t->retry_count--;
		return AC_ENOMEM;
	}
	if (*is_dead) {
		dead_letter(qs, t, error, now_ms);
		return AC_OK;
	}
	ac_task_set_str(&t->last_error, error, strlen(error));
	t->not_before_ms = now_ms + backoff_ms;
	requeue(qs, t, now_ms);
	ac_task_add_history(t, now_ms, "failed", error);
	return AC_OK;
}

ac_err ac_task_reclaim(ac_queue_state *qs, ac_task *t, const char *reason,
    uint32_t max_reclaims, int64_t now_ms, bool *is_dead)
{
	if (!is_in_flight(t)) {
		return AC_ECONFLICT;
	}
	t->reclaim_count++;
	*is_dead = max_reclaims > 0 && t->reclaim_count >= max_reclaims;
	if (*is_dead) {
		t->generation++; /* every reclaim bumps it, the last one too (DESIGN §3) */
		ac_task_add_history(t, now_ms, "reclaimed", reason);
		dead_letter(qs, t, "too_many_reclaims", now_ms);
		return AC_OK;
	}
	requeue(qs, t, now_ms);
	ac_task_add_history(t, now_ms, "reclaimed", reason);
	return AC_OK;
}

ac_err ac_task_expire(ac_queue_state *qs, ac_task *t, int64_t now_ms)
{
	if (t->status != AC_TASK_QUEUED) {
		return AC_ECONFLICT;
	}
	dead_letter(qs, t, "ttl_expired", now_ms);
	return AC_OK;
}
