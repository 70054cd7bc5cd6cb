/* SPDX-License-Identifier: MIT
 * Agent table: an array in registration order plus a hash index on the id. Agents
 * are never removed (an offline agent keeps its record and comes back with hello).
 */
#include <stdlib.h>
#include <string.h>

#include "queue/task_map.h"
#include "registry/registry_state.h"
#include "rt/array.h"

const char *const ac_agent_state_names[] = { "idle", "assigned", "working", "offline", NULL };

struct ac_agents {
	ac_agent **items;
	size_t count, cap;
	ac_task_map index; /* id hash -> ac_agent */
};

typedef struct id_key {
	const char *p;
	size_t len;
} id_key;

static bool same_id(const void *val, const void *ctx)
{
	const ac_agent *a = val;
	const id_key *k = ctx;

	return strlen(a->id) == k->len && memcmp(a->id, k->p, k->len) == 0;
}

ac_err ac_agents_alloc(ac_agents **out)
{
	ac_agents *as = calloc(1, sizeof(*as));

	if (as == NULL) {
		return AC_ENOMEM;
	}
	ac_task_map_init(&as->index);
	*out = as;
	return AC_OK;
}

void ac_agents_free(ac_agents *as)
{
	if (as == NULL) {
		return;
	}
	for (size_t i = 0; i < as->count; i++) {
		free(as->items[i]->profile);
		free(as->items[i]);
	}
	free(as->items);
	ac_task_map_fini(&as->index);
	free(as);
}

ac_agent *ac_agents_find(ac_agents *as, const char *id, size_t len)
{
	id_key k = { id, len };

	return ac_task_map_find(&as->index, ac_task_map_hash_len(id, len), same_id, &k);
}

ac_err ac_agents_put(ac_agents *as, const char *id, size_t len, ac_agent **out)
{
	ac_agent *a = ac_agents_find(as, id, len);

	if (a == NULL) {
		if (len >= sizeof(a->id) || (a = calloc(1, sizeof(*a))) == NULL) {
			return len >= 129 ? AC_EINVAL : AC_ENOMEM;
		}
		ac_agent **items = ac_array_reserve(as->items, &as->cap, as->count, sizeof(*items), 16);
		if (items == NULL) {
			free(a);
			return AC_ENOMEM;
		}
		as->items = items;
		memcpy(a->id, id, len);
		a->state = AC_AGENT_OFFLINE;
		if (ac_task_map_put(&as->index, ac_task_map_hash_len(id, len), a) != AC_OK) {
			free(a);
			return AC_ENOMEM;
		}
		as->items[as->count++] = a;
	}
	*out = a;
	return AC_OK;
}

ac_err ac_agent_set_profile(ac_agent *a, const uint8_t *p, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (copy == NULL) {
		return AC_ENOMEM;
	}
	memcpy(copy, p, len);
	free(a->profile);
	a->profile = copy;
	a->profile_len = len;
	return AC_OK;
}

size_t ac_agents_count(const ac_agents *as)
{
	return as->count;
}

ac_agent *ac_agents_at(ac_agents *as, size_t i)
{
	return as->items[i];
}

void ac_agents_counts(const ac_agents *as, uint64_t by_state[AC_AGENT_STATE_COUNT])
{
	memset(by_state, 0, sizeof(uint64_t) * AC_AGENT_STATE_COUNT);
	for (size_t i = 0; i < as->count; i++) {
		by_state[as->items[i]->state]++;
	}
}

size_t ac_agents_expire(ac_agents *as, int64_t before_ms, void (*fn)(void *ctx, ac_agent *a),
    void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < as->count; i++) {
		ac_agent *a = as->items[i];
		if (a->state != AC_AGENT_OFFLINE && a->last_seen_ms < before_ms) {
			a->state = AC_AGENT_OFFLINE;
			a->current_task = 0;
			fn(ctx, a);
			n++;
		}
	}
	return n;
}
