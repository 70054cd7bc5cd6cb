/* SPDX-License-Identifier: MIT
 * Request admission: decode the envelope with its schema, find the op, check the token,
 * the role and the agent binding. Never touches sockets or actor state.
 */
#include <stdio.h>
#include <string.h>

#include "gateway/auth.h"

static ac_err refuse(ac_admission *out, ac_err code, const char *message)
{
	out->op = NULL;
	out->why.code = code;
	snprintf(out->why.message, sizeof(out->why.message), "%s", message);
	out->why.field[0] = '\0';
	return code;
}

/* An agent token may only act for its own agent_id (DESIGN §4, agent ops). */
static bool agent_matches(const ac_envelope *env, const ac_token_info *info)
{
	msgpack_unpacked u;
	size_t off = 0;
	bool same = false;

	if (!env->agent_id.set) {
		return false;
	}
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)env->agent_id.p, env->agent_id.len, &off) ==
	        MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_STR) {
		same = u.data.via.str.size == strlen(info->agent_id) &&
		    memcmp(u.data.via.str.ptr, info->agent_id, u.data.via.str.size) == 0;
	}
	msgpack_unpacked_destroy(&u);
	return same;
}

ac_err ac_gateway_admit(const ac_tokens *tokens, const uint8_t *req, size_t len,
    ac_arena *arena, ac_admission *out)
{
	ac_envelope env;
	ac_token_info info;
	ac_err err;

	memset(out, 0, sizeof(*out));
	err = ac_schema_decode_bytes(&ac_envelope_schema, req, len, &env, arena, &out->why);
	if (err == AC_EBADREQ) {
		return refuse(out, AC_EBADREQ, "request is not a msgpack map");
	}
	if (err == AC_ENOMEM) {
		return refuse(out, AC_EUNAVAIL, "out of memory");
	}
	if (err != AC_OK) {
		out->op = NULL; /* the envelope's own fields: bad_request, saying which and why */
		out->why.code = AC_EBADREQ;
		return AC_EBADREQ;
	}
	out->op = ac_op_lookup(env.op.p, env.op.len);
	if (out->op == NULL) {
		return refuse(out, AC_EUNKNOWNOP, "no such op");
	}
	if (tokens == NULL) {
		out->role = AC_ROLE_ADMIN;
		return AC_OK;
	}
	if (!env.token.set || !ac_tokens_check(tokens, env.token.p, env.token.len, &info)) {
		return refuse(out, AC_EUNAUTH, env.token.set ? "unknown token" : "token required");
	}
	out->role = info.role;
	if ((out->op->roles & (unsigned)info.role) == 0) {
		return refuse(out, AC_EPERM, "this token's role may not call this op");
	}
	if (out->op->is_agent_op && info.role == AC_ROLE_AGENT && !agent_matches(&env, &info)) {
		return refuse(out, AC_EPERM, "agent_id is not the one this token is bound to");
	}
	return AC_OK;
}
