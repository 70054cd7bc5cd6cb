/* SPDX-License-Identifier: MIT
 * Scheduler actor internals shared by scheduler.c (task events, fetches, proposals)
 * and sched_route.c (routing, waiting for endpoints, fallback, alerts, explain).
 */
#ifndef AC_SCHEDULER_SCHEDULER_INT_H
#define AC_SCHEDULER_SCHEDULER_INT_H

#include <nng/nng.h>

#include "codec/agent_wire.h"
#include "queue/task_map.h"
#include "routing/router.h"
#include "scheduler/sched_endpoints.h"
#include "scheduler/scheduler.h"
#include "scheduler/scheduler_state.h"

#define AC_ROUTE_VIEW_INITIAL 1024 /* endpoints the router's scratch holds at first */
#define AC_SAFETY_PASS_MS 30000
#define AC_ALERT_REPEAT_MS 300000
#define AC_SCHED_NOTES_MAX 1024      /* pending notes per message to the queue/registry */
#define AC_SCHED_SWEEP_ABOVE 32      /* classes + profiles kept before empty ones are freed */
#define AC_SCHED_SEEN_EVERY_MS 1000  /* at most one liveness note per agent this often */

enum { TIMER_FETCH = 1, TIMER_DELAY, TIMER_FALLBACK, TIMER_SAFETY, TIMER_ALERT };

/* What was proposed for a task, kept until the queue's next word on it. */
typedef struct ac_sched_proposal {
	uint32_t generation;
	char *endpoint;              /* owned: the endpoint slot it holds; NULL none */
	ac_tier tier;                /* the decision's tier, counted in by_tier */
	ac_target target;            /* counted in by_target */
	bool fallback_used;
	const char *fallback_reason; /* static */
} ac_sched_proposal;

/* The last AC_MSG_FETCH the registry built for an agent (sched_agents.c). */
typedef struct ac_sched_agent {
	char id[129];
	uint32_t pipe_id;            /* the connection of that fetch */
	int64_t noted_at_ms;         /* monotonic: last time the registry heard of it */
	uint8_t *fetch;              /* owned: the AC_MSG_FETCH body */
	size_t fetch_len;
} ac_sched_agent;

struct ac_scheduler {
	const ac_config *cfg;
	ac_actor *actor;
	ac_sched_state *st;
	ac_sched_endpoints *eps;
	nng_socket events;           /* SUB to the registry's endpoint events */
	ac_task_map proposals;       /* task id -> ac_sched_proposal, until its next event */
	ac_route_endpoint *view;     /* scratch for the router: every usable endpoint */
	size_t view_cap;
	uint64_t by_tier[AC_TIER_COUNT];
	uint64_t by_target[AC_TARGET_COUNT];
	uint64_t fallbacks;
	uint64_t reevaluations;      /* waiting tasks routed again (stats: routing.reevaluations) */
	ac_mpw notes;                /* pending notes for the queue, note_count of them */
	uint32_t note_count;
	ac_task_map agents;          /* agent hash -> ac_sched_agent (owned) */
	ac_mpw loads;                /* in-flight counts for the registry, load_count of them */
	uint32_t load_count;
	ac_mpw seen;                 /* pending liveness notes for the registry */
	uint32_t seen_count;
	const char *attempt_trigger; /* what first asked for placement this pass, or NULL */
	int64_t down_since_ms;       /* wall: when the last healthy endpoint went, 0 = up */
	bool is_alerting;
	uint64_t alert_timer;
};

/* sched_route.c */
/* Routes a released task: into its target's lane (true), or onto the waiting list
 * with a pending reason and a fallback timer (false). */
bool ac_sched_route_task(ac_scheduler *s, ac_pending *p);
/* Routes p (in its lane) for a proposal now: true with *d (borrowing endpoint strings
 * from the view until the next endpoint event) and the scoring time; false when the
 * view changed since p was queued for its target: p is then routed afresh (another
 * lane, or the waiting list) and nobody is proposed to. */
bool ac_sched_decide(ac_scheduler *s, ac_pending *p, ac_decision *d, int64_t *scoring_us);
/* Makes d p's decision: notes the repo its endpoint serves, writes the decision map
 * into w and publishes scheduler.route. */
void ac_sched_emit_decision(ac_scheduler *s, const ac_pending *p, const ac_decision *d,
    int64_t scoring_us, ac_mpw *w);
/* A fallback timer fired. */
void ac_sched_on_fallback(ac_scheduler *s, uint64_t task_id, uint64_t timer_id);
/* Lets up to budget waiting tasks go that can now go at their own tier (a slot freed:
 * 1), looking at the heads of the waiting groups only: O(budget x groups), never a walk
 * of every waiting task. */
void ac_sched_reevaluate(ac_scheduler *s, uint32_t budget);
/* The same with the free slots of every usable endpoint as the budget (an endpoint
 * recovered or registered, a snapshot, the safety pass). */
void ac_sched_reevaluate_all(ac_scheduler *s);
/* Tasks in flight per endpoint at most (endpoint_slots). */
uint32_t ac_sched_slots(const ac_scheduler *s);
/* sched_out.c */
/* Notes for the queue why task id waits (reason; "" clears): pending_reason. */
void ac_sched_tell_pending(ac_scheduler *s, uint64_t id, const char *reason);
/* The task went one tier up: the queue records it in the task's history ("fallback"). */
void ac_sched_tell_fallback(ac_scheduler *s, uint64_t id, const char *from_tier,
    const char *to_tier, const char *reason);
/* Sends the notes gathered so far (end of a batch, or a bound reached). Events need
 * no help: ac_actor_publish gathers them already. */
void ac_sched_flush(ac_scheduler *s);
/* Sends the pending notes now: before an assignment, so that the queue gets a task's
 * notes (its fallback history entry) while the task is still queued. */
void ac_sched_flush_notes(ac_scheduler *s);
/* Placement was attempted this pass because of trigger (a static string: the first of
 * a pass is reported): ac_sched_flush publishes one scheduler.attempt for the pass. */
void ac_sched_note_attempt(ac_scheduler *s, const char *trigger);
/* ac_sched_endpoints_add_flight, plus the new count noted for the registry, which
 * shows it as the endpoint's in_flight (sent by ac_sched_flush). */
uint32_t ac_sched_add_flight(ac_scheduler *s, const char *endpoint, int delta);
/* Registry event socket and snapshots. */
void ac_sched_on_endpoint_event(void *state, ac_actor *a, const uint8_t *p, size_t len);
void ac_sched_on_snapshot(void *state, ac_call *call);
void ac_sched_request_snapshot(ac_scheduler *s);
/* The tier-down alert: checks state after the view changed; and its timer. */
void ac_sched_check_alert(ac_scheduler *s);
void ac_sched_on_alert_timer(ac_scheduler *s);
/* route.explain against the live view. */
void ac_sched_on_explain(void *state, ac_call *call);

/* sched_propose.c */
/* Places p (in its lane) with a waiting agent if one can take it: the endpoint first,
 * then the agent next to it, else the longest-waiting one. */
void ac_sched_try_place(ac_scheduler *s, ac_pending *p);
/* Gives w the best task it can take now; false when there is none (w still waits). */
bool ac_sched_serve_waiter(ac_scheduler *s, ac_waiter *w);
/* Unlinks and frees w, cancelling its timer (its fetch is answered or goes nowhere). */
void ac_sched_end_wait(ac_scheduler *s, ac_waiter *w);
/* Takes the record of the proposal for task_id (NULL: none), freeing the endpoint
 * slot it held (a waiting task may go). Caller owns it: ac_sched_proposal_free. */
ac_sched_proposal *ac_sched_proposal_take(ac_scheduler *s, uint64_t task_id);
/* p (queued again; pr may be NULL) after the proposal pr: at the generation proposed,
 * the queue re-announced it untaken, so p keeps pr's fallback and is not counted again. */
void ac_sched_proposal_back(ac_sched_proposal *pr, ac_pending *p);
/* The queue refused the proposal of task_id at generation: uncounted, slot freed. */
void ac_sched_proposal_refused(ac_scheduler *s, uint64_t task_id, uint32_t generation);
void ac_sched_proposal_free(ac_sched_proposal *pr);

/* sched_agents.c */
/* The cached fetch of agent_id when it was built for a fetch on pipe_id, or NULL
 * (then the fetch goes through the registry). Borrowed until the next drop or put. */
ac_sched_agent *ac_sched_agents_find(ac_scheduler *s, ac_str agent_id, uint32_t pipe_id);
/* Caches fetch[0..len) (copied; an AC_MSG_FETCH body) for agent_id on pipe_id, replacing
 * what was there. Out of memory leaves nothing cached, which is always correct. */
void ac_sched_agents_put(ac_scheduler *s, ac_str agent_id, uint32_t pipe_id, const uint8_t *fetch,
    size_t len);
/* Forgets agent_id's cached fetch (no-op when none). */
void ac_sched_agents_drop(ac_scheduler *s, ac_str agent_id);
/* ag fetched through the cache: notes it for the registry, at most once per interval
 * (sent by ac_sched_flush). */
void ac_sched_agents_seen(ac_scheduler *s, ac_sched_agent *ag);
/* Frees every entry and the pending notes (scheduler teardown). */
void ac_sched_agents_free(ac_scheduler *s);

/* sched_decode.c */
/* A pending task from a queue task event (caller owns it and *caps), NULL on a bad
 * spec or AC_ENOMEM. Strings of arena are copied. */
ac_pending *ac_sched_pending_from(const ac_task_event *e, ac_arena *arena, ac_caps *caps);
/* Copies a capability list (caller owns *out). AC_ENOMEM. */
ac_err ac_sched_caps_copy(const ac_strs *in, ac_caps *out);
/* Bit per ac_target named in targets (0: none named, i.e. all). */
uint8_t ac_sched_targets_mask(const ac_strs *targets);

#endif
