/* SPDX-License-Identifier: MIT
 * Scheduler actor: task events and fetches in, proposals out. Each event touches only
 * what it can unblock: a new task looks for one waiting agent, a new fetch for one
 * task. The queue is the truth; a refused proposal just puts the fetch back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "codec/agent_wire.h"
#include "codec/ops.h"
#include "rt/clock.h"
#include "rt/log.h"
#include "scheduler/scheduler_int.h"

/* ---- replies to fetches ---- */

/* "No task". (The answer to an early fetch goes through the queue: rt/actor_msg.c.) */
static void reply_no_task(ac_scheduler *s, const ac_env *env)
{
	ac_actor_reply_ok(s->actor, env);
}

/* An early fetch found no task at once: the queue need not keep its batch open for
 * a proposal. */
static void tell_held(ac_scheduler *s, const ac_env *env)
{
	ac_env held = *env;

	if (env->flags & AC_ENV_AFTER_COMMIT) {
		held.type = AC_MSG_FETCH_HELD;
		ac_actor_send(s->actor, AC_ACTOR_QUEUE, &held, NULL, 0);
	}
}

/* ---- task events ---- */

/* A task whose not_before has come: route it, then look for an agent. */
static void release(ac_scheduler *s, ac_pending *p)
{
	if (ac_sched_route_task(s, p)) {
		ac_sched_try_place(s, p);
	}
}

/* The task's version in the view leaves it (with its timers), and so does the record
 * of its proposal, freeing the endpoint slot it held (a waiting task may take it). */
static ac_sched_proposal *forget_task(ac_scheduler *s, uint64_t id)
{
	ac_pending *old = ac_sched_find_task(s->st, id);

	if (old != NULL) {
		if (old->delay_timer != 0) {
			ac_actor_timer_cancel(s->actor, old->delay_timer);
		}
		if (old->fallback_timer != 0) {
			ac_actor_timer_cancel(s->actor, old->fallback_timer);
		}
		ac_sched_drop_task(s->st, id);
	}
	return ac_sched_proposal_take(s, id);
}

static void on_task_event(ac_scheduler *s, const ac_task_event *e, ac_arena *arena)
{
	ac_sched_proposal *pr = forget_task(s, e->id.v);
	int64_t now = ac_clock_wall_ms();
	ac_pending *p = NULL;
	ac_caps caps;

	if (!(e->removed.set && e->removed.v) &&
	    ((p = ac_sched_pending_from(e, arena, &caps)) == NULL ||
	        ac_sched_add_task(s->st, p, &caps) != AC_OK)) {
		ac_log(AC_LOG_ERR, "scheduler", "task_dropped", "task_id=%" PRIu64 " reason=out_of_memory",
		    e->id.v);
		if (p != NULL) {
			ac_caps_free(&caps);
			ac_sched_pending_free(p);
		}
		p = NULL;
	}
	ac_sched_proposal_back(pr, p);
	ac_sched_proposal_free(pr);
	if (p == NULL) {
		return;
	}
	if (p->not_before_ms > now) {
		ac_actor_timer_add(s->actor, ac_clock_mono_ms() + (p->not_before_ms - now), TIMER_DELAY,
		    p->id, &p->delay_timer);
		return;
	}
	release(s, p);
}

static void on_task_events(void *state, ac_call *call)
{
	ac_scheduler *s = state;
	const ac_task_events_msg *m = call->req;
	const ac_task_event *items = m->tasks.items;

	ac_sched_note_attempt(s, "task_event");
	for (uint32_t i = 0; i < m->tasks.count; i++) {
		on_task_event(s, &items[i], call->arena);
	}
}

/* ---- fetches ---- */

/* When a fetch gives up: its first hold plus wait_ms (a refused proposal brings the
 * fetch back with deadline_ms set, so waiting again does not extend it). */
static int64_t deadline_of(const ac_fetch_msg *f)
{
	return f->deadline_ms.set ? f->deadline_ms.v :
	                            ac_clock_mono_ms() + (f->wait_ms.set ? (int64_t)f->wait_ms.v : 0);
}

/* Keeps the fetch body, with its deadline written in, for the proposal. */
static ac_err stamp_deadline(ac_fetch_msg *f, const uint8_t *body, size_t len, ac_waiter *w)
{
	ac_mpw enc;
	ac_err err;

	(void)body;
	(void)len;
	f->deadline_ms = (ac_int){ deadline_of(f), true };
	ac_mpw_init(&enc);
	ac_schema_encode(&ac_fetch_msg_schema, f, &enc);
	err = enc.err;
	if (err == AC_OK && (w->fetch = malloc(ac_mpw_len(&enc))) == NULL) {
		err = AC_ENOMEM;
	}
	if (err == AC_OK) {
		memcpy(w->fetch, ac_mpw_data(&enc), ac_mpw_len(&enc));
		w->fetch_len = ac_mpw_len(&enc);
	}
	ac_mpw_fini(&enc);
	return err;
}

/* Holds a fetch (replacing the agent's older one), or answers it with a task. */
static void hold_fetch(ac_scheduler *s, const ac_env *env, ac_fetch_msg *f, const uint8_t *body,
    size_t len)
{
	ac_waiter *w = calloc(1, sizeof(*w)), *old;
	ac_caps caps;

	if (w == NULL || ac_sched_caps_copy(&f->capabilities, &caps) != AC_OK) {
		ac_waiter_free(w);
		ac_actor_reply_err(s->actor, env, AC_EUNAVAIL, "out of memory", NULL);
		return;
	}
	ac_sched_note_attempt(s, "agent_fetch");
	ac_str_cpy(w->agent, sizeof(w->agent), f->agent_id);
	ac_str_cpy(w->endpoint, sizeof(w->endpoint), f->endpoint);
	if ((old = ac_sched_find_waiter(s->st, w->agent)) != NULL) {
		reply_no_task(s, &old->env); /* one held fetch per agent: the newer wins */
		ac_sched_end_wait(s, old);
	}
	w->env = *env;
	if (stamp_deadline(f, body, len, w) != AC_OK) {
		ac_caps_free(&caps);
		ac_waiter_free(w);
		ac_actor_reply_err(s->actor, env, AC_EUNAVAIL, "out of memory", NULL);
		return;
	}
	if (ac_sched_add_waiter(s->st, w, &caps, ac_sched_targets_mask(&f->targets)) != AC_OK) {
		ac_caps_free(&caps);
		ac_waiter_free(w);
		ac_actor_reply_err(s->actor, env, AC_EUNAVAIL, "out of memory", NULL);
		return;
	}
	if (ac_sched_serve_waiter(s, w)) {
		return;
	}
	if (deadline_of(f) <= ac_clock_mono_ms()) {
		reply_no_task(s, env);
		ac_sched_end_wait(s, w);
	} else {
		ac_actor_timer_add(s->actor, deadline_of(f), TIMER_FETCH, (uint64_t)(uintptr_t)w,
		    &w->timer);
		tell_held(s, env);
	}
}

/* The registry's fetch: its profile part is kept for the agent's next fetches on the
 * same connection (sched_agents.c). */
static void on_fetch(void *state, ac_call *call)
{
	ac_fetch_msg *f = (ac_fetch_msg *)call->req;

	ac_sched_agents_put(state, f->agent_id, call->env.pipe_id, call->body, call->body_len);
	hold_fetch(state, &call->env, f, call->body, call->body_len);
}

/* agent.fetch, from the gateway or from the queue after task.complete: built from the
 * cached profile when this connection fetched through the registry before and nothing
 * changed since, else passed on to the registry unchanged (which checks the agent is
 * online and sends the AC_MSG_FETCH back). */
static void on_agent_fetch(void *state, ac_call *call)
{
	ac_scheduler *s = state;
	const ac_req_agent_fetch *req = call->req;
	ac_sched_agent *ag = ac_sched_agents_find(s, req->agent_id, call->env.pipe_id);
	ac_fetch_msg *f = ac_arena_alloc(call->arena, sizeof(*f));

	if (ag == NULL || f == NULL ||
	    ac_schema_decode_bytes(&ac_fetch_msg_schema, ag->fetch, ag->fetch_len, f, call->arena,
	        NULL) != AC_OK) {
		ac_actor_send(s->actor, AC_ACTOR_REGISTRY, &call->env, call->body, call->body_len);
		return;
	}
	f->wait_ms = (ac_uint){ req->wait_ms.set ? req->wait_ms.v : 0, true };
	f->accept = (ac_flag){ req->accept.set && req->accept.v, true };
	f->deadline_ms = (ac_int){ 0, false };
	ac_sched_agents_seen(s, ag);
	hold_fetch(s, &call->env, f, NULL, 0);
}

/* hello changed the agent's profile: its cached fetch goes before the hello's answer
 * can reach the agent (the hello passes here first), so no later fetch of it sees the
 * old profile. */
static void on_agent_changed(void *state, ac_call *call)
{
	ac_scheduler *s = state;
	const ac_req_agent_only *m = call->req;
	ac_env env = call->env;

	ac_sched_agents_drop(s, m->agent_id);
	env.type = AC_MSG_HELLO_FWD;
	ac_actor_send(s->actor, AC_ACTOR_QUEUE, &env, call->body, call->body_len);
}

/* The queue refused a proposal (the task moved on): its decision leaves the counters,
 * and the fetch waits again, until its first deadline, unless the agent has fetched
 * anew meanwhile (the newer one wins). */
static void on_rejected(void *state, ac_call *call)
{
	ac_scheduler *s = state;
	const ac_assign_msg *m = call->req;
	ac_fetch_msg *f = ac_arena_alloc(call->arena, sizeof(*f));
	char agent[129];

	if (f == NULL || ac_schema_decode_bytes(&ac_fetch_msg_schema, m->fetch.p, m->fetch.len, f,
	                     call->arena, NULL) != AC_OK) {
		ac_actor_reply_err(s->actor, &call->env, AC_EINTERNAL, "assignment failed", NULL);
		return;
	}
	ac_sched_proposal_refused(s, m->task_id.v, (uint32_t)m->generation.v);
	if (ac_sched_find_waiter(s->st, ac_str_cpy(agent, sizeof(agent), f->agent_id)) != NULL) {
		reply_no_task(s, &call->env);
		return;
	}
	hold_fetch(s, &call->env, f, m->fetch.p, m->fetch.len);
}

static void on_agent_gone(void *state, ac_call *call)
{
	ac_scheduler *s = state;
	const ac_req_agent_only *m = call->req;
	char agent[129];
	ac_waiter *w = ac_sched_find_waiter(s->st, ac_str_cpy(agent, sizeof(agent), m->agent_id));

	ac_sched_agents_drop(s, m->agent_id);
	if (w != NULL) {
		reply_no_task(s, &w->env);
		ac_sched_end_wait(s, w);
	}
	ac_actor_reply_ok(s->actor, &call->env); /* bye: answered once its cache is gone */
}

typedef struct pipe_ctx {
	ac_scheduler *s;
	uint32_t pipe;
} pipe_ctx;

static void drop_if_on_pipe(void *ctx, ac_waiter *w)
{
	pipe_ctx *pc = ctx;

	if (w->env.pipe_id == pc->pipe) {
		/* Nobody reads this answer (nng drops a reply to a closed pipe), but the
		 * gateway's worker holding the request is free again only once answered. */
		reply_no_task(pc->s, &w->env);
		ac_sched_end_wait(pc->s, w);
	}
}

static void on_pipe_closed(void *state, ac_call *call)
{
	pipe_ctx pc = { state, call->env.pipe_id };

	/* a connection closing is rare next to fetches; a walk of held fetches is fine */
	ac_sched_each_waiter(((ac_scheduler *)state)->st, drop_if_on_pipe, &pc);
}

/* ---- stats, timers, lifecycle ---- */

static void write_counts(ac_mpw *w, const char *const *names, const uint64_t *n, int count)
{
	ac_mpw_map(w, (uint32_t)count);
	for (int i = 0; i < count; i++) {
		ac_mpw_key(w, names[i]);
		ac_mpw_u64(w, n[i]);
	}
}

static void on_stats(void *state, ac_call *call)
{
	ac_scheduler *s = state;
	ac_mpw *w = ac_actor_scratch(call->actor);

	if (!ac_mpw_map_extend(w, call->body, call->body_len, 1)) {
		ac_actor_reply_err(call->actor, &call->env, AC_EINTERNAL, "bad stats section", NULL);
		return;
	}
	ac_mpw_key(w, "routing");
	ac_mpw_map(w, 8);
	ac_mpw_key(w, "by_tier");
	write_counts(w, ac_tier_names, s->by_tier, AC_TIER_COUNT);
	ac_mpw_key(w, "by_target");
	write_counts(w, ac_target_names, s->by_target, AC_TARGET_COUNT);
	ac_mpw_key(w, "fallbacks");
	ac_mpw_u64(w, s->fallbacks);
	ac_mpw_key(w, "reevaluations");
	ac_mpw_u64(w, s->reevaluations);
	ac_mpw_key(w, "pending");
	ac_mpw_u64(w, ac_sched_task_count(s->st));
	ac_mpw_key(w, "waiting_agents");
	ac_mpw_u64(w, ac_sched_waiter_count(s->st));
	ac_mpw_key(w, "waiting_for_endpoint");
	ac_mpw_u64(w, ac_sched_waiting_count(s->st));
	ac_mpw_key(w, "endpoints_known");
	ac_mpw_u64(w, ac_sched_endpoints_count(s->eps));
	ac_actor_forward(s->actor, AC_ACTOR_GATEWAY, &call->env, AC_MSG_STATS_COLLECT, w);
}

static void on_timer(void *state, ac_actor *a, const ac_timer_entry *t)
{
	ac_scheduler *s = state;

	if (t->kind == TIMER_FETCH) {
		ac_waiter *w = (ac_waiter *)(uintptr_t)t->tag;
		w->timer = 0;
		reply_no_task(s, &w->env);
		ac_sched_end_wait(s, w);
	} else if (t->kind == TIMER_DELAY) {
		ac_sched_note_attempt(s, "timer");
		ac_pending *p = ac_sched_find_task(s->st, t->tag);
		if (p != NULL && p->delay_timer == t->id) {
			p->delay_timer = 0;
			release(s, p);
		}
	} else if (t->kind == TIMER_FALLBACK) {
		ac_sched_note_attempt(s, "timer");
		ac_sched_on_fallback(s, t->tag, t->id);
	} else if (t->kind == TIMER_SAFETY) {
		/* a lost event may delay work, never strand it (DESIGN §2 rule 4) */
		ac_sched_note_attempt(s, "timer");
		ac_sched_request_snapshot(s);
		ac_sched_reevaluate_all(s);
		ac_actor_timer_add(a, ac_clock_mono_ms() + AC_SAFETY_PASS_MS, TIMER_SAFETY, 0, NULL);
	} else if (t->kind == TIMER_ALERT) {
		ac_sched_on_alert_timer(s);
	}
}

/* A held fetch at shutdown: `unavailable`, except the fetch of a task.complete, whose
 * `unavailable` would say the completion failed (proto/ops.md): that one ends with no
 * task, like a wait that ran out (the queue still holds it until the commit). */
static void answer_at_stop(void *ctx, ac_waiter *w)
{
	ac_scheduler *s = ctx;

	if (w->env.flags & AC_ENV_AFTER_COMMIT) {
		reply_no_task(s, &w->env);
	} else {
		ac_actor_reply_err(s->actor, &w->env, AC_EUNAVAIL, "server is shutting down", NULL);
	}
}

static ac_err open_events(ac_scheduler *s, ac_actor *a)
{
	char url[128];
	int rv;

	if ((rv = nng_sub0_open(&s->events)) != 0) {
		return AC_ENOMEM;
	}
	nng_socket_set(s->events, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	nng_socket_set_int(s->events, NNG_OPT_RECVBUF, 1024);
	/* non-blocking: the registry may bind after us; nng dials again until it is there */
	ac_rt_url(ac_actor_rt(a), "registry-events", url, sizeof(url));
	if ((rv = nng_dial(s->events, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		return AC_EINTERNAL;
	}
	return ac_actor_watch(a, s->events, ac_sched_on_endpoint_event);
}

static ac_err scheduler_actor_start(void *state, ac_actor *a)
{
	ac_scheduler *s = state;
	ac_err err;

	s->actor = a;
	if ((err = open_events(s, a)) != AC_OK) {
		return err;
	}
	ac_sched_request_snapshot(s);
	return ac_actor_timer_add(a, ac_clock_mono_ms() + AC_SAFETY_PASS_MS, TIMER_SAFETY, 0, NULL);
}

static void scheduler_actor_stop(void *state, ac_actor *a)
{
	ac_scheduler *s = state;

	(void)a;
	ac_sched_each_waiter(s->st, answer_at_stop, state);
	nng_close(s->events);
}

/* After each batch of messages and timers: the notes and events it made leave now. */
static void on_drained(void *state, ac_actor *a)
{
	(void)a;
	ac_sched_flush(state);
	ac_sched_sweep(((ac_scheduler *)state)->st, AC_SCHED_SWEEP_ABOVE);
}

static const ac_handler scheduler_handlers[AC_MSG_COUNT] = {
	[AC_MSG_TASK_EVENTS] = { on_task_events, &ac_task_events_msg_schema },
	[AC_MSG_FETCH] = { on_fetch, &ac_fetch_msg_schema },
	[AC_MSG_OP_AGENT_FETCH] = { on_agent_fetch, &ac_req_agent_fetch_schema },
	[AC_MSG_AGENT_CHANGED] = { on_agent_changed, &ac_req_agent_only_schema },
	[AC_MSG_ASSIGN_REJECTED] = { on_rejected, &ac_assign_msg_schema },
	[AC_MSG_AGENT_GONE] = { on_agent_gone, &ac_req_agent_only_schema },
	[AC_MSG_PIPE_CLOSED] = { on_pipe_closed, NULL },
	[AC_MSG_STATS_COLLECT] = { on_stats, NULL },
	[AC_MSG_ENDPOINT_SNAPSHOT] = { ac_sched_on_snapshot, NULL },
	[AC_MSG_OP_ROUTE_EXPLAIN] = { ac_sched_on_explain, &ac_task_submit_schema },
};

static const ac_actor_def scheduler_def = {
	.name = "scheduler",
	.id = AC_ACTOR_SCHEDULER,
	.handlers = scheduler_handlers,
	.start = scheduler_actor_start,
	.stop = scheduler_actor_stop,
	.on_timer = on_timer,
	.on_drained = on_drained,
	.max_batch = 512,
};

static void scheduler_free(ac_scheduler *s)
{
	for (size_t i = 0; i < s->proposals.cap; i++) {
		ac_sched_proposal_free(s->proposals.slots[i].val);
	}
	ac_task_map_fini(&s->proposals);
	ac_mpw_fini(&s->notes);
	ac_mpw_fini(&s->loads);
	ac_sched_agents_free(s);
	ac_sched_endpoints_free(s->eps);
	ac_sched_state_free(s->st);
	free(s->view);
	free(s);
}

ac_err ac_scheduler_start(ac_rt *rt, const ac_config *cfg, ac_scheduler **out)
{
	ac_scheduler *s = calloc(1, sizeof(*s));
	ac_err err;

	if (s == NULL) {
		return AC_ENOMEM;
	}
	s->cfg = cfg;
	ac_task_map_init(&s->proposals);
	ac_mpw_init(&s->notes);
	ac_mpw_init(&s->loads);
	ac_mpw_init(&s->seen);
	ac_task_map_init(&s->agents);
	s->view = calloc(AC_ROUTE_VIEW_INITIAL, sizeof(*s->view));
	s->view_cap = AC_ROUTE_VIEW_INITIAL;
	err = s->view == NULL ? AC_ENOMEM : ac_sched_state_alloc(&s->st);
	if (err == AC_OK) {
		err = ac_sched_endpoints_alloc(&s->eps);
	}
	if (err == AC_OK) {
		err = ac_actor_start(rt, &scheduler_def, s, &s->actor);
	}
	if (err != AC_OK) {
		scheduler_free(s);
		return err;
	}
	*out = s;
	return AC_OK;
}

void ac_scheduler_stop(ac_scheduler *s)
{
	if (s == NULL) {
		return;
	}
	ac_actor_stop(s->actor);
	scheduler_free(s);
}
