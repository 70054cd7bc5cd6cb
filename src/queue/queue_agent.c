/* SPDX-License-Identifier: MIT
 * Queue actor, agent side: assignment proposals from the scheduler, the fenced task
 * ops (accept, progress, complete, fail), hello/heartbeat answers, reclaims on accept
 * timeout, lease expiry and agent loss, and the notes sent to scheduler and registry.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/agent_wire.h"
#include "queue/queue_int.h"
#include "rt/clock.h"
#include "rt/log.h"

#define BACKOFF_CAP_MS 300000

/* ---- notes to the other actors (flushed at commit) ---- */

static void write_spec_route(const ac_task *t, ac_mpw *w)
{
	ac_task_wire *spec = calloc(1, sizeof(*spec));
	ac_arena arena;
	ac_mpw m;

	ac_arena_init(&arena);
	ac_mpw_init(&m);
	ac_mpw_map(&m, t->spec_count);
	ac_mpw_raw(&m, t->spec.p, t->spec.len);
	if (spec != NULL && ac_schema_decode_bytes(&ac_task_spec_schema, ac_mpw_data(&m),
	                        ac_mpw_len(&m), spec, &arena, NULL) == AC_OK) {
		ac_schema_encode(&ac_task_route_schema, spec, w);
	} else {
		ac_mpw_map(w, 0);
	}
	ac_mpw_fini(&m);
	ac_arena_fini(&arena);
	free(spec);
}

static void arm(ac_queue *q, ac_task *t, uint32_t kind, int64_t after_ms);

/* Queued non-trivial tasks expire task_ttl_ms after they were enqueued; trivial ones
 * only with their own ttl_ms; 0 never (DESIGN §5.5). A task that may not start yet
 * (delay_ms, retry backoff) is not waiting for an agent: its TTL counts from
 * not_before_ms, else a delay longer than the TTL would dead-letter it unseen. */
static void arm_ttl(ac_queue *q, ac_task *t)
{
	int64_t ttl = t->ttl_ms >= 0 ? t->ttl_ms : (t->tier == AC_TIER_TRIVIAL ? 0 : q->cfg->task_ttl_ms);
	int64_t from = t->not_before_ms > t->enqueued_at_ms ? t->not_before_ms : t->enqueued_at_ms;
	int64_t left;

	if (ttl <= 0) {
		return;
	}
	left = from + ttl - ac_clock_wall_ms();
	arm(q, t, TIMER_TTL, left > 0 ? left : 0);
}

static void write_queued(ac_mpw *w, const ac_task *t, const char *avoid)
{

	ac_mpw_map(w, avoid ? 7 : 6);
	ac_mpw_key(w, "id");
	ac_mpw_u64(w, t->id);
	ac_mpw_key(w, "generation");
	ac_mpw_u64(w, t->generation);
	ac_mpw_key(w, "priority");
	ac_mpw_u64(w, (uint64_t)t->priority);
	ac_mpw_key(w, "enqueued_at_ms");
	ac_mpw_i64(w, t->enqueued_at_ms);
	ac_mpw_key(w, "not_before_ms");
	ac_mpw_i64(w, t->not_before_ms);
	if (avoid) {
		ac_mpw_key(w, "avoid_agent");
		ac_mpw_cstr(w, avoid);
	}
	ac_mpw_key(w, "spec");
	write_spec_route(t, w);
}

void ac_queue_sched_queued(ac_queue *q, const ac_task *t, const char *avoid)
{
	arm_ttl(q, (ac_task *)t);
	write_queued(&q->sched_events, t, avoid);
	q->sched_event_count++;
}

void ac_queue_sched_new(ac_queue *q, const ac_task *t)
{
	arm_ttl(q, (ac_task *)t);
	write_queued(&q->new_task_events, t, NULL);
	q->new_task_event_count++;
}

void ac_queue_sched_removed(ac_queue *q, const ac_task *t)
{
	ac_mpw *w = &q->sched_events;

	ac_mpw_map(w, 2);
	ac_mpw_key(w, "id");
	ac_mpw_u64(w, t->id);
	ac_mpw_key(w, "removed");
	ac_mpw_bool(w, true);
	q->sched_event_count++;
}

void ac_queue_agent_note(ac_queue *q, const char *agent, const char *state, uint64_t task_id)
{
	ac_mpw *w = &q->agent_notes;

	ac_mpw_map(w, state ? 3 : 1);
	ac_mpw_key(w, "agent_id");
	ac_mpw_cstr(w, agent);
	if (state) {
		ac_mpw_key(w, "state");
		ac_mpw_cstr(w, state);
		ac_mpw_key(w, "task_id");
		ac_mpw_u64(w, task_id);
	}
	q->agent_note_count++;
}

void ac_queue_abort_note(ac_queue *q, const char *agent, uint64_t task_id)
{
	if (q->abort_count == q->abort_cap) {
		size_t cap = q->abort_cap ? q->abort_cap * 2 : 64;
		abort_note *n;
		if (cap > AC_ABORT_NOTES_MAX) {
			/* an agent that never comes back: forget its oldest note */
			memmove(q->aborts, q->aborts + 1, (q->abort_count - 1) * sizeof(*n));
			q->abort_count--;
		} else if ((n = realloc(q->aborts, cap * sizeof(*n))) != NULL) {
			q->aborts = n;
			q->abort_cap = cap;
		} else {
			return;
		}
	}
	snprintf(q->aborts[q->abort_count].agent_id, sizeof(q->aborts[0].agent_id), "%s", agent);
	q->aborts[q->abort_count].is_committed = false;
	q->aborts[q->abort_count++].task_id = task_id;
}

/* The batch's commit settled: its abort notes hold (an agent may hear them now), or
 * they are void with the reclaims and cancels that wrote them. */
void ac_queue_aborts_settled(ac_queue *q, bool committed)
{
	size_t keep = 0;

	for (size_t i = 0; i < q->abort_count; i++) {
		if (committed || q->aborts[i].is_committed) {
			q->aborts[i].is_committed = true;
			q->aborts[keep++] = q->aborts[i];
		}
	}
	q->abort_count = keep;
}

/* Forgets agent's abort note for task_id (it got that task again). */
static void forget_aborts(ac_queue *q, const char *agent, uint64_t task_id)
{
	size_t keep = 0;

	for (size_t i = 0; i < q->abort_count; i++) {
		if (strcmp(q->aborts[i].agent_id, agent) != 0 || q->aborts[i].task_id != task_id) {
			q->aborts[keep++] = q->aborts[i];
		}
	}
	q->abort_count = keep;
}

/* ---- timers ---- */

void ac_queue_disarm(ac_queue *q, ac_task *t)
{
	if (t->timer_id != 0) {
		ac_actor_timer_cancel(q->actor, t->timer_id);
		t->timer_id = 0;
	}
}

static void arm(ac_queue *q, ac_task *t, uint32_t kind, int64_t after_ms)
{
	ac_queue_disarm(q, t);
	if (ac_actor_timer_add(q->actor, ac_clock_mono_ms() + after_ms, kind, t->id, &t->timer_id) !=
	    AC_OK) {
		t->timer_id = 0;
		ac_log(AC_LOG_ERR, "queue", "timer_failed", "task_id=%" PRIu64, t->id);
	}
}

void ac_queue_rearm(ac_queue *q, ac_task *t)
{
	if (t->status == AC_TASK_WORKING) {
		arm(q, t, TIMER_LEASE, q->cfg->lease_ms);
	} else if (t->status == AC_TASK_ASSIGNED) {
		arm(q, t, TIMER_ACCEPT, q->cfg->accept_timeout_ms);
	}
}

void ac_queue_publish_task(ac_queue *q, const char *topic, const ac_task *t, const char *key,
    const char *value)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, value ? 6 : 5);
	ac_mpw_key(&w, "task_id");
	ac_mpw_u64(&w, t->id);
	ac_mpw_key(&w, "status");
	ac_mpw_cstr(&w, ac_task_status_names[t->status]);
	ac_mpw_key(&w, "generation");
	ac_mpw_u64(&w, t->generation);
	ac_mpw_key(&w, "priority");
	ac_mpw_cstr(&w, ac_priority_names[t->priority]);
	ac_mpw_key(&w, "agent_id");
	ac_mpw_cstr(&w, t->assigned_to);
	if (value) {
		ac_mpw_key(&w, key);
		ac_mpw_cstr(&w, value);
	}
	ac_queue_hold_event(q, topic, &w);
	ac_mpw_fini(&w);
}

/* Takes t away from its agent: back to the queue, or dead_letter on the last reclaim. */
static void reclaim(ac_queue *q, ac_task *t, const char *reason)
{
	char agent[129];
	bool is_dead = false;

	snprintf(agent, sizeof(agent), "%s", t->assigned_to ? t->assigned_to : "");
	if (ac_task_reclaim(q->qs, t, reason, (uint32_t)q->cfg->max_reclaims, ac_clock_wall_ms(),
	        &is_dead) != AC_OK || ac_queue_mark_dirty(q, t) != AC_OK) {
		return;
	}
	ac_queue_disarm(q, t);
	ac_queue_abort_note(q, agent, t->id);
	ac_queue_agent_note(q, agent, "idle", 0);
	ac_queue_publish_task(q, is_dead ? "task.dead_letter" : "task.reclaimed", t, "reason", reason);
	if (is_dead) {
		ac_queue_sched_removed(q, t);
	} else {
		ac_queue_sched_queued(q, t, agent);
	}
	ac_log(AC_LOG_INFO, "queue", "reclaimed", "task_id=%" PRIu64 " agent=%s reason=%s dead=%d",
	    t->id, agent, reason, is_dead);
}

static void expire(ac_queue *q, ac_task *t)
{
	if (ac_task_expire(q->qs, t, ac_clock_wall_ms()) != AC_OK || ac_queue_mark_dirty(q, t) != AC_OK) {
		return;
	}
	ac_queue_publish_task(q, "task.expired", t, "reason", "ttl_expired");
	ac_queue_sched_removed(q, t);
}

void ac_queue_on_task_timer(ac_queue *q, const ac_timer_entry *e)
{
	static const char *const reasons[] = { [TIMER_ACCEPT] = "accept_timeout",
		[TIMER_LEASE] = "lease_expired", [TIMER_GRACE] = "agent_missing_after_restart" };
	ac_task *t = ac_queue_state_find(q->qs, e->tag);

	if (t == NULL || t->timer_id != e->id) {
		return; /* settled or re-armed since */
	}
	t->timer_id = 0;
	if (e->kind == TIMER_TTL) {
		expire(q, t);
	} else {
		reclaim(q, t, reasons[e->kind]);
	}
}

/* ---- assignment ---- */

static void write_task_reply(ac_mpw *w, const ac_task *t, ac_arena *arena)
{
	ac_mpw_map(w, 2);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_key(w, "task");
	ac_task_encode(t, false, arena, w);
}

static void reject(ac_queue *q, ac_call *call)
{
	ac_env env = call->env;

	env.type = AC_MSG_ASSIGN_REJECTED;
	ac_actor_send(q->actor, AC_ACTOR_SCHEDULER, &env, call->body, call->body_len);
}

static ac_err set_blob(ac_blob *b, const void *p, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (copy == NULL) {
		return AC_ENOMEM;
	}
	memcpy(copy, p, len);
	free(b->p);
	b->p = copy;
	b->len = (uint32_t)len;
	return AC_OK;
}

typedef struct busy_walk {
	const char *agent;
	uint64_t task_id;
} busy_walk;

static bool find_busy(void *ctx, const ac_task *t)
{
	busy_walk *bw = ctx;

	if (t->assigned_to != NULL && strcmp(t->assigned_to, bw->agent) == 0) {
		bw->task_id = t->id;
		return false;
	}
	return true;
}

/* The task agent holds (assigned or working), or 0. O(tasks in flight). */
static uint64_t task_of_agent(const ac_queue *q, const char *agent)
{
	busy_walk bw = { agent, 0 };

	ac_queue_state_walk_in_flight(q->qs, find_busy, &bw);
	return bw.task_id;
}

void ac_queue_on_assign(void *state, ac_call *call)
{
	ac_queue *q = state;
	const ac_assign_msg *m = call->req;
	ac_fetch_msg fetch;
	char agent[129];
	ac_task *t = ac_queue_state_find(q->qs, m->task_id.v);
	ac_early_state early = ac_queue_early_state(q, &call->env);
	uint64_t busy;
	bool accept;

	if (early == AC_EARLY_VOID) {
		/* for a request already answered `unavailable`: the task goes back */
		if (t != NULL && t->status == AC_TASK_QUEUED) {
			ac_queue_sched_queued(q, t, NULL);
		}
		return;
	}
	if (t == NULL || ac_schema_decode_bytes(&ac_fetch_msg_schema, m->fetch.p, m->fetch.len, &fetch,
	                     call->arena, NULL) != AC_OK) {
		reject(q, call);
		return;
	}
	accept = fetch.accept.set && fetch.accept.v;
	ac_str_cpy(agent, sizeof(agent), fetch.agent_id);
	if ((busy = task_of_agent(q, agent)) != 0) {
		/* one task at a time per agent (DESIGN §3): the queue, not a view, decides */
		char msg[96];
		snprintf(msg, sizeof(msg), "agent has task %" PRIu64 ": complete or fail it first", busy);
		ac_queue_hold_error(q, &call->env, AC_ECONFLICT, msg, "agent_id");
		if (t->status == AC_TASK_QUEUED && t->generation == m->generation.v) {
			ac_queue_sched_queued(q, t, NULL); /* the scheduler let go of it: give it back */
		}
		return;
	}
	if (ac_task_assign(q->qs, t, (uint32_t)m->generation.v, agent, accept, ac_clock_wall_ms()) !=
	        AC_OK ||
	    ac_queue_mark_dirty(q, t) != AC_OK) {
		reject(q, call);
		return;
	}
	if (m->decision.set) {
		set_blob(&t->decision, m->decision.p, m->decision.len);
	}
	forget_aborts(q, agent, t->id); /* it is this agent's again: an old abort is void */
	arm(q, t, accept ? TIMER_LEASE : TIMER_ACCEPT,
	    accept ? q->cfg->lease_ms : q->cfg->accept_timeout_ms);
	ac_queue_agent_note(q, agent, accept ? "working" : "assigned", t->id);
	ac_queue_publish_task(q, "task.assigned", t, NULL, NULL);
	ac_mpw *w = ac_actor_scratch(call->actor);
	write_task_reply(w, t, call->arena);
	if (accept || early == AC_EARLY_PENDING) {
		/* the agent starts work on this reply (or hears its completion went
		 * through): it must not outlive a crash */
		ac_queue_hold_reply(q, &call->env, w, true);
	} else {
		/* A plain delivery is no promise (DESIGN §4: the task works only after an
		 * acknowledged accept, which commits after this batch), so it leaves now,
		 * without waiting for the commit. Lost to a crash or a failed commit, the
		 * assignment reverts to queued and the agent's accept is refused. */
		ac_actor_reply(call->actor, &call->env, w);
	}
}

/* ---- fenced ops ---- */

/* Finds the task of a fenced op and checks agent and generation. Returns it (tmp set
 * when it was loaded from the store: the caller frees it), or NULL after replying. */
static ac_task *fenced(ac_queue *q, ac_call *call, ac_fenced_op op, ac_task **tmp, bool *repeat)
{
	const ac_req_task_fenced *r = call->req;
	ac_task *t;
	ac_err err;

	if ((t = ac_queue_lookup(q, r->id.v, call->arena, tmp, &err)) == NULL) {
		ac_queue_hold_error(q, &call->env, err == AC_ENOTFOUND ? AC_ENOTFOUND : AC_EUNAVAIL,
		    err == AC_ENOTFOUND ? "no task with this id" : "the store could not be read",
		    err == AC_ENOTFOUND ? "id" : NULL);
		return NULL;
	}
	err = ac_task_fence(t, r->agent_id.p, r->agent_id.len, (uint32_t)r->generation.v, op, repeat);
	if (err == AC_OK && !*repeat && *tmp != NULL) {
		err = AC_ECONFLICT; /* only terminal tasks live in the store alone */
	}
	if (err != AC_OK) {
		ac_queue_hold_error(q, &call->env, err,
		    err == AC_ESTALE ? "the task is not assigned to this agent with this generation" :
		                       "the task's status does not allow this",
		    err == AC_ESTALE ? "generation" : NULL);
		ac_task_free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	return t;
}

/* Holds {ok: true} (plus status when given) until the batch commits. */
static void hold_ok(ac_queue *q, ac_call *call, const char *status)
{
	ac_mpw *w = ac_actor_scratch(call->actor);

	ac_mpw_map(w, status ? 2 : 1);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	if (status) {
		ac_mpw_key(w, "status");
		ac_mpw_cstr(w, status);
	}
	ac_queue_hold_reply(q, &call->env, w, true);
}

static void note_seen(ac_queue *q, const ac_req_task_fenced *r)
{
	char agent[129];

	ac_queue_agent_note(q, ac_str_cpy(agent, sizeof(agent), r->agent_id), NULL, 0);
}

void ac_queue_on_accept(void *state, ac_call *call)
{
	ac_queue *q = state;
	ac_task *tmp = NULL, *t;
	bool repeat;

	note_seen(q, call->req);
	if ((t = fenced(q, call, AC_FENCED_NONE, &tmp, &repeat)) == NULL) {
		return;
	}
	if (t->status == AC_TASK_ASSIGNED) {
		ac_task_accept(q->qs, t, ac_clock_wall_ms());
		if (ac_queue_mark_dirty(q, t) != AC_OK) {
			ac_queue_hold_error(q, &call->env, AC_EUNAVAIL, "out of memory", NULL);
			return;
		}
		ac_queue_publish_task(q, "task.accepted", t, NULL, NULL);
		ac_queue_agent_note(q, t->assigned_to, "working", t->id);
	}
	arm(q, t, TIMER_LEASE, q->cfg->lease_ms);
	hold_ok(q, call, NULL);
}

static void reply_abort(ac_queue *q, ac_call *call, bool abort)
{
	ac_mpw *w = ac_actor_scratch(call->actor);

	ac_mpw_map(w, 2);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_key(w, "abort");
	ac_mpw_bool(w, abort);
	/* an abort may stem from a cancel or reclaim of this very batch: it is said only
	 * once that is durable (a failed commit answers unavailable instead) */
	ac_queue_hold_reply(q, &call->env, w, abort);
}

/* Whether the agent was told to drop this task (an abort note waits for it). */
static bool had_and_lost(const ac_queue *q, const ac_req_task_fenced *r)
{
	for (size_t i = 0; i < q->abort_count; i++) {
		if (q->aborts[i].task_id == r->id.v && strlen(q->aborts[i].agent_id) == r->agent_id.len &&
		    memcmp(q->aborts[i].agent_id, r->agent_id.p, r->agent_id.len) == 0) {
			return true;
		}
	}
	return false;
}

void ac_queue_on_progress(void *state, ac_call *call)
{
	ac_queue *q = state;
	const ac_req_task_fenced *r = call->req;
	ac_task *t = ac_queue_state_find(q->qs, r->id.v);
	bool repeat = false;
	char msg[1025];
	ac_err err;

	note_seen(q, r);
	err = t == NULL ? AC_ENOTFOUND :
	    ac_task_fence(t, r->agent_id.p, r->agent_id.len, (uint32_t)r->generation.v, AC_FENCED_NONE,
	        &repeat);
	/* A task this agent had and lost (cancelled, reclaimed, finished) answers abort;
	 * one it never had is fenced like the other ops. */
	if (err == AC_ECONFLICT || (err != AC_OK && had_and_lost(q, r))) {
		reply_abort(q, call, true);
		return;
	}
	if (err != AC_OK) {
		ac_queue_hold_error(q, &call->env, err,
		    err == AC_ENOTFOUND ? "no live task with this id" :
		                          "the task is not assigned to this agent with this generation",
		    err == AC_ENOTFOUND ? "id" : "generation");
		return;
	}
	arm(q, t, TIMER_LEASE, q->cfg->lease_ms);
	ac_queue_publish_task(q, "task.progress", t, "message", r->message.set ? ac_str_cpy(msg, sizeof(msg), r->message) : NULL);
	reply_abort(q, call, false);
}

static void finish_assignment(ac_queue *q, ac_task *t, const char *agent)
{
	ac_queue_disarm(q, t);
	ac_queue_agent_note(q, agent, "idle", 0);
}

void ac_queue_on_complete(void *state, ac_call *call)
{
	ac_queue *q = state;
	const ac_req_task_fenced *r = call->req;
	ac_task *tmp = NULL, *t;
	bool repeat;

	note_seen(q, r);
	if ((t = fenced(q, call, AC_FENCED_COMPLETE, &tmp, &repeat)) == NULL) {
		return;
	}
	if (!repeat && t->status != AC_TASK_WORKING) {
		ac_queue_hold_error(q, &call->env, AC_ECONFLICT,
		    "the task is assigned, not working: accept it first", NULL);
		return;
	}
	if (!repeat) {
		if ((r->result.set && set_blob(&t->result, r->result.p, r->result.len) != AC_OK) ||
		    ac_task_complete(q->qs, t, ac_clock_wall_ms()) != AC_OK ||
		    ac_queue_mark_dirty(q, t) != AC_OK) {
			ac_queue_hold_error(q, &call->env, AC_EUNAVAIL, "out of memory", NULL);
			return;
		}
		t->tokens_used = r->tokens_used.set ? (int64_t)r->tokens_used.v : t->tokens_used;
		finish_assignment(q, t, t->assigned_to);
		ac_queue_publish_task(q, "task.completed", t, NULL, NULL);
		ac_queue_sched_removed(q, t); /* frees its endpoint slot */
	}
	if (r->fetch_wait_ms.set && !repeat) {
		/* its answer (next task or none) is the reply: queue_early.c */
		ac_queue_send_early_fetch(q, call, r);
	} else {
		hold_ok(q, call, NULL);
	}
	ac_task_free(tmp);
}

/* xorshift64: jitter needs spread, not secrecy */
static uint32_t next_random(ac_queue *q)
{
	q->rng ^= q->rng << 13;
	q->rng ^= q->rng >> 7;
	q->rng ^= q->rng << 17;
	return (uint32_t)(q->rng >> 32);
}

static int64_t backoff_ms(ac_queue *q, uint32_t attempt)
{
	int64_t ms = q->cfg->retry_backoff_ms;
	uint32_t jitter = next_random(q);

	for (uint32_t i = 1; i < attempt && ms < BACKOFF_CAP_MS; i++) {
		ms *= 2;
	}
	ms = ms > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : ms;
	/* +-25 % so that tasks failing together do not come back together */
	return ms * 3 / 4 + (ms > 0 ? (int64_t)(jitter % (uint32_t)(ms / 2 + 1)) : 0);
}

void ac_queue_on_fail(void *state, ac_call *call)
{
	ac_queue *q = state;
	const ac_req_task_fenced *r = call->req;
	ac_task *tmp = NULL, *t;
	char agent[129], error[1025];
	bool repeat, is_dead = false;

	note_seen(q, r);
	if ((t = fenced(q, call, AC_FENCED_FAIL_QUEUED, &tmp, &repeat)) == NULL) {
		return;
	}
	if (repeat) {
		hold_ok(q, call, t->applied_op == AC_FENCED_FAIL_DEAD ? "dead_letter" : "queued");
		ac_task_free(tmp);
		return;
	}
	ac_str_cpy(agent, sizeof(agent), r->agent_id);
	ac_str_cpy(error, sizeof(error), r->error);
	if (ac_task_fail(q->qs, t, error, !r->retryable.set || r->retryable.v,
	        backoff_ms(q, t->retry_count + 1), ac_clock_wall_ms(), &is_dead) != AC_OK ||
	    ac_queue_mark_dirty(q, t) != AC_OK) {
		ac_queue_hold_error(q, &call->env, AC_EUNAVAIL, "out of memory", NULL);
		return;
	}
	finish_assignment(q, t, agent);
	ac_queue_publish_task(q, is_dead ? "task.dead_letter" : "task.failed", t, "error", error);
	if (is_dead) {
		ac_queue_sched_removed(q, t);
	} else {
		ac_queue_sched_queued(q, t, agent);
	}
	hold_ok(q, call, is_dead ? "dead_letter" : "queued");
}

/* ---- hello, heartbeat, agent gone ---- */

typedef struct agent_walk {
	ac_queue *q;
	const char *agent;
	size_t len;
	ac_mpw *w;         /* hello: tasks are written here */
	ac_arena *arena;
	uint32_t count;
} agent_walk;

static bool is_agents(const agent_walk *aw, const ac_task *t)
{
	return t->assigned_to != NULL && strlen(t->assigned_to) == aw->len &&
	    memcmp(t->assigned_to, aw->agent, aw->len) == 0;
}

/* hello: the agent is back; its tasks get their normal timers again. */
static bool hello_task(void *ctx, const ac_task *ct)
{
	agent_walk *aw = ctx;
	ac_task *t = (ac_task *)ct;

	if (is_agents(aw, t)) {
		arm(aw->q, t, t->status == AC_TASK_WORKING ? TIMER_LEASE : TIMER_ACCEPT,
		    t->status == AC_TASK_WORKING ? aw->q->cfg->lease_ms : aw->q->cfg->accept_timeout_ms);
		ac_task_encode(t, false, aw->arena, aw->w);
		ac_queue_agent_note(aw->q, aw->agent, t->status == AC_TASK_WORKING ? "working" : "assigned",
		    t->id);
		aw->count++;
	}
	return true;
}

static bool count_task(void *ctx, const ac_task *t)
{
	agent_walk *aw = ctx;

	aw->count += is_agents(aw, t);
	return true;
}

void ac_queue_on_hello(void *state, ac_call *call)
{
	ac_queue *q = state;
	const ac_req_agent_only *r = call->req;
	char agent[129];
	agent_walk aw = { .q = q, .agent = ac_str_cpy(agent, sizeof(agent), r->agent_id),
		.len = r->agent_id.len, .arena = call->arena };
	ac_mpw *w = ac_actor_scratch(call->actor);

	/* abort notes stay: an agent back from a partition may still run a lost task */
	ac_queue_state_walk_in_flight(q->qs, count_task, &aw);
	ac_mpw_map(w, 5);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_key(w, "heartbeat_ms");
	ac_mpw_i64(w, q->cfg->heartbeat_ms);
	ac_mpw_key(w, "accept_timeout_ms");
	ac_mpw_i64(w, q->cfg->accept_timeout_ms);
	ac_mpw_key(w, "lease_ms");
	ac_mpw_i64(w, q->cfg->lease_ms);
	ac_mpw_key(w, "tasks");
	ac_mpw_array(w, aw.count);
	aw.w = w;
	aw.count = 0;
	ac_queue_state_walk_in_flight(q->qs, hello_task, &aw);
	ac_queue_hold_reply(q, &call->env, w, false);
}

static bool extend_lease(void *ctx, const ac_task *ct)
{
	agent_walk *aw = ctx;
	ac_task *t = (ac_task *)ct;

	if (is_agents(aw, t) && t->status == AC_TASK_WORKING) {
		arm(aw->q, t, TIMER_LEASE, aw->q->cfg->lease_ms);
	}
	return true;
}

/* Writes and forgets the abort notes of agent. */
static void write_aborts(ac_queue *q, const char *agent, ac_mpw *w)
{
	uint32_t n = 0;
	size_t keep = 0;

	/* a note of the open batch waits for its commit: the next heartbeat carries it */
	for (size_t i = 0; i < q->abort_count; i++) {
		n += q->aborts[i].is_committed && strcmp(q->aborts[i].agent_id, agent) == 0;
	}
	ac_mpw_array(w, n);
	for (size_t i = 0; i < q->abort_count; i++) {
		if (q->aborts[i].is_committed && strcmp(q->aborts[i].agent_id, agent) == 0) {
			ac_mpw_u64(w, q->aborts[i].task_id);
		} else {
			q->aborts[keep++] = q->aborts[i];
		}
	}
	q->abort_count = keep;
}

void ac_queue_on_heartbeat(void *state, ac_call *call)
{
	ac_queue *q = state;
	const ac_req_agent_only *r = call->req;
	char agent[129];
	agent_walk aw = { .q = q, .agent = ac_str_cpy(agent, sizeof(agent), r->agent_id),
		.len = r->agent_id.len };
	ac_mpw *w = ac_actor_scratch(call->actor);

	ac_queue_state_walk_in_flight(q->qs, extend_lease, &aw);
	ac_mpw_map(w, 2);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_key(w, "abort");
	write_aborts(q, agent, w);
	ac_queue_hold_reply(q, &call->env, w, false);
}

static bool reclaim_agents(void *ctx, const ac_task *ct)
{
	agent_walk *aw = ctx;

	if (is_agents(aw, ct)) {
		reclaim(aw->q, (ac_task *)ct, "agent_offline");
	}
	return true;
}

void ac_queue_on_agent_gone(void *state, ac_call *call)
{
	ac_queue *q = state;
	const ac_req_agent_only *r = call->req;
	char agent[129];
	agent_walk aw = { .q = q, .agent = ac_str_cpy(agent, sizeof(agent), r->agent_id),
		.len = r->agent_id.len };

	ac_queue_state_walk_in_flight(q->qs, reclaim_agents, &aw);
}

/* ---- after a restart ---- */

static bool arm_grace(void *ctx, const ac_task *ct)
{
	ac_queue *q = ctx;

	arm(q, (ac_task *)ct, TIMER_GRACE, q->cfg->accept_timeout_ms);
	return true;
}

static bool announce_queued(void *ctx, const ac_task *t)
{
	ac_queue *q = ctx;

	ac_queue_sched_queued(q, t, NULL);
	if (q->sched_event_count >= 1000) {
		ac_queue_flush_notes(q);
	}
	return true;
}

void ac_queue_after_load(ac_queue *q)
{
	ac_queue_state_walk_in_flight(q->qs, arm_grace, q);
	ac_queue_state_walk_queued(q->qs, -1, false, AC_PRIO_URGENT, 0, 0, announce_queued, q);
	ac_queue_flush_notes(q);
}
