/* SPDX-License-Identifier: MIT
 * The internal message frame: a fixed ac_env followed by a msgpack body, in one
 * nng_msg. Builds and splits frames only; never sends, never interprets the body.
 */
#include <string.h>

#include "codec/msg.h"

static ac_err err_from_nng(int rv)
{
	return rv == NNG_ENOMEM ? AC_ENOMEM : AC_EINTERNAL;
}

ac_err ac_msg_alloc(nng_msg **out, const ac_env *env, const void *body, size_t len)
{
	nng_msg *m;
	int rv;

	*out = NULL;
	if ((rv = nng_msg_alloc(&m, 0)) != 0) {
		return err_from_nng(rv);
	}
	if ((rv = nng_msg_append(m, env, sizeof(*env))) != 0 ||
	    (len > 0 && (rv = nng_msg_append(m, body, len)) != 0)) {
		nng_msg_free(m);
		return err_from_nng(rv);
	}
	*out = m;
	return AC_OK;
}

ac_err ac_msg_parse(nng_msg *m, ac_env *env, const uint8_t **body, size_t *len)
{
	const uint8_t *p = nng_msg_body(m);
	size_t n = nng_msg_len(m);

	if (n < sizeof(*env)) {
		return AC_EPROTO;
	}
	/* memcpy: the body carries no alignment guarantee for the envelope's fields. */
	memcpy(env, p, sizeof(*env));
	*body = p + sizeof(*env);
	*len = n - sizeof(*env);
	return AC_OK;
}
