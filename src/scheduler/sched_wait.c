/* SPDX-License-Identifier: MIT
 * Waiting list of the scheduler: groups found by a hash of their key (model, whether an
 * endpoint can unblock them), intrusive FIFO lanes per priority inside, and a list of
 * the groups endpoints can unblock. A group is freed when its last task leaves, so
 * memory follows the waiting tasks.
 */
#include <stdlib.h>
#include <string.h>

#include "queue/task_map.h"
#include "scheduler/sched_wait.h"

typedef struct wait_lane {
	ac_pending *head, *tail;
} wait_lane;

struct ac_wait_group {
	char *model;                     /* owned; NULL: the tasks name none */
	bool is_open;                    /* an endpoint can unblock its tasks */
	uint64_t key;
	wait_lane lanes[AC_PRIO_COUNT];
	size_t count;
	struct ac_wait_group *prev, *next; /* the open groups (is_open only) */
};

typedef struct ac_wait_group wait_group;

struct ac_sched_waits {
	ac_task_map groups;              /* key -> wait_group */
	wait_group *open;                /* the groups endpoints can unblock */
	size_t count;
};

/* What a group is found by: the task's model, and whether an endpoint can let it go
 * (its own tier routes to ollama, which its targets allow). */
typedef struct group_key {
	const char *model;
	bool is_open;
} group_key;

static group_key key_of(const ac_pending *p)
{
	bool to_ollama = p->tier == AC_TIER_STANDARD || p->tier == AC_TIER_UNKNOWN;
	bool allows = p->allowed_targets == 0 || (p->allowed_targets & (1u << AC_TARGET_OLLAMA));

	return (group_key){ p->model, to_ollama && allows };
}

static uint64_t hash_key(group_key k)
{
	return ac_task_map_hash(k.model != NULL ? k.model : "") * 2 + k.is_open;
}

static bool group_is(const void *val, const void *ctx)
{
	const wait_group *g = val;
	const group_key *k = ctx;

	return g->is_open == k->is_open &&
	    (g->model == NULL ? k->model == NULL : k->model != NULL && strcmp(g->model, k->model) == 0);
}

ac_err ac_sched_waits_alloc(ac_sched_waits **out)
{
	return (*out = calloc(1, sizeof(**out))) != NULL ? AC_OK : AC_ENOMEM;
}

static void group_free(wait_group *g)
{
	free(g->model);
	free(g);
}

void ac_sched_waits_free(ac_sched_waits *ws)
{
	if (ws == NULL) {
		return;
	}
	for (size_t i = 0; i < ws->groups.cap; i++) {
		if (ws->groups.slots[i].val != NULL) {
			group_free(ws->groups.slots[i].val);
		}
	}
	ac_task_map_fini(&ws->groups);
	free(ws);
}

/* The group of key k, made when missing; NULL on AC_ENOMEM. */
static wait_group *group_for(ac_sched_waits *ws, group_key k)
{
	uint64_t key = hash_key(k);
	wait_group *g = ac_task_map_find(&ws->groups, key, group_is, &k);

	if (g != NULL) {
		return g;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (k.model != NULL && (g->model = strdup(k.model)) == NULL) ||
	    ac_task_map_put(&ws->groups, key, g) != AC_OK) {
		if (g != NULL) {
			group_free(g);
		}
		return NULL;
	}
	g->is_open = k.is_open;
	g->key = key;
	if (g->is_open) {
		g->next = ws->open;
		if (ws->open != NULL) {
			ws->open->prev = g;
		}
		ws->open = g;
	}
	return g;
}

static void group_drop(ac_sched_waits *ws, wait_group *g)
{
	group_key k = { g->model, g->is_open };

	if (g->is_open) {
		if (g->prev != NULL) {
			g->prev->next = g->next;
		} else {
			ws->open = g->next;
		}
		if (g->next != NULL) {
			g->next->prev = g->prev;
		}
	}
	ac_task_map_remove(&ws->groups, g->key, group_is, &k);
	group_free(g);
}

ac_err ac_sched_waits_add(ac_sched_waits *ws, ac_pending *p)
{
	wait_group *g;
	wait_lane *l;

	if (p->is_waiting) {
		return AC_OK;
	}
	if ((g = group_for(ws, key_of(p))) == NULL) {
		return AC_ENOMEM;
	}
	l = &g->lanes[p->priority];
	p->wait_group = g;
	p->wait_next = NULL;
	p->wait_prev = l->tail;
	if (l->tail != NULL) {
		l->tail->wait_next = p;
	} else {
		l->head = p;
	}
	l->tail = p;
	p->is_waiting = true;
	g->count++;
	ws->count++;
	return AC_OK;
}

void ac_sched_waits_remove(ac_sched_waits *ws, ac_pending *p)
{
	wait_group *g = p->wait_group;
	wait_lane *l;

	if (!p->is_waiting) {
		return;
	}
	l = &g->lanes[p->priority];
	if (p->wait_prev != NULL) {
		p->wait_prev->wait_next = p->wait_next;
	} else {
		l->head = p->wait_next;
	}
	if (p->wait_next != NULL) {
		p->wait_next->wait_prev = p->wait_prev;
	} else {
		l->tail = p->wait_prev;
	}
	p->wait_prev = p->wait_next = NULL;
	p->wait_group = NULL;
	p->is_waiting = false;
	ws->count--;
	if (--g->count == 0) {
		group_drop(ws, g);
	}
}

void ac_sched_waits_each_head(ac_sched_waits *ws, void (*fn)(void *ctx, ac_pending *p), void *ctx)
{
	for (wait_group *g = ws->open; g != NULL; g = g->next) {
		for (int pr = 0; pr < AC_PRIO_COUNT; pr++) {
			if (g->lanes[pr].head != NULL) {
				fn(ctx, g->lanes[pr].head);
				break;
			}
		}
	}
}

size_t ac_sched_waits_count(const ac_sched_waits *ws)
{
	return ws->count;
}

static bool group_check(const wait_group *g, size_t *total)
{
	size_t n = 0;

	for (int pr = 0; pr < AC_PRIO_COUNT; pr++) {
		const ac_pending *prev = NULL;
		for (const ac_pending *p = g->lanes[pr].head; p != NULL; prev = p, p = p->wait_next) {
			if (p->wait_group != g || p->wait_prev != prev || !p->is_waiting ||
			    (int)p->priority != pr) {
				return false;
			}
			n++;
		}
		if (g->lanes[pr].tail != prev) {
			return false;
		}
	}
	*total += n;
	return n == g->count && n > 0;
}

bool ac_sched_waits_check(const ac_sched_waits *ws)
{
	size_t total = 0, open = 0;

	for (size_t i = 0; i < ws->groups.cap; i++) {
		const wait_group *g = ws->groups.slots[i].val;
		if (g == NULL) {
			continue;
		}
		if (!group_check(g, &total)) {
			return false;
		}
		open += g->is_open;
	}
	for (const wait_group *g = ws->open; g != NULL; g = g->next) {
		if (!g->is_open || open == 0) {
			return false;
		}
		open--;
	}
	return total == ws->count && open == 0 && ac_task_map_check(&ws->groups);
}
