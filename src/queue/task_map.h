/* SPDX-License-Identifier: MIT
 * The queue's hash table: uint64 key -> borrowed pointer, open addressing with linear
 * probing and backward-shift deletion (no tombstones), grown at 70% load. Keys are task
 * ids, or string hashes whose collisions the caller resolves with an equality callback.
 * Owns only its slot array, never the values. One owner; not thread-safe.
 */
#ifndef AC_QUEUE_TASK_MAP_H
#define AC_QUEUE_TASK_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"

typedef struct ac_task_map_slot {
	uint64_t key;
	void *val; /* NULL marks an empty slot */
} ac_task_map_slot;

typedef struct ac_task_map {
	ac_task_map_slot *slots; /* cap entries; NULL while cap is 0 */
	size_t cap;              /* 0 or a power of two */
	size_t count;
	unsigned shift;          /* 64 - log2(cap): home slot = (key * golden) >> shift */
} ac_task_map;

/* Tells whether val is the entry sought (for keys that are hashes). ctx is the
 * caller's, passed through unchanged. */
typedef bool (*ac_task_map_eq)(const void *val, const void *ctx);

/* A key for a NUL-terminated string (FNV-1a, mixed): equal strings, equal keys;
 * resolve collisions with an ac_task_map_eq. Any thread. */
uint64_t ac_task_map_hash(const char *s);
/* The same key for the bytes p[0..len) (not NUL-terminated): equal to ac_task_map_hash
 * of the same string. Any thread. */
uint64_t ac_task_map_hash_len(const char *p, size_t len);
/* Zeroes m; a zeroed map is empty and valid. */
void ac_task_map_init(ac_task_map *m);
/* Frees the slot array (not the values); a zeroed map is a no-op. */
void ac_task_map_fini(ac_task_map *m);
/* Makes room for count entries without passing 70% load, so that many puts cannot
 * fail. AC_ENOMEM (the map is unchanged). */
ac_err ac_task_map_reserve(ac_task_map *m, size_t count);
/* Adds key -> val (val not NULL). The caller makes sure the entry is not there yet;
 * duplicate keys are allowed (hash collisions). AC_ENOMEM when growing fails. */
ac_err ac_task_map_put(ac_task_map *m, uint64_t key, void *val);
/* The value stored under key for which eq(val, ctx) holds (eq NULL: the first one
 * under key), or NULL. Borrowed. */
void *ac_task_map_find(const ac_task_map *m, uint64_t key, ac_task_map_eq eq, const void *ctx);
/* Removes and returns the value that ac_task_map_find would return, or NULL. */
void *ac_task_map_remove(ac_task_map *m, uint64_t key, ac_task_map_eq eq, const void *ctx);
/* Structural check: count matches, load below 70%, and every entry is reachable
 * from its home slot without crossing an empty slot. O(cap). */
bool ac_task_map_check(const ac_task_map *m);

#endif
