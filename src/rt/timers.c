/* SPDX-License-Identifier: MIT
 * Deadline heap with O(log n) cancel. A handle names a slot (low 32 bits, 1-based) and
 * the slot's generation (high 32 bits), so a stale handle never cancels a reused slot.
 * Ties on the deadline fire in insertion order.
 */
#include <stdlib.h>

#include "rt/array.h"
#include "rt/timers.h"

typedef struct node {
	int64_t deadline_ms;
	uint64_t seq;  /* insertion order, for FIFO among equal deadlines */
	uint32_t slot;
	uint32_t kind;
	uint64_t tag;
} node;

typedef struct slot {
	uint32_t gen;
	uint32_t pos;   /* index in heap while in use; next free slot otherwise */
	bool in_use;
} slot;

struct ac_timers {
	node *heap;
	size_t count, cap;
	slot *slots;
	uint32_t slot_count, slot_cap;
	uint32_t free_head; /* 1-based index of the first free slot, 0 = none */
	uint64_t next_seq;
};

static bool earlier(const node *a, const node *b)
{
	return a->deadline_ms < b->deadline_ms ||
	    (a->deadline_ms == b->deadline_ms && a->seq < b->seq);
}

static void place(ac_timers *t, size_t i, node n)
{
	t->heap[i] = n;
	t->slots[n.slot].pos = (uint32_t)i;
}

static void sift_up(ac_timers *t, size_t i)
{
	node n = t->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!earlier(&n, &t->heap[parent])) {
			break;
		}
		place(t, i, t->heap[parent]);
		i = parent;
	}
	place(t, i, n);
}

static void sift_down(ac_timers *t, size_t i)
{
	node n = t->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= t->count) {
			break;
		}
		if (child + 1 < t->count && earlier(&t->heap[child + 1], &t->heap[child])) {
			child++;
		}
		if (!earlier(&t->heap[child], &n)) {
			break;
		}
		place(t, i, t->heap[child]);
		i = child;
	}
	place(t, i, n);
}

ac_err ac_timers_alloc(ac_timers **out)
{
	ac_timers *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		return AC_ENOMEM;
	}
	*out = t;
	return AC_OK;
}

void ac_timers_free(ac_timers *t)
{
	if (t == NULL) {
		return;
	}
	free(t->heap);
	free(t->slots);
	free(t);
}

static ac_err grow(ac_timers *t)
{
	node *h = ac_array_reserve(t->heap, &t->cap, t->count, sizeof(*h), 64);

	if (h == NULL) {
		return AC_ENOMEM;
	}
	t->heap = h;
	if (t->free_head == 0 && t->slot_count == t->slot_cap) {
		uint32_t cap = t->slot_cap ? t->slot_cap * 2 : 64;
		slot *s = realloc(t->slots, cap * sizeof(*s));
		if (s == NULL) {
			return AC_ENOMEM;
		}
		t->slots = s;
		t->slot_cap = cap;
	}
	return AC_OK;
}

static uint32_t take_slot(ac_timers *t)
{
	uint32_t s;

	if (t->free_head != 0) {
		s = t->free_head - 1;
		t->free_head = t->slots[s].pos;
	} else {
		s = t->slot_count++;
		t->slots[s].gen = 0;
	}
	t->slots[s].in_use = true;
	t->slots[s].gen++;
	return s;
}

static void release_slot(ac_timers *t, uint32_t s)
{
	t->slots[s].in_use = false;
	t->slots[s].pos = t->free_head;
	t->free_head = s + 1;
}

ac_err ac_timers_add(ac_timers *t, int64_t deadline_ms, uint32_t kind, uint64_t tag,
    ac_timer_id *id_out)
{
	node n;

	if (grow(t) != AC_OK) {
		return AC_ENOMEM;
	}
	n.deadline_ms = deadline_ms;
	n.seq = t->next_seq++;
	n.slot = take_slot(t);
	n.kind = kind;
	n.tag = tag;
	t->heap[t->count++] = n;
	sift_up(t, t->count - 1);
	if (id_out != NULL) {
		*id_out = ((uint64_t)t->slots[n.slot].gen << 32) | (n.slot + 1);
	}
	return AC_OK;
}

static void remove_at(ac_timers *t, size_t i)
{
	release_slot(t, t->heap[i].slot);
	t->count--;
	if (i == t->count) {
		return;
	}
	place(t, i, t->heap[t->count]);
	if (i > 0 && earlier(&t->heap[i], &t->heap[(i - 1) / 2])) {
		sift_up(t, i);
	} else {
		sift_down(t, i);
	}
}

bool ac_timers_cancel(ac_timers *t, ac_timer_id id)
{
	uint32_t s = (uint32_t)(id & 0xffffffffu);
	uint32_t gen = (uint32_t)(id >> 32);

	if (s == 0 || s > t->slot_count) {
		return false;
	}
	s--;
	if (!t->slots[s].in_use || t->slots[s].gen != gen) {
		return false;
	}
	remove_at(t, t->slots[s].pos);
	return true;
}

int64_t ac_timers_next_deadline(const ac_timers *t)
{
	return t->count ? t->heap[0].deadline_ms : INT64_MAX;
}

bool ac_timers_pop_due(ac_timers *t, int64_t now_ms, ac_timer_entry *out)
{
	node n;

	if (t->count == 0 || t->heap[0].deadline_ms > now_ms) {
		return false;
	}
	n = t->heap[0];
	out->deadline_ms = n.deadline_ms;
	out->id = ((uint64_t)t->slots[n.slot].gen << 32) | (n.slot + 1);
	out->kind = n.kind;
	out->tag = n.tag;
	remove_at(t, 0);
	return true;
}

size_t ac_timers_count(const ac_timers *t)
{
	return t->count;
}

bool ac_timers_check(const ac_timers *t)
{
	for (size_t i = 0; i < t->count; i++) {
		const node *n = &t->heap[i];
		if (i > 0 && earlier(n, &t->heap[(i - 1) / 2])) {
			return false;
		}
		if (!t->slots[n->slot].in_use || t->slots[n->slot].pos != i) {
			return false;
		}
	}
	return true;
}
