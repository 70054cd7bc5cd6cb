/* SPDX-License-Identifier: MIT
 * The external op table: wire name -> message id, owning actor, allowed roles, and
 * the request schema every op is validated with (proto/ops.md is its prose twin; a
 * unit test keeps the two in step). Only ops listed here exist on the wire.
 */
#ifndef AC_CODEC_OPS_H
#define AC_CODEC_OPS_H

#include <stddef.h>

#include "codec/msg.h"
#include "codec/schema.h"

#define AC_PROTO_VERSION 1
#define AC_VERSION "0.1.0"
#define AC_MAX_REQUEST_BYTES (2u * 1024 * 1024)

typedef struct ac_op_desc {
	const char *name;          /* wire name, e.g. "task.submit" */
	ac_msg_type msg;           /* AC_MSG_OP_* */
	ac_actor_id owner;         /* the actor the gateway sends it to */
	unsigned roles;            /* ac_role bits allowed to call it */
	bool is_agent_op;          /* carries agent_id, which must match an agent token */
	const ac_schema *schema;   /* request fields (envelope keys excluded) */
} ac_op_desc;

/* The op called name[0..len), or NULL when there is none (-> unknown_op). */
const ac_op_desc *ac_op_lookup(const char *name, size_t len);

/* The op with message id msg, or NULL. */
const ac_op_desc *ac_op_by_msg(ac_msg_type msg);

/* Every op, for docs and tests: *count entries. */
const ac_op_desc *ac_ops_all(size_t *count);

/* Envelope: the keys every request has (DESIGN §4). */
typedef struct ac_envelope {
	ac_str op;
	ac_str token;
	ac_raw agent_id; /* checked against an agent token by the gateway */
} ac_envelope;
extern const ac_schema ac_envelope_schema;

/* --- request bodies of the foundation ops --- */
typedef struct ac_req_empty {
	int unused;
} ac_req_empty;
extern const ac_schema ac_req_empty_schema;

typedef struct ac_req_token_create {
	ac_choice role;   /* index into ac_role_names */
	ac_str agent_id;
	ac_str label;
} ac_req_token_create;
extern const ac_schema ac_req_token_create_schema;

typedef struct ac_req_token_revoke {
	ac_str id;
} ac_req_token_revoke;
extern const ac_schema ac_req_token_revoke_schema;

/* "admin", "client", "agent" in that order (CHOICE index 0, 1, 2). */
extern const char *const ac_role_names[];

#endif
