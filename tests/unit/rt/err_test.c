/* SPDX-License-Identifier: MIT
 * Tests for src/rt/err.c: every code has text and a wire name, internal codes map to
 * "unavailable" or "internal", and wire names parse back.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "agentcom/errors.h"

Test(err, every_code_has_text)
{
	for (int e = 0; e < AC_ERR_COUNT; e++) {
		cr_assert_str_neq(ac_strerror((ac_err)e), "unknown error", "code %d", e);
	}
	cr_assert_str_eq(ac_strerror(AC_ERR_COUNT), "unknown error");
	cr_assert_str_eq(ac_strerror((ac_err)-1), "unknown error");
}

Test(err, wire_codes_have_their_own_names)
{
	static const struct {
		ac_err code;
		const char *name;
	} want[] = {
		{ AC_EBADREQ, "bad_request" }, { AC_EUNKNOWNOP, "unknown_op" },
		{ AC_EINVAL, "invalid_argument" }, { AC_ENOTFOUND, "not_found" },
		{ AC_ECONFLICT, "conflict" }, { AC_ESTALE, "stale_generation" },
		{ AC_EUNAUTH, "unauthenticated" }, { AC_EPERM, "permission_denied" },
		{ AC_ETOOLARGE, "too_large" }, { AC_EUNAVAIL, "unavailable" },
		{ AC_EINTERNAL, "internal" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_str_eq(ac_err_wire_name(want[i].code), want[i].name);
	}
}

Test(err, internal_codes_map_to_unavailable_or_internal)
{
	cr_assert_str_eq(ac_err_wire_name(AC_ENOMEM), "unavailable");
	cr_assert_str_eq(ac_err_wire_name(AC_EFULL), "unavailable");
	cr_assert_str_eq(ac_err_wire_name(AC_EIO), "unavailable");
	cr_assert_str_eq(ac_err_wire_name(AC_ECLOSED), "unavailable");
	cr_assert_str_eq(ac_err_wire_name(AC_ETIMEDOUT), "internal");
	cr_assert_str_eq(ac_err_wire_name(AC_EPROTO), "internal");
	cr_assert_str_eq(ac_err_wire_name(AC_ECONNREFUSED), "internal");
	cr_assert_str_eq(ac_err_wire_name(AC_EADDRINVAL), "internal");
	cr_assert_str_eq(ac_err_wire_name(AC_ERR_COUNT), "internal");
}

Test(err, wire_names_round_trip)
{
	for (int e = AC_EBADREQ; e <= AC_EINTERNAL; e++) {
		const char *n = ac_err_wire_name((ac_err)e);
		cr_assert_eq(ac_err_from_wire_name(n, strlen(n)), (ac_err)e, "%s", n);
	}
}

Test(err, unknown_or_partial_wire_name_is_internal)
{
	cr_assert_eq(ac_err_from_wire_name("nope", 4), AC_EINTERNAL);
	cr_assert_eq(ac_err_from_wire_name("not_found_x", 9), AC_ENOTFOUND); /* length-bounded */
	cr_assert_eq(ac_err_from_wire_name("not_foun", 8), AC_EINTERNAL);
	cr_assert_eq(ac_err_from_wire_name("ok", 2), AC_EINTERNAL);
	cr_assert_eq(ac_err_from_wire_name(NULL, 0), AC_EINTERNAL);
}
