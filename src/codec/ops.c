/* SPDX-License-Identifier: MIT
 * The op table and the request schemas of the ops the gateway and telemetry own.
 * Adding an op: one row here, one schema, one handler row in the owning actor.
 */
#include <string.h>

#include "codec/agent_wire.h"
#include "codec/endpoint_wire.h"
#include "codec/ops.h"
#include "codec/task_wire.h"

const char *const ac_role_names[] = { "admin", "client", "agent", NULL };

static const ac_field envelope_fields[] = {
	AC_F(ac_envelope, op, "op", AC_FT_STR, true, .min_len = 1, .max_len = 64),
	AC_F(ac_envelope, token, "token", AC_FT_STR, false, .max_len = 256),
	AC_F(ac_envelope, agent_id, "agent_id", AC_FT_ANY, false, .max_len = 1024),
};
const ac_schema ac_envelope_schema = AC_SCHEMA("envelope", ac_envelope, envelope_fields);

const ac_schema ac_req_empty_schema = {
	.name = "empty", .fields = NULL, .count = 0, .size = sizeof(ac_req_empty),
};

static const ac_field token_create_fields[] = {
	AC_F(ac_req_token_create, role, "role", AC_FT_CHOICE, true, .names = ac_role_names),
	AC_F(ac_req_token_create, agent_id, "agent_id", AC_FT_ID, false, .max_len = 128),
	AC_F(ac_req_token_create, label, "label", AC_FT_STR, false, .max_len = 128),
};
const ac_schema ac_req_token_create_schema =
    AC_SCHEMA("token.create", ac_req_token_create, token_create_fields);

static const ac_field token_revoke_fields[] = {
	AC_F(ac_req_token_revoke, id, "id", AC_FT_STR, true, .min_len = 1, .max_len = 64),
};
const ac_schema ac_req_token_revoke_schema =
    AC_SCHEMA("token.revoke", ac_req_token_revoke, token_revoke_fields);

#define ANY_ROLE (AC_ROLE_ADMIN | AC_ROLE_CLIENT | AC_ROLE_AGENT)
#define CLIENT_ROLES (AC_ROLE_ADMIN | AC_ROLE_CLIENT)
#define AGENT_ROLES (AC_ROLE_ADMIN | AC_ROLE_AGENT)

static const ac_op_desc ops[] = {
	{ "ping", AC_MSG_OP_PING, AC_ACTOR_TELEMETRY, ANY_ROLE, false, &ac_req_empty_schema },
	{ "stats", AC_MSG_OP_STATS, AC_ACTOR_QUEUE, CLIENT_ROLES, false, &ac_req_empty_schema },
	{ "token.create", AC_MSG_OP_TOKEN_CREATE, AC_ACTOR_GATEWAY, AC_ROLE_ADMIN, false,
	    &ac_req_token_create_schema },
	{ "token.list", AC_MSG_OP_TOKEN_LIST, AC_ACTOR_GATEWAY, AC_ROLE_ADMIN, false,
	    &ac_req_empty_schema },
	{ "token.revoke", AC_MSG_OP_TOKEN_REVOKE, AC_ACTOR_GATEWAY, AC_ROLE_ADMIN, false,
	    &ac_req_token_revoke_schema },
	{ "task.submit", AC_MSG_OP_TASK_SUBMIT, AC_ACTOR_QUEUE, CLIENT_ROLES, false,
	    &ac_task_submit_schema },
	{ "task.submit_batch", AC_MSG_OP_TASK_SUBMIT_BATCH, AC_ACTOR_QUEUE, CLIENT_ROLES, false,
	    &ac_req_task_batch_schema },
	{ "task.get", AC_MSG_OP_TASK_GET, AC_ACTOR_QUEUE, CLIENT_ROLES, false,
	    &ac_req_task_id_schema },
	{ "task.list", AC_MSG_OP_TASK_LIST, AC_ACTOR_QUEUE, CLIENT_ROLES, false,
	    &ac_req_task_list_schema },
	{ "task.cancel", AC_MSG_OP_TASK_CANCEL, AC_ACTOR_QUEUE, CLIENT_ROLES, false,
	    &ac_req_task_id_schema },
	{ "task.retry", AC_MSG_OP_TASK_RETRY, AC_ACTOR_QUEUE, CLIENT_ROLES, false,
	    &ac_req_task_id_schema },
	{ "route.explain", AC_MSG_OP_ROUTE_EXPLAIN, AC_ACTOR_SCHEDULER, CLIENT_ROLES, false,
	    &ac_task_submit_schema },
	{ "agent.list", AC_MSG_OP_AGENT_LIST, AC_ACTOR_REGISTRY, CLIENT_ROLES, false,
	    &ac_req_empty_schema },
	{ "endpoint.register", AC_MSG_OP_ENDPOINT_REGISTER, AC_ACTOR_REGISTRY, AC_ROLE_ADMIN, false,
	    &ac_req_endpoint_register_schema },
	{ "endpoint.remove", AC_MSG_OP_ENDPOINT_REMOVE, AC_ACTOR_REGISTRY, AC_ROLE_ADMIN, false,
	    &ac_req_endpoint_id_schema },
	{ "endpoint.list", AC_MSG_OP_ENDPOINT_LIST, AC_ACTOR_REGISTRY, CLIENT_ROLES, false,
	    &ac_req_empty_schema },
	{ "agent.hello", AC_MSG_OP_AGENT_HELLO, AC_ACTOR_REGISTRY, AGENT_ROLES, true,
	    &ac_req_agent_hello_schema },
	{ "agent.heartbeat", AC_MSG_OP_AGENT_HEARTBEAT, AC_ACTOR_REGISTRY, AGENT_ROLES, true,
	    &ac_req_agent_heartbeat_schema },
	/* the scheduler serves it from its cached profile, else passes it to the registry */
	{ "agent.fetch", AC_MSG_OP_AGENT_FETCH, AC_ACTOR_SCHEDULER, AGENT_ROLES, true,
	    &ac_req_agent_fetch_schema },
	{ "agent.bye", AC_MSG_OP_AGENT_BYE, AC_ACTOR_REGISTRY, AGENT_ROLES, true,
	    &ac_req_agent_only_schema },
	{ "task.accept", AC_MSG_OP_TASK_ACCEPT, AC_ACTOR_QUEUE, AGENT_ROLES, true,
	    &ac_req_task_accept_schema },
	{ "task.progress", AC_MSG_OP_TASK_PROGRESS, AC_ACTOR_QUEUE, AGENT_ROLES, true,
	    &ac_req_task_progress_schema },
	{ "task.complete", AC_MSG_OP_TASK_COMPLETE, AC_ACTOR_QUEUE, AGENT_ROLES, true,
	    &ac_req_task_complete_schema },
	{ "task.fail", AC_MSG_OP_TASK_FAIL, AC_ACTOR_QUEUE, AGENT_ROLES, true,
	    &ac_req_task_fail_schema },
};

const ac_op_desc *ac_op_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strlen(ops[i].name) == len && memcmp(ops[i].name, name, len) == 0) {
			return &ops[i];
		}
	}
	return NULL;
}

const ac_op_desc *ac_op_by_msg(ac_msg_type msg)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i].msg == msg) {
			return &ops[i];
		}
	}
	return NULL;
}

const ac_op_desc *ac_ops_all(size_t *count)
{
	*count = sizeof(ops) / sizeof(ops[0]);
	return ops;
}
