/* SPDX-License-Identifier: MIT
 * libagentcom's telemetry subscriber (include/agentcom/sub.h): one nng SUB socket.
 * It waits with poll() on the socket's NNG_OPT_RECVFD and receives without blocking,
 * so no nng timer runs per wait; the last frame is kept until the next call, which is
 * what the borrowed ac_event points into.
 */
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "agentcom/client.h"
#include "agentcom/sub.h"
#include "client/client_int.h"
#include "codec/prevalidate.h"
#include "rt/clock.h"

#define MAX_EVENT_BYTES ((size_t)4 * 1024 * 1024)
#define POLL_SLICE_MS 100 /* re-checks the socket now and then, should a wake-up be lost */

struct ac_sub {
	nng_socket sock;
	atomic_int pipes;  /* connections, counted by nng's pipe callbacks */
	int fd;
	bool is_all;       /* subscribed to every topic: seq gaps are losses */
	nng_msg *last;     /* the frame the last event points into */
	msgpack_unpacked u;
	bool has_seq;
	uint64_t last_seq, missed, bad;
};

static int subscribe(nng_socket sock, const char *const *prefixes)
{
	int rv = 0;

	if (prefixes == NULL || prefixes[0] == NULL) {
		return nng_socket_set(sock, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	}
	for (size_t i = 0; rv == 0 && prefixes[i] != NULL; i++) {
		rv = nng_socket_set(sock, NNG_OPT_SUB_SUBSCRIBE, prefixes[i], strlen(prefixes[i]));
	}
	return rv;
}

/* On an nng thread: a connection came or went. */
static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	ac_sub *s = arg;

	(void)p;
	if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_fetch_add(&s->pipes, 1);
		return;
	}
	/* a pipe closed during its handshake is removed without having been added */
	for (int n = atomic_load(&s->pipes); n > 0;) {
		if (atomic_compare_exchange_weak(&s->pipes, &n, n - 1)) {
			break;
		}
	}
}

bool ac_sub_is_connected(const ac_sub *s)
{
	return atomic_load(&((ac_sub *)s)->pipes) > 0;
}

ac_err ac_sub_open(ac_sub **out, const char *url, const char *const *prefixes)
{
	ac_sub *s = calloc(1, sizeof(*s));
	int rv;

	if (s == NULL) {
		return AC_ENOMEM;
	}
	msgpack_unpacked_init(&s->u);
	if ((rv = nng_sub0_open(&s->sock)) != 0) {
		free(s);
		return ac_client_from_nng(rv);
	}
	s->is_all = prefixes == NULL || prefixes[0] == NULL ||
	    (prefixes[0][0] == '\0' && prefixes[1] == NULL);
	if ((rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_POST, on_pipe, s)) != 0 ||
	    (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, on_pipe, s)) != 0 ||
	    (rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, MAX_EVENT_BYTES)) != 0 ||
	    (rv = subscribe(s->sock, prefixes)) != 0 ||
	    (rv = nng_socket_get_int(s->sock, NNG_OPT_RECVFD, &s->fd)) != 0 ||
	    (rv = ac_client_dial(s->sock, url != NULL ? url : AC_DEFAULT_PUB_URL)) != 0) {
		ac_sub_close(s);
		return ac_client_from_nng(rv);
	}
	*out = s;
	return AC_OK;
}

void ac_sub_close(ac_sub *s)
{
	if (s == NULL) {
		return;
	}
	nng_close(s->sock);
	nng_msg_free(s->last);
	msgpack_unpacked_destroy(&s->u);
	free(s);
}

static bool map_int(const msgpack_object *map, const char *key, int64_t *out)
{
	const msgpack_object *v = ac_client_map_find(map, key, strlen(key));

	if (v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX) {
		*out = (int64_t)v->via.u64;
		return true;
	}
	if (v != NULL && v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = v->via.i64;
		return true;
	}
	return false;
}

/* Fills *out from the frame m (kept as s->last on success): `topic NUL map` whose map
 * has ts_ms and seq. *out is untouched on failure. */
static bool parse(ac_sub *s, nng_msg *m, ac_event *out)
{
	const uint8_t *body = nng_msg_body(m), *nul;
	size_t len = nng_msg_len(m), off = 0;
	int64_t seq = -1;
	ac_event ev;

	if ((nul = memchr(body, 0, len)) == NULL || nul == body) {
		return false;
	}
	ev.topic = (const char *)body;
	ev.data = nul + 1;
	ev.len = len - (size_t)(ev.data - body);
	if (ac_prevalidate(ev.data, ev.len, AC_CLIENT_MAX_DEPTH) != AC_OK ||
	    msgpack_unpack_next(&s->u, (const char *)ev.data, ev.len, &off) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    off != ev.len || s->u.data.type != MSGPACK_OBJECT_MAP ||
	    !map_int(&s->u.data, "ts_ms", &ev.ts_ms) || !map_int(&s->u.data, "seq", &seq) ||
	    seq < 0) {
		return false;
	}
	ev.seq = (uint64_t)seq;
	*out = ev;
	return true;
}

static void count_gap(ac_sub *s, uint64_t seq)
{
	if (s->is_all && s->has_seq && seq > s->last_seq + 1) {
		s->missed += seq - s->last_seq - 1;
	}
	s->has_seq = true;
	s->last_seq = seq;
}

ac_err ac_sub_recv(ac_sub *s, int timeout_ms, ac_event *ev)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : ac_clock_mono_ms() + timeout_ms;

	for (;;) {
		nng_msg *m = NULL;
		int rv = nng_recvmsg(s->sock, &m, NNG_FLAG_NONBLOCK);
		if (rv == 0) {
			if (parse(s, m, ev)) {
				nng_msg_free(s->last);
				s->last = m;
				count_gap(s, ev->seq);
				return AC_OK;
			}
			nng_msg_free(m);
			s->bad++;
			continue;
		}
		if (rv != NNG_EAGAIN) {
			return ac_client_from_nng(rv);
		}
		int64_t left = deadline - ac_clock_mono_ms();
		if (left <= 0) {
			return AC_ETIMEDOUT;
		}
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		(void)poll(&p, 1, (int)(left > POLL_SLICE_MS ? POLL_SLICE_MS : left));
	}
}

uint64_t ac_sub_missed(const ac_sub *s)
{
	return s->missed;
}

uint64_t ac_sub_bad_frames(const ac_sub *s)
{
	return s->bad;
}
