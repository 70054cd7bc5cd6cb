/* SPDX-License-Identifier: MIT
 * libagentcom's connection and request path (include/agentcom/client.h): one nng REQ
 * socket per client, token insertion, send and receive; replies are decoded by
 * reply.c. nng codes are converted to ac_err here and never leave this file. It never
 * resends or retries a request on its own: a resent long-poll would be held twice by
 * the server and could swallow a task.
 */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "agentcom/client.h"
#include "agentcom/json.h"
#include "client/client_int.h"
#include "codec/prevalidate.h"
#include "rt/assert.h"
#include "rt/clock.h"

#define DEFAULT_TIMEOUT_MS 10000
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 2000
/* Replies may carry a page of tasks with 1 MiB results each; requests stay <= 2 MiB. */
#define MAX_REPLY_BYTES ((size_t)64 * 1024 * 1024)
/* CA file for tls+tcp:// and wss:// (nng dialers verify the server by default). */
#define TLS_CA_ENV "AGENTCOM_TLS_CA"

struct ac_client {
	nng_socket sock;
	char *token;    /* NULL when the server runs --insecure */
	int timeout_ms; /* < 0: wait forever */
};

static const struct {
	int rv;
	ac_err err;
} nng_errs[] = {
	{ NNG_ETIMEDOUT, AC_ETIMEDOUT },
	{ NNG_ECLOSED, AC_ECLOSED },
	{ NNG_ENOMEM, AC_ENOMEM },
	{ NNG_EADDRINVAL, AC_EADDRINVAL },
	{ NNG_ENOTSUP, AC_EADDRINVAL }, /* unknown URL scheme */
	{ NNG_EINVAL, AC_EADDRINVAL },  /* only nng_dialer_create returns it here: bad URL */
};

/* Everything else (ECONNRESET, ECONNSHUT, ECRYPTO, ...) means the connection is gone. */
ac_err
ac_client_from_nng(int rv)
{
	for (size_t i = 0; i < sizeof(nng_errs) / sizeof(nng_errs[0]); i++) {
		if (nng_errs[i].rv == rv) {
			return nng_errs[i].err;
		}
	}
	return AC_EUNAVAIL;
}

static int
configure(nng_socket s)
{
	int rv;

	if ((rv = nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0) {
		return rv;
	}
	return nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, MAX_REPLY_BYTES);
}

static bool
is_tls(const char *url)
{
	return strncmp(url, "tls+", 4) == 0 || strncmp(url, "wss", 3) == 0;
}

int
ac_client_dial(nng_socket s, const char *url)
{
	const char *ca = getenv(TLS_CA_ENV);
	nng_dialer d;
	int rv;

	if ((rv = nng_dialer_create(&d, s, url)) != 0) {
		return rv;
	}
	if ((rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, RECONNECT_MIN_MS)) != 0 ||
	    (rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, RECONNECT_MAX_MS)) != 0) {
		nng_dialer_close(d);
		return rv;
	}
	if (ca != NULL && ca[0] != '\0' && is_tls(url) &&
	    (rv = nng_dialer_set_string(d, NNG_OPT_TLS_CA_FILE, ca)) != 0) {
		nng_dialer_close(d);
		return rv;
	}
	return nng_dialer_start(d, NNG_FLAG_NONBLOCK);
}

/* A NULL url means AC_DEFAULT_URL. */
ac_err
ac_client_open(ac_client **out, const char *url, const char *token)
{
	ac_client *c;
	int rv = NNG_ENOMEM;

	AC_ASSERT(out != NULL);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		goto fail_alloc;
	}
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	if (token != NULL && token[0] != '\0' && (c->token = strdup(token)) == NULL) {
		goto fail_token;
	}
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		goto fail_token;
	}
	if ((rv = configure(c->sock)) != 0 ||
	    (rv = ac_client_dial(c->sock, url != NULL ? url : AC_DEFAULT_URL)) != 0) {
		goto fail_dial;
	}
	*out = c;
	return AC_OK;
fail_dial:
	nng_close(c->sock);
fail_token:
	free(c->token);
	free(c);
fail_alloc:
	return ac_client_from_nng(rv);
}

void
ac_client_close(ac_client *c)
{
	if (c == NULL) {
		return;
	}
	nng_close(c->sock);
	free(c->token);
	free(c);
}

void
ac_client_set_timeout(ac_client *c, int timeout_ms)
{
	AC_ASSERT(c != NULL);
	c->timeout_ms = timeout_ms;
}

/* Milliseconds left of budget_ms after spent_ms, as an nng duration: 0 once spent
 * (nng then only tries without waiting), infinite when budget_ms < 0. */
static nng_duration
remaining(int64_t budget_ms, int64_t spent_ms)
{
	if (budget_ms < 0) {
		return NNG_DURATION_INFINITE;
	}
	if (budget_ms > INT32_MAX) {
		budget_ms = INT32_MAX;
	}
	return spent_ms >= budget_ms ? 0 : (nng_duration)(budget_ms - spent_ms);
}

/* REQ completes a send only once a pipe takes it, so with no server the send itself
 * waits; send and receive share one deadline. */
ac_err
ac_client_call_wait(ac_client *c, const uint8_t *req, size_t len, int extra_ms,
    ac_reply **reply)
{
	int64_t start_ms = ac_clock_mono_ms();
	int64_t budget_ms;
	nng_msg *msg;
	ac_err err;
	int rv;

	AC_ASSERT(c != NULL && reply != NULL);
	budget_ms = c->timeout_ms < 0 ? -1 : (int64_t)c->timeout_ms + (extra_ms > 0 ? extra_ms : 0);
	if ((err = ac_client_add_token(req, len, c->token, &msg)) != AC_OK) {
		return err;
	}
	if ((rv = nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, remaining(budget_ms, 0))) != 0 ||
	    (rv = nng_sendmsg(c->sock, msg, 0)) != 0) {
		goto fail_send;
	}
	/* The socket owns the request now; msg is reused for the reply. */
	rv = nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO,
	    remaining(budget_ms, ac_clock_mono_ms() - start_ms));
	if (rv != 0 || (rv = nng_recvmsg(c->sock, &msg, 0)) != 0) {
		return ac_client_from_nng(rv);
	}
	if ((err = ac_client_decode_reply(&msg, reply)) != AC_OK) {
		nng_msg_free(msg);
	}
	return err;
fail_send:
	nng_msg_free(msg);
	return ac_client_from_nng(rv);
}

ac_err
ac_client_call(ac_client *c, const uint8_t *req, size_t len, ac_reply **reply)
{
	return ac_client_call_wait(c, req, len, 0, reply);
}

ac_err
ac_client_call_json(ac_client *c, const char *json, ac_reply **reply)
{
	char errbuf[128];
	uint8_t *mp = NULL;
	size_t mp_len = 0;
	ac_err err;

	if (json == NULL) {
		return AC_EINVAL;
	}
	err = ac_json_to_msgpack(json, strlen(json), &mp, &mp_len, errbuf, sizeof(errbuf));
	if (err != AC_OK) {
		return err == AC_ENOMEM ? AC_ENOMEM : AC_EINVAL;
	}
	err = ac_client_call(c, mp, mp_len, reply);
	free(mp);
	return err;
}

ac_err
ac_ping(ac_client *c, ac_reply **reply)
{
	/* {"op": "ping"}: a fixmap of one pair; too small to need a writer. */
	static const uint8_t ping[] = { 0x81, 0xa2, 'o', 'p', 0xa4, 'p', 'i', 'n', 'g' };

	return ac_client_call(c, ping, sizeof(ping), reply);
}

/* --- request building --- */

/* Reads a map header: *count pairs, *hdr_len header bytes. False for anything else. */
static bool
read_map_header(const uint8_t *p, size_t len, uint32_t *count, size_t *hdr_len)
{
	if (len >= 1 && (p[0] & 0xf0) == 0x80) {
		*count = p[0] & 0x0f;
		*hdr_len = 1;
	} else if (len >= 3 && p[0] == 0xde) {
		*count = (uint32_t)p[1] << 8 | p[2];
		*hdr_len = 3;
	} else if (len >= 5 && p[0] == 0xdf) {
		*count = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
		*hdr_len = 5;
	} else {
		return false;
	}
	return true;
}

/* *has_token: whether the (pre-validated) map req has a "token" key. */
static ac_err
find_token_key(const uint8_t *req, size_t len, bool *has_token)
{
	msgpack_unpacked up;
	size_t off = 0;
	int ret;

	msgpack_unpacked_init(&up);
	ret = msgpack_unpack_next(&up, (const char *)req, len, &off);
	*has_token = ret == MSGPACK_UNPACK_SUCCESS &&
	    ac_client_map_find(&up.data, "token", 5) != NULL;
	msgpack_unpacked_destroy(&up);
	if (ret == MSGPACK_UNPACK_SUCCESS) {
		return AC_OK;
	}
	return ret == MSGPACK_UNPACK_NOMEM_ERROR ? AC_ENOMEM : AC_EINVAL;
}

/* Appends parts[0..n) to a new message. */
static ac_err
build_msg(const void *const *parts, const size_t *lens, size_t n, nng_msg **out)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, 0) != 0) {
		return AC_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (lens[i] > 0 && nng_msg_append(m, parts[i], lens[i]) != 0) {
			nng_msg_free(m);
			return AC_ENOMEM;
		}
	}
	*out = m;
	return AC_OK;
}

/* New map header (count + 1), the pairs of req unchanged, then "token": token. */
static ac_err
build_with_token(const uint8_t *req, size_t len, uint32_t count, size_t hdr_len,
    const char *token, nng_msg **out)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t new_hdr_len;
	ac_err err = AC_ENOMEM;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_map(&pk, count + 1) == 0) {
		new_hdr_len = sb.size;
		if (msgpack_pack_str_with_body(&pk, "token", 5) == 0 &&
		    msgpack_pack_str_with_body(&pk, token, strlen(token)) == 0) {
			const void *parts[] = { sb.data, req + hdr_len, sb.data + new_hdr_len };
			size_t lens[] = { new_hdr_len, len - hdr_len, sb.size - new_hdr_len };
			err = build_msg(parts, lens, 3, out);
		}
	}
	msgpack_sbuffer_destroy(&sb);
	return err;
}

ac_err
ac_client_add_token(const uint8_t *req, size_t len, const char *token, nng_msg **out)
{
	const void *parts[1] = { req };
	uint32_t count;
	size_t hdr_len;
	bool has_token = false;
	ac_err err;

	AC_ASSERT(out != NULL);
	/* Prevalidation also proves count <= len / 2, so count + 1 cannot overflow. */
	if (req == NULL || ac_prevalidate(req, len, AC_CLIENT_MAX_DEPTH) != AC_OK ||
	    !read_map_header(req, len, &count, &hdr_len)) {
		return AC_EINVAL;
	}
	if (token != NULL && token[0] != '\0' &&
	    (err = find_token_key(req, len, &has_token)) != AC_OK) {
		return err;
	}
	if (token == NULL || token[0] == '\0' || has_token) {
		return build_msg(parts, &len, 1, out);
	}
	return build_with_token(req, len, count, hdr_len, token, out);
}
