/* SPDX-License-Identifier: MIT
 * Registry actor, agent part. Every agent request it sees (hello, heartbeat, fetch,
 * bye) and every note from the queue (accept, progress, complete, fail) or from the
 * scheduler (fetches it served from its cached profile) refreshes last_seen; a periodic
 * sweep turns silent agents offline and has their tasks reclaimed. Every change of an
 * agent's profile or liveness reaches the scheduler, which caches the profile.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/agent_wire.h"
#include "codec/endpoint_wire.h"
#include "codec/ops.h"
#include "codec/task_wire.h"
#include "registry/registry_int.h"
#include "rt/clock.h"
#include "rt/log.h"


/* The profile part of hello: what the scheduler matches on. */
static const ac_field profile_fields[] = {
	AC_F(ac_req_agent_hello, capabilities, "capabilities", AC_FT_STRS, false),
	AC_F(ac_req_agent_hello, targets, "targets", AC_FT_STRS, false),
	AC_F(ac_req_agent_hello, ollama_url, "ollama_url", AC_FT_STR, false),
};
static const ac_schema profile_schema = AC_SCHEMA("agent.profile", ac_req_agent_hello,
    profile_fields);

static void publish_agent(ac_registry *r, const char *topic, const ac_agent *a,
    const char *reason)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, reason ? 3 : 2);
	ac_mpw_key(&w, "agent_id");
	ac_mpw_cstr(&w, a->id);
	ac_mpw_key(&w, "state");
	ac_mpw_cstr(&w, ac_agent_state_names[a->state]);
	if (reason) {
		ac_mpw_key(&w, "reason");
		ac_mpw_cstr(&w, reason);
	}
	ac_actor_publish(r->actor, topic, &w);
	ac_mpw_fini(&w);
}

/* Tells queue (reclaim its tasks) and scheduler (drop its fetch and cached profile)
 * that a is gone. With reply (bye), the scheduler answers it: an agent fetching again
 * after that reply cannot be served from the profile it dropped. */
static void announce_gone(ac_registry *r, ac_agent *a, const char *topic, const char *reason,
    const ac_env *reply)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "agent_id");
	ac_mpw_cstr(&w, a->id);
	ac_actor_tell(r->actor, AC_ACTOR_QUEUE, AC_MSG_AGENT_GONE, &w);
	if (reply != NULL) {
		ac_actor_forward(r->actor, AC_ACTOR_SCHEDULER, reply, AC_MSG_AGENT_GONE, &w);
	} else {
		ac_actor_tell(r->actor, AC_ACTOR_SCHEDULER, AC_MSG_AGENT_GONE, &w);
	}
	ac_mpw_fini(&w);
	publish_agent(r, topic, a, reason);
	ac_log(AC_LOG_INFO, "registry", "agent_gone", "agent=%s reason=%s", a->id, reason);
}

/* Finds a known, online agent for a request, or replies conflict. */
static ac_agent *online_agent(ac_registry *r, ac_call *call, ac_str id)
{
	ac_agent *a = ac_agents_find(r->agents, id.p, id.len);

	if (a == NULL || a->state == AC_AGENT_OFFLINE) {
		ac_actor_reply_err(call->actor, &call->env, AC_ECONFLICT,
		    "unknown or offline agent: say agent.hello first", "agent_id");
		return NULL;
	}
	a->last_seen_ms = ac_clock_wall_ms();
	return a;
}

static void forward_agent_only(ac_registry *r, ac_call *call, ac_actor_id to, ac_msg_type type,
    const ac_agent *a)
{
	ac_mpw *w = ac_actor_scratch(call->actor);

	ac_mpw_map(w, 1);
	ac_mpw_key(w, "agent_id");
	ac_mpw_cstr(w, a->id);
	ac_actor_forward(r->actor, to, &call->env, type, w);
}

static void on_hello(void *state, ac_call *call)
{
	ac_registry *r = state;
	const ac_req_agent_hello *req = call->req;
	ac_mpw *w = ac_actor_scratch(call->actor);
	ac_str all_targets[AC_TARGET_COUNT];
	ac_req_agent_hello profile;
	ac_agent *a;
	bool was_offline;

	for (int t = 0; t < AC_TARGET_COUNT; t++) {
		all_targets[t] = (ac_str){ ac_target_names[t], (uint32_t)strlen(ac_target_names[t]), true };
	}

	if (ac_agents_put(r->agents, req->agent_id.p, req->agent_id.len, &a) != AC_OK) {
		ac_actor_reply_err(call->actor, &call->env, AC_EUNAVAIL, "out of memory", NULL);
		return;
	}
	profile = *req;
	if (!profile.targets.set) { /* an agent that names no tier runs all three */
		profile.targets = (ac_strs){ all_targets, AC_TARGET_COUNT, true };
	}
	ac_mpw_map(w, ac_schema_count_set(&profile_schema, &profile));
	ac_schema_encode_fields(&profile_schema, &profile, w);
	if (ac_agent_set_profile(a, ac_mpw_data(w), ac_mpw_len(w)) != AC_OK) {
		ac_actor_reply_err(call->actor, &call->env, AC_EUNAVAIL, "out of memory", NULL);
		return;
	}
	was_offline = a->state == AC_AGENT_OFFLINE;
	ac_str_cpy(a->name, sizeof(a->name), req->name.set ? req->name : req->agent_id);
	a->last_seen_ms = ac_clock_wall_ms();
	a->pipe_id = call->env.pipe_id;
	ac_registry_agent_endpoint(r, a, req->ollama_url, call->env.pipe_id);
	if (was_offline) {
		a->state = AC_AGENT_IDLE;
		a->connected_at_ms = a->last_seen_ms;
		publish_agent(r, "agent.joined", a, NULL);
	}
	/* through the scheduler, which drops the fetch it cached with the old profile
	 * before the queue answers the hello */
	forward_agent_only(r, call, AC_ACTOR_SCHEDULER, AC_MSG_AGENT_CHANGED, a);
}

static void on_heartbeat(void *state, ac_call *call)
{
	ac_registry *r = state;
	const ac_req_agent_heartbeat *req = call->req;
	ac_agent *a = online_agent(r, call, req->agent_id);

	if (a != NULL) {
		ac_registry_agent_resources(r, a, req->resources);
		forward_agent_only(r, call, AC_ACTOR_QUEUE, AC_MSG_HEARTBEAT_FWD, a);
	}
}

/* The AC_MSG_FETCH body: the request, the endpoint the agent's ollama_url names (the
 * scheduler prefers agents next to the endpoint it chose) and the agent's profile. */
static void write_fetch(ac_mpw *w, const ac_agent *a, const ac_req_agent_fetch *req)
{
	bool has_endpoint = a->endpoint[0] != '\0';
	uint32_t profile_count = 0;
	size_t hdr = 0;

	/* profile is one map: splice its entries after ours */
	if (a->profile_len > 0) {
		profile_count = (a->profile[0] & 0xf0) == 0x80 ? (a->profile[0] & 0x0f) : 0;
		hdr = 1;
	}
	ac_mpw_map(w, 3 + has_endpoint + profile_count);
	ac_mpw_key(w, "agent_id");
	ac_mpw_cstr(w, a->id);
	ac_mpw_key(w, "wait_ms");
	ac_mpw_u64(w, req->wait_ms.set ? req->wait_ms.v : 0);
	ac_mpw_key(w, "accept");
	ac_mpw_bool(w, req->accept.set && req->accept.v);
	if (has_endpoint) {
		ac_mpw_key(w, "endpoint");
		ac_mpw_cstr(w, a->endpoint);
	}
	ac_mpw_raw(w, a->profile + hdr, a->profile_len - hdr);
}

static void on_fetch(void *state, ac_call *call)
{
	ac_registry *r = state;
	const ac_req_agent_fetch *req = call->req;
	ac_agent *a = online_agent(r, call, req->agent_id);
	ac_mpw *w = ac_actor_scratch(call->actor);

	if (a == NULL) {
		return;
	}
	a->pipe_id = call->env.pipe_id;
	write_fetch(w, a, req);
	ac_actor_forward(r->actor, AC_ACTOR_SCHEDULER, &call->env, AC_MSG_FETCH, w);
}

static void on_bye(void *state, ac_call *call)
{
	ac_registry *r = state;
	const ac_req_agent_only *req = call->req;
	ac_agent *a = online_agent(r, call, req->agent_id);

	if (a == NULL) {
		return;
	}
	a->state = AC_AGENT_OFFLINE;
	a->current_task = 0;
	announce_gone(r, a, "agent.left", "bye", &call->env);
}

static void write_agent(ac_mpw *w, const ac_agent *a)
{
	uint32_t profile_count = a->profile_len ? (a->profile[0] & 0x0f) : 0;

	ac_mpw_map(w, 6 + profile_count);
	ac_mpw_key(w, "agent_id");
	ac_mpw_cstr(w, a->id);
	ac_mpw_key(w, "name");
	ac_mpw_cstr(w, a->name);
	ac_mpw_key(w, "state");
	ac_mpw_cstr(w, ac_agent_state_names[a->state]);
	ac_mpw_key(w, "current_task");
	if (a->current_task) {
		ac_mpw_u64(w, a->current_task);
	} else {
		ac_mpw_nil(w);
	}
	ac_mpw_key(w, "connected_at_ms");
	ac_mpw_i64(w, a->connected_at_ms);
	ac_mpw_key(w, "last_seen_ms");
	ac_mpw_i64(w, a->last_seen_ms);
	if (a->profile_len > 1) {
		ac_mpw_raw(w, a->profile + 1, a->profile_len - 1);
	}
}

static void on_list(void *state, ac_call *call)
{
	ac_registry *r = state;
	ac_mpw *w = ac_actor_scratch(call->actor);
	size_t n = ac_agents_count(r->agents);

	ac_mpw_map(w, 2);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_key(w, "agents");
	ac_mpw_array(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		write_agent(w, ac_agents_at(r->agents, i));
	}
	ac_actor_reply(call->actor, &call->env, w);
}

static const struct {
	const char *name;
	ac_agent_state state;
} note_states[] = {
	{ "idle", AC_AGENT_IDLE },
	{ "assigned", AC_AGENT_ASSIGNED },
	{ "working", AC_AGENT_WORKING },
};

/* The queue's notes (agents were active, and their task state changed) and the
 * scheduler's (agents fetched; no state). */
static void on_notes(void *state, ac_call *call)
{
	ac_registry *r = state;
	const ac_agent_notes_msg *m = call->req;
	const ac_agent_note *notes = m->notes.items;
	int64_t now = ac_clock_wall_ms();

	for (uint32_t i = 0; i < m->notes.count; i++) {
		ac_agent *a = ac_agents_find(r->agents, notes[i].agent_id.p, notes[i].agent_id.len);
		if (a == NULL || a->state == AC_AGENT_OFFLINE) {
			continue;
		}
		a->last_seen_ms = now;
		for (size_t s = 0; notes[i].state.set && s < sizeof(note_states) / sizeof(note_states[0]); s++) {
			if (ac_str_eq(notes[i].state, note_states[s].name)) {
				a->state = note_states[s].state;
				a->current_task = notes[i].task_id.v;
			}
		}
	}
}

/* A connection closed. The scheduler drops a fetch held on it (a task sent there
 * would be lost), and an agent whose current connection it was is gone: its tasks are
 * reclaimed now rather than after agent_timeout_ms (DESIGN §4 rules). */
static void on_pipe_closed(void *state, ac_call *call)
{
	ac_registry *r = state;
	size_t n = ac_agents_count(r->agents);

	ac_actor_send(r->actor, AC_ACTOR_SCHEDULER, &call->env, NULL, 0);
	for (size_t i = 0; call->env.pipe_id != 0 && i < n; i++) {
		ac_agent *a = ac_agents_at(r->agents, i);
		if (a->state != AC_AGENT_OFFLINE && a->pipe_id == call->env.pipe_id) {
			a->state = AC_AGENT_OFFLINE;
			a->current_task = 0;
			announce_gone(r, a, "agent.offline", "connection_closed", NULL);
		}
	}
}

/* stats: add the agents section and pass the request on. */
static void on_stats(void *state, ac_call *call)
{
	ac_registry *r = state;
	ac_mpw *w = ac_actor_scratch(call->actor);
	uint64_t by_state[AC_AGENT_STATE_COUNT];
	uint64_t by_status[AC_EP_STATUS_COUNT];

	ac_agents_counts(r->agents, by_state);
	ac_endpoints_counts(r->endpoints, by_status);
	if (!ac_mpw_map_extend(w, call->body, call->body_len, 2)) {
		ac_actor_reply_err(call->actor, &call->env, AC_EINTERNAL, "bad stats section", NULL);
		return;
	}
	ac_mpw_key(w, "agents");
	ac_mpw_map(w, 1);
	ac_mpw_key(w, "by_state");
	ac_mpw_map(w, AC_AGENT_STATE_COUNT);
	for (int s = 0; s < AC_AGENT_STATE_COUNT; s++) {
		ac_mpw_key(w, ac_agent_state_names[s]);
		ac_mpw_u64(w, by_state[s]);
	}
	ac_mpw_key(w, "endpoints");
	ac_mpw_map(w, 1);
	ac_mpw_key(w, "by_status");
	ac_mpw_map(w, AC_EP_STATUS_COUNT);
	for (int s = 0; s < AC_EP_STATUS_COUNT; s++) {
		ac_mpw_key(w, ac_endpoint_status_names[s]);
		ac_mpw_u64(w, by_status[s]);
	}
	ac_actor_forward(r->actor, AC_ACTOR_SCHEDULER, &call->env, AC_MSG_STATS_COLLECT, w);
}

static void went_offline(void *ctx, ac_agent *a)
{
	announce_gone(ctx, a, "agent.offline", "timeout", NULL);
}

static int64_t sweep_every_ms(const ac_registry *r)
{
	int64_t ms = r->cfg->agent_timeout_ms / 4;

	return ms < 50 ? 50 : ms;
}

static void on_timer(void *state, ac_actor *a, const ac_timer_entry *t)
{
	ac_registry *r = state;

	if (t->kind == TIMER_PROBE) {
		ac_registry_probe_all(r);
		ac_actor_timer_add(a, ac_clock_mono_ms() + r->cfg->health_interval_ms, TIMER_PROBE, 0, NULL);
		return;
	}
	ac_agents_expire(r->agents, ac_clock_wall_ms() - r->cfg->agent_timeout_ms, went_offline, r);
	ac_actor_timer_add(a, ac_clock_mono_ms() + sweep_every_ms(r), TIMER_SWEEP, 0, NULL);
}

static ac_err registry_actor_start(void *state, ac_actor *a)
{
	ac_registry *r = state;
	ac_err err;

	r->actor = a;
	/* endpoints start unknown after a restart and are probed at once (DESIGN §6) */
	if ((err = ac_actor_timer_add(a, ac_clock_mono_ms(), TIMER_PROBE, 0, NULL)) != AC_OK) {
		return err;
	}
	return ac_actor_timer_add(a, ac_clock_mono_ms() + sweep_every_ms(r), TIMER_SWEEP, 0, NULL);
}

static const ac_handler registry_handlers[AC_MSG_COUNT] = {
	[AC_MSG_OP_AGENT_HELLO] = { on_hello, &ac_req_agent_hello_schema },
	[AC_MSG_OP_AGENT_HEARTBEAT] = { on_heartbeat, &ac_req_agent_heartbeat_schema },
	[AC_MSG_OP_AGENT_FETCH] = { on_fetch, &ac_req_agent_fetch_schema },
	[AC_MSG_OP_AGENT_BYE] = { on_bye, &ac_req_agent_only_schema },
	[AC_MSG_OP_AGENT_LIST] = { on_list, &ac_req_empty_schema },
	[AC_MSG_AGENT_NOTES] = { on_notes, &ac_agent_notes_msg_schema },
	[AC_MSG_PIPE_CLOSED] = { on_pipe_closed, NULL },
	[AC_MSG_STATS_COLLECT] = { on_stats, NULL },
	[AC_MSG_OP_ENDPOINT_REGISTER] = { ac_registry_on_endpoint_register,
		&ac_req_endpoint_register_schema },
	[AC_MSG_OP_ENDPOINT_REMOVE] = { ac_registry_on_endpoint_remove, &ac_req_endpoint_id_schema },
	[AC_MSG_OP_ENDPOINT_LIST] = { ac_registry_on_endpoint_list, &ac_req_empty_schema },
	[AC_MSG_PROBE_RESULT] = { ac_registry_on_probe_result, &ac_probe_result_schema },
	[AC_MSG_ENDPOINT_SNAPSHOT_REQ] = { ac_registry_on_snapshot_req, NULL },
	[AC_MSG_ENDPOINT_LOAD] = { ac_registry_on_endpoint_load, &ac_endpoint_loads_msg_schema },
};

static const ac_actor_def registry_def = {
	.name = "registry",
	.id = AC_ACTOR_REGISTRY,
	.handlers = registry_handlers,
	.start = registry_actor_start,
	.on_timer = on_timer,
	.max_batch = 512,
};

ac_err ac_registry_start(ac_rt *rt, const ac_config *cfg, ac_registry **out)
{
	ac_registry *r = calloc(1, sizeof(*r));
	ac_err err;

	if (r == NULL) {
		return AC_ENOMEM;
	}
	r->cfg = cfg;
	r->rt = rt;
	if ((err = ac_agents_alloc(&r->agents)) != AC_OK ||
	    (err = ac_registry_endpoints_open(r)) != AC_OK ||
	    (err = ac_actor_start(rt, &registry_def, r, &r->actor)) != AC_OK) {
		ac_registry_endpoints_close(r);
		ac_agents_free(r->agents);
		free(r);
		return err;
	}
	*out = r;
	return AC_OK;
}

void ac_registry_stop(ac_registry *r)
{
	if (r == NULL) {
		return;
	}
	ac_actor_stop(r->actor);
	ac_registry_endpoints_close(r);
	ac_agents_free(r->agents);
	free(r);
}
