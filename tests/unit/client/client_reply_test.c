/* SPDX-License-Identifier: MIT
 * Tests for src/client/reply.c and the request builder of src/client/client.c: reply
 * decoding and error summary, path lookup, typed getters, and token insertion into
 * fixmap, map16 and map32 request headers. No sockets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "agentcom/json.h"
#include "client/client_int.h"
#include "codec/mpw.h"

static nng_msg *
msg_of(const void *p, size_t len)
{
	nng_msg *m;

	cr_assert_eq(nng_msg_alloc(&m, 0), 0);
	cr_assert_eq(nng_msg_append(m, p, len), 0);
	return m;
}

static ac_reply *
decode(const ac_mpw *w)
{
	nng_msg *m = msg_of(ac_mpw_data(w), ac_mpw_len(w));
	ac_reply *r = NULL;

	cr_assert_eq(w->err, AC_OK);
	cr_assert_eq(ac_client_decode_reply(&m, &r), AC_OK);
	cr_assert_null(m, "decode takes the message");
	return r;
}

/* {ok: true, task: {id: "t-1", n: 5, neg: -3, f: 1.5, big: 2^63, flag: true,
 *  tags: ["a", "b", {x: 7}], none: nil}, note: "a longer string"} */
static ac_reply *
sample_reply(void)
{
	ac_mpw w;
	ac_reply *r;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 3);
	ac_mpw_key(&w, "ok");
	ac_mpw_bool(&w, true);
	ac_mpw_key(&w, "task");
	ac_mpw_map(&w, 8);
	ac_mpw_key(&w, "id");
	ac_mpw_cstr(&w, "t-1");
	ac_mpw_key(&w, "n");
	ac_mpw_u64(&w, 5);
	ac_mpw_key(&w, "neg");
	ac_mpw_i64(&w, -3);
	ac_mpw_key(&w, "f");
	ac_mpw_f64(&w, 1.5);
	ac_mpw_key(&w, "big");
	ac_mpw_u64(&w, (uint64_t)1 << 63);
	ac_mpw_key(&w, "flag");
	ac_mpw_bool(&w, true);
	ac_mpw_key(&w, "tags");
	ac_mpw_array(&w, 3);
	ac_mpw_cstr(&w, "a");
	ac_mpw_cstr(&w, "b");
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "x");
	ac_mpw_u64(&w, 7);
	ac_mpw_key(&w, "none");
	ac_mpw_nil(&w);
	ac_mpw_key(&w, "note");
	ac_mpw_cstr(&w, "a longer string");
	r = decode(&w);
	ac_mpw_fini(&w);
	return r;
}

Test(client_reply, success_reply_has_no_error)
{
	ac_reply *r = sample_reply();

	cr_assert(ac_reply_ok(r));
	cr_assert_eq(ac_reply_error(r), AC_OK);
	cr_assert_str_eq(ac_reply_message(r), "");
	cr_assert_str_eq(ac_reply_field(r), "");
	cr_assert_eq(ac_reply_root(r)->type, MSGPACK_OBJECT_MAP);
	ac_reply_free(r);
}

Test(client_reply, path_lookup_walks_keys_and_indexes)
{
	ac_reply *r = sample_reply();
	const msgpack_object *o;

	cr_assert_eq(ac_reply_get(r, ""), ac_reply_root(r));
	o = ac_reply_get(r, "task.tags[1]");
	cr_assert_not_null(o);
	cr_assert_eq(o->type, MSGPACK_OBJECT_STR);
	cr_assert_eq(o->via.str.size, 1);
	cr_assert_eq(o->via.str.ptr[0], 'b');
	o = ac_reply_get(r, "task.tags[2].x");
	cr_assert(o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 == 7);
	cr_assert_eq(ac_reply_get(r, "task.none")->type, MSGPACK_OBJECT_NIL);
	ac_reply_free(r);
}

Test(client_reply, path_lookup_rejects_what_does_not_resolve)
{
	static const char *const bad[] = {
		"missing", "task.missing", "task.tags[3]", "task.tags[-1]", "task.tags[]",
		"task.tags[x]", "task.tags[1", "task.tags[1]x", "task..id", "task.", ".task",
		"task[0]", "task.id.more", "task.tags[99999999999999999999]", "[0]", "ok.x",
	};
	ac_reply *r = sample_reply();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_null(ac_reply_get(r, bad[i]), "path %s", bad[i]);
	}
	ac_reply_free(r);
}

Test(client_reply, typed_getters_check_types)
{
	ac_reply *r = sample_reply();
	uint64_t u = 0;
	int64_t i = 0;
	double f = 0;
	bool b = false;

	cr_assert(ac_reply_u64(r, "task.n", &u) && u == 5);
	cr_assert_not(ac_reply_u64(r, "task.neg", &u));
	cr_assert_not(ac_reply_u64(r, "task.id", &u));
	cr_assert(ac_reply_i64(r, "task.neg", &i) && i == -3);
	cr_assert(ac_reply_i64(r, "task.n", &i) && i == 5);
	cr_assert_not(ac_reply_i64(r, "task.big", &i), "2^63 does not fit int64");
	cr_assert(ac_reply_f64(r, "task.f", &f) && f == 1.5);
	cr_assert(ac_reply_f64(r, "task.n", &f) && f == 5.0);
	cr_assert(ac_reply_f64(r, "task.neg", &f) && f == -3.0);
	cr_assert_not(ac_reply_f64(r, "task.flag", &f));
	cr_assert(ac_reply_bool(r, "task.flag", &b) && b);
	cr_assert_not(ac_reply_bool(r, "task.n", &b));
	cr_assert_not(ac_reply_u64(r, "task.missing", &u));
	ac_reply_free(r);
}

Test(client_reply, str_getter_copies_and_truncates)
{
	ac_reply *r = sample_reply();
	char buf[8];

	cr_assert(ac_reply_str(r, "task.id", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "t-1");
	cr_assert(ac_reply_str(r, "note", buf, sizeof(buf)));
	cr_assert_str_eq(buf, "a longe");
	cr_assert(ac_reply_str(r, "note", buf, 1));
	cr_assert_str_eq(buf, "");
	cr_assert_not(ac_reply_str(r, "task.n", buf, sizeof(buf)));
	cr_assert_not(ac_reply_str(r, "task.none", buf, sizeof(buf)));
	ac_reply_free(r);
}

static ac_reply *
error_reply(const char *code, const char *message, const char *field)
{
	ac_mpw w;
	ac_reply *r;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 2);
	ac_mpw_key(&w, "ok");
	ac_mpw_bool(&w, false);
	ac_mpw_key(&w, "error");
	ac_mpw_map(&w, 1 + (message != NULL) + (field != NULL));
	ac_mpw_key(&w, "code");
	ac_mpw_cstr(&w, code);
	if (message != NULL) {
		ac_mpw_key(&w, "message");
		ac_mpw_cstr(&w, message);
	}
	if (field != NULL) {
		ac_mpw_key(&w, "field");
		ac_mpw_cstr(&w, field);
	}
	r = decode(&w);
	ac_mpw_fini(&w);
	return r;
}

Test(client_reply, error_reply_maps_code_message_field)
{
	ac_reply *r = error_reply("invalid_argument", "too long", "file_hints[2].path");

	cr_assert_not(ac_reply_ok(r));
	cr_assert_eq(ac_reply_error(r), AC_EINVAL);
	cr_assert_str_eq(ac_reply_message(r), "too long");
	cr_assert_str_eq(ac_reply_field(r), "file_hints[2].path");
	ac_reply_free(r);
	r = error_reply("not_found", NULL, NULL);
	cr_assert_eq(ac_reply_error(r), AC_ENOTFOUND);
	cr_assert_str_eq(ac_reply_message(r), "");
	cr_assert_str_eq(ac_reply_field(r), "");
	ac_reply_free(r);
	r = error_reply("some_future_code", "?", NULL);
	cr_assert_eq(ac_reply_error(r), AC_EINTERNAL);
	ac_reply_free(r);
}

static void
expect_bad_reply(const void *p, size_t len)
{
	nng_msg *m = msg_of(p, len);
	ac_reply *r = NULL;

	cr_expect_eq(ac_client_decode_reply(&m, &r), AC_EPROTO);
	cr_expect_not_null(m, "the caller keeps the message on failure");
	cr_expect_null(r);
	nng_msg_free(m);
}

Test(client_reply, malformed_replies_are_protocol_errors)
{
	static const uint8_t not_map[] = { 0x91, 0xc3 };                 /* [true] */
	static const uint8_t no_ok[] = { 0x81, 0xa1, 'x', 0x01 };        /* {x: 1} */
	static const uint8_t ok_not_bool[] = { 0x81, 0xa2, 'o', 'k', 0x01 };
	static const uint8_t trailing[] = { 0x81, 0xa2, 'o', 'k', 0xc3, 0x00 };
	static const uint8_t truncated[] = { 0x82, 0xa2, 'o', 'k', 0xc3 };
	static const uint8_t huge_count[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
	uint8_t deep[40];

	expect_bad_reply(not_map, sizeof(not_map));
	expect_bad_reply(no_ok, sizeof(no_ok));
	expect_bad_reply(ok_not_bool, sizeof(ok_not_bool));
	expect_bad_reply(trailing, sizeof(trailing));
	expect_bad_reply(truncated, sizeof(truncated));
	expect_bad_reply(huge_count, sizeof(huge_count));
	expect_bad_reply(huge_count, 0);
	/* {ok: true, x: [[[...]]]} nested past msgpack-c's limit of 32 */
	memcpy(deep, (const uint8_t[]){ 0x82, 0xa2, 'o', 'k', 0xc3, 0xa1, 'x' }, 7);
	memset(deep + 7, 0x91, 32);
	deep[39] = 0xc0;
	expect_bad_reply(deep, sizeof(deep));
}

Test(client_reply, data_and_json_give_the_reply_back)
{
	static const uint8_t bytes[] = { 0x82, 0xa2, 'o', 'k', 0xc3, 0xa1, 'n', 0x05 };
	nng_msg *m = msg_of(bytes, sizeof(bytes));
	ac_reply *r = NULL;
	const uint8_t *data;
	size_t len = 0;
	char *json;

	cr_assert_eq(ac_client_decode_reply(&m, &r), AC_OK);
	data = ac_reply_data(r, &len);
	cr_assert_eq(len, sizeof(bytes));
	cr_assert_arr_eq(data, bytes, len);
	json = ac_reply_json(r, 0);
	cr_assert_not_null(json);
	cr_assert_str_eq(json, "{\"ok\":true,\"n\":5}");
	free(json);
	ac_reply_free(r);
	ac_reply_free(NULL);
}

/* --- token insertion --- */

/* A request map of pair_count pairs "k<i>": i, with "op": "x" first. */
static void
write_request(ac_mpw *w, uint32_t pair_count)
{
	char key[16];

	ac_mpw_init(w);
	ac_mpw_map(w, pair_count);
	ac_mpw_key(w, "op");
	ac_mpw_cstr(w, "x");
	for (uint32_t i = 1; i < pair_count; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		ac_mpw_key(w, key);
		ac_mpw_u64(w, i);
	}
	cr_assert_eq(w->err, AC_OK);
}

/* Checks that m is req's pairs in order plus "token": token last; returns the first
 * byte of its header. */
static uint8_t
expect_token_added(nng_msg *m, uint32_t pair_count, const char *token)
{
	const uint8_t *body = nng_msg_body(m);
	msgpack_unpacked u;
	size_t off = 0;
	const msgpack_object_kv *last;

	msgpack_unpacked_init(&u);
	cr_assert_eq(msgpack_unpack_next(&u, (const char *)body, nng_msg_len(m), &off),
	    MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(off, nng_msg_len(m));
	cr_assert_eq(u.data.type, MSGPACK_OBJECT_MAP);
	cr_assert_eq(u.data.via.map.size, pair_count + 1);
	cr_assert_not_null(ac_client_map_find(&u.data, "op", 2));
	for (uint32_t i = 1; i < pair_count; i++) {
		cr_assert_eq(u.data.via.map.ptr[i].val.via.u64, i);
	}
	last = &u.data.via.map.ptr[pair_count];
	cr_assert_eq(last->key.via.str.size, 5);
	cr_assert_eq(memcmp(last->key.via.str.ptr, "token", 5), 0);
	cr_assert_eq(last->val.via.str.size, strlen(token));
	cr_assert_eq(memcmp(last->val.via.str.ptr, token, strlen(token)), 0);
	msgpack_unpacked_destroy(&u);
	return body[0];
}

static void
check_insertion(uint32_t pair_count, uint8_t expected_header)
{
	ac_mpw w;
	nng_msg *m = NULL;

	write_request(&w, pair_count);
	cr_assert_eq(ac_client_add_token(ac_mpw_data(&w), ac_mpw_len(&w), "ac_secret", &m), AC_OK);
	cr_assert_eq(expect_token_added(m, pair_count, "ac_secret"), expected_header,
	    "header for %u + 1 pairs", pair_count);
	nng_msg_free(m);
	ac_mpw_fini(&w);
}

Test(client_add_token, grows_fixmap_and_map16_headers)
{
	check_insertion(1, 0x82);
	check_insertion(14, 0x8f);
	check_insertion(15, 0xde); /* fixmap 15 becomes map16 16 */
	check_insertion(20, 0xde);
	check_insertion(65535, 0xdf); /* map16 65535 becomes map32 65536 */
}

Test(client_add_token, accepts_a_map32_header)
{
	/* {"op": "ping"} with a (legal, non-minimal) map32 header */
	static const uint8_t req[] = { 0xdf, 0, 0, 0, 1, 0xa2, 'o', 'p', 0xa4, 'p', 'i', 'n', 'g' };
	nng_msg *m = NULL;

	cr_assert_eq(ac_client_add_token(req, sizeof(req), "t0k", &m), AC_OK);
	cr_assert_eq(expect_token_added(m, 1, "t0k"), 0x82);
	nng_msg_free(m);
}

static void
expect_unchanged(const uint8_t *req, size_t len, const char *token)
{
	nng_msg *m = NULL;

	cr_assert_eq(ac_client_add_token(req, len, token, &m), AC_OK);
	cr_assert_eq(nng_msg_len(m), len);
	cr_assert_arr_eq(nng_msg_body(m), req, len);
	nng_msg_free(m);
}

Test(client_add_token, leaves_requests_with_a_token_or_without_one_to_add)
{
	/* {"op": "ping", "token": "mine"} */
	static const uint8_t has[] = { 0x82, 0xa2, 'o', 'p', 0xa4, 'p', 'i', 'n', 'g',
		0xa5, 't', 'o', 'k', 'e', 'n', 0xa4, 'm', 'i', 'n', 'e' };
	static const uint8_t empty[] = { 0x80 };

	expect_unchanged(has, sizeof(has), "other");
	expect_unchanged(has, sizeof(has), NULL);
	expect_unchanged(empty, sizeof(empty), NULL);
	expect_unchanged(empty, sizeof(empty), "");
}

Test(client_add_token, rejects_anything_but_one_map)
{
	static const uint8_t array[] = { 0x91, 0x01 };
	static const uint8_t truncated[] = { 0x81, 0xa2, 'o', 'p' };
	static const uint8_t trailing[] = { 0x80, 0x80 };
	static const uint8_t lying[] = { 0xde, 0xff, 0xff };
	nng_msg *m = NULL;

	cr_expect_eq(ac_client_add_token(array, sizeof(array), "t", &m), AC_EINVAL);
	cr_expect_eq(ac_client_add_token(truncated, sizeof(truncated), "t", &m), AC_EINVAL);
	cr_expect_eq(ac_client_add_token(trailing, sizeof(trailing), "t", &m), AC_EINVAL);
	cr_expect_eq(ac_client_add_token(lying, sizeof(lying), "t", &m), AC_EINVAL);
	cr_expect_eq(ac_client_add_token(array, 0, "t", &m), AC_EINVAL);
	cr_expect_eq(ac_client_add_token(NULL, 0, NULL, &m), AC_EINVAL);
	cr_expect_null(m);
}
