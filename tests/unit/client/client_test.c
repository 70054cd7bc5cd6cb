/* SPDX-License-Identifier: MIT
 * Tests for src/client/client.c against a fake REP peer on loopback tcp (no agentcomd):
 * bad URLs, a client opened before its server, token insertion on the wire, timeouts
 * and a connection lost mid-call. Each test uses its own ephemeral port.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "client/client_int.h"
#include "codec/mpw.h"

/* A port nothing listens on right now (bound to 0 and released). */
static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

typedef struct fake_server {
	nng_socket rep;
	bool is_answering;   /* false: receive, then close without a reply */
	char seen_token[64]; /* the request's token, "" when it had none */
} fake_server;

/* Receives one request, notes its token and answers {ok: true} (or hangs up). */
static void *
serve_one(void *arg)
{
	static const uint8_t ok[] = { 0x81, 0xa2, 'o', 'k', 0xc3 };
	fake_server *s = arg;
	msgpack_unpacked u;
	const msgpack_object *tok;
	nng_msg *m;
	size_t off = 0;

	cr_assert_eq(nng_recvmsg(s->rep, &m, 0), 0);
	msgpack_unpacked_init(&u);
	cr_assert_eq(msgpack_unpack_next(&u, nng_msg_body(m), nng_msg_len(m), &off),
	    MSGPACK_UNPACK_SUCCESS);
	tok = ac_client_map_find(&u.data, "token", 5);
	if (tok != NULL && tok->type == MSGPACK_OBJECT_STR && tok->via.str.size < 64) {
		memcpy(s->seen_token, tok->via.str.ptr, tok->via.str.size);
	}
	msgpack_unpacked_destroy(&u);
	nng_msg_clear(m);
	if (s->is_answering) {
		cr_assert_eq(nng_msg_append(m, ok, sizeof(ok)), 0);
		cr_assert_eq(nng_sendmsg(s->rep, m, 0), 0);
	} else {
		nng_msg_free(m);
		nng_close(s->rep);
	}
	return NULL;
}

static void
start_server(fake_server *s, const char *url, pthread_t *thread)
{
	cr_assert_eq(nng_rep0_open(&s->rep), 0);
	cr_assert_eq(nng_socket_set_ms(s->rep, NNG_OPT_RECVTIMEO, 5000), 0);
	cr_assert_eq(nng_listen(s->rep, url, NULL, 0), 0);
	cr_assert_eq(pthread_create(thread, NULL, serve_one, s), 0);
}

Test(client, malformed_urls_are_eaddrinval)
{
	static const char *const bad[] = { "nonsense", "foo://127.0.0.1:1", "tcp://", "" };
	ac_client *c = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(ac_client_open(&c, bad[i], NULL), AC_EADDRINVAL, "url '%s'", bad[i]);
	}
	ac_client_close(NULL);
}

Test(client, call_without_server_times_out, .timeout = 10)
{
	char url[64];
	ac_client *c;
	ac_reply *r = NULL;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_port());
	cr_assert_eq(ac_client_open(&c, url, "tok"), AC_OK);
	ac_client_set_timeout(c, 200);
	cr_assert_eq(ac_ping(c, &r), AC_ETIMEDOUT);
	cr_assert_null(r);
	ac_client_close(c);
}

Test(client, opens_before_server_and_sends_its_token, .timeout = 10)
{
	fake_server s = { .is_answering = true };
	pthread_t thread;
	char url[64];
	ac_client *c;
	ac_reply *r = NULL;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_port());
	cr_assert_eq(ac_client_open(&c, url, "ac_secret"), AC_OK);
	start_server(&s, url, &thread);
	cr_assert_eq(ac_ping(c, &r), AC_OK);
	cr_assert(ac_reply_ok(r));
	pthread_join(thread, NULL);
	cr_assert_str_eq(s.seen_token, "ac_secret");
	ac_reply_free(r);
	ac_client_close(c);
	nng_close(s.rep);
}

Test(client, json_request_without_token_stays_without, .timeout = 10)
{
	fake_server s = { .is_answering = true };
	pthread_t thread;
	char url[64];
	ac_client *c;
	ac_reply *r = NULL;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_port());
	start_server(&s, url, &thread);
	cr_assert_eq(ac_client_open(&c, url, ""), AC_OK);
	cr_assert_eq(ac_client_call_json(c, "[1, 2]", &r), AC_EINVAL);
	cr_assert_eq(ac_client_call_json(c, "{\"op\": ", &r), AC_EINVAL);
	cr_assert_eq(ac_client_call_json(c, "{\"op\": \"ping\"}", &r), AC_OK);
	pthread_join(thread, NULL);
	cr_assert_str_eq(s.seen_token, "");
	ac_reply_free(r);
	ac_client_close(c);
	nng_close(s.rep);
}

Test(client, connection_lost_mid_call_is_unavailable, .timeout = 10)
{
	fake_server s = { .is_answering = false };
	pthread_t thread;
	char url[64];
	ac_client *c;
	ac_reply *r = NULL;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_port());
	start_server(&s, url, &thread);
	cr_assert_eq(ac_client_open(&c, url, NULL), AC_OK);
	ac_client_set_timeout(c, 5000);
	cr_assert_eq(ac_ping(c, &r), AC_EUNAVAIL);
	pthread_join(thread, NULL);
	ac_client_close(c);
}
