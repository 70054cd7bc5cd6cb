/* SPDX-License-Identifier: MIT
 * Idempotency keys of the queue state: key -> (task id, created_at_ms), with a list in
 * creation order so expiry costs O(expired). Owns its copies of the keys. Knows nothing
 * of the 24 h window: callers pass cutoffs. One owner; not thread-safe.
 */
#ifndef AC_QUEUE_KEY_INDEX_H
#define AC_QUEUE_KEY_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"
#include "queue/task_map.h"

typedef struct ac_key_entry ac_key_entry;

typedef struct ac_key_index {
	ac_task_map map;       /* key hash -> ac_key_entry (owned) */
	ac_key_entry *oldest;  /* creation-order list: oldest ... newest */
	ac_key_entry *newest;
} ac_key_index;

/* Zeroes ki; a zeroed index is empty and valid. */
void ac_key_index_init(ac_key_index *ki);
/* Frees every entry; a zeroed index is a no-op. */
void ac_key_index_fini(ac_key_index *ki);
/* Maps key[0..len) (copied) to id created at created_at_ms, replacing the id and time
 * of an existing entry. O(1) when keys arrive in creation order. AC_ENOMEM (unchanged). */
ac_err ac_key_index_put(ac_key_index *ki, const char *key, size_t len, uint64_t id,
    int64_t created_at_ms);
/* True when key is present, with its id and creation time in the out-parameters. */
bool ac_key_index_get(const ac_key_index *ki, const char *key, size_t len, uint64_t *id,
    int64_t *created_at_ms);
/* Removes key; absent keys are ignored. */
void ac_key_index_remove(ac_key_index *ki, const char *key, size_t len);
/* Removes up to limit entries created at or before cutoff_ms, oldest first. */
void ac_key_index_expire(ac_key_index *ki, int64_t cutoff_ms, size_t limit);
size_t ac_key_index_count(const ac_key_index *ki);
/* List sorted and linked both ways, every entry in the map and vice versa. O(n). */
bool ac_key_index_check(const ac_key_index *ki);

#endif
