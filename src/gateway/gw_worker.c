/* SPDX-License-Identifier: MIT
 * The gateway's worker pool: one nng_ctx + aio per request in flight, each a small
 * RECV -> WAIT -> SEND state machine driven by nng callbacks (nng demo/async). A
 * held long-poll is a worker in WAIT; the pool grows when few workers still receive.
 * Callbacks never block and never call into nng while holding a worker's lock.
 */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "codec/msg.h"
#include "gateway/gw_int.h"
#include "rt/clock.h"
#include "rt/log.h"

static void worker_cb(void *arg);

static void start_recv(gw_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->state = W_RECV;
	pthread_mutex_unlock(&w->lock);
	atomic_fetch_add(&w->gs->idle, 1);
	nng_ctx_recv(w->ctx, w->aio);
}

static gw_worker *worker_alloc(struct ac_gateway *gw, gw_socket *gs, uint32_t index)
{
	gw_worker *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		return NULL;
	}
	w->gw = gw;
	w->gs = gs;
	w->index = index;
	ac_arena_init(&w->arena);
	pthread_mutex_init(&w->lock, NULL);
	if (nng_aio_alloc(&w->aio, worker_cb, w) != 0) {
		goto fail_aio;
	}
	if (nng_ctx_open(&w->ctx, gs->sock) != 0) {
		goto fail_ctx;
	}
	return w;

fail_ctx:
	nng_aio_free(w->aio);
fail_aio:
	pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}

ac_err gw_workers_add(struct ac_gateway *gw, gw_socket *gs, unsigned n)
{
	ac_err err = AC_OK;

	pthread_mutex_lock(&gw->pool_lock);
	for (unsigned i = 0; i < n; i++) {
		unsigned idx = atomic_load(&gw->worker_count);
		gw_worker *w;
		if (idx == GW_MAX_WORKERS) {
			err = AC_EFULL;
			break;
		}
		if ((w = worker_alloc(gw, gs, idx)) == NULL) {
			err = AC_ENOMEM;
			break;
		}
		gw->workers[idx] = w;
		atomic_store(&gw->worker_count, idx + 1);
		start_recv(w);
	}
	pthread_mutex_unlock(&gw->pool_lock);
	return err;
}

/* Sends body as this worker's reply. The worker must be in W_WAIT, owned by the caller
 * (the state change to W_SEND was made under the lock by the caller). */
static void send_reply(gw_worker *w, const uint8_t *body, size_t len)
{
	nng_msg *m = NULL;

	if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, body, len) != 0) {
		if (m != NULL) {
			nng_msg_free(m);
		}
		ac_log(AC_LOG_ERR, "gateway", "reply_dropped", "reason=out_of_memory");
		start_recv(w); /* the client times out; the worker goes on serving */
		return;
	}
	nng_aio_set_msg(w->aio, m);
	nng_ctx_send(w->ctx, w->aio);
}

/* Claims the worker for sending if it still waits for request seq. */
static bool claim_for_send(gw_worker *w, uint32_t seq)
{
	bool ok;

	pthread_mutex_lock(&w->lock);
	ok = w->state == W_WAIT && w->seq == seq;
	if (ok) {
		w->state = W_SEND;
	}
	pthread_mutex_unlock(&w->lock);
	return ok;
}

void gw_worker_deliver(struct ac_gateway *gw, uint64_t corr_id, const uint8_t *body, size_t len)
{
	uint32_t index = (uint32_t)(corr_id >> 32);
	uint32_t seq = (uint32_t)corr_id;

	if (index >= atomic_load(&gw->worker_count)) {
		return;
	}
	if (claim_for_send(gw->workers[index], seq)) {
		send_reply(gw->workers[index], body, len);
	}
}

static void reply_error(gw_worker *w, uint32_t seq, const ac_decode_err *why)
{
	ac_mpw m;

	ac_mpw_init(&m);
	ac_write_error(&m, why->code, why->message, why->field);
	if (claim_for_send(w, seq)) {
		send_reply(w, ac_mpw_data(&m), ac_mpw_len(&m));
	}
	ac_mpw_fini(&m);
}

static uint32_t enter_wait(gw_worker *w)
{
	uint32_t seq;

	pthread_mutex_lock(&w->lock);
	w->state = W_WAIT;
	seq = ++w->seq;
	pthread_mutex_unlock(&w->lock);
	return seq;
}

/* A request arrived: admit it and pass it to its owner with a reply handle. */
static void on_request(gw_worker *w, nng_msg *req)
{
	struct ac_gateway *gw = w->gw;
	ac_admission adm;
	ac_env env = { 0 };
	uint32_t seq = enter_wait(w);
	ac_err err;

	if (atomic_load(&gw->closing)) {
		nng_msg_free(req);
		adm.why = (ac_decode_err){ .code = AC_EUNAVAIL, .message = "server is shutting down" };
		reply_error(w, seq, &adm.why);
		return;
	}
	err = ac_gateway_admit(gw->tokens, nng_msg_body(req), nng_msg_len(req), &w->arena, &adm);
	ac_arena_reset(&w->arena);
	if (err != AC_OK) {
		nng_msg_free(req);
		reply_error(w, seq, &adm.why);
		return;
	}
	env.type = (uint8_t)adm.op->msg;
	env.role = (uint8_t)adm.role;
	env.pipe_id = nng_pipe_id(nng_msg_get_pipe(req));
	env.corr_id = ((uint64_t)w->index << 32) | seq;
	env.inflight = ac_rt_request_sent(gw->rt, adm.op->owner);
	if (nng_msg_insert(req, &env, sizeof(env)) != 0 ||
	    ac_rt_send(gw->rt, adm.op->owner, &req) != AC_OK) {
		ac_rt_request_lost(gw->rt, adm.op->owner);
		nng_msg_free(req);
		adm.why = (ac_decode_err){ .code = AC_EUNAVAIL, .message = "server is overloaded" };
		reply_error(w, seq, &adm.why);
	}
}

static void maybe_grow(gw_worker *w)
{
	if (atomic_load(&w->gs->idle) < GW_MIN_IDLE &&
	    gw_workers_add(w->gw, w->gs, GW_GROW_STEP) == AC_EFULL) {
		ac_log(AC_LOG_WARN, "gateway", "worker_pool_full", "workers=%d", GW_MAX_WORKERS);
	}
}

static void worker_cb(void *arg)
{
	gw_worker *w = arg;
	int rv = nng_aio_result(w->aio);
	gw_worker_state st;

	pthread_mutex_lock(&w->lock);
	st = w->state;
	pthread_mutex_unlock(&w->lock);
	if (st == W_SEND) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(w->aio));
		}
		if (rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
			start_recv(w);
		}
		return;
	}
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
		return;
	}
	if (rv != 0) {
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	atomic_fetch_sub(&w->gs->idle, 1);
	maybe_grow(w);
	on_request(w, nng_aio_get_msg(w->aio));
}

void gw_workers_counts(struct ac_gateway *gw, unsigned *workers, unsigned *busy)
{
	int idle = 0;

	*workers = atomic_load(&gw->worker_count);
	for (int i = 0; i < gw->socket_count; i++) {
		idle += atomic_load(&gw->sockets[i].idle);
	}
	/* the two loads are not one snapshot: clamp a transient overshoot */
	*busy = idle < 0 || (unsigned)idle > *workers ? 0 : *workers - (unsigned)idle;
}

void gw_workers_wait_sends(struct ac_gateway *gw, int timeout_ms)
{
	int64_t deadline = ac_clock_mono_ms() + timeout_ms;
	unsigned n = atomic_load(&gw->worker_count);

	for (unsigned i = 0; i < n; i++) {
		gw_worker *w = gw->workers[i];
		for (;;) {
			gw_worker_state st;
			pthread_mutex_lock(&w->lock);
			st = w->state;
			pthread_mutex_unlock(&w->lock);
			if (st != W_SEND || ac_clock_mono_ms() >= deadline) {
				break;
			}
			nng_msleep(1);
		}
	}
}

void gw_workers_stop(struct ac_gateway *gw)
{
	unsigned n = atomic_load(&gw->worker_count);

	for (unsigned i = 0; i < n; i++) {
		nng_aio_stop(gw->workers[i]->aio);
	}
	for (unsigned i = 0; i < n; i++) {
		nng_ctx_close(gw->workers[i]->ctx);
	}
}

void gw_workers_free(struct ac_gateway *gw)
{
	unsigned n = atomic_load(&gw->worker_count);

	for (unsigned i = 0; i < n; i++) {
		gw_worker *w = gw->workers[i];
		nng_aio_free(w->aio);
		ac_arena_fini(&w->arena);
		pthread_mutex_destroy(&w->lock);
		free(w);
	}
	atomic_store(&gw->worker_count, 0);
}
