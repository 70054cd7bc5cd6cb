/* SPDX-License-Identifier: MIT
 * The scheduler's copy of the endpoint table, kept from the registry's events (gapless
 * seq; a gap asks for a snapshot) plus what only the scheduler knows: tasks in flight
 * per endpoint and the repos each served recently. Pure data; no nng, no clock reads.
 */
#ifndef AC_SCHEDULER_SCHED_ENDPOINTS_H
#define AC_SCHEDULER_SCHED_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"
#include "routing/router.h"

typedef struct ac_sched_endpoints ac_sched_endpoints;

ac_err ac_sched_endpoints_alloc(ac_sched_endpoints **out);
void ac_sched_endpoints_free(ac_sched_endpoints *es);

/* What applying an event did. */
typedef enum ac_ep_apply {
	AC_EP_IGNORED,      /* old or before the first snapshot */
	AC_EP_APPLIED,      /* in sequence and applied */
	AC_EP_GAP,          /* a seq was missed: ask the registry for a snapshot */
} ac_ep_apply;

/* Applies one registry event or snapshot (ac_endpoint_event_schema bytes). *unblocks
 * is set when an endpoint became healthy, was registered or got models (waiting tasks
 * should be looked at again). */
ac_ep_apply ac_sched_endpoints_apply(ac_sched_endpoints *es, const uint8_t *p, size_t len,
    bool is_snapshot, bool *unblocks);

/* Whether a snapshot has been applied since start or the last gap. */
bool ac_sched_endpoints_synced(const ac_sched_endpoints *es);

/* Fills out[0..cap) with the router's view of every usable endpoint (healthy, with a
 * model: the router never chooses or counts another) in registration order (pointers
 * borrowed until the next apply), affinity computed for repo (may be NULL). Returns
 * the count. */
size_t ac_sched_endpoints_view(ac_sched_endpoints *es, const char *repo, ac_route_endpoint *out,
    size_t cap);
/* How many entries ac_sched_endpoints_view would fill with room for all. */
size_t ac_sched_endpoints_view_size(ac_sched_endpoints *es);

/* An assignment to / release from endpoint id (in_flight +1 / -1), slots tasks at most
 * per endpoint. Returns 1 when a release opened a slot on a usable endpoint (healthy,
 * with a model) that was full, else 0: only then can a task waiting for a slot go. */
/* The in_flight of endpoint id into *out; false when the view has no such endpoint. */
bool ac_sched_endpoints_in_flight(const ac_sched_endpoints *es, const char *id, uint32_t *out);
uint32_t ac_sched_endpoints_add_flight(ac_sched_endpoints *es, const char *id, int delta,
    uint32_t slots);
/* Free slots on usable endpoints: how many waiting tasks an event can let go at most. */
uint32_t ac_sched_endpoints_free_slots(const ac_sched_endpoints *es, uint32_t slots);
/* Endpoint id served repo at now_ms (repo affinity, 10 minutes). */
void ac_sched_endpoints_served(ac_sched_endpoints *es, const char *id, const char *repo,
    int64_t now_ms);
size_t ac_sched_endpoints_count(const ac_sched_endpoints *es);
/* The view's invariant, for asserts and tests: every endpoint is found by its id and the
 * id index holds exactly the view's endpoints. O(count). */
bool ac_sched_endpoints_check(const ac_sched_endpoints *es);
/* Counts: healthy endpoints, all endpoints. */
void ac_sched_endpoints_health(const ac_sched_endpoints *es, size_t *healthy, size_t *total);

#endif
