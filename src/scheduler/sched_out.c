/* SPDX-License-Identifier: MIT
 * What the scheduler tells the queue in bulk: pending notes are gathered while a batch
 * of messages and timers is handled and leave together when it ends (or when a bound is
 * reached), so that a burst of waits or fallbacks costs a few inter-actor messages, not
 * one per task. Order is kept. The same goes for the liveness notes of agents whose
 * fetches the scheduler served itself (to the registry). (Telemetry events are gathered
 * by ac_actor_publish.) One scheduler.attempt event sums up each pass that tried to
 * place tasks (DESIGN §4; the original's one per scheduling pass).
 */
#include <stdio.h>

#include "scheduler/scheduler_int.h"

static void tell_note(ac_scheduler *s, uint64_t id, const char *reason, const char *fallback)
{
	ac_mpw_map(&s->notes, fallback != NULL ? 3 : 2);
	ac_mpw_key(&s->notes, "id");
	ac_mpw_u64(&s->notes, id);
	ac_mpw_key(&s->notes, "reason");
	ac_mpw_cstr(&s->notes, reason);
	if (fallback != NULL) {
		ac_mpw_key(&s->notes, "fallback");
		ac_mpw_cstr(&s->notes, fallback);
	}
	if (++s->note_count >= AC_SCHED_NOTES_MAX) {
		ac_sched_flush(s);
	}
}

void ac_sched_tell_pending(ac_scheduler *s, uint64_t id, const char *reason)
{
	tell_note(s, id, reason, NULL);
}

void ac_sched_tell_fallback(ac_scheduler *s, uint64_t id, const char *from_tier,
    const char *to_tier, const char *reason)
{
	char detail[160];

	snprintf(detail, sizeof(detail), "%s -> %s: %s", from_tier, to_tier, reason);
	tell_note(s, id, "", detail);
}

void ac_sched_note_attempt(ac_scheduler *s, const char *trigger)
{
	if (s->attempt_trigger == NULL) {
		s->attempt_trigger = trigger;
	}
}

static void publish_attempt(ac_scheduler *s)
{
	ac_mpw *w = ac_actor_scratch(s->actor);

	ac_mpw_map(w, 3);
	ac_mpw_key(w, "idle_agents");
	ac_mpw_u64(w, ac_sched_waiter_count(s->st));
	ac_mpw_key(w, "queued_tasks");
	ac_mpw_u64(w, ac_sched_task_count(s->st));
	ac_mpw_key(w, "trigger");
	ac_mpw_cstr(w, s->attempt_trigger);
	ac_actor_publish(s->actor, "scheduler.attempt", w);
	s->attempt_trigger = NULL;
}

uint32_t ac_sched_add_flight(ac_scheduler *s, const char *endpoint, int delta)
{
	uint32_t opened = ac_sched_endpoints_add_flight(s->eps, endpoint, delta, ac_sched_slots(s));
	uint32_t n;

	if (endpoint != NULL && ac_sched_endpoints_in_flight(s->eps, endpoint, &n)) {
		ac_mpw_map(&s->loads, 2);
		ac_mpw_key(&s->loads, "endpoint_id");
		ac_mpw_cstr(&s->loads, endpoint);
		ac_mpw_key(&s->loads, "in_flight");
		ac_mpw_u64(&s->loads, n);
		if (++s->load_count >= AC_SCHED_NOTES_MAX) { /* a bounded list per message */
			ac_actor_tell_list(s->actor, AC_ACTOR_REGISTRY, AC_MSG_ENDPOINT_LOAD, "loads",
			    &s->loads, &s->load_count);
		}
	}
	return opened;
}

void ac_sched_flush_notes(ac_scheduler *s)
{
	ac_actor_tell_list(s->actor, AC_ACTOR_QUEUE, AC_MSG_TASK_PENDING, "tasks", &s->notes,
	    &s->note_count);
}

void ac_sched_flush(ac_scheduler *s)
{
	if (s->attempt_trigger != NULL) {
		publish_attempt(s);
	}
	ac_actor_tell_list(s->actor, AC_ACTOR_REGISTRY, AC_MSG_ENDPOINT_LOAD, "loads", &s->loads,
	    &s->load_count);
	ac_sched_flush_notes(s);
	/* agents whose fetches the cached profiles served (sched_agents.c) */
	ac_actor_tell_list(s->actor, AC_ACTOR_REGISTRY, AC_MSG_AGENT_NOTES, "notes", &s->seen,
	    &s->seen_count);
}
