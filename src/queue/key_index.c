/* SPDX-License-Identifier: MIT
 * Idempotency key index: one malloc'ed entry per key (key bytes inline), found through
 * a task_map keyed by the key's hash and linked into a list sorted by creation time,
 * so expiry pops from the old end. Owns every entry; never looks at tasks.
 */
#include <stdlib.h>
#include <string.h>

#include "queue/key_index.h"
#include "rt/assert.h"

struct ac_key_entry {
	ac_key_entry *prev, *next; /* creation order, oldest first */
	uint64_t hash, id;
	int64_t created_at_ms;
	size_t len;
	char key[]; /* len bytes, then a NUL */
};

typedef struct key_ref {
	const char *key;
	size_t len;
} key_ref;

/* FNV-1a with a final avalanche (splitmix64), so the table's top-bit slot choice
 * sees every input byte. Keys come from authenticated submitters only. */
static uint64_t hash_key(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h = (h ^ (uint8_t)key[i]) * 0x100000001b3ull;
	}
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static bool has_key(const void *val, const void *ctx)
{
	const ac_key_entry *e = val;
	const key_ref *r = ctx;

	return e->len == r->len && (r->len == 0 || memcmp(e->key, r->key, r->len) == 0);
}

static bool is_entry(const void *val, const void *ctx)
{
	return val == ctx;
}

static void unlink_entry(ac_key_index *ki, ac_key_entry *e)
{
	*(e->prev ? &e->prev->next : &ki->oldest) = e->next;
	*(e->next ? &e->next->prev : &ki->newest) = e->prev;
	e->prev = e->next = NULL;
}

/* Walks back from the newest end (O(1) for keys created in order); an entry older
 * than everything goes straight to the front, so a reverse-ordered load is O(1) too.
 * Equal times keep arrival order. */
static void link_sorted(ac_key_index *ki, ac_key_entry *e)
{
	ac_key_entry *p = ki->newest;

	if (ki->oldest != NULL && e->created_at_ms < ki->oldest->created_at_ms) {
		p = NULL;
	}
	while (p != NULL && p->created_at_ms > e->created_at_ms) {
		p = p->prev;
	}
	e->prev = p;
	e->next = p ? p->next : ki->oldest;
	*(e->next ? &e->next->prev : &ki->newest) = e;
	*(p ? &p->next : &ki->oldest) = e;
}

void ac_key_index_init(ac_key_index *ki)
{
	memset(ki, 0, sizeof(*ki));
}

void ac_key_index_fini(ac_key_index *ki)
{
	ac_key_entry *e = ki->oldest;

	while (e != NULL) {
		ac_key_entry *next = e->next;
		free(e);
		e = next;
	}
	ac_task_map_fini(&ki->map);
	memset(ki, 0, sizeof(*ki));
}

ac_err ac_key_index_put(ac_key_index *ki, const char *key, size_t len, uint64_t id,
    int64_t created_at_ms)
{
	uint64_t h = hash_key(key, len);
	key_ref ref = { key, len };
	ac_key_entry *e = ac_task_map_find(&ki->map, h, has_key, &ref);

	if (e != NULL) {
		e->id = id;
		if (e->created_at_ms != created_at_ms) {
			unlink_entry(ki, e);
			e->created_at_ms = created_at_ms;
			link_sorted(ki, e);
		}
		return AC_OK;
	}
	if (len > SIZE_MAX - sizeof(*e) - 1 || (e = malloc(sizeof(*e) + len + 1)) == NULL) {
		return AC_ENOMEM;
	}
	*e = (ac_key_entry){ .hash = h, .id = id, .created_at_ms = created_at_ms, .len = len };
	if (len > 0) {
		memcpy(e->key, key, len);
	}
	e->key[len] = '\0';
	if (ac_task_map_put(&ki->map, h, e) != AC_OK) {
		free(e);
		return AC_ENOMEM;
	}
	link_sorted(ki, e);
	return AC_OK;
}

bool ac_key_index_get(const ac_key_index *ki, const char *key, size_t len, uint64_t *id,
    int64_t *created_at_ms)
{
	key_ref ref = { key, len };
	const ac_key_entry *e = ac_task_map_find(&ki->map, hash_key(key, len), has_key, &ref);

	if (e == NULL) {
		return false;
	}
	*id = e->id;
	*created_at_ms = e->created_at_ms;
	return true;
}

void ac_key_index_remove(ac_key_index *ki, const char *key, size_t len)
{
	key_ref ref = { key, len };
	ac_key_entry *e = ac_task_map_remove(&ki->map, hash_key(key, len), has_key, &ref);

	if (e != NULL) {
		unlink_entry(ki, e);
		free(e);
	}
}

void ac_key_index_expire(ac_key_index *ki, int64_t cutoff_ms, size_t limit)
{
	for (size_t n = 0; n < limit && ki->oldest != NULL && ki->oldest->created_at_ms <= cutoff_ms;
	     n++) {
		ac_key_entry *e = ki->oldest;
		void *removed = ac_task_map_remove(&ki->map, e->hash, is_entry, e);
		AC_ASSERT(removed == e);
		unlink_entry(ki, e);
		free(e);
	}
}

size_t ac_key_index_count(const ac_key_index *ki)
{
	return ki->map.count;
}

bool ac_key_index_check(const ac_key_index *ki)
{
	const ac_key_entry *prev = NULL;
	size_t n = 0;

	for (const ac_key_entry *e = ki->oldest; e != NULL; prev = e, e = e->next, n++) {
		if (e->prev != prev || (prev != NULL && prev->created_at_ms > e->created_at_ms) ||
		    e->hash != hash_key(e->key, e->len) || e->key[e->len] != '\0' ||
		    ac_task_map_find(&ki->map, e->hash, is_entry, e) != e) {
			return false;
		}
	}
	return ki->newest == prev && n == ki->map.count && ac_task_map_check(&ki->map);
}
