/* SPDX-License-Identifier: MIT
 * The registry's agent table (DESIGN §3 Agent): presence, profile (capabilities,
 * targets, ollama_url), state and current task, liveness timestamps, the connection
 * each agent last used. Pure data; no nng, no threads, no clock reads.
 */
#ifndef AC_REGISTRY_REGISTRY_STATE_H
#define AC_REGISTRY_REGISTRY_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"

typedef enum ac_agent_state {
	AC_AGENT_IDLE,
	AC_AGENT_ASSIGNED,
	AC_AGENT_WORKING,
	AC_AGENT_OFFLINE,
	AC_AGENT_STATE_COUNT
} ac_agent_state;

extern const char *const ac_agent_state_names[]; /* NULL-terminated, enum order */

typedef struct ac_agent {
	char id[129];
	char name[129];
	uint8_t *profile;         /* encoded {capabilities, targets, ollama_url} map, owned */
	size_t profile_len;
	ac_agent_state state;
	uint64_t current_task;    /* 0 = none */
	int64_t connected_at_ms;  /* wall */
	int64_t last_seen_ms;     /* wall */
	uint32_t pipe_id;         /* connection of the last hello/fetch */
	char endpoint[300];       /* id of the endpoint its ollama_url names, "" none */
} ac_agent;

typedef struct ac_agents ac_agents;

ac_err ac_agents_alloc(ac_agents **out);
void ac_agents_free(ac_agents *as);

/* The agent called id[0..len), or NULL. Borrowed until the next put. */
ac_agent *ac_agents_find(ac_agents *as, const char *id, size_t len);
/* Finds or adds the agent called id[0..len) (new ones are offline, zeroed). AC_ENOMEM. */
ac_err ac_agents_put(ac_agents *as, const char *id, size_t len, ac_agent **out);
/* Replaces a's profile with a copy of p[0..len). AC_ENOMEM leaves it unchanged. */
ac_err ac_agent_set_profile(ac_agent *a, const uint8_t *p, size_t len);

size_t ac_agents_count(const ac_agents *as);
/* The i-th agent in registration order. */
ac_agent *ac_agents_at(ac_agents *as, size_t i);
/* Agents per state. */
void ac_agents_counts(const ac_agents *as, uint64_t by_state[AC_AGENT_STATE_COUNT]);

/* Online agents whose last_seen_ms is older than before_ms become offline; for each,
 * fn(ctx, agent) is called. Returns how many went offline. */
size_t ac_agents_expire(ac_agents *as, int64_t before_ms, void (*fn)(void *ctx, ac_agent *a),
    void *ctx);

#endif
