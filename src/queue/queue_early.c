/* SPDX-License-Identifier: MIT
 * Early fetches. A task.complete with fetch_wait_ms sends its fetch on to the
 * scheduler at once rather than after its commit (AC_ENV_AFTER_COMMIT marks it), and
 * the batch stays open (gather_more) until the scheduler has answered, so that the
 * completion and the next assignment usually share one commit: one sync per task for
 * an agent that completes and fetches in one round trip, instead of two.
 *
 * Nothing may tell the agent anything before its completion commits: while the
 * completion's batch is open, a delivery for the fetch is held like a mutation's
 * reply (ac_queue_on_assign), and so is the scheduler's no-task answer, which comes
 * through here (AC_MSG_FETCH_EMPTY). A failed commit answers the request with
 * `unavailable` (the gateway then drops any later answer to it as stale); the
 * scheduler's proposal then meets the restored, still working task and is refused.
 */
#include <stdlib.h>

#include "codec/msg.h"
#include "queue/queue_int.h"

static early_fetch *find_early(ac_queue *q, uint64_t corr_id)
{
	for (size_t i = 0; i < q->early_count; i++) {
		if (q->early[i].corr_id == corr_id) {
			return &q->early[i];
		}
	}
	return NULL;
}

static ac_err remember_early(ac_queue *q, uint64_t corr_id)
{
	if (q->early_count == q->early_cap) {
		size_t cap = q->early_cap ? q->early_cap * 2 : 64;
		early_fetch *e = realloc(q->early, cap * sizeof(*e));
		if (e == NULL) {
			return AC_ENOMEM;
		}
		q->early = e;
		q->early_cap = cap;
	}
	q->early[q->early_count++] = (early_fetch){ .corr_id = corr_id, .awaiting = true };
	return AC_OK;
}

void ac_queue_send_early_fetch(ac_queue *q, ac_call *call, const ac_req_task_fenced *r)
{
	ac_env env = call->env;
	ac_mpw *w = ac_actor_scratch(call->actor);

	if (call->env.corr_id == 0 || remember_early(q, call->env.corr_id) != AC_OK) {
		ac_queue_hold_error(q, &call->env, AC_EUNAVAIL, "out of memory", NULL);
		return;
	}
	env.type = AC_MSG_OP_AGENT_FETCH;
	env.flags |= AC_ENV_AFTER_COMMIT;
	ac_mpw_map(w, 3);
	ac_mpw_key(w, "agent_id");
	ac_mpw_str(w, r->agent_id.p, r->agent_id.len);
	ac_mpw_key(w, "wait_ms");
	ac_mpw_u64(w, r->fetch_wait_ms.v);
	ac_mpw_key(w, "accept");
	ac_mpw_bool(w, r->accept.set && r->accept.v);
	ac_actor_send(q->actor, AC_ACTOR_SCHEDULER, &env, ac_mpw_data(w), ac_mpw_len(w));
	ac_queue_hold_failure_reply(q, &call->env);
}

bool ac_queue_early_answered(ac_queue *q, const ac_env *env)
{
	early_fetch *e;

	if (!(env->flags & AC_ENV_AFTER_COMMIT) || (e = find_early(q, env->corr_id)) == NULL) {
		return false;
	}
	e->awaiting = false;
	return true;
}

void ac_queue_on_fetch_held(void *state, ac_call *call)
{
	ac_queue_early_answered(state, &call->env);
}

void ac_queue_on_fetch_empty(void *state, ac_call *call)
{
	ac_queue *q = state;
	ac_env reply = { .type = AC_MSG_GW_REPLY, .corr_id = call->env.corr_id };
	ac_mpw *w;

	if (!ac_queue_early_answered(q, &call->env)) {
		/* the completion has committed (or failed, and was answered) */
		ac_actor_send(q->actor, AC_ACTOR_GATEWAY, &reply, call->body, call->body_len);
		return;
	}
	w = ac_actor_scratch(call->actor);
	ac_mpw_raw(w, call->body, call->body_len);
	ac_queue_hold_reply(q, &call->env, w, true);
}

bool ac_queue_gather_more(void *state)
{
	const ac_queue *q = state;

	for (size_t i = 0; i < q->early_count; i++) {
		if (q->early[i].awaiting) {
			return true;
		}
	}
	return false;
}

void ac_queue_early_settled(ac_queue *q)
{
	q->early_count = 0;
}
