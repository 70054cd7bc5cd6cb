/* SPDX-License-Identifier: MIT
 * Tests for tools/livefuzz/check.c, the reply checker of agentcom-livefuzz: well-formed
 * successes and errors pass with every wire code of errors.h, and every way a reply can
 * break the envelope of DESIGN §4 is caught (the fuzzer's verdict is only as good as
 * this).
 */
#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "codec/schema.h"
#include "livefuzz.h"

static msgpack_sbuffer sb;
static msgpack_packer pk;
static lf_reply r;

static void setup(void)
{
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
}

static void teardown(void)
{
	lf_reply_fini(&r);
	msgpack_sbuffer_destroy(&sb);
}

TestSuite(livefuzz_check, .init = setup, .fini = teardown);

static void str(const char *s)
{
	msgpack_pack_str(&pk, strlen(s));
	msgpack_pack_str_body(&pk, s, strlen(s));
}

/* {ok: false, error: {code, message[, field]}} */
static void error_reply(const char *code, const char *field)
{
	msgpack_pack_map(&pk, 2);
	str("ok");
	msgpack_pack_false(&pk);
	str("error");
	msgpack_pack_map(&pk, field != NULL ? 3 : 2);
	str("code");
	str(code);
	str("message");
	str("why");
	if (field != NULL) {
		str("field");
		str(field);
	}
}

static lf_verdict check(void)
{
	return lf_check_reply(&r, (const uint8_t *)sb.data, sb.size);
}

Test(livefuzz_check, a_success_passes_with_its_map)
{
	uint64_t id = 0;

	msgpack_pack_map(&pk, 2);
	str("ok");
	msgpack_pack_true(&pk);
	str("task");
	msgpack_pack_map(&pk, 1);
	str("id");
	msgpack_pack_uint64(&pk, 5);
	cr_assert_eq(check(), LF_REPLY_OK, "%s", r.why);
	cr_assert(lf_mp_u64(ac_mp_get(r.root, "task"), "id", &id));
	cr_assert_eq(id, 5);
}

Test(livefuzz_check, every_wire_code_of_errors_h_is_a_documented_error)
{
	for (int e = AC_EBADREQ; e <= AC_EINTERNAL; e++) {
		msgpack_sbuffer_clear(&sb);
		lf_reply_fini(&r);
		error_reply(ac_err_wire_name((ac_err)e), e == AC_EINVAL ? "tasks[2].id" : NULL);
		cr_assert_eq(check(), LF_REPLY_ERROR, "%s: %s", ac_err_wire_name((ac_err)e), r.why);
		cr_assert_eq(r.code, (ac_err)e);
		cr_assert_str_eq(r.message, "why");
	}
	cr_assert_str_eq(r.field, "");
}

Test(livefuzz_check, a_code_errors_h_does_not_have_is_unknown)
{
	static const char *const codes[] = { "teapot", "ok", "Internal", "not_found ", "" };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		msgpack_sbuffer_clear(&sb);
		lf_reply_fini(&r);
		error_reply(codes[i], NULL);
		cr_assert_eq(check(), LF_REPLY_UNKNOWN_CODE, "code '%s'", codes[i]);
	}
}

/* Each case is the hex of one reply that must be malformed. */
Test(livefuzz_check, every_broken_envelope_is_malformed)
{
	static const char *const cases[] = {
		"",                                 /* nothing */
		"c1",                               /* never-used byte */
		"81a26f6b",                         /* truncated map */
		"81a26f6bc381a26f6bc3",             /* two maps */
		"81a26f6bc300",                     /* a trailing byte */
		"91c3",                             /* an array */
		"80",                               /* no ok */
		"81a26f6b01",                       /* ok not a bool */
		"82a26f6bc3a26f6bc3",               /* ok twice */
		"82a26f6bc301c3",                   /* a non-string key */
		"82a26f6bc2a56572726f72a3626164",   /* error not a map */
		"82a26f6bc2a56572726f7281a4636f6465a8696e7465726e616c", /* no message */
		"82a26f6bc2a56572726f7282a4636f646501a76d657373616765a0", /* code not a str */
		"82a26f6bc2a56572726f7283a4636f6465a8696e7465726e616ca76d657373616765a0"
		"a56669656c6407",                   /* field not a str */
		"81a26f6bc2",                       /* ok false, no error */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t bytes[128];
		size_t n = strlen(cases[i]) / 2;

		for (size_t k = 0; k < n; k++) {
			unsigned v;

			cr_assert_eq(sscanf(cases[i] + 2 * k, "%2x", &v), 1);
			bytes[k] = (uint8_t)v;
		}
		lf_reply_fini(&r);
		cr_assert_eq(lf_check_reply(&r, bytes, n), LF_REPLY_MALFORMED, "case %zu (%s)", i,
		    cases[i]);
		cr_assert_neq(r.why[0], '\0');
	}
}
