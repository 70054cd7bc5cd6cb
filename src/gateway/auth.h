/* SPDX-License-Identifier: MIT
 * Admission of one external request: envelope decoding, op lookup, authentication,
 * role and agent binding. A pure function of the bytes and the token table, so it is
 * unit-tested without sockets; the gateway's workers call it on nng's threads.
 */
#ifndef AC_GATEWAY_AUTH_H
#define AC_GATEWAY_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "codec/ops.h"
#include "gateway/tokens.h"

typedef struct ac_admission {
	const ac_op_desc *op; /* set when admitted */
	ac_role role;         /* the caller's role */
	ac_decode_err why;    /* set when refused: code, message, field */
} ac_admission;

/* Admits req[0..len): AC_OK with out->op and out->role, or the wire error in
 * out->why.code (also returned): bad_request (not msgpack, not a map, no op),
 * unknown_op, unauthenticated (missing or unknown token), permission_denied (role not
 * allowed; an agent op whose agent_id is not the token's). tokens NULL means auth is
 * off (--insecure): every caller is admin. arena holds decoding scratch. Any thread
 * (the token lookup takes the table's read lock itself). */
ac_err ac_gateway_admit(const ac_tokens *tokens, const uint8_t *req, size_t len,
    ac_arena *arena, ac_admission *out);

#endif
