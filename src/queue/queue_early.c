/* SPDX-License-Identifier: MIT
 * Early fetches. A task.complete with fetch_wait_ms sends its fetch on to the
 * scheduler at once rather than after its commit (AC_ENV_AFTER_COMMIT marks it), and
 * the batch stays open (gather_more) until the scheduler has answered, so that the
 * completion and the next assignment usually share one commit: one sync per task for
 * an agent that completes and fetches in one round trip, instead of two.
 *
 * Nothing may tell the agent anything before its completion commits: while the
 * completion's batch is open, a delivery for the fetch is held like a mutation's
 * reply (ac_queue_on_assign), and so is any other actor's answer, which the runtime
 * sends through here (AC_MSG_EARLY_ANSWER). A failed commit answers the request with
 * `unavailable` and voids the fetch for VOID_MS: a proposal that still comes for it
 * is not applied (its task goes back to the scheduler) and other answers are dropped,
 * since the request is over (the gateway would drop them as stale anyway).
 */
#include <stdlib.h>

#include "codec/msg.h"
#include "queue/queue_int.h"
#include "rt/array.h"
#include "rt/clock.h"

/* How long a voided early fetch is remembered: past any fetch_wait_ms (30 s at most),
 * by when the scheduler has answered or dropped it. */
#define VOID_MS 60000

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
	early_fetch *e = ac_array_reserve(q->early, &q->early_cap, q->early_count, sizeof(*e), 64);

	if (e == NULL) {
		return AC_ENOMEM;
	}
	q->early = e;
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

static bool is_void(ac_queue *q, uint64_t corr_id)
{
	int64_t now = ac_clock_mono_ms();
	size_t n = 0;
	bool found = false;

	for (size_t i = 0; i < q->void_count; i++) { /* forgets the expired on the way */
		if (q->voided[i].until_ms > now) {
			found = found || q->voided[i].corr_id == corr_id;
			q->voided[n++] = q->voided[i];
		}
	}
	q->void_count = n;
	return found;
}

ac_early_state ac_queue_early_state(ac_queue *q, const ac_env *env)
{
	early_fetch *e;

	if (!(env->flags & AC_ENV_AFTER_COMMIT)) {
		return AC_EARLY_NONE;
	}
	if ((e = find_early(q, env->corr_id)) != NULL) {
		e->awaiting = false;
		return AC_EARLY_PENDING;
	}
	return q->void_count > 0 && is_void(q, env->corr_id) ? AC_EARLY_VOID : AC_EARLY_NONE;
}

void ac_queue_on_fetch_held(void *state, ac_call *call)
{
	ac_queue_early_state(state, &call->env);
}

void ac_queue_on_early_answer(void *state, ac_call *call)
{
	ac_queue *q = state;
	ac_env reply = { .type = AC_MSG_GW_REPLY, .corr_id = call->env.corr_id };
	ac_mpw *w;

	switch (ac_queue_early_state(q, &call->env)) {
	case AC_EARLY_PENDING:
		w = ac_actor_scratch(call->actor);
		ac_mpw_raw(w, call->body, call->body_len);
		ac_queue_hold_reply(q, &call->env, w, true);
		break;
	case AC_EARLY_NONE: /* the completion has committed */
		ac_actor_send(q->actor, AC_ACTOR_GATEWAY, &reply, call->body, call->body_len);
		break;
	case AC_EARLY_VOID: /* its request was answered `unavailable` */
		break;
	}
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

/* The batch's early fetches outlive a failed commit as voided ones. */
static void void_all(ac_queue *q)
{
	int64_t until = ac_clock_mono_ms() + VOID_MS;

	for (size_t i = 0; i < q->early_count; i++) {
		voided_fetch *v = ac_array_reserve(q->voided, &q->void_cap, q->void_count,
		    sizeof(*v), 16);
		if (v == NULL) {
			return; /* then a late proposal may still reach the dead request */
		}
		q->voided = v;
		q->voided[q->void_count++] =
		    (voided_fetch){ .corr_id = q->early[i].corr_id, .until_ms = until };
	}
}

void ac_queue_early_settled(ac_queue *q, bool committed)
{
	if (!committed) {
		void_all(q);
	}
	q->early_count = 0;
}
