/* SPDX-License-Identifier: MIT
 * Task field table: every task field's name, type and limits, written once. The four
 * schemas are views of the same table (submit fields, spec fields, public, stored).
 */
#include <stddef.h>

#include "codec/task_wire.h"

const char *const ac_task_status_names[] = { "queued", "assigned", "working", "completed",
	"dead_letter", "cancelled", NULL };
const char *const ac_priority_names[] = { "urgent", "high", "normal", "low", NULL };
const char *const ac_target_names[] = { "sidecar", "ollama", "claude", NULL };
const char *const ac_fenced_op_names[] = { "none", "complete", "fail_queued", "fail_dead",
	NULL };

#define W ac_task_wire
#define DESC_MAX 10000
#define NAME_MAX_LEN 128

static const ac_field file_hint_fields[] = {
	AC_F(ac_file_hint, path, "path", AC_FT_STR, true, .min_len = 1),
	AC_F(ac_file_hint, reason, "reason", AC_FT_STR, false),
};
static const ac_schema file_hint_schema = AC_SCHEMA("file_hint", ac_file_hint, file_hint_fields);

static const ac_field step_fields[] = {
	AC_F(ac_verification_step, type, "type", AC_FT_STR, true, .min_len = 1),
	AC_F(ac_verification_step, target, "target", AC_FT_STR, true),
	AC_F(ac_verification_step, description, "description", AC_FT_STR, false),
};
static const ac_schema step_schema = AC_SCHEMA("verification_step", ac_verification_step,
    step_fields);

static const ac_field history_fields[] = {
	AC_F(ac_history_entry, event, "event", AC_FT_STR, true),
	AC_F(ac_history_entry, at_ms, "at_ms", AC_FT_INT, true),
	AC_F(ac_history_entry, detail, "detail", AC_FT_STR, false),
};
static const ac_schema history_schema = AC_SCHEMA("history", ac_history_entry, history_fields);

/* The submit fields, also the spec's (immutable) part of the record. */
#define SPEC_FIELDS                                                                         \
	AC_F(W, description, "description", AC_FT_STR, true, .min_len = 1, .max_len = DESC_MAX), \
	AC_F(W, needed_capabilities, "needed_capabilities", AC_FT_STRS, false,                 \
	    .item_max_len = NAME_MAX_LEN),                                                      \
	AC_F(W, targets, "targets", AC_FT_STRS, false, .min_len = 1, .max_len = 3,            \
	    .names = ac_target_names),                                                          \
	AC_F(W, model, "model", AC_FT_STR, false, .min_len = 1, .max_len = NAME_MAX_LEN),      \
	AC_F(W, repo, "repo", AC_FT_STR, false),                                               \
	AC_F(W, branch, "branch", AC_FT_STR, false),                                           \
	AC_F(W, file_hints, "file_hints", AC_FT_OBJS, false, .sub = &file_hint_schema),        \
	AC_F(W, success_criteria, "success_criteria", AC_FT_STRS, false),                      \
	AC_F(W, verification_steps, "verification_steps", AC_FT_OBJS, false,                   \
	    .sub = &step_schema),                                                               \
	AC_F(W, metadata, "metadata", AC_FT_MAP, false, .max_len = 64 * 1024)

static const ac_field submit_fields[] = {
	SPEC_FIELDS,
	AC_F(W, priority, "priority", AC_FT_CHOICE, false, .names = ac_priority_names),
	AC_F(W, max_retries, "max_retries", AC_FT_UINT, false, .min = 0, .max = 20),
	AC_F(W, ttl_ms, "ttl_ms", AC_FT_UINT, false, .min = 0, .max = INT32_MAX * 1000LL),
	AC_F(W, idempotency_key, "idempotency_key", AC_FT_STR, false, .min_len = 1,
	    .max_len = NAME_MAX_LEN),
	AC_F(W, delay_ms, "delay_ms", AC_FT_UINT, false, .min = 0, .max = 30LL * 86400 * 1000),
	AC_F(W, complexity_tier, "complexity_tier", AC_FT_STR, false, .max_len = 64),
	AC_F(W, submitted_by, "submitted_by", AC_FT_STR, false, .min_len = 1,
	    .max_len = NAME_MAX_LEN),
};
const ac_schema ac_task_submit_schema = AC_SCHEMA("task.submit", W, submit_fields);

static const ac_field spec_fields[] = {
	SPEC_FIELDS,
	AC_F(W, complexity, "complexity", AC_FT_MAP, false),
};
const ac_schema ac_task_spec_schema = AC_SCHEMA("task.spec", W, spec_fields);

static const ac_field route_fields[] = {
	AC_F(W, needed_capabilities, "needed_capabilities", AC_FT_STRS, false),
	AC_F(W, targets, "targets", AC_FT_STRS, false, .names = ac_target_names),
	AC_F(W, model, "model", AC_FT_STR, false),
	AC_F(W, repo, "repo", AC_FT_STR, false),
	AC_F(W, complexity, "complexity", AC_FT_MAP, false),
};
const ac_schema ac_task_route_schema = AC_SCHEMA("task.route", W, route_fields);

/* Public record order: identity, state, spec, outcome. The stored-only fields come
 * last so the public schema is a prefix of the stored one. */
static const ac_field stored_fields[] = {
	AC_F(W, id, "id", AC_FT_UINT, true),
	AC_F(W, status, "status", AC_FT_CHOICE, true, .names = ac_task_status_names),
	AC_F(W, priority, "priority", AC_FT_CHOICE, true, .names = ac_priority_names),
	AC_F(W, generation, "generation", AC_FT_UINT, true),
	AC_F(W, assigned_to, "assigned_to", AC_FT_STR, false, .max_len = NAME_MAX_LEN),
	AC_F(W, assigned_at_ms, "assigned_at_ms", AC_FT_INT, false),
	AC_F(W, created_at_ms, "created_at_ms", AC_FT_INT, true),
	AC_F(W, enqueued_at_ms, "enqueued_at_ms", AC_FT_INT, true),
	AC_F(W, updated_at_ms, "updated_at_ms", AC_FT_INT, true),
	AC_F(W, not_before_ms, "not_before_ms", AC_FT_INT, false),
	AC_F(W, retry_count, "retry_count", AC_FT_UINT, true),
	AC_F(W, max_retries, "max_retries", AC_FT_UINT, true),
	AC_F(W, reclaim_count, "reclaim_count", AC_FT_UINT, true),
	AC_F(W, ttl_ms, "ttl_ms", AC_FT_UINT, false),
	SPEC_FIELDS,
	AC_F(W, complexity, "complexity", AC_FT_MAP, false),
	AC_F(W, routing_decision, "routing_decision", AC_FT_MAP, false),
	AC_F(W, pending_reason, "pending_reason", AC_FT_STR, false),
	AC_F(W, result, "result", AC_FT_ANY, false, .max_len = 1024 * 1024),
	AC_F(W, tokens_used, "tokens_used", AC_FT_UINT, false),
	AC_F(W, last_error, "last_error", AC_FT_STR, false, .max_len = 4096),
	AC_F(W, submitted_by, "submitted_by", AC_FT_STR, false),
	AC_F(W, idempotency_key, "idempotency_key", AC_FT_STR, false),
	AC_F(W, history, "history", AC_FT_OBJS, false, .max_len = 50, .sub = &history_schema),
	/* stored only: keep these three last */
	AC_F(W, applied_agent, "applied_agent", AC_FT_STR, false),
	AC_F(W, applied_generation, "applied_generation", AC_FT_UINT, false),
	AC_F(W, applied_op, "applied_op", AC_FT_CHOICE, false, .names = ac_fenced_op_names),
};
const ac_schema ac_task_stored_schema = AC_SCHEMA("task.stored", W, stored_fields);
const ac_schema ac_task_public_schema = {
	.name = "task",
	.fields = stored_fields,
	.count = (uint16_t)(sizeof(stored_fields) / sizeof(stored_fields[0]) - 3),
	.size = (uint16_t)sizeof(W),
};

static const ac_field task_id_fields[] = {
	AC_F(ac_req_task_id, id, "id", AC_FT_UINT, true, .min = 1),
};
const ac_schema ac_req_task_id_schema = AC_SCHEMA("task.id", ac_req_task_id, task_id_fields);

static const ac_field task_list_fields[] = {
	AC_F(ac_req_task_list, status, "status", AC_FT_CHOICE, false, .names = ac_task_status_names),
	AC_F(ac_req_task_list, priority, "priority", AC_FT_CHOICE, false, .names = ac_priority_names),
	AC_F(ac_req_task_list, assigned_to, "assigned_to", AC_FT_ID, false, .max_len = NAME_MAX_LEN),
	AC_F(ac_req_task_list, limit, "limit", AC_FT_UINT, false, .min = 1, .max = 1000),
	AC_F(ac_req_task_list, cursor, "cursor", AC_FT_STR, false, .max_len = 128),
};
const ac_schema ac_req_task_list_schema = AC_SCHEMA("task.list", ac_req_task_list,
    task_list_fields);

static const ac_field task_batch_fields[] = {
	AC_F(ac_req_task_batch, tasks, "tasks", AC_FT_ANY, true, .max_len = 2 * 1024 * 1024),
};
const ac_schema ac_req_task_batch_schema = AC_SCHEMA("task.submit_batch", ac_req_task_batch,
    task_batch_fields);
