/* SPDX-License-Identifier: MIT
 * Scheduler actor internals shared by scheduler.c (task events, fetches, proposals)
 * and sched_route.c (routing, waiting for endpoints, fallback, alerts, explain).
 */
#ifndef AC_SCHEDULER_SCHEDULER_INT_H
#define AC_SCHEDULER_SCHEDULER_INT_H

#include <nng/nng.h>

#include "queue/task_map.h"
#include "routing/router.h"
#include "scheduler/sched_endpoints.h"
#include "scheduler/scheduler.h"
#include "scheduler/scheduler_state.h"

#define AC_MAX_ROUTE_ENDPOINTS 1024
#define AC_SAFETY_PASS_MS 30000
#define AC_ALERT_REPEAT_MS 300000

enum { TIMER_FETCH = 1, TIMER_DELAY, TIMER_FALLBACK, TIMER_SAFETY, TIMER_ALERT };

struct ac_scheduler {
	const ac_config *cfg;
	ac_actor *actor;
	ac_sched_state *st;
	ac_sched_endpoints *eps;
	nng_socket events;           /* SUB to the registry's endpoint events */
	ac_task_map flights;         /* task id -> endpoint id (malloc'ed) it was sent to */
	ac_route_endpoint *view;     /* scratch for the router, AC_MAX_ROUTE_ENDPOINTS */
	uint64_t by_tier[AC_TIER_COUNT];
	uint64_t by_target[AC_TARGET_COUNT];
	uint64_t fallbacks;
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
/* Tries every waiting task again (an endpoint recovered, a slot freed, safety pass). */
void ac_sched_reevaluate(ac_scheduler *s);
/* Registry event socket and snapshots. */
void ac_sched_on_endpoint_event(void *state, ac_actor *a, const uint8_t *p, size_t len);
void ac_sched_on_snapshot(void *state, ac_call *call);
void ac_sched_request_snapshot(ac_scheduler *s);
/* The tier-down alert: checks state after the view changed; and its timer. */
void ac_sched_check_alert(ac_scheduler *s);
void ac_sched_on_alert_timer(ac_scheduler *s);
/* route.explain against the live view. */
void ac_sched_on_explain(void *state, ac_call *call);
/* A task left its endpoint (finished, requeued, removed). */
void ac_sched_release_flight(ac_scheduler *s, uint64_t task_id);
/* Places p with a waiting agent if one can take it. */
void ac_sched_try_place(ac_scheduler *s, ac_pending *p);

#endif
