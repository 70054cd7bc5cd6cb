/* SPDX-License-Identifier: MIT
 * System tests of the foundation: a real agentcomd on tcp port 0 driven through
 * libagentcom and a raw REQ socket: ready line, ping, envelope errors, auth, tokens,
 * oversize requests and clean shutdown (DESIGN §4, §8, §9).
 */
#include <regex.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "agentcom/json.h"
#include "test_server.h"

static ac_test_server srv;

static void start(void)
{
	cr_assert(ac_ts_start(&srv, NULL));
}

static void stop(void)
{
	ac_ts_cleanup(&srv);
}

/* Sends raw bytes on a fresh REQ socket; returns the reply's error code string. */
/* Sends req on a raw connection; the reply as JSON in out. */
static void raw_json(const void *req, size_t len, char *out, size_t cap)
{
	nng_socket s;
	nng_msg *m;
	char *json;

	cr_assert_eq(nng_req0_open(&s), 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	cr_assert_eq(nng_dial(s, srv.api, NULL, 0), 0);
	cr_assert_eq(nng_msg_alloc(&m, 0), 0);
	nng_msg_append(m, req, len);
	cr_assert_eq(nng_sendmsg(s, m, 0), 0);
	cr_assert_eq(nng_recvmsg(s, &m, 0), 0, "no reply to a malformed request");
	cr_assert_eq(ac_msgpack_to_json(nng_msg_body(m), nng_msg_len(m), 0, &json), AC_OK);
	snprintf(out, cap, "%s", json);
	free(json);
	nng_msg_free(m);
	nng_close(s);
}

/* Sends req on a raw connection; the reply's error code in code. */
static void raw_call(const void *req, size_t len, char *code, size_t cap)
{
	char json[1024];
	const char *c;

	raw_json(req, len, json, sizeof(json));
	c = strstr(json, "\"code\":\""); /* {"ok":false,"error":{"code":"..." */
	cr_assert_not_null(c, "reply %s", json);
	snprintf(code, cap, "%.*s", (int)strcspn(c + 8, "\""), c + 8);
}

static void expect_code(ac_reply *r, ac_err code, const char *field)
{
	cr_assert_not(ac_reply_ok(r), "expected an error reply");
	cr_assert_eq(ac_reply_error(r), code, "got %s: %s", ac_strerror(ac_reply_error(r)),
	    ac_reply_message(r));
	if (field != NULL) {
		cr_assert_str_eq(ac_reply_field(r), field);
	}
	ac_reply_free(r);
}

TestSuite(foundation, .init = start, .fini = stop, .timeout = 60);

Test(foundation, ready_line_is_exact)
{
	regex_t re;

	cr_assert_eq(regcomp(&re,
	    "^ready api=tcp://127\\.0\\.0\\.1:[1-9][0-9]* pub=tcp://127\\.0\\.0\\.1:[1-9][0-9]* pid=[0-9]+$",
	    REG_EXTENDED), 0);
	cr_assert_eq(regexec(&re, srv.ready, 0, NULL, 0), 0, "ready line: %s", srv.ready);
	regfree(&re);
}

Test(foundation, ping_answers_version_and_protocol)
{
	ac_client *c = ac_ts_client(&srv);
	ac_reply *r = NULL;
	uint64_t proto = 0;
	char version[32];

	cr_assert_eq(ac_ping(c, &r), AC_OK);
	cr_assert(ac_reply_ok(r));
	cr_assert(ac_reply_u64(r, "proto", &proto));
	cr_assert_eq(proto, 1);
	cr_assert(ac_reply_str(r, "version", version, sizeof(version)));
	cr_assert_str_eq(version, "0.1.0");
	cr_assert_not_null(ac_reply_get(r, "uptime_ms"));
	ac_reply_free(r);
	ac_client_close(c);
}

Test(foundation, admin_token_file_is_private)
{
	char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/admin.token", srv.dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(strncmp(srv.token, "ac_", 3), 0);
	cr_assert_eq(strlen(srv.token), 67);
}

Test(foundation, malformed_requests_get_bad_request)
{
	char code[64];
	static const uint8_t not_msgpack[] = { 0xc1, 0x00 };
	static const uint8_t not_map[] = { 0x93, 0x01, 0x02, 0x03 };
	static const uint8_t no_op[] = { 0x81, 0xa1, 'x', 0x01 };
	static const uint8_t op_not_string[] = { 0x81, 0xa2, 'o', 'p', 0x05 };
	static const uint8_t truncated[] = { 0x82, 0xa2, 'o', 'p' };
	static const uint8_t huge_claim[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };

	raw_call(not_msgpack, sizeof(not_msgpack), code, sizeof(code));
	cr_assert_str_eq(code, "bad_request");
	raw_call(not_map, sizeof(not_map), code, sizeof(code));
	cr_assert_str_eq(code, "bad_request");
	raw_call(no_op, sizeof(no_op), code, sizeof(code));
	cr_assert_str_eq(code, "bad_request");
	raw_call(op_not_string, sizeof(op_not_string), code, sizeof(code));
	cr_assert_str_eq(code, "bad_request");
	raw_call(truncated, sizeof(truncated), code, sizeof(code));
	cr_assert_str_eq(code, "bad_request");
	raw_call(huge_claim, sizeof(huge_claim), code, sizeof(code));
	cr_assert_str_eq(code, "bad_request");
	raw_call("", 0, code, sizeof(code));
	cr_assert_str_eq(code, "bad_request");
}

/* An envelope field that breaks its limit is named, not reported as a missing op. */
Test(foundation, a_bad_envelope_field_is_named)
{
	uint8_t req[400] = { 0x82, 0xa2, 'o', 'p', 0xa4, 'p', 'i', 'n', 'g', 0xa5, 't', 'o', 'k', 'e', 'n',
		0xda, 0x01, 0x2c }; /* a str 16 of 300 bytes follows */
	size_t n = 18;
	char json[1024];

	memset(req + n, 'a', 300);
	n += 300;
	raw_json(req, n, json, sizeof(json));
	cr_assert_not_null(strstr(json, "\"code\":\"bad_request\""), "%s", json);
	cr_assert_not_null(strstr(json, "\"field\":\"token\""), "%s", json);
	cr_assert_null(strstr(json, "no op"), "%s", json);
}

Test(foundation, deep_nesting_is_rejected)
{
	uint8_t req[1100];
	size_t n = 0;
	char code[64];

	req[n++] = 0x82;
	req[n++] = 0xa2, req[n++] = 'o', req[n++] = 'p';
	req[n++] = 0xa4, memcpy(req + n, "ping", 4), n += 4;
	req[n++] = 0xa1, req[n++] = 'x';
	for (int i = 0; i < 1000; i++) {
		req[n++] = 0x91; /* array of one, 1000 deep */
	}
	req[n++] = 0x00;
	raw_call(req, n, code, sizeof(code));
	cr_assert_str_eq(code, "bad_request");
}

Test(foundation, unknown_op_is_named)
{
	ac_client *c = ac_ts_client(&srv);

	expect_code(ac_ts_call(c, "{\"op\":\"no.such.op\"}"), AC_EUNKNOWNOP, NULL);
	ac_client_close(c);
}

Test(foundation, missing_or_wrong_token_is_unauthenticated)
{
	ac_client *anon = NULL, *wrong = NULL;
	char bad[128];

	cr_assert_eq(ac_client_open(&anon, srv.api, NULL), AC_OK);
	expect_code(ac_ts_call(anon, "{\"op\":\"ping\"}"), AC_EUNAUTH, NULL);
	snprintf(bad, sizeof(bad), "%s", srv.token);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
	cr_assert_eq(ac_client_open(&wrong, srv.api, bad), AC_OK);
	expect_code(ac_ts_call(wrong, "{\"op\":\"ping\"}"), AC_EUNAUTH, NULL);
	ac_client_close(anon);
	ac_client_close(wrong);
}

Test(foundation, tokens_have_roles)
{
	ac_client *admin = ac_ts_client(&srv), *client = NULL;
	ac_reply *r;
	char tok[128], id[32];

	r = ac_ts_call(admin, "{\"op\":\"token.create\",\"role\":\"client\",\"label\":\"ci\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_reply_str(r, "token", tok, sizeof(tok)));
	cr_assert(ac_reply_str(r, "info.id", id, sizeof(id)));
	ac_reply_free(r);
	cr_assert_eq(ac_client_open(&client, srv.api, tok), AC_OK);
	r = ac_ts_call(client, "{\"op\":\"ping\"}");
	cr_assert(ac_reply_ok(r));
	ac_reply_free(r);
	/* a client may not mint tokens */
	expect_code(ac_ts_call(client, "{\"op\":\"token.create\",\"role\":\"admin\"}"), AC_EPERM, NULL);
	/* an agent token needs its agent id */
	expect_code(ac_ts_call(admin, "{\"op\":\"token.create\",\"role\":\"agent\"}"), AC_EINVAL,
	    "agent_id");
	expect_code(ac_ts_call(admin, "{\"op\":\"token.create\",\"role\":\"root\"}"), AC_EINVAL, "role");
	/* revoked: the token stops working at once */
	r = ac_ts_call(admin, "{\"op\":\"token.revoke\",\"id\":\"%s\"}", id);
	cr_assert(ac_reply_ok(r));
	ac_reply_free(r);
	expect_code(ac_ts_call(client, "{\"op\":\"ping\"}"), AC_EUNAUTH, NULL);
	expect_code(ac_ts_call(admin, "{\"op\":\"token.revoke\",\"id\":\"%s\"}", id), AC_ENOTFOUND,
	    "id");
	ac_client_close(client);
	ac_client_close(admin);
}

Test(foundation, token_list_survives_restart)
{
	ac_client *c = ac_ts_client(&srv);
	ac_reply *r;
	const msgpack_object *list;

	r = ac_ts_call(c, "{\"op\":\"token.create\",\"role\":\"agent\",\"agent_id\":\"a-1\"}");
	cr_assert(ac_reply_ok(r));
	ac_reply_free(r);
	ac_client_close(c);
	cr_assert_eq(ac_ts_stop(&srv), 0);
	cr_assert(ac_ts_restart(&srv, NULL));
	c = ac_ts_client(&srv);
	r = ac_ts_call(c, "{\"op\":\"token.list\"}");
	cr_assert(ac_reply_ok(r));
	list = ac_reply_get(r, "tokens");
	cr_assert_not_null(list);
	cr_assert_eq(list->via.array.size, 2); /* admin + the agent token */
	ac_reply_free(r);
	ac_client_close(c);
}

static ac_client *oversize_client;

Test(foundation, oversize_request_is_dropped_and_server_lives)
{
	ac_client *c = ac_ts_client(&srv);
	size_t len = 3u * 1024 * 1024;
	uint8_t *big = malloc(len);
	ac_reply *r = NULL;
	ac_err err;

	/* {"op":"ping","pad":"<3 MiB>"} */
	size_t n = 0;
	big[n++] = 0x82;
	big[n++] = 0xa2, big[n++] = 'o', big[n++] = 'p';
	big[n++] = 0xa4, memcpy(big + n, "ping", 4), n += 4;
	big[n++] = 0xa3, memcpy(big + n, "pad", 3), n += 3;
	big[n++] = 0xdb;
	uint32_t pad = (uint32_t)(len - n - 4);
	big[n++] = (uint8_t)(pad >> 24), big[n++] = (uint8_t)(pad >> 16);
	big[n++] = (uint8_t)(pad >> 8), big[n++] = (uint8_t)pad;
	memset(big + n, 'x', pad);
	ac_client_set_timeout(c, 3000);
	err = ac_client_call(c, big, len, &r);
	cr_assert_neq(err, AC_OK, "an oversize request must not be answered");
	free(big);
	/* Left open: the server dropped its connection mid-send, and nng 1.5.2 may then
	 * never return from closing the socket (a CI run hung here once, under load). The
	 * test's process ends with the test; the static keeps it reachable. */
	oversize_client = c;
	c = ac_ts_client(&srv);
	cr_assert_eq(ac_ping(c, &r), AC_OK);
	cr_assert(ac_reply_ok(r));
	ac_reply_free(r);
	ac_client_close(c);
}

Test(foundation, sigterm_exits_zero_within_five_seconds)
{
	struct timespec a, b;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(ac_ts_stop(&srv), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	cr_assert_lt(ms, 5000, "took %ld ms", ms);
}

Test(foundation, insecure_mode_needs_no_token)
{
	static const char *const args[] = { "--insecure", NULL };
	ac_test_server open_srv;
	ac_client *c = NULL;
	ac_reply *r;

	cr_assert(ac_ts_start(&open_srv, args));
	cr_assert_eq(ac_client_open(&c, open_srv.api, NULL), AC_OK);
	r = ac_ts_call(c, "{\"op\":\"ping\"}");
	cr_assert(ac_reply_ok(r));
	ac_reply_free(r);
	ac_client_close(c);
	ac_ts_cleanup(&open_srv);
}
