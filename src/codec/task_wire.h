/* SPDX-License-Identifier: MIT
 * The task on the wire and in the store: one struct of field holders and the schemas
 * over it (submit request, immutable spec, public record, stored record), so every
 * task field is named once (DESIGN §3). The queue converts it to its own task struct.
 */
#ifndef AC_CODEC_TASK_WIRE_H
#define AC_CODEC_TASK_WIRE_H

#include "codec/schema.h"

typedef enum ac_task_status {
	AC_TASK_QUEUED,
	AC_TASK_ASSIGNED,
	AC_TASK_WORKING,
	AC_TASK_COMPLETED,
	AC_TASK_DEAD_LETTER,
	AC_TASK_CANCELLED,
	AC_TASK_STATUS_COUNT
} ac_task_status;

typedef enum ac_priority {
	AC_PRIO_URGENT,
	AC_PRIO_HIGH,
	AC_PRIO_NORMAL,
	AC_PRIO_LOW,
	AC_PRIO_COUNT
} ac_priority;

typedef enum ac_target {
	AC_TARGET_SIDECAR,
	AC_TARGET_OLLAMA,
	AC_TARGET_CLAUDE,
	AC_TARGET_COUNT
} ac_target;

/* Last applied fenced op, remembered so a repeated complete/fail answers ok. */
typedef enum ac_fenced_op {
	AC_FENCED_NONE,
	AC_FENCED_COMPLETE,
	AC_FENCED_FAIL_QUEUED,
	AC_FENCED_FAIL_DEAD,
	AC_FENCED_COUNT
} ac_fenced_op;

/* NULL-terminated wire names, in enum order (CHOICE lists). */
extern const char *const ac_task_status_names[];
extern const char *const ac_priority_names[];
extern const char *const ac_target_names[];
extern const char *const ac_fenced_op_names[];

typedef struct ac_file_hint {
	ac_str path;
	ac_str reason;
} ac_file_hint;

typedef struct ac_verification_step {
	ac_str type;
	ac_str target;
	ac_str description;
} ac_verification_step;

typedef struct ac_history_entry {
	ac_str event;
	ac_int at_ms;
	ac_str detail;
} ac_history_entry;

typedef struct ac_task_wire {
	ac_uint id;
	ac_str description;
	ac_choice priority;
	ac_choice status;
	ac_uint generation;
	ac_str assigned_to;
	ac_int assigned_at_ms;
	ac_int created_at_ms;
	ac_int enqueued_at_ms;
	ac_int updated_at_ms;
	ac_int not_before_ms;
	ac_uint retry_count;
	ac_uint max_retries;
	ac_uint reclaim_count;
	ac_uint ttl_ms;
	ac_strs needed_capabilities;
	ac_strs targets;
	ac_str model;
	ac_str repo;
	ac_str branch;
	ac_objs file_hints;          /* ac_file_hint */
	ac_strs success_criteria;
	ac_objs verification_steps;  /* ac_verification_step */
	ac_raw metadata;
	ac_raw complexity;
	ac_raw routing_decision;
	ac_str pending_reason;
	ac_raw result;
	ac_uint tokens_used;
	ac_str last_error;
	ac_str submitted_by;
	ac_str idempotency_key;
	ac_objs history;             /* ac_history_entry, newest first */
	/* stored only (never in replies) */
	ac_str applied_agent;
	ac_uint applied_generation;
	ac_choice applied_op;
	/* submit only */
	ac_uint delay_ms;
	ac_str complexity_tier;
} ac_task_wire;

/* task.submit's fields (and each map of task.submit_batch / route.explain). */
extern const ac_schema ac_task_submit_schema;
/* The fields fixed at submit that the queue keeps as one encoded blob. */
extern const ac_schema ac_task_spec_schema;
/* What the scheduler needs of a task's spec: capabilities, targets, model, repo,
 * complexity. */
extern const ac_schema ac_task_route_schema;
/* The task as replies show it (DESIGN §3). */
extern const ac_schema ac_task_public_schema;
/* The task as the store keeps it: public fields plus the fencing memory. */
extern const ac_schema ac_task_stored_schema;



/* Requests naming one task: task.get, task.cancel, task.retry. */
typedef struct ac_req_task_id {
	ac_uint id;
} ac_req_task_id;
extern const ac_schema ac_req_task_id_schema;

typedef struct ac_req_task_list {
	ac_choice status;
	ac_choice priority;
	ac_str assigned_to;
	ac_uint limit;
	ac_str cursor;
} ac_req_task_list;
extern const ac_schema ac_req_task_list_schema;

/* task.submit_batch: each map of tasks is validated on its own (its errors are
 * per item), so the list arrives undecoded. */
typedef struct ac_req_task_batch {
	ac_raw tasks;
} ac_req_task_batch;
extern const ac_schema ac_req_task_batch_schema;
#define AC_BATCH_MAX 1000
#endif
