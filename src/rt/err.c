/* SPDX-License-Identifier: MIT
 * The ac_err tables: human text, and the wire name each code travels under
 * (proto/README.md "Errors"). One const table indexed by the enum; no state.
 * Internal codes never reach the wire under their own name.
 */
#include <stdbool.h>
#include <string.h>

#include "agentcom/errors.h"

typedef struct err_info {
	const char *text; /* ac_strerror */
	ac_err wire;      /* the code whose wire name this one is sent as */
	const char *name; /* wire name; only set for the wire block (and AC_OK) */
} err_info;

static const err_info errs[AC_ERR_COUNT] = {
	[AC_OK] = { "success", AC_OK, "ok" },
	[AC_EBADREQ] = { "bad request", AC_EBADREQ, "bad_request" },
	[AC_EUNKNOWNOP] = { "unknown op", AC_EUNKNOWNOP, "unknown_op" },
	[AC_EINVAL] = { "invalid argument", AC_EINVAL, "invalid_argument" },
	[AC_ENOTFOUND] = { "not found", AC_ENOTFOUND, "not_found" },
	[AC_ECONFLICT] = { "not allowed in the current status", AC_ECONFLICT, "conflict" },
	[AC_ESTALE] = { "stale generation", AC_ESTALE, "stale_generation" },
	[AC_EUNAUTH] = { "unauthenticated", AC_EUNAUTH, "unauthenticated" },
	[AC_EPERM] = { "permission denied", AC_EPERM, "permission_denied" },
	[AC_ETOOLARGE] = { "too large", AC_ETOOLARGE, "too_large" },
	[AC_EUNAVAIL] = { "unavailable", AC_EUNAVAIL, "unavailable" },
	[AC_EINTERNAL] = { "internal error", AC_EINTERNAL, "internal" },
	/* Resource exhaustion and I/O are the server's temporary trouble, so a client
	 * sees "unavailable" and may retry; everything else internal is a bug. */
	[AC_ENOMEM] = { "out of memory", AC_EUNAVAIL, NULL },
	[AC_EFULL] = { "queue or buffer full", AC_EUNAVAIL, NULL },
	[AC_ETIMEDOUT] = { "timed out", AC_EINTERNAL, NULL },
	[AC_ECLOSED] = { "closed", AC_EUNAVAIL, NULL },
	[AC_EPROTO] = { "protocol error", AC_EINTERNAL, NULL },
	[AC_EIO] = { "I/O error", AC_EUNAVAIL, NULL },
	[AC_ECONNREFUSED] = { "connection refused", AC_EINTERNAL, NULL },
	[AC_EADDRINVAL] = { "invalid address", AC_EINTERNAL, NULL },
};

static bool is_known(ac_err err)
{
	return (unsigned)err < AC_ERR_COUNT && errs[err].text != NULL;
}

const char *ac_strerror(ac_err err)
{
	return is_known(err) ? errs[err].text : "unknown error";
}

const char *ac_err_wire_name(ac_err err)
{
	return is_known(err) ? errs[errs[err].wire].name : errs[AC_EINTERNAL].name;
}

ac_err ac_err_from_wire_name(const char *name, unsigned long len)
{
	/* Only the wire block: "ok" is not an error code a peer may send. */
	for (int e = AC_EBADREQ; name != NULL && e <= AC_EINTERNAL; e++) {
		const char *n = errs[e].name;
		if (strlen(n) == len && memcmp(n, name, len) == 0) {
			return (ac_err)e;
		}
	}
	return AC_EINTERNAL;
}
