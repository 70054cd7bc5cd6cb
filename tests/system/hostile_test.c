/* SPDX-License-Identifier: MIT
 * System tests of requests found by fuzzing the live server (one request each used to
 * kill it): built byte for byte and sent on a raw connection, then the server must
 * answer with an error or ok and go on serving. Under ASan (CI's second pass) a read
 * past a request's end is caught: such requests fill their buffer exactly.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "agent_server_fixture.h"
#include "test_server.h"

TestSuite(hostile, .fini = teardown);

/* nng sizes a message buffer of a power of two >= 1024 bytes exactly (with its 4-byte
 * header), so a body of 1020 bytes has no slack after it to read into. */
#define SNUG_BODY 1020

static void pack_str(msgpack_packer *pk, const char *s, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

static void write_hello(msgpack_sbuffer *sb, const char *pad, size_t pad_len, const char *url)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	pack_str(&pk, "pad", 3); /* an unknown key: ignored */
	pack_str(&pk, pad, pad_len);
	pack_str(&pk, "token", 5);
	pack_str(&pk, srv.token, strlen(srv.token));
	pack_str(&pk, "op", 2);
	pack_str(&pk, "agent.hello", 11);
	pack_str(&pk, "agent_id", 8);
	pack_str(&pk, "h1", 2);
	pack_str(&pk, "ollama_url", 10);
	pack_str(&pk, url, strlen(url));
}

/* agent.hello whose last bytes are the ollama_url value, padded to SNUG_BODY bytes. */
static void snug_hello(msgpack_sbuffer *sb, const char *url)
{
	static char pad[SNUG_BODY];
	size_t bare;

	memset(pad, 'x', sizeof(pad));
	write_hello(sb, pad, 0, url);
	bare = sb->size - 1; /* without the empty pad's 1-byte header */
	/* a pad of 256..65535 bytes takes a 3-byte str 16 header */
	write_hello(sb, pad, SNUG_BODY - bare - 3, url);
	cr_assert_eq(sb->size, SNUG_BODY, "built %zu bytes", sb->size);
}

/* Sends body on a new raw connection; true with the reply (nng_free it) if one came. */
static bool send_raw(const void *body, size_t len, char **reply, size_t *reply_len)
{
	nng_socket sock;
	bool ok;

	cr_assert_eq(nng_req0_open(&sock), 0);
	cr_assert_eq(nng_dial(sock, srv.api, NULL, 0), 0);
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 5000);
	ok = nng_send(sock, (void *)body, len, 0) == 0 &&
	    nng_recv(sock, reply, reply_len, NNG_FLAG_ALLOC) == 0;
	nng_close(sock);
	return ok;
}

static void expect_alive(void)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"ping\"}");

	cr_assert(ac_reply_ok(r), "the server stopped answering: %s", ac_reply_message(r));
	ac_reply_free(r);
}

Test(hostile, an_ollama_url_ending_the_request_is_read_within_it, .timeout = 30)
{
	static const char *const urls[] = { "nocolonhost", "h:", "http://h", "[::1" };
	msgpack_sbuffer sb;
	char *reply;
	size_t len;

	boot(NULL);
	msgpack_sbuffer_init(&sb);
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		snug_hello(&sb, urls[i]);
		cr_assert(send_raw(sb.data, sb.size, &reply, &len), "no reply for ollama_url %s", urls[i]);
		nng_free(reply, len);
		expect_alive();
	}
	msgpack_sbuffer_destroy(&sb);
}

/* task.list cursors are the server's own; anything else is invalid_argument. */
Test(hostile, a_made_up_list_cursor_is_invalid_argument, .timeout = 30)
{
	static const char *const cursors[] = { "i.18446744073709551615", "i.-1", "i.9223372036854775808",
		"i.18446744073709551620", "i.99999999999999999999999",
		"i.5x", "i. 5", "i.", "i", "q.9.1.1", "q.-1.1.1", "q.1.1", "q.1.1.1.1", "q.1.1.-4",
		"x.1" };
	ac_reply *r;

	boot(NULL);
	for (size_t i = 0; i < sizeof(cursors) / sizeof(cursors[0]); i++) {
		const char *status = cursors[i][0] == 'q' ? ",\"status\":\"queued\"" : "";
		r = ac_ts_call(cli, "{\"op\":\"task.list\",\"cursor\":\"%s\"%s}", cursors[i], status);
		cr_assert_eq(ac_reply_error(r), AC_EINVAL, "cursor %s: %s", cursors[i], ac_reply_message(r));
		cr_assert_str_eq(ac_reply_field(r), "cursor");
		ac_reply_free(r);
	}
	expect_alive();
	/* the cursors the server writes still work */
	for (int i = 0; i < 3; i++) {
		ac_ts_submit(cli, "\"description\":\"page %d\"", i);
	}
	r = ac_ts_call(cli, "{\"op\":\"task.list\",\"limit\":2}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_not_null(ac_reply_get(r, "next"), "no next cursor");
	ac_reply_free(r);
}
