/* SPDX-License-Identifier: MIT
 * Gateway internals shared by gateway.c (actor, lifecycle, token ops) and
 * gw_worker.c (the nng_ctx worker pool). Not used outside src/gateway/.
 */
#ifndef AC_GATEWAY_GW_INT_H
#define AC_GATEWAY_GW_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <nng/nng.h>

#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "gateway/tokens.h"

#define GW_MAX_SOCKETS AC_MAX_LISTEN
#define GW_MAX_WORKERS 65536   /* held long-polls + requests in flight, all sockets */
#define GW_INITIAL_WORKERS 16  /* per socket */
#define GW_MIN_IDLE 4          /* grow when fewer workers than this wait for requests */
#define GW_GROW_STEP 16

typedef enum gw_worker_state { W_RECV, W_WAIT, W_SEND } gw_worker_state;

typedef struct gw_socket {
	nng_socket sock;
	nng_listener listener;
	atomic_int idle;       /* workers of this socket in W_RECV */
} gw_socket;

typedef struct gw_worker {
	struct ac_gateway *gw;
	gw_socket *gs;
	nng_ctx ctx;
	nng_aio *aio;
	uint32_t index;
	ac_arena arena;        /* admission scratch; only the callback in W_RECV uses it */
	pthread_mutex_t lock;  /* guards state and seq */
	gw_worker_state state;
	uint32_t seq;          /* bumped per request; a reply names (index, seq) */
} gw_worker;

struct ac_gateway {
	ac_rt *rt;
	const ac_config *cfg;
	ac_actor *actor;
	gw_socket sockets[GW_MAX_SOCKETS];
	int socket_count;
	/* Worker pool. workers[] never moves (fixed capacity); worker_count only grows.
	 * pool_lock serialises growth; readers index below worker_count (acquire). */
	gw_worker **workers;
	atomic_uint worker_count;
	pthread_mutex_t pool_lock;
	/* Tokens: changed only by the gateway actor thread, looked up by workers (the
	 * table's own lock keeps them apart). NULL with --insecure. */
	ac_tokens *tokens;
	atomic_bool closing;
	atomic_bool forward_pipes;
};

/* gw_worker.c */
ac_err gw_workers_add(struct ac_gateway *gw, gw_socket *gs, unsigned n);
/* Sends reply bytes for (index, seq) if that request still waits; drops it otherwise. */
void gw_worker_deliver(struct ac_gateway *gw, uint64_t corr_id, const uint8_t *body, size_t len);
/* The pool's size and how many of its workers hold a request (in flight or a held
 * long-poll) rather than waiting for one. Any thread; a racy but bounded snapshot. */
void gw_workers_counts(struct ac_gateway *gw, unsigned *workers, unsigned *busy);
/* Stops every worker's aio and closes contexts (sockets stay open). */
void gw_workers_stop(struct ac_gateway *gw);
/* Waits until no worker is sending (bounded by timeout_ms). */
void gw_workers_wait_sends(struct ac_gateway *gw, int timeout_ms);
void gw_workers_free(struct ac_gateway *gw);

#endif
