/* SPDX-License-Identifier: MIT
 * Scheduler view: classes of pending tasks and profiles of held fetches, each a small
 * array searched linearly (there are few distinct capability sets), with intrusive
 * FIFO lists inside. Ids and agents are found through hash maps.
 */
#include <stdlib.h>
#include <string.h>

#include "queue/task_map.h"
#include "scheduler/sched_wait.h"
#include "scheduler/scheduler_state.h"

typedef struct lane {
	ac_pending *head, *tail;
} lane;

struct ac_sched_class {
	ac_caps caps;
	ac_target target;
	lane lanes[AC_PRIO_COUNT];
	size_t count;
};

struct ac_sched_profile {
	ac_caps caps;
	uint8_t targets; /* bit per ac_target; 0 = all */
	ac_waiter *head, *tail;
	size_t count;
	ac_task_map near; /* endpoint hash -> near_list of its waiters with that endpoint */
};

/* A profile's waiters next to one endpoint, in arrival order; freed when empty. */
typedef struct near_list {
	ac_waiter *head, *tail;
} near_list;

struct ac_sched_state {
	ac_sched_class **classes;
	size_t class_count;
	ac_sched_profile **profiles;
	size_t profile_count;
	ac_task_map tasks;   /* id -> ac_pending */
	ac_task_map waiters; /* agent hash -> ac_waiter */
	size_t waiter_count;
	ac_sched_waits *waits; /* tasks waiting for an endpoint */
	uint64_t next_waiter_seq;
};

void ac_caps_free(ac_caps *c)
{
	for (uint32_t i = 0; i < c->count; i++) {
		free(c->items[i]);
	}
	free(c->items);
	c->items = NULL;
	c->count = 0;
}

static bool caps_equal(const ac_caps *a, const ac_caps *b)
{
	if (a->count != b->count) {
		return false;
	}
	for (uint32_t i = 0; i < a->count; i++) {
		if (strcmp(a->items[i], b->items[i]) != 0) {
			return false;
		}
	}
	return true;
}

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

ac_err ac_sched_state_alloc(ac_sched_state **out)
{
	ac_sched_state *s = calloc(1, sizeof(*s));

	if (s == NULL || ac_sched_waits_alloc(&s->waits) != AC_OK) {
		free(s);
		return AC_ENOMEM;
	}
	ac_task_map_init(&s->tasks);
	ac_task_map_init(&s->waiters);
	*out = s;
	return AC_OK;
}

static void free_pending(ac_pending *p)
{
	free(p->model);
	free(p->repo);
	free(p);
}

void ac_waiter_free(ac_waiter *w)
{
	if (w != NULL) {
		free(w->fetch);
		free(w);
	}
}

void ac_sched_state_free(ac_sched_state *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < s->tasks.cap; i++) {
		if (s->tasks.slots[i].val != NULL) {
			free_pending(s->tasks.slots[i].val);
		}
	}
	for (size_t i = 0; i < s->waiters.cap; i++) {
		ac_waiter_free(s->waiters.slots[i].val);
	}
	for (size_t i = 0; i < s->class_count; i++) {
		ac_caps_free(&s->classes[i]->caps);
		free(s->classes[i]);
	}
	for (size_t i = 0; i < s->profile_count; i++) {
		ac_task_map *near = &s->profiles[i]->near;
		for (size_t j = 0; j < near->cap; j++) {
			free(near->slots[j].val);
		}
		ac_task_map_fini(near);
		ac_caps_free(&s->profiles[i]->caps);
		free(s->profiles[i]);
	}
	ac_sched_waits_free(s->waits);
	free(s->classes);
	free(s->profiles);
	ac_task_map_fini(&s->tasks);
	ac_task_map_fini(&s->waiters);
	free(s);
}

/* ---- classes and lanes ---- */

/* Finds or creates the class of (caps, target); caps is taken when a class is made,
 * freed otherwise. */
static ac_sched_class *find_class(ac_sched_state *s, const ac_caps *caps, ac_target target)
{
	for (size_t i = 0; i < s->class_count; i++) {
		if (s->classes[i]->target == target && caps_equal(&s->classes[i]->caps, caps)) {
			return s->classes[i];
		}
	}
	return NULL;
}

static ac_sched_class *class_for(ac_sched_state *s, ac_caps *caps, ac_target target)
{
	ac_sched_class *c = find_class(s, caps, target), **grown;

	if (c != NULL) {
		ac_caps_free(caps);
		return c;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (grown = realloc(s->classes, (s->class_count + 1) * sizeof(*grown))) == NULL) {
		free(c);
		return NULL;
	}
	c->caps = *caps;
	*caps = (ac_caps){ 0 };
	c->target = target;
	s->classes = grown;
	s->classes[s->class_count++] = c;
	return c;
}

static bool before(const ac_pending *a, const ac_pending *b)
{
	return a->enqueued_at_ms < b->enqueued_at_ms ||
	    (a->enqueued_at_ms == b->enqueued_at_ms && a->id < b->id);
}

void ac_sched_release(ac_sched_state *s, ac_pending *p)
{
	lane *l = &p->cls->lanes[p->priority];
	ac_pending *at = l->tail;

	(void)s;
	if (p->in_lane) {
		return;
	}
	while (at != NULL && before(p, at)) { /* normally the tail: O(1) */
		at = at->prev;
	}
	p->prev = at;
	p->next = at ? at->next : l->head;
	if (p->next) {
		p->next->prev = p;
	} else {
		l->tail = p;
	}
	if (at) {
		at->next = p;
	} else {
		l->head = p;
	}
	p->in_lane = true;
	p->cls->count++;
}

static void unlink_pending(ac_pending *p)
{
	lane *l = &p->cls->lanes[p->priority];

	if (!p->in_lane) {
		return;
	}
	if (p->prev) {
		p->prev->next = p->next;
	} else {
		l->head = p->next;
	}
	if (p->next) {
		p->next->prev = p->prev;
	} else {
		l->tail = p->prev;
	}
	p->prev = p->next = NULL;
	p->in_lane = false;
	p->cls->count--;
}

void ac_sched_drop_task(ac_sched_state *s, uint64_t id)
{
	ac_pending *p = ac_task_map_remove(&s->tasks, id, NULL, NULL);

	if (p != NULL) {
		unlink_pending(p);
		ac_sched_unwait(s, p);
		free_pending(p);
	}
}

static ac_err copy_caps(const ac_caps *from, ac_caps *to)
{
	*to = (ac_caps){ 0 };
	if (from->count == 0) {
		return AC_OK;
	}
	if ((to->items = calloc(from->count, sizeof(char *))) == NULL) {
		return AC_ENOMEM;
	}
	for (uint32_t i = 0; i < from->count; i++, to->count++) {
		if ((to->items[i] = strdup(from->items[i])) == NULL) {
			ac_caps_free(to);
			return AC_ENOMEM;
		}
	}
	return AC_OK;
}

ac_err ac_sched_retarget(ac_sched_state *s, ac_pending *p, ac_target target)
{
	ac_sched_class *c;
	ac_caps caps = { 0 };

	if (p->cls->target == target) {
		p->target = target;
		return AC_OK;
	}
	/* a burst of fallbacks moves many tasks: copy the capabilities only for a new class */
	if ((c = find_class(s, &p->cls->caps, target)) == NULL &&
	    (copy_caps(&p->cls->caps, &caps) != AC_OK || (c = class_for(s, &caps, target)) == NULL)) {
		ac_caps_free(&caps);
		return AC_ENOMEM;
	}
	unlink_pending(p);
	p->cls = c;
	p->target = target;
	return AC_OK;
}

ac_err ac_sched_wait(ac_sched_state *s, ac_pending *p)
{
	if (p->is_waiting) {
		return AC_OK;
	}
	unlink_pending(p);
	return ac_sched_waits_add(s->waits, p);
}

void ac_sched_unwait(ac_sched_state *s, ac_pending *p)
{
	ac_sched_waits_remove(s->waits, p);
}

void ac_sched_each_wait_head(ac_sched_state *s, void (*fn)(void *ctx, ac_pending *p), void *ctx)
{
	ac_sched_waits_each_head(s->waits, fn, ctx);
}

size_t ac_sched_waiting_count(const ac_sched_state *s)
{
	return ac_sched_waits_count(s->waits);
}

ac_err ac_sched_add_task(ac_sched_state *s, ac_pending *p, ac_caps *caps)
{
	ac_sched_drop_task(s, p->id);
	if ((p->cls = class_for(s, caps, p->target)) == NULL) {
		return AC_ENOMEM;
	}
	if (ac_task_map_put(&s->tasks, p->id, p) != AC_OK) {
		return AC_ENOMEM;
	}
	p->in_lane = false;
	return AC_OK;
}

ac_pending *ac_sched_find_task(ac_sched_state *s, uint64_t id)
{
	return ac_task_map_find(&s->tasks, id, NULL, NULL);
}

size_t ac_sched_task_count(const ac_sched_state *s)
{
	return s->tasks.count;
}

/* ---- profiles and waiters ---- */

static ac_sched_profile *profile_for(ac_sched_state *s, ac_caps *caps, uint8_t targets)
{
	ac_sched_profile *p, **grown;

	for (size_t i = 0; i < s->profile_count; i++) {
		if (s->profiles[i]->targets == targets && caps_equal(&s->profiles[i]->caps, caps)) {
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
	near_list *l;

	w->near_prev = w->near_next = NULL;
	if (w->endpoint[0] == '\0') {
		return AC_OK;
	}
	if ((l = ac_task_map_find(&p->near, ac_task_map_hash(w->endpoint), near_is, w->endpoint)) != NULL) {
		w->near_prev = l->tail;
		l->tail->near_next = w;
		l->tail = w;
		return AC_OK;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		return AC_ENOMEM;
	}
	l->head = l->tail = w;
	if (ac_task_map_put(&p->near, ac_task_map_hash(w->endpoint), l) != AC_OK) {
		free(l);
		return AC_ENOMEM;
	}
	return AC_OK;
}

static void near_unlink(ac_sched_profile *p, ac_waiter *w)
{
	near_list *l;

	if (w->endpoint[0] == '\0' ||
	    (l = ac_task_map_find(&p->near, ac_task_map_hash(w->endpoint), near_is, w->endpoint)) == NULL) {
		return;
	}
	if (l->head == w && l->tail == w) {
		ac_task_map_remove(&p->near, ac_task_map_hash(w->endpoint), near_is, w->endpoint);
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
	p->count--;
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

static bool profile_takes(const ac_sched_profile *p, const ac_sched_class *c)
{
	return (p->targets == 0 || (p->targets & (1u << c->target))) && caps_cover(&p->caps, &c->caps);
}

static ac_pending *class_head(const ac_sched_class *c)
{
	for (int pr = 0; pr < AC_PRIO_COUNT; pr++) {
		if (c->lanes[pr].head != NULL) {
			return c->lanes[pr].head;
		}
	}
	return NULL;
}

ac_pending *ac_sched_best_task(ac_sched_state *s, const ac_waiter *w)
{
	ac_pending *best = NULL;

	for (size_t i = 0; i < s->class_count; i++) {
		ac_sched_class *c = s->classes[i];
		ac_pending *h;
		if (c->count == 0 || !profile_takes(w->prof, c) || (h = class_head(c)) == NULL) {
			continue;
		}
		if (best == NULL || h->priority < best->priority ||
		    (h->priority == best->priority && before(h, best))) {
			best = h;
		}
	}
	return best;
}

ac_waiter *ac_sched_best_waiter(ac_sched_state *s, const ac_pending *p)
{
	ac_waiter *best = NULL, *avoided = NULL;

	/* each profile's FIFO head that may take p; the longest-waiting of those wins */
	for (size_t i = 0; i < s->profile_count; i++) {
		ac_sched_profile *prof = s->profiles[i];
		if (prof->count == 0 || !profile_takes(prof, p->cls)) {
			continue;
		}
		for (ac_waiter *w = prof->head; w != NULL; w = w->next) {
			if (p->avoid[0] != '\0' && strcmp(w->agent, p->avoid) == 0) {
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
	return profile_takes(w->prof, p->cls);
}

ac_waiter *ac_sched_best_waiter_near(ac_sched_state *s, const ac_pending *p, const char *endpoint)
{
	ac_waiter *best = NULL;
	uint64_t key = ac_task_map_hash(endpoint);

	for (size_t i = 0; i < s->profile_count; i++) {
		ac_sched_profile *prof = s->profiles[i];
		near_list *l;
		if (prof->count == 0 || !profile_takes(prof, p->cls) ||
		    (l = ac_task_map_find(&prof->near, key, near_is, endpoint)) == NULL) {
			continue;
		}
		for (ac_waiter *w = l->head; w != NULL; w = w->near_next) {
			if (p->avoid[0] != '\0' && strcmp(w->agent, p->avoid) == 0) {
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
