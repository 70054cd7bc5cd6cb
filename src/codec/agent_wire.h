/* SPDX-License-Identifier: MIT
 * Agent ops and the internal messages of assignment: request schemas of the agent ops
 * (DESIGN §4) and the bodies that registry, scheduler and queue exchange.
 */
#ifndef AC_CODEC_AGENT_WIRE_H
#define AC_CODEC_AGENT_WIRE_H

#include "codec/schema.h"

#define AC_FETCH_WAIT_MAX_MS 30000

typedef struct ac_req_agent_hello {
	ac_str agent_id;
	ac_str name;
	ac_strs capabilities;
	ac_strs targets;
	ac_str ollama_url;
} ac_req_agent_hello;
extern const ac_schema ac_req_agent_hello_schema;

typedef struct ac_req_agent_heartbeat {
	ac_str agent_id;
	ac_raw resources;
} ac_req_agent_heartbeat;
extern const ac_schema ac_req_agent_heartbeat_schema;

typedef struct ac_req_agent_fetch {
	ac_str agent_id;
	ac_uint wait_ms;
	ac_flag accept;
} ac_req_agent_fetch;
extern const ac_schema ac_req_agent_fetch_schema;

typedef struct ac_req_agent_only {
	ac_str agent_id;
} ac_req_agent_only;
extern const ac_schema ac_req_agent_only_schema; /* agent.bye, and the registry forwards */

/* task.accept, task.progress, task.complete, task.fail share one struct. */
typedef struct ac_req_task_fenced {
	ac_str agent_id;
	ac_uint id;
	ac_uint generation;
	ac_str message;      /* progress */
	ac_uint percent;     /* progress */
	ac_raw result;       /* complete */
	ac_uint tokens_used; /* complete */
	ac_uint fetch_wait_ms; /* complete */
	ac_flag accept;      /* complete with fetch */
	ac_str error;        /* fail */
	ac_flag retryable;   /* fail */
} ac_req_task_fenced;
extern const ac_schema ac_req_task_accept_schema;
extern const ac_schema ac_req_task_progress_schema;
extern const ac_schema ac_req_task_complete_schema;
extern const ac_schema ac_req_task_fail_schema;

/* AC_MSG_FETCH: the fetch with what the registry knows of the agent. */
typedef struct ac_fetch_msg {
	ac_str agent_id;
	ac_uint wait_ms;
	ac_flag accept;
	ac_strs capabilities;
	ac_strs targets;      /* empty/absent = all */
	ac_str ollama_url;
	ac_str endpoint;      /* id of the endpoint its ollama_url names (the registry's) */
	ac_int deadline_ms;   /* monotonic; set by the scheduler when it first holds it */
} ac_fetch_msg;
extern const ac_schema ac_fetch_msg_schema;

/* AC_MSG_ASSIGN / AC_MSG_ASSIGN_REJECTED. fetch is the AC_MSG_FETCH body, so a refused
 * proposal gives the scheduler the fetch back whole. */
typedef struct ac_assign_msg {
	ac_uint task_id;
	ac_uint generation;
	ac_raw decision;
	ac_raw fetch;
} ac_assign_msg;
extern const ac_schema ac_assign_msg_schema;

/* One task of AC_MSG_TASK_EVENTS. */
typedef struct ac_task_event {
	ac_uint id;
	ac_flag removed;        /* no longer queued (cancelled, expired, dead) */
	ac_uint generation;
	ac_uint priority;
	ac_int enqueued_at_ms;
	ac_int not_before_ms;
	ac_str avoid_agent;     /* the agent that just failed or lost it */
	ac_raw spec;            /* the task's spec map (ac_task_spec_schema) */
} ac_task_event;
typedef struct ac_task_events_msg {
	ac_objs tasks;          /* ac_task_event */
} ac_task_events_msg;
extern const ac_schema ac_task_events_msg_schema;

/* One note of AC_MSG_TASK_PENDING: the scheduler's reason a queued task waits ("" clears);
 * with fallback, the task went one tier up and fallback is its history entry's detail. */
typedef struct ac_task_pending_note {
	ac_uint id;
	ac_str reason;
	ac_str fallback;
} ac_task_pending_note;
/* AC_MSG_TASK_PENDING: the notes of one scheduler batch. */
typedef struct ac_task_pending_msg {
	ac_objs tasks;          /* ac_task_pending_note */
} ac_task_pending_msg;
extern const ac_schema ac_task_pending_msg_schema;

/* One note of AC_MSG_AGENT_NOTES: an agent was active; state/task when they changed. */
typedef struct ac_agent_note {
	ac_str agent_id;
	ac_str state;           /* "idle", "assigned", "working" */
	ac_uint task_id;
} ac_agent_note;
typedef struct ac_agent_notes_msg {
	ac_objs notes;
} ac_agent_notes_msg;
extern const ac_schema ac_agent_notes_msg_schema;

#endif
