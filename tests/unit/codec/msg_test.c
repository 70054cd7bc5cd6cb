/* SPDX-License-Identifier: MIT
 * Tests for src/codec/msg.c: the envelope and body survive a frame round trip, and a
 * frame shorter than an envelope is a protocol error.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "codec/msg.h"

Test(msg, envelope_and_body_round_trip)
{
	ac_env env = { .type = AC_MSG_OP_TASK_GET, .role = AC_ROLE_CLIENT, .pipe_id = 77,
		.corr_id = 0x0123456789abcdefULL };
	ac_env got;
	const uint8_t *body;
	size_t len;
	nng_msg *m;

	cr_assert_eq(ac_msg_alloc(&m, &env, "\x81\xa1" "a" "\x01", 4), AC_OK);
	cr_assert_eq(nng_msg_len(m), sizeof(ac_env) + 4);
	cr_assert_eq(ac_msg_parse(m, &got, &body, &len), AC_OK);
	cr_assert_eq(memcmp(&got, &env, sizeof(env)), 0);
	cr_assert_eq(len, 4);
	cr_assert_eq(memcmp(body, "\x81\xa1" "a" "\x01", 4), 0);
	nng_msg_free(m);
}

Test(msg, empty_body_is_allowed)
{
	ac_env env = { .type = AC_MSG_STOP };
	ac_env got;
	const uint8_t *body;
	size_t len = 99;
	nng_msg *m;

	cr_assert_eq(ac_msg_alloc(&m, &env, NULL, 0), AC_OK);
	cr_assert_eq(ac_msg_parse(m, &got, &body, &len), AC_OK);
	cr_assert_eq(got.type, AC_MSG_STOP);
	cr_assert_eq(len, 0);
	nng_msg_free(m);
}

Test(msg, short_frame_is_a_protocol_error)
{
	ac_env got;
	const uint8_t *body;
	size_t len;
	nng_msg *m;

	cr_assert_eq(nng_msg_alloc(&m, sizeof(ac_env) - 1), 0);
	cr_assert_eq(ac_msg_parse(m, &got, &body, &len), AC_EPROTO);
	nng_msg_free(m);
}
