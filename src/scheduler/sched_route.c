/* SPDX-License-Identifier: MIT
 * Scheduler routing (DESIGN §5.2-5.5): a released task goes to its tier's target when
 * that tier can take it; a standard task with no endpoint waits with a pending reason
 * and one fallback timer, is placed at once when an endpoint recovers, and escalates
 * one tier when the timer fires. Also the endpoint view's upkeep and the tier alert.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/endpoint_wire.h"
#include "routing/explain.h"
#include "rt/array.h"
#include "rt/clock.h"
#include "rt/log.h"
#include "scheduler/scheduler_int.h"

static ac_route_task route_task_of(const ac_pending *p)
{
	return (ac_route_task){
		.tier = p->tier, .is_explicit = p->is_explicit, .confidence = p->confidence,
		.word_count = p->word_count, .file_count = p->file_count, .model = p->model,
		.allowed_targets = p->allowed_targets,
	};
}

static ac_route_opts opts_of(const ac_scheduler *s)
{
	return (ac_route_opts){ .endpoint_slots = (uint32_t)s->cfg->endpoint_slots,
		.default_model = s->cfg->default_model, .now_ms = ac_clock_wall_ms() };
}

/* The router's view of every usable endpoint. The scratch grows with the registry; when
 * it cannot, the endpoints registered last are left out (and the log says so). */
static size_t endpoints_view(ac_scheduler *s, const char *repo)
{
	size_t need = ac_sched_endpoints_view_size(s->eps);

	while (s->view_cap < need) {
		ac_route_endpoint *v = ac_array_reserve(s->view, &s->view_cap, s->view_cap,
		    sizeof(*v), AC_ROUTE_VIEW_INITIAL);
		if (v == NULL) {
			ac_log(AC_LOG_WARN, "scheduler", "route_view_truncated", "endpoints=%zu seen=%zu",
			    need, s->view_cap);
			break;
		}
		s->view = v;
	}
	return ac_sched_endpoints_view(s->eps, repo, s->view, s->view_cap);
}

/* Routes p into *d; false when it must wait. A fallback that is due (its timer fired,
 * no reason yet) still prefers its own tier if that came back; one already taken
 * (announced, counted, reason kept) stays taken. */
static bool route(ac_scheduler *s, const ac_pending *p, ac_decision *d, const char **reason)
{
	ac_route_task t = route_task_of(p);
	ac_route_opts o = opts_of(s);
	size_t n;

	if (p->fallback_used && p->fallback_reason != NULL) {
		return ac_router_route_fallen_back(&t, &o, p->fallback_reason, d, reason);
	}
	n = endpoints_view(s, p->repo);
	return ac_router_route(&t, s->view, n, &o, p->fallback_used, p->fallback_reason, d, reason);
}

/* p waits for reason now; the queue learns it when it changed (pending_reason). */
static void set_reason(ac_scheduler *s, ac_pending *p, const char *reason)
{
	if (p->pending_reason != reason) {
		ac_sched_tell_pending(s, p->id, reason);
	}
	p->pending_reason = reason;
}

static void start_waiting(ac_scheduler *s, ac_pending *p, const char *reason)
{
	bool was_waiting = p->is_waiting;

	set_reason(s, p, reason);
	if (ac_sched_wait(s->st, p) != AC_OK) {
		ac_log(AC_LOG_ERR, "scheduler", "wait_failed", "task_id=%" PRIu64 " reason=out_of_memory",
		    p->id);
		return;
	}
	if (was_waiting || p->fallback_used) {
		return;
	}
	p->waiting_since_ms = ac_clock_mono_ms();
	ac_actor_timer_add(s->actor, p->waiting_since_ms + s->cfg->fallback_wait_ms, TIMER_FALLBACK,
	    p->id, &p->fallback_timer);
	ac_log(AC_LOG_DEBUG, "scheduler", "task_waiting", "task_id=%" PRIu64 " reason=%s", p->id, reason);
}

static void stop_waiting(ac_scheduler *s, ac_pending *p)
{
	if (p->fallback_timer != 0) {
		ac_actor_timer_cancel(s->actor, p->fallback_timer);
		p->fallback_timer = 0;
	}
	ac_sched_unwait(s->st, p);
	if (p->pending_reason != NULL) {
		ac_sched_tell_pending(s, p->id, ""); /* routable now: the reason no longer holds */
	}
	p->pending_reason = NULL;
}

bool ac_sched_route_task(ac_scheduler *s, ac_pending *p)
{
	ac_decision d;
	const char *reason = NULL;

	if (!route(s, p, &d, &reason)) {
		start_waiting(s, p, reason);
		return false;
	}
	stop_waiting(s, p);
	if (ac_sched_retarget(s->st, p, d.target) != AC_OK) {
		ac_log(AC_LOG_ERR, "scheduler", "route_failed", "task_id=%" PRIu64 " reason=out_of_memory", p->id);
		return false;
	}
	ac_sched_release(s->st, p);
	return true;
}

/* scheduler.route: every decision field plus task_id and scoring_duration_us. */
static void publish_route(ac_scheduler *s, const ac_decision *d, uint64_t id, int64_t us)
{
	ac_mpw dec, ev;

	ac_mpw_init(&dec);
	ac_mpw_init(&ev);
	ac_decision_encode(d, &dec);
	/* the decision's entries, then two of the event's own */
	if (dec.err == AC_OK && ac_mpw_map_extend(&ev, ac_mpw_data(&dec), ac_mpw_len(&dec), 2)) {
		ac_mpw_key(&ev, "task_id");
		ac_mpw_u64(&ev, id);
		ac_mpw_key(&ev, "scoring_duration_us");
		ac_mpw_i64(&ev, us);
		ac_actor_publish(s->actor, "scheduler.route", &ev);
	}
	ac_mpw_fini(&ev);
	ac_mpw_fini(&dec);
}

bool ac_sched_decide(ac_scheduler *s, ac_pending *p, ac_decision *d, int64_t *scoring_us)
{
	const char *reason = NULL;
	int64_t started_us = ac_clock_mono_us();

	if (!route(s, p, d, &reason) || d->target != p->target) {
		/* the view changed since it was queued for this target: route it afresh */
		ac_sched_route_task(s, p);
		return false;
	}
	*scoring_us = ac_clock_mono_us() - started_us;
	return true;
}

void ac_sched_emit_decision(ac_scheduler *s, const ac_pending *p, const ac_decision *d,
    int64_t scoring_us, ac_mpw *w)
{
	if (d->target == AC_TARGET_OLLAMA) {
		ac_sched_endpoints_served(s->eps, d->endpoint, p->repo, ac_clock_wall_ms());
	}
	ac_decision_encode(d, w);
	publish_route(s, d, p->id, scoring_us);
}

/* ---- fallback and re-evaluation ---- */

static void publish_fallback(ac_scheduler *s, const ac_pending *p, const ac_decision *d)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 5);
	ac_mpw_key(&w, "task_id");
	ac_mpw_u64(&w, p->id);
	ac_mpw_key(&w, "original_tier");
	ac_mpw_cstr(&w, ac_tier_names[d->fallback_from_tier]);
	ac_mpw_key(&w, "fallback_tier");
	ac_mpw_cstr(&w, ac_tier_names[d->effective_tier]);
	ac_mpw_key(&w, "wait_ms");
	ac_mpw_i64(&w, ac_clock_mono_ms() - p->waiting_since_ms);
	ac_mpw_key(&w, "reason");
	ac_mpw_cstr(&w, p->fallback_reason);
	ac_actor_publish(s->actor, "scheduler.fallback", &w);
	ac_mpw_fini(&w);
}

void ac_sched_on_fallback(ac_scheduler *s, uint64_t task_id, uint64_t timer_id)
{
	ac_pending *p = ac_sched_find_task(s->st, task_id);
	ac_decision d;
	const char *reason = NULL;

	if (p == NULL || p->fallback_timer != timer_id || !p->is_waiting) {
		return;
	}
	p->fallback_timer = 0;
	p->fallback_used = true;
	p->fallback_reason = NULL; /* the router names why its own tier has no candidate now */
	if (!route(s, p, &d, &reason)) {
		/* the tier above is not allowed either: keep waiting for this one */
		p->fallback_used = false;
		set_reason(s, p, reason);
		return;
	}
	p->fallback_used = d.fallback_used; /* false: its own tier came back in the meantime */
	p->fallback_reason = d.fallback_reason;
	stop_waiting(s, p);
	if (ac_sched_retarget(s->st, p, d.target) == AC_OK) {
		if (d.fallback_used) {
			s->fallbacks++;
			publish_fallback(s, p, &d);
			ac_sched_tell_fallback(s, p->id, ac_tier_names[d.fallback_from_tier],
			    ac_tier_names[d.effective_tier], p->fallback_reason);
		}
		/* DEBUG: a burst of fallbacks is no place for one INFO line per task */
		ac_log(AC_LOG_DEBUG, "scheduler", "routed_after_wait", "task_id=%" PRIu64 " to=%s", p->id,
		    ac_target_names[d.target]);
		ac_sched_release(s->st, p);
		ac_sched_try_place(s, p);
	}
}

typedef struct head_pick {
	ac_scheduler *s;
	ac_pending *best;
} head_pick;

/* Dispatch order (DESIGN §5.5): priority, then enqueued_at_ms, then id. */
static bool comes_first(const ac_pending *a, const ac_pending *b)
{
	if (a->priority != b->priority) {
		return a->priority < b->priority;
	}
	return a->enqueued_at_ms < b->enqueued_at_ms ||
	    (a->enqueued_at_ms == b->enqueued_at_ms && a->id < b->id);
}

/* Keeps the group head that can go at its own tier now and comes first; a head that
 * cannot go gets its reason brought up to date. */
static void pick_head(void *ctx, ac_pending *p)
{
	head_pick *hp = ctx;
	ac_decision d;
	const char *reason = NULL;

	hp->s->reevaluations++;
	if (!route(hp->s, p, &d, &reason)) {
		set_reason(hp->s, p, reason);
		return;
	}
	if (hp->best == NULL || comes_first(p, hp->best)) {
		hp->best = p;
	}
}

void ac_sched_reevaluate(ac_scheduler *s, uint32_t budget)
{
	/* each round looks at group heads only and lets one task go (an actual change) */
	for (uint32_t i = 0; i < budget && ac_sched_waiting_count(s->st) > 0; i++) {
		head_pick hp = { s, NULL };
		ac_sched_each_wait_head(s->st, pick_head, &hp);
		if (hp.best == NULL) {
			return;
		}
		if (ac_sched_route_task(s, hp.best)) {
			ac_sched_try_place(s, hp.best);
		}
	}
}

void ac_sched_reevaluate_all(ac_scheduler *s)
{
	ac_sched_reevaluate(s, ac_sched_endpoints_free_slots(s->eps, ac_sched_slots(s)));
}

uint32_t ac_sched_slots(const ac_scheduler *s)
{
	return s->cfg->endpoint_slots > 0 ? (uint32_t)s->cfg->endpoint_slots : AC_ROUTER_DEFAULT_SLOTS;
}

/* ---- endpoint view ---- */

void ac_sched_request_snapshot(ac_scheduler *s)
{
	ac_env env = { .type = AC_MSG_ENDPOINT_SNAPSHOT_REQ };

	ac_actor_send(s->actor, AC_ACTOR_REGISTRY, &env, NULL, 0);
}

static void after_view_change(ac_scheduler *s, bool unblocks)
{
	ac_sched_check_alert(s);
	if (unblocks) {
		ac_sched_reevaluate_all(s);
	}
}

void ac_sched_on_endpoint_event(void *state, ac_actor *a, const uint8_t *p, size_t len)
{
	ac_scheduler *s = state;
	bool unblocks = false;

	(void)a;
	switch (ac_sched_endpoints_apply(s->eps, p, len, false, &unblocks)) {
	case AC_EP_GAP:
		ac_log(AC_LOG_WARN, "scheduler", "endpoint_event_gap", "action=snapshot");
		ac_sched_request_snapshot(s);
		break;
	case AC_EP_APPLIED:
		ac_sched_note_attempt(s, "endpoint_event");
		after_view_change(s, unblocks);
		break;
	default:
		break;
	}
}

void ac_sched_on_snapshot(void *state, ac_call *call)
{
	ac_scheduler *s = state;
	bool unblocks = false;

	if (ac_sched_endpoints_apply(s->eps, call->body, call->body_len, true, &unblocks) ==
	    AC_EP_APPLIED) {
		ac_sched_note_attempt(s, "endpoint_event");
		after_view_change(s, unblocks);
	}
}

/* ---- the tier-down alert (DESIGN §5.5) ---- */

static void publish_alert(ac_scheduler *s, const char *topic)
{
	size_t healthy, total;
	ac_mpw w;

	ac_sched_endpoints_health(s->eps, &healthy, &total);
	ac_mpw_init(&w);
	ac_mpw_map(&w, 4);
	ac_mpw_key(&w, "tier");
	ac_mpw_cstr(&w, "standard");
	ac_mpw_key(&w, "down_since_ms");
	ac_mpw_i64(&w, s->down_since_ms);
	ac_mpw_key(&w, "endpoints");
	ac_mpw_u64(&w, total);
	ac_mpw_key(&w, "healthy");
	ac_mpw_u64(&w, healthy);
	ac_actor_publish(s->actor, topic, &w);
	ac_mpw_fini(&w);
	ac_log(AC_LOG_WARN, "scheduler", "alert", "topic=%s endpoints=%zu", topic, total);
}

void ac_sched_check_alert(ac_scheduler *s)
{
	size_t healthy, total;
	bool is_down;

	ac_sched_endpoints_health(s->eps, &healthy, &total);
	is_down = total > 0 && healthy == 0;
	if (is_down && s->down_since_ms == 0) {
		s->down_since_ms = ac_clock_wall_ms();
		ac_actor_timer_add(s->actor, ac_clock_mono_ms() + s->cfg->tier_down_alert_ms, TIMER_ALERT, 0,
		    &s->alert_timer);
	} else if (!is_down && s->down_since_ms != 0) {
		ac_actor_timer_cancel(s->actor, s->alert_timer);
		s->alert_timer = 0;
		if (s->is_alerting && healthy > 0) {
			publish_alert(s, "alert.tier_recovered");
		}
		s->is_alerting = false;
		s->down_since_ms = 0;
	}
}

void ac_sched_on_alert_timer(ac_scheduler *s)
{
	s->alert_timer = 0;
	if (s->down_since_ms == 0) {
		return;
	}
	s->is_alerting = true;
	publish_alert(s, "alert.tier_down");
	ac_actor_timer_add(s->actor, ac_clock_mono_ms() + AC_ALERT_REPEAT_MS, TIMER_ALERT, 0,
	    &s->alert_timer);
}

/* ---- route.explain ---- */

void ac_sched_on_explain(void *state, ac_call *call)
{
	ac_scheduler *s = state;
	const ac_task_wire *req = call->req;
	char model[AC_EXPLAIN_MODEL_CAP], repo[1025];
	ac_mpw *w = ac_actor_scratch(call->actor);
	ac_complexity c;
	ac_route_task t;
	ac_route_opts o = opts_of(s);
	size_t n;

	ac_explain_classify(req, &c);
	ac_explain_route_task(req, &c, model, &t);
	n = endpoints_view(s, req->repo.set ? ac_str_cpy(repo, sizeof(repo), req->repo) : NULL);
	ac_mpw_map(w, 4);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	if (ac_explain_encode_fields(&c, &t, s->view, n, &o, false, w) != AC_OK) {
		ac_actor_reply_err(call->actor, &call->env, AC_EUNAVAIL, "out of memory", NULL);
		return;
	}
	ac_actor_reply(call->actor, &call->env, w);
}
