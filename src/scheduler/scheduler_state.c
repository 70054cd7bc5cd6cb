/* SPDX-License-Identifier: MIT
 * Scheduler view: classes of pending tasks (same capabilities and target), a small
 * array searched linearly (there are few distinct capability sets among the pending
 * tasks; a class no task refers to is swept after each pass), with intrusive
 * FIFO lanes per priority inside; ids are found through a hash map. Held fetches and
 * their profiles are in sched_waiters.c, tasks waiting for an endpoint in sched_wait.c.
 */
#include <stdlib.h>
#include <string.h>

#include "queue/task_map.h"
#include "scheduler/sched_wait.h"
#include "scheduler/scheduler_state_int.h"

void ac_caps_free(ac_caps *c)
{
	for (uint32_t i = 0; i < c->count; i++) {
		free(c->items[i]);
	}
	free(c->items);
	c->items = NULL;
	c->count = 0;
}

bool ac_sched_caps_equal(const ac_caps *a, const ac_caps *b)
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

void ac_sched_pending_free(ac_pending *p)
{
	if (p == NULL) {
		return;
	}
	free(p->model);
	free(p->repo);
	free(p->avoid);
	free(p);
}

void ac_sched_state_free(ac_sched_state *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < s->tasks.cap; i++) {
		if (s->tasks.slots[i].val != NULL) {
			ac_sched_pending_free(s->tasks.slots[i].val);
		}
	}
	for (size_t i = 0; i < s->class_count; i++) {
		ac_caps_free(&s->classes[i]->caps);
		free(s->classes[i]);
	}
	ac_sched_profiles_free(s);
	ac_sched_waits_free(s->waits);
	free(s->classes);
	ac_task_map_fini(&s->tasks);
	free(s);
}

/* ---- classes and lanes ---- */

/* Finds or creates the class of (caps, target); caps is taken when a class is made,
 * freed otherwise. */
static ac_sched_class *find_class(ac_sched_state *s, const ac_caps *caps, ac_target target)
{
	for (size_t i = 0; i < s->class_count; i++) {
		if (s->classes[i]->target == target && ac_sched_caps_equal(&s->classes[i]->caps, caps)) {
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
	if (l->head != NULL && before(p, l->head)) {
		at = NULL; /* older than all: a task given back re-enters at the front in O(1) */
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

static void unref_class(ac_sched_state *s, ac_sched_class *c)
{
	if (c != NULL && --c->refs == 0) {
		s->has_unused = true;
	}
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
		unref_class(s, p->cls);
		ac_sched_pending_free(p);
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
	unref_class(s, p->cls);
	c->refs++;
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
	ac_sched_class *c;

	ac_sched_drop_task(s, p->id);
	p->cls = NULL;
	if ((c = class_for(s, caps, p->target)) == NULL) {
		return AC_ENOMEM;
	}
	if (ac_task_map_put(&s->tasks, p->id, p) != AC_OK) {
		s->has_unused |= c->refs == 0; /* a class made for it alone (it took caps) */
		return AC_ENOMEM;
	}
	c->refs++;
	p->cls = c;
	p->in_lane = false;
	return AC_OK;
}

void ac_sched_sweep(ac_sched_state *s, size_t when_more_than)
{
	size_t keep = 0;

	if (!s->has_unused || s->class_count + s->profile_count <= when_more_than) {
		return;
	}
	for (size_t i = 0; i < s->class_count; i++) {
		if (s->classes[i]->refs > 0) {
			s->classes[keep++] = s->classes[i];
		} else {
			ac_caps_free(&s->classes[i]->caps);
			free(s->classes[i]);
		}
	}
	s->class_count = keep;
	ac_sched_profiles_sweep(s);
	s->has_unused = false;
}

size_t ac_sched_class_count(const ac_sched_state *s)
{
	return s->class_count;
}

size_t ac_sched_profile_count(const ac_sched_state *s)
{
	return s->profile_count;
}

ac_pending *ac_sched_find_task(ac_sched_state *s, uint64_t id)
{
	return ac_task_map_find(&s->tasks, id, NULL, NULL);
}

size_t ac_sched_task_count(const ac_sched_state *s)
{
	return s->tasks.count;
}

/* ---- matching ---- */

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
		if (c->count == 0 || !ac_sched_profile_takes(w->prof, c) || (h = class_head(c)) == NULL) {
			continue;
		}
		if (best == NULL || h->priority < best->priority ||
		    (h->priority == best->priority && before(h, best))) {
			best = h;
		}
	}
	return best;
}
