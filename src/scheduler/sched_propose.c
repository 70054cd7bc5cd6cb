/* SPDX-License-Identifier: MIT
 * Scheduler proposals: which agent gets a task (DESIGN §5.5: the endpoint by score
 * first, then the agent next to it, else the longest-waiting one that can take it),
 * the AC_MSG_ASSIGN to the queue, and what the scheduler keeps of each proposal until
 * the queue speaks of the task again: the endpoint slot it holds and whether its
 * decision is in the routing counters, so each decision is counted once.
 */
#include <stdlib.h>
#include <string.h>

#include "scheduler/scheduler_int.h"

void ac_sched_end_wait(ac_scheduler *s, ac_waiter *w)
{
	if (w->timer != 0) {
		ac_actor_timer_cancel(s->actor, w->timer);
	}
	ac_sched_take_waiter(s->st, w);
	ac_waiter_free(w);
}

static void publish_match(ac_scheduler *s, const ac_pending *p, const ac_waiter *w)
{
	ac_mpw ev;

	ac_mpw_init(&ev);
	ac_mpw_map(&ev, 3);
	ac_mpw_key(&ev, "task_id");
	ac_mpw_u64(&ev, p->id);
	ac_mpw_key(&ev, "agent_id");
	ac_mpw_cstr(&ev, w->agent);
	ac_mpw_key(&ev, "target_type");
	ac_mpw_cstr(&ev, ac_target_names[p->target]);
	ac_actor_publish(s->actor, "scheduler.match", &ev);
	ac_mpw_fini(&ev);
}

/* ---- proposal records ---- */

static void count(ac_scheduler *s, const ac_sched_proposal *pr, int delta)
{
	/* by the decision's tier: unknown routes as standard, a fallback as complex */
	s->by_tier[pr->tier] += (uint64_t)(int64_t)delta;
	s->by_target[pr->target] += (uint64_t)(int64_t)delta;
}

void ac_sched_proposal_free(ac_sched_proposal *pr)
{
	if (pr != NULL) {
		free(pr->endpoint);
		free(pr);
	}
}

/* Keeps what was proposed for p (decision d): its endpoint slot taken, its decision
 * counted unless this generation's was already (a re-announced task). */
static void remember(ac_scheduler *s, const ac_pending *p, const ac_decision *d)
{
	ac_sched_proposal *pr = ac_task_map_remove(&s->proposals, p->id, NULL, NULL);
	const char *ep = d->target == AC_TARGET_OLLAMA ? d->endpoint : NULL;

	if (pr != NULL) { /* the queue never spoke of an older one; no re-evaluation mid-proposal */
		ac_sched_add_flight(s, pr->endpoint, -1);
		ac_sched_proposal_free(pr);
	}
	if ((pr = calloc(1, sizeof(*pr))) == NULL || (ep != NULL && (pr->endpoint = strdup(ep)) == NULL) ||
	    ac_task_map_put(&s->proposals, p->id, pr) != AC_OK) {
		ac_sched_proposal_free(pr); /* out of memory: counts and in_flight miss this one */
		return;
	}
	pr->generation = p->generation;
	pr->tier = d->effective_tier;
	pr->target = d->target;
	pr->fallback_used = d->fallback_used;
	pr->fallback_reason = d->fallback_reason;
	if (!p->is_counted) {
		count(s, pr, +1);
	}
	if (pr->endpoint != NULL) {
		ac_sched_add_flight(s, pr->endpoint, +1);
	}
}

ac_sched_proposal *ac_sched_proposal_take(ac_scheduler *s, uint64_t task_id)
{
	ac_sched_proposal *pr = ac_task_map_remove(&s->proposals, task_id, NULL, NULL);
	uint32_t opened;

	if (pr == NULL || pr->endpoint == NULL) {
		return pr;
	}
	opened = ac_sched_add_flight(s, pr->endpoint, -1);
	/* only a full endpoint that frees a slot lets a task that waits for one go, and only
	 * one; a slot freed on an endpoint with room changes nothing for waiting tasks */
	ac_sched_reevaluate(s, opened);
	return pr;
}

void ac_sched_proposal_back(ac_sched_proposal *pr, ac_pending *p)
{
	if (pr == NULL || p == NULL || pr->generation != p->generation) {
		return; /* assigned and back (reclaimed, failed, retried): a new decision */
	}
	/* queued again at the generation proposed: the queue re-announced it (the agent
	 * could not take it). Its decision is counted, and a fallback stays made. */
	p->is_counted = true;
	p->fallback_used = pr->fallback_used;
	p->fallback_reason = pr->fallback_reason;
}

void ac_sched_proposal_refused(ac_scheduler *s, uint64_t task_id, uint32_t generation)
{
	ac_sched_proposal *pr = ac_task_map_find(&s->proposals, task_id, NULL, NULL);

	if (pr == NULL || pr->generation != generation) {
		return; /* the task's event came first, or this is not the latest proposal */
	}
	pr = ac_sched_proposal_take(s, task_id);
	count(s, pr, -1); /* the queue did not take it: it is no task's decision */
	ac_sched_proposal_free(pr);
}

/* ---- proposing ---- */

/* Proposes p to w's agent with decision d: both leave the view; the queue answers the
 * fetch. */
static void propose(ac_scheduler *s, ac_pending *p, ac_waiter *w, const ac_decision *d,
    int64_t scoring_us)
{
	ac_mpw *m;

	ac_sched_flush_notes(s); /* a fallback placed at once: its note goes first */
	m = ac_actor_scratch(s->actor);

	ac_mpw_map(m, 4);
	ac_mpw_key(m, "task_id");
	ac_mpw_u64(m, p->id);
	ac_mpw_key(m, "generation");
	ac_mpw_u64(m, p->generation);
	ac_mpw_key(m, "decision");
	ac_sched_emit_decision(s, p, d, scoring_us, m);
	ac_mpw_key(m, "fetch");
	ac_mpw_raw(m, w->fetch, w->fetch_len);
	ac_actor_forward(s->actor, AC_ACTOR_QUEUE, &w->env, AC_MSG_ASSIGN, m);
	publish_match(s, p, w);
	remember(s, p, d);
	ac_sched_drop_task(s->st, p->id);
	ac_sched_end_wait(s, w);
}

/* DESIGN §5.5 agent choice: for ollama, the agent next to the endpoint chosen by score
 * if one waits and can take p, else w (the longest-waiting one that can). */
static ac_waiter *prefer_near(ac_scheduler *s, const ac_pending *p, const ac_decision *d,
    ac_waiter *w)
{
	ac_waiter *near;

	if (d->target != AC_TARGET_OLLAMA || d->endpoint == NULL) {
		return w;
	}
	near = ac_sched_best_waiter_near(s->st, p, d->endpoint);
	return near != NULL ? near : w;
}

void ac_sched_try_place(ac_scheduler *s, ac_pending *p)
{
	ac_decision d;
	ac_waiter *w;
	int64_t us;

	/* the endpoint first, then the agent; a failed decide re-routed p: look again */
	while (p->in_lane && (w = ac_sched_best_waiter(s->st, p)) != NULL) {
		if (ac_sched_decide(s, p, &d, &us)) {
			propose(s, p, prefer_near(s, p, &d, w), &d, us);
			return;
		}
	}
}

bool ac_sched_serve_waiter(ac_scheduler *s, ac_waiter *w)
{
	ac_decision d;
	ac_pending *p;
	int64_t us;

	while ((p = ac_sched_best_task(s->st, w)) != NULL) {
		if (ac_sched_decide(s, p, &d, &us)) {
			propose(s, p, w, &d, us);
			return true;
		}
		if (p->in_lane && !ac_sched_waiter_takes(w, p)) {
			ac_sched_try_place(s, p); /* re-routed where w cannot go: another agent may */
		}
	}
	return false;
}
