/* SPDX-License-Identifier: MIT
 * Held fetches of the scheduler view: profiles (same capabilities and targets), each a
 * FIFO of fetches plus an index of them by the endpoint their agent runs next to, and
 * the matching of a task to a fetch. Profiles are few: a small array searched linearly,
 * holding only profiles with fetches in them (empty ones are swept after each pass).
 */
#include <stdlib.h>
#include <string.h>

#include "scheduler/scheduler_state_int.h"

/* True when have contains every item of need. */
static bool caps_cover(const ac_caps *have, const ac_caps *need)
{
	for (uint32_t i = 0; i < need->count; i++) {
		uint32_t j = 0;
		while (j < have->count && strcmp(have->items[j], need->items[i]) != 0) {
			j++;
		}
		if (j == have->count) {
			return false;
		}
	}
	return true;
}

static bool waiter_is(const void *val, const void *ctx)
{
	return strcmp(((const ac_waiter *)val)->agent, ctx) == 0;
}

static bool near_is(const void *val, const void *ctx)
{
	return strcmp(((const near_list *)val)->head->endpoint, ctx) == 0;
}

void ac_waiter_free(ac_waiter *w)
{
	if (w != NULL) {
		free(w->fetch);
		free(w);
	}
}

static void profile_free(ac_sched_profile *p)
{
	for (size_t j = 0; j < p->near.cap; j++) {
		free(p->near.slots[j].val);
	}
	ac_task_map_fini(&p->near);
	ac_caps_free(&p->caps);
	free(p);
}

void ac_sched_profiles_free(ac_sched_state *s)
{
	for (size_t i = 0; i < s->waiters.cap; i++) {
		ac_waiter_free(s->waiters.slots[i].val);
	}
	for (size_t i = 0; i < s->profile_count; i++) {
		profile_free(s->profiles[i]);
	}
	free(s->profiles);
	ac_task_map_fini(&s->waiters);
}

void ac_sched_profiles_sweep(ac_sched_state *s)
{
	size_t keep = 0;

	for (size_t i = 0; i < s->profile_count; i++) {
		if (s->profiles[i]->count > 0) {
			s->profiles[keep++] = s->profiles[i];
		} else {
			profile_free(s->profiles[i]);
		}
	}
	s->profile_count = keep;
}

static ac_sched_profile *profile_for(ac_sched_state *s, ac_caps *caps, uint8_t targets)
{
	ac_sched_profile *p, **grown;

	for (size_t i = 0; i < s->profile_count; i++) {
		if (s->profiles[i]->targets == targets && ac_sched_caps_equal(&s->profiles[i]->caps, caps)) {
			ac_caps_free(caps);
			return s->profiles[i];
		}
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (grown = realloc(s->profiles, (s->profile_count + 1) * sizeof(*grown))) == NULL) {
		free(p);
		return NULL;
	}
	p->caps = *caps;
	*caps = (ac_caps){ 0 };
	p->targets = targets;
	s->profiles = grown;
	s->profiles[s->profile_count++] = p;
	return p;
}

/* Appends w to its profile's list of waiters next to w->endpoint (none: no-op). */
static ac_err near_link(ac_sched_profile *p, ac_waiter *w)
{
	uint64_t key = ac_task_map_hash(w->endpoint);
	near_list *l;

	w->near_prev = w->near_next = NULL;
	if (w->endpoint[0] == '\0') {
		return AC_OK;
	}
	if ((l = ac_task_map_find(&p->near, key, near_is, w->endpoint)) != NULL) {
		w->near_prev = l->tail;
		l->tail->near_next = w;
		l->tail = w;
		return AC_OK;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		return AC_ENOMEM;
	}
	l->head = l->tail = w;
	if (ac_task_map_put(&p->near, key, l) != AC_OK) {
		free(l);
		return AC_ENOMEM;
	}
	return AC_OK;
}

static void near_unlink(ac_sched_profile *p, ac_waiter *w)
{
	uint64_t key = ac_task_map_hash(w->endpoint);
	near_list *l;

	if (w->endpoint[0] == '\0' ||
	    (l = ac_task_map_find(&p->near, key, near_is, w->endpoint)) == NULL) {
		return;
	}
	if (l->head == w && l->tail == w) {
		ac_task_map_remove(&p->near, key, near_is, w->endpoint);
		free(l);
		return;
	}
	if (w->near_prev) {
		w->near_prev->near_next = w->near_next;
	} else {
		l->head = w->near_next;
	}
	if (w->near_next) {
		w->near_next->near_prev = w->near_prev;
	} else {
		l->tail = w->near_prev;
	}
	w->near_prev = w->near_next = NULL;
}

ac_err ac_sched_add_waiter(ac_sched_state *s, ac_waiter *w, ac_caps *caps, uint8_t targets)
{
	ac_sched_profile *p = profile_for(s, caps, targets);

	if (p == NULL || near_link(p, w) != AC_OK) {
		return AC_ENOMEM;
	}
	if (ac_task_map_put(&s->waiters, ac_task_map_hash(w->agent), w) != AC_OK) {
		near_unlink(p, w);
		return AC_ENOMEM;
	}
	w->prof = p;
	w->seq = ++s->next_waiter_seq;
	w->next = NULL;
	w->prev = p->tail;
	if (p->tail) {
		p->tail->next = w;
	} else {
		p->head = w;
	}
	p->tail = w;
	p->count++;
	s->waiter_count++;
	return AC_OK;
}

ac_waiter *ac_sched_find_waiter(ac_sched_state *s, const char *agent)
{
	return ac_task_map_find(&s->waiters, ac_task_map_hash(agent), waiter_is, agent);
}

void ac_sched_take_waiter(ac_sched_state *s, ac_waiter *w)
{
	ac_sched_profile *p = w->prof;

	ac_task_map_remove(&s->waiters, ac_task_map_hash(w->agent), waiter_is, w->agent);
	near_unlink(p, w);
	if (w->prev) {
		w->prev->next = w->next;
	} else {
		p->head = w->next;
	}
	if (w->next) {
		w->next->prev = w->prev;
	} else {
		p->tail = w->prev;
	}
	w->prev = w->next = NULL;
	if (--p->count == 0) {
		s->has_unused = true; /* swept between passes: a walk may be on it now */
	}
	s->waiter_count--;
}

void ac_sched_each_waiter(ac_sched_state *s, void (*fn)(void *ctx, ac_waiter *w), void *ctx)
{
	for (size_t i = 0; i < s->profile_count; i++) {
		for (ac_waiter *w = s->profiles[i]->head, *next; w != NULL; w = next) {
			next = w->next;
			fn(ctx, w);
		}
	}
}

size_t ac_sched_waiter_count(const ac_sched_state *s)
{
	return s->waiter_count;
}

/* ---- matching ---- */

bool ac_sched_profile_takes(const ac_sched_profile *p, const ac_sched_class *c)
{
	return (p->targets == 0 || (p->targets & (1u << c->target))) && caps_cover(&p->caps, &c->caps);
}

ac_waiter *ac_sched_best_waiter(ac_sched_state *s, const ac_pending *p)
{
	ac_waiter *best = NULL, *avoided = NULL;

	/* each profile's FIFO head that may take p; the longest-waiting of those wins */
	for (size_t i = 0; i < s->profile_count; i++) {
		ac_sched_profile *prof = s->profiles[i];
		if (prof->count == 0 || !ac_sched_profile_takes(prof, p->cls)) {
			continue;
		}
		for (ac_waiter *w = prof->head; w != NULL; w = w->next) {
			if (p->avoid != NULL && strcmp(w->agent, p->avoid) == 0) {
				avoided = w; /* only if nobody else can */
				continue;
			}
			if (best == NULL || w->seq < best->seq) {
				best = w;
			}
			break;
		}
	}
	return best != NULL ? best : avoided;
}

bool ac_sched_waiter_takes(const ac_waiter *w, const ac_pending *p)
{
	return ac_sched_profile_takes(w->prof, p->cls);
}

ac_waiter *ac_sched_best_waiter_near(ac_sched_state *s, const ac_pending *p, const char *endpoint)
{
	ac_waiter *best = NULL;
	uint64_t key = ac_task_map_hash(endpoint);

	for (size_t i = 0; i < s->profile_count; i++) {
		ac_sched_profile *prof = s->profiles[i];
		near_list *l;
		if (prof->count == 0 || !ac_sched_profile_takes(prof, p->cls) ||
		    (l = ac_task_map_find(&prof->near, key, near_is, endpoint)) == NULL) {
			continue;
		}
		for (ac_waiter *w = l->head; w != NULL; w = w->near_next) {
			if (p->avoid != NULL && strcmp(w->agent, p->avoid) == 0) {
				continue; /* a failed agent is not preferred */
			}
			if (best == NULL || w->seq < best->seq) {
				best = w;
			}
			break;
		}
	}
	return best;
}
