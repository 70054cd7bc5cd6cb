/* SPDX-License-Identifier: MIT
 * What the scheduler reads out of other actors' messages: a queue task event into a
 * pending task (its routing inputs only), and capability and target lists. Decoding
 * only; no state, no I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "scheduler/scheduler_int.h"

static void read_complexity(ac_pending *p, ac_raw raw, ac_arena *arena)
{
	ac_complexity cx;

	p->tier = AC_TIER_UNKNOWN;
	if (!raw.set || ac_complexity_decode(raw.p, raw.len, arena, &cx) != AC_OK) {
		return;
	}
	p->tier = cx.effective_tier;
	p->is_explicit = cx.is_explicit_source;
	p->confidence = cx.confidence;
	p->word_count = cx.word_count;
	p->file_count = cx.file_count;
}

uint8_t ac_sched_targets_mask(const ac_strs *targets)
{
	uint8_t mask = 0;

	for (uint32_t i = 0; targets->set && i < targets->count; i++) {
		for (int t = 0; t < AC_TARGET_COUNT; t++) {
			mask |= ac_str_eq(targets->items[i], ac_target_names[t]) ? (uint8_t)(1u << t) : 0;
		}
	}
	return mask;
}

ac_err ac_sched_caps_copy(const ac_strs *in, ac_caps *out)
{
	*out = (ac_caps){ 0 };
	if (!in->set || in->count == 0) {
		return AC_OK;
	}
	if ((out->items = calloc(in->count, sizeof(char *))) == NULL) {
		return AC_ENOMEM;
	}
	for (uint32_t i = 0; i < in->count; i++, out->count++) {
		if ((out->items[i] = strndup(in->items[i].p, in->items[i].len)) == NULL) {
			ac_caps_free(out);
			return AC_ENOMEM;
		}
	}
	return AC_OK;
}

ac_pending *ac_sched_pending_from(const ac_task_event *e, ac_arena *arena, ac_caps *caps)
{
	ac_task_wire *route = ac_arena_alloc(arena, sizeof(*route));
	ac_pending *p = calloc(1, sizeof(*p));

	if (p == NULL || route == NULL || !e->spec.set ||
	    ac_schema_decode_bytes(&ac_task_route_schema, e->spec.p, e->spec.len, route, arena, NULL) !=
	        AC_OK ||
	    ac_sched_caps_copy(&route->needed_capabilities, caps) != AC_OK) {
		free(p);
		return NULL;
	}
	p->id = e->id.v;
	p->generation = (uint32_t)e->generation.v;
	p->priority = (ac_priority)e->priority.v;
	p->enqueued_at_ms = e->enqueued_at_ms.v;
	p->not_before_ms = e->not_before_ms.v;
	read_complexity(p, route->complexity, arena);
	p->allowed_targets = ac_sched_targets_mask(&route->targets);
	p->target = AC_TARGET_SIDECAR; /* the router decides on release */
	p->model = route->model.set ? strndup(route->model.p, route->model.len) : NULL;
	p->repo = route->repo.set ? strndup(route->repo.p, route->repo.len) : NULL;
	p->avoid = e->avoid_agent.set && e->avoid_agent.len > 0 ?
	    strndup(e->avoid_agent.p, e->avoid_agent.len) : NULL;
	return p;
}
