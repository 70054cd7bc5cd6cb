/* SPDX-License-Identifier: MIT
 * Field tables of the agent ops and of the assignment messages between actors.
 */
#include <stddef.h>

#include "codec/agent_wire.h"
#include "codec/task_wire.h"

#define ID_MAX 128

static const ac_field hello_fields[] = {
	AC_F(ac_req_agent_hello, agent_id, "agent_id", AC_FT_ID, true, .max_len = ID_MAX),
	AC_F(ac_req_agent_hello, name, "name", AC_FT_STR, false, .max_len = ID_MAX),
	AC_F(ac_req_agent_hello, capabilities, "capabilities", AC_FT_STRS, false,
	    .item_max_len = ID_MAX),
	AC_F(ac_req_agent_hello, targets, "targets", AC_FT_STRS, false, .min_len = 1, .max_len = 3,
	    .names = ac_target_names),
	AC_F(ac_req_agent_hello, ollama_url, "ollama_url", AC_FT_STR, false, .min_len = 1),
};
const ac_schema ac_req_agent_hello_schema = AC_SCHEMA("agent.hello", ac_req_agent_hello,
    hello_fields);

static const ac_field heartbeat_fields[] = {
	AC_F(ac_req_agent_heartbeat, agent_id, "agent_id", AC_FT_ID, true, .max_len = ID_MAX),
	AC_F(ac_req_agent_heartbeat, resources, "resources", AC_FT_MAP, false, .max_len = 4096),
};
const ac_schema ac_req_agent_heartbeat_schema = AC_SCHEMA("agent.heartbeat",
    ac_req_agent_heartbeat, heartbeat_fields);

static const ac_field fetch_fields[] = {
	AC_F(ac_req_agent_fetch, agent_id, "agent_id", AC_FT_ID, true, .max_len = ID_MAX),
	AC_F(ac_req_agent_fetch, wait_ms, "wait_ms", AC_FT_UINT, false, .min = 0,
	    .max = AC_FETCH_WAIT_MAX_MS),
	AC_F(ac_req_agent_fetch, accept, "accept", AC_FT_FLAG, false),
};
const ac_schema ac_req_agent_fetch_schema = AC_SCHEMA("agent.fetch", ac_req_agent_fetch,
    fetch_fields);

static const ac_field agent_only_fields[] = {
	AC_F(ac_req_agent_only, agent_id, "agent_id", AC_FT_ID, true, .max_len = ID_MAX),
};
const ac_schema ac_req_agent_only_schema = AC_SCHEMA("agent.bye", ac_req_agent_only,
    agent_only_fields);

#define T ac_req_task_fenced
#define FENCE_FIELDS                                                                         \
	AC_F(T, agent_id, "agent_id", AC_FT_ID, true, .max_len = ID_MAX),                    \
	AC_F(T, id, "id", AC_FT_UINT, true, .min = 1),                                         \
	AC_F(T, generation, "generation", AC_FT_UINT, true, .max = UINT32_MAX)

static const ac_field accept_fields[] = { FENCE_FIELDS };
const ac_schema ac_req_task_accept_schema = AC_SCHEMA("task.accept", T, accept_fields);

static const ac_field progress_fields[] = {
	FENCE_FIELDS,
	AC_F(T, message, "message", AC_FT_STR, false),
	AC_F(T, percent, "percent", AC_FT_UINT, false, .min = 0, .max = 100),
};
const ac_schema ac_req_task_progress_schema = AC_SCHEMA("task.progress", T, progress_fields);

static const ac_field complete_fields[] = {
	FENCE_FIELDS,
	AC_F(T, result, "result", AC_FT_ANY, false, .max_len = 1024 * 1024),
	AC_F(T, tokens_used, "tokens_used", AC_FT_UINT, false),
	AC_F(T, fetch_wait_ms, "fetch_wait_ms", AC_FT_UINT, false, .min = 0,
	    .max = AC_FETCH_WAIT_MAX_MS),
	AC_F(T, accept, "accept", AC_FT_FLAG, false),
};
const ac_schema ac_req_task_complete_schema = AC_SCHEMA("task.complete", T, complete_fields);

static const ac_field fail_fields[] = {
	FENCE_FIELDS,
	AC_F(T, error, "error", AC_FT_STR, true, .min_len = 1),
	AC_F(T, retryable, "retryable", AC_FT_FLAG, false),
};
const ac_schema ac_req_task_fail_schema = AC_SCHEMA("task.fail", T, fail_fields);
#undef T

static const ac_field fetch_msg_fields[] = {
	AC_F(ac_fetch_msg, agent_id, "agent_id", AC_FT_STR, true),
	AC_F(ac_fetch_msg, wait_ms, "wait_ms", AC_FT_UINT, false),
	AC_F(ac_fetch_msg, accept, "accept", AC_FT_FLAG, false),
	AC_F(ac_fetch_msg, capabilities, "capabilities", AC_FT_STRS, false, .item_max_len = ID_MAX),
	AC_F(ac_fetch_msg, targets, "targets", AC_FT_STRS, false, .names = ac_target_names),
	AC_F(ac_fetch_msg, ollama_url, "ollama_url", AC_FT_STR, false),
	AC_F(ac_fetch_msg, endpoint, "endpoint", AC_FT_STR, false, .max_len = 299),
	AC_F(ac_fetch_msg, deadline_ms, "deadline_ms", AC_FT_INT, false),
};
const ac_schema ac_fetch_msg_schema = AC_SCHEMA("fetch", ac_fetch_msg, fetch_msg_fields);

static const ac_field assign_fields[] = {
	AC_F(ac_assign_msg, task_id, "task_id", AC_FT_UINT, true),
	AC_F(ac_assign_msg, generation, "generation", AC_FT_UINT, false),
	AC_F(ac_assign_msg, decision, "decision", AC_FT_MAP, false),
	AC_F(ac_assign_msg, fetch, "fetch", AC_FT_MAP, true),
};
const ac_schema ac_assign_msg_schema = AC_SCHEMA("assign", ac_assign_msg, assign_fields);

static const ac_field event_fields[] = {
	AC_F(ac_task_event, id, "id", AC_FT_UINT, true),
	AC_F(ac_task_event, removed, "removed", AC_FT_FLAG, false),
	AC_F(ac_task_event, generation, "generation", AC_FT_UINT, false),
	AC_F(ac_task_event, priority, "priority", AC_FT_UINT, false, .max = 3),
	AC_F(ac_task_event, enqueued_at_ms, "enqueued_at_ms", AC_FT_INT, false),
	AC_F(ac_task_event, not_before_ms, "not_before_ms", AC_FT_INT, false),
	AC_F(ac_task_event, avoid_agent, "avoid_agent", AC_FT_STR, false),
	AC_F(ac_task_event, spec, "spec", AC_FT_MAP, false, .max_len = 4 * 1024 * 1024),
};
static const ac_schema event_schema = AC_SCHEMA("task_event", ac_task_event, event_fields);
static const ac_field events_fields[] = {
	AC_F(ac_task_events_msg, tasks, "tasks", AC_FT_OBJS, true, .max_len = 100000,
	    .sub = &event_schema),
};
const ac_schema ac_task_events_msg_schema = AC_SCHEMA("task_events", ac_task_events_msg,
    events_fields);

static const ac_field note_fields[] = {
	AC_F(ac_agent_note, agent_id, "agent_id", AC_FT_STR, true),
	AC_F(ac_agent_note, state, "state", AC_FT_STR, false),
	AC_F(ac_agent_note, task_id, "task_id", AC_FT_UINT, false),
};
static const ac_schema note_schema = AC_SCHEMA("agent_note", ac_agent_note, note_fields);
static const ac_field notes_fields[] = {
	AC_F(ac_agent_notes_msg, notes, "notes", AC_FT_OBJS, true, .max_len = 100000,
	    .sub = &note_schema),
};
const ac_schema ac_agent_notes_msg_schema = AC_SCHEMA("agent_notes", ac_agent_notes_msg,
    notes_fields);

static const ac_field pending_note_fields[] = {
	AC_F(ac_task_pending_note, id, "id", AC_FT_UINT, true),
	AC_F(ac_task_pending_note, reason, "reason", AC_FT_STR, true, .max_len = 64), /* "" clears */
	AC_F(ac_task_pending_note, fallback, "fallback", AC_FT_STR, false, .max_len = 256),
};
static const ac_schema pending_note_schema = AC_SCHEMA("task_pending_note", ac_task_pending_note,
    pending_note_fields);
static const ac_field pending_fields[] = {
	AC_F(ac_task_pending_msg, tasks, "tasks", AC_FT_OBJS, true, .max_len = 100000,
	    .sub = &pending_note_schema),
};
const ac_schema ac_task_pending_msg_schema = AC_SCHEMA("task_pending", ac_task_pending_msg,
    pending_fields);
