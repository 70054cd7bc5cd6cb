/* SPDX-License-Identifier: MIT
 * The scheduler's copy of what the registry knows of each fetching agent: the last
 * AC_MSG_FETCH the registry built for it (profile and endpoint) and the connection of
 * that fetch. An agent.fetch on the same connection is built from it without the
 * registry's hop; the registry drops an entry whenever the agent's profile or liveness
 * changes. Since such fetches no longer reach the registry, their agents are noted to
 * it in bulk (AC_MSG_AGENT_NOTES, at most one note per agent per interval).
 */
#include <stdlib.h>
#include <string.h>

#include "rt/clock.h"
#include "scheduler/scheduler_int.h"

static bool is_agent(const void *val, const void *ctx)
{
	return strcmp(((const ac_sched_agent *)val)->id, ctx) == 0;
}

static void agent_free(ac_sched_agent *ag)
{
	if (ag != NULL) {
		free(ag->fetch);
		free(ag);
	}
}

ac_sched_agent *ac_sched_agents_find(ac_scheduler *s, ac_str agent_id, uint32_t pipe_id)
{
	char id[sizeof(((ac_sched_agent *)0)->id)];
	ac_sched_agent *ag;

	if (pipe_id == 0 || agent_id.len >= sizeof(id)) {
		return NULL;
	}
	ac_str_cpy(id, sizeof(id), agent_id);
	ag = ac_task_map_find(&s->agents, ac_task_map_hash(id), is_agent, id);
	return ag != NULL && ag->pipe_id == pipe_id ? ag : NULL;
}

void ac_sched_agents_drop(ac_scheduler *s, ac_str agent_id)
{
	char id[sizeof(((ac_sched_agent *)0)->id)];

	if (agent_id.len < sizeof(id)) {
		ac_str_cpy(id, sizeof(id), agent_id);
		agent_free(ac_task_map_remove(&s->agents, ac_task_map_hash(id), is_agent, id));
	}
}

void ac_sched_agents_put(ac_scheduler *s, ac_str agent_id, uint32_t pipe_id, const uint8_t *fetch,
    size_t len)
{
	ac_sched_agent *ag;

	ac_sched_agents_drop(s, agent_id);
	if (pipe_id == 0 || agent_id.len >= sizeof(ag->id) || (ag = calloc(1, sizeof(*ag))) == NULL) {
		return; /* not cached: the next fetch takes the registry's way, as it may */
	}
	ac_str_cpy(ag->id, sizeof(ag->id), agent_id);
	ag->pipe_id = pipe_id;
	ag->noted_at_ms = ac_clock_mono_ms(); /* the registry has just seen it */
	if ((ag->fetch = malloc(len)) == NULL ||
	    ac_task_map_put(&s->agents, ac_task_map_hash(ag->id), ag) != AC_OK) {
		agent_free(ag);
		return;
	}
	memcpy(ag->fetch, fetch, len);
	ag->fetch_len = len;
}

/* An agent silent for agent_timeout_ms goes offline: note well within it. */
static int64_t note_every_ms(const ac_scheduler *s)
{
	int64_t ms = s->cfg->agent_timeout_ms / 4;

	return ms < AC_SCHED_SEEN_EVERY_MS ? ms : AC_SCHED_SEEN_EVERY_MS;
}

void ac_sched_agents_seen(ac_scheduler *s, ac_sched_agent *ag)
{
	int64_t now = ac_clock_mono_ms();

	if (now - ag->noted_at_ms < note_every_ms(s)) {
		return;
	}
	ag->noted_at_ms = now;
	ac_mpw_map(&s->seen, 1);
	ac_mpw_key(&s->seen, "agent_id");
	ac_mpw_cstr(&s->seen, ag->id);
	if (++s->seen_count >= AC_SCHED_NOTES_MAX) {
		ac_sched_flush(s);
	}
}

void ac_sched_agents_free(ac_scheduler *s)
{
	for (size_t i = 0; i < s->agents.cap; i++) {
		agent_free(s->agents.slots[i].val);
	}
	ac_task_map_fini(&s->agents);
	ac_mpw_fini(&s->seen);
}
