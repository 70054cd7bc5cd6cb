/* SPDX-License-Identifier: MIT
 * Open-addressing hash table for the queue state (task ids, idempotency key hashes).
 * Linear probing keeps a lookup to one or two cache lines; backward-shift deletion
 * keeps probe runs short without tombstones, so a long-lived queue never needs a
 * cleanup rehash. Never owns the values it points to.
 */
#include <stdlib.h>
#include <string.h>

#include "queue/task_map.h"
#include "rt/assert.h"

#define MIN_CAP 16
#define NOT_FOUND SIZE_MAX
/* Fibonacci hashing: sequential task ids spread over the whole table. */
#define GOLDEN 0x9E3779B97F4A7C15ull

static size_t get_home(const ac_task_map *m, uint64_t key)
{
	return (size_t)((key * GOLDEN) >> m->shift);
}

/* Load stays at or below 70% so that a probe always meets an empty slot. */
static bool fits(size_t count, size_t cap)
{
	return count <= cap / 10 * 7 + (cap % 10) * 7 / 10;
}

static void place(ac_task_map_slot *slots, size_t mask, size_t home, ac_task_map_slot s)
{
	size_t i = home;

	while (slots[i].val != NULL) {
		i = (i + 1) & mask;
	}
	slots[i] = s;
}

static ac_err rehash(ac_task_map *m, size_t cap)
{
	ac_task_map_slot *old = m->slots;
	size_t old_cap = m->cap;
	unsigned shift = 64;
	ac_task_map_slot *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL) {
		return AC_ENOMEM;
	}
	for (size_t c = cap; c > 1; c >>= 1) {
		shift--;
	}
	m->slots = slots;
	m->cap = cap;
	m->shift = shift;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].val != NULL) {
			place(slots, cap - 1, get_home(m, old[i].key), old[i]);
		}
	}
	free(old);
	return AC_OK;
}

uint64_t ac_task_map_hash(const char *s)
{
	return ac_task_map_hash_len(s, strlen(s));
}

uint64_t ac_task_map_hash_len(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	}
	return h ^ (h >> 29);
}

void ac_task_map_init(ac_task_map *m)
{
	memset(m, 0, sizeof(*m));
}

void ac_task_map_fini(ac_task_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

ac_err ac_task_map_reserve(ac_task_map *m, size_t count)
{
	size_t cap = m->cap < MIN_CAP ? MIN_CAP : m->cap;

	if (m->cap > 0 && fits(count, m->cap)) {
		return AC_OK;
	}
	while (!fits(count, cap)) {
		if (cap > SIZE_MAX / 2 / sizeof(ac_task_map_slot)) {
			return AC_ENOMEM;
		}
		cap *= 2;
	}
	return rehash(m, cap);
}

ac_err ac_task_map_put(ac_task_map *m, uint64_t key, void *val)
{
	ac_err err;

	AC_ASSERT(val != NULL);
	if ((err = ac_task_map_reserve(m, m->count + 1)) != AC_OK) {
		return err;
	}
	place(m->slots, m->cap - 1, get_home(m, key), (ac_task_map_slot){ key, val });
	m->count++;
	return AC_OK;
}

static size_t find_index(const ac_task_map *m, uint64_t key, ac_task_map_eq eq, const void *ctx)
{
	size_t mask = m->cap - 1;

	if (m->cap == 0) {
		return NOT_FOUND;
	}
	for (size_t i = get_home(m, key);; i = (i + 1) & mask) {
		const ac_task_map_slot *s = &m->slots[i];
		if (s->val == NULL) {
			return NOT_FOUND;
		}
		if (s->key == key && (eq == NULL || eq(s->val, ctx))) {
			return i;
		}
	}
}

void *ac_task_map_find(const ac_task_map *m, uint64_t key, ac_task_map_eq eq, const void *ctx)
{
	size_t i = find_index(m, key, eq, ctx);

	return i == NOT_FOUND ? NULL : m->slots[i].val;
}

/* Empties slot i, then pulls each later entry of the run back into the hole when
 * its home slot allows it, so no lookup ever has to step over a gap. */
static void delete_at(ac_task_map *m, size_t i)
{
	size_t mask = m->cap - 1;

	for (size_t j = (i + 1) & mask; m->slots[j].val != NULL; j = (j + 1) & mask) {
		size_t home = get_home(m, m->slots[j].key);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i] = (ac_task_map_slot){ 0, NULL };
	m->count--;
}

void *ac_task_map_remove(ac_task_map *m, uint64_t key, ac_task_map_eq eq, const void *ctx)
{
	size_t i = find_index(m, key, eq, ctx);
	void *val;

	if (i == NOT_FOUND) {
		return NULL;
	}
	val = m->slots[i].val;
	delete_at(m, i);
	return val;
}

bool ac_task_map_check(const ac_task_map *m)
{
	size_t used = 0, mask = m->cap - 1;

	if (m->cap == 0) {
		return m->count == 0 && m->slots == NULL;
	}
	if ((m->cap & mask) != 0 || !fits(m->count, m->cap)) {
		return false;
	}
	for (size_t j = 0; j < m->cap; j++) {
		if (m->slots[j].val == NULL) {
			continue;
		}
		used++;
		for (size_t i = get_home(m, m->slots[j].key); i != j; i = (i + 1) & mask) {
			if (m->slots[i].val == NULL) {
				return false;
			}
		}
	}
	return used == m->count;
}
