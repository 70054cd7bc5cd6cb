/* SPDX-License-Identifier: MIT
 * agentcom-bench echo: the transport's ceiling on this machine. A bare nng REP server
 * in this process (ECHO_WORKERS contexts, each answering every request with {ok:
 * true} from nng's callback, as agentcomd's gateway workers receive) takes the same
 * clients as `ping`. The gap between the two runs is what agentcomd adds to a round
 * trip (admission, one hop to an actor and back); e2e plain needs four round trips
 * per task, so this figure over four estimates the most any server on nng could reach
 * here (an estimate: this server and its clients share one process and the cores).
 */
#include <stdio.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "bench.h"

#define ECHO_WORKERS 64

typedef struct echo_worker {
	nng_aio *aio;
	nng_ctx ctx;
	bool sending;
} echo_worker;

typedef struct echo_server {
	nng_socket sock;
	echo_worker workers[ECHO_WORKERS];
	char url[64];
} echo_server;

static void
echo_cb(void *arg)
{
	static const uint8_t ok_map[] = { 0x81, 0xa2, 'o', 'k', 0xc3 }; /* {ok: true} */
	echo_worker *w = arg;
	int rv = nng_aio_result(w->aio);
	nng_msg *m;

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
		if (w->sending) {
			nng_msg_free(nng_aio_get_msg(w->aio));
		}
		return;
	}
	if (w->sending || rv != 0) { /* sent (or a failed receive): take the next request */
		if (w->sending && rv != 0) {
			nng_msg_free(nng_aio_get_msg(w->aio));
		}
		w->sending = false;
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	m = nng_aio_get_msg(w->aio);
	nng_msg_clear(m);
	if (nng_msg_append(m, ok_map, sizeof(ok_map)) != 0) {
		nng_msg_free(m);
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	w->sending = true;
	nng_aio_set_msg(w->aio, m);
	nng_ctx_send(w->ctx, w->aio);
}

static void
echo_stop(echo_server *s)
{
	for (int i = 0; i < ECHO_WORKERS; i++) {
		if (s->workers[i].aio != NULL) {
			nng_aio_stop(s->workers[i].aio);
		}
	}
	nng_close(s->sock);
	for (int i = 0; i < ECHO_WORKERS; i++) {
		if (s->workers[i].aio != NULL) {
			nng_aio_free(s->workers[i].aio);
		}
	}
}

static int
echo_start(echo_server *s)
{
	nng_listener l;
	nng_sockaddr sa;

	if (nng_rep0_open(&s->sock) != 0) {
		return -1;
	}
	if (nng_listen(s->sock, "tcp://127.0.0.1:0", &l, 0) != 0 ||
	    nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa) != 0) {
		nng_close(s->sock);
		return -1;
	}
	snprintf(s->url, sizeof(s->url), "tcp://127.0.0.1:%u", (unsigned)ntohs(sa.s_in.sa_port));
	for (int i = 0; i < ECHO_WORKERS; i++) {
		echo_worker *w = &s->workers[i];
		if (nng_aio_alloc(&w->aio, echo_cb, w) != 0 || nng_ctx_open(&w->ctx, s->sock) != 0) {
			echo_stop(s);
			return -1;
		}
		nng_ctx_recv(w->ctx, w->aio);
	}
	return 0;
}

int
bench_echo(const bench_opts *o)
{
	echo_server *s = calloc(1, sizeof(*s));
	bench_opts eo = *o;
	int rc;

	if (s == NULL || echo_start(s) != 0) {
		fprintf(stderr, "agentcom-bench: echo: could not start the nng REP server\n");
		free(s);
		return 1;
	}
	eo.url = s->url;
	eo.token = NULL;
	rc = bench_ping_clients(&eo, "nng echo");
	echo_stop(s);
	free(s);
	return rc;
}
