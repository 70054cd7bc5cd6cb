/* SPDX-License-Identifier: MIT
 * The actor runtime: threads, inboxes, outboxes, timers, dispatch.
 *
 * DESIGN
 * Every actor is one thread running the same loop:
 *   poll(inbox RECVFD, watched RECVFDs, SENDFDs of peers with a non-empty outbox;
 *        timeout = next deadline of the actor's own heap)
 *   -> fire due timers -> drain up to max_batch messages, each: parse envelope, look
 *      the handler up by message id in the actor's const table, decode the body with
 *      the handler's schema, call it -> on_drained (group commit point) -> send the
 *      published events once they lingered PUBLISH_LINGER_MS -> flush outboxes.
 * Waiting is poll() only: nng timers are never used for ticks (each firing nng timeout
 * burns ~1 ms of CPU in nng 1.5.2). Inboxes are inproc PULL sockets created, listening,
 * before any thread starts; each actor dials its own PUSH socket to every peer, so
 * per-peer order is kept. Sends never block: a message that does not fit now waits in
 * the sender's outbox (FIFO per peer) until the peer's SENDFD reports room, so two
 * actors that message each other cannot deadlock and nothing is dropped.
 * Threads that are not actors (the gateway's nng callbacks, main) send with ac_rt_send
 * through one shared PUSH per actor (nng sockets are thread-safe); those sends fail
 * with AC_EFULL instead of queueing, and the caller answers `unavailable`.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "rt/actor.h"
#include "rt/actor_int.h"
#include "rt/assert.h"
#include "rt/clock.h"
#include "rt/log.h"

#define INBOX_BUF 8192 /* messages an inbox or a sender may buffer (nng's maximum) */

static const char *const inbox_names[AC_ACTOR_COUNT] = {
	[AC_ACTOR_GATEWAY] = "gateway",
	[AC_ACTOR_QUEUE] = "queue",
	[AC_ACTOR_REGISTRY] = "registry",
	[AC_ACTOR_SCHEDULER] = "scheduler",
	[AC_ACTOR_TELEMETRY] = "telemetry",
};

static atomic_uint rt_instances; /* makes inproc names unique per server instance */

static ac_err err_from_nng(int rv)
{
	switch (rv) {
	case 0: return AC_OK;
	case NNG_ENOMEM: return AC_ENOMEM;
	case NNG_EAGAIN: return AC_EFULL;
	case NNG_ECLOSED: return AC_ECLOSED;
	case NNG_ETIMEDOUT: return AC_ETIMEDOUT;
	case NNG_ECONNREFUSED: return AC_ECONNREFUSED;
	case NNG_EADDRINVAL: return AC_EADDRINVAL;
	default: return AC_EINTERNAL;
	}
}

const char *ac_rt_url(const ac_rt *rt, const char *suffix, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s-%s", rt->prefix, suffix);
	return buf;
}

static ac_err open_push(ac_rt *rt, ac_actor_id to, nng_socket *s)
{
	char url[128];
	int rv;

	if ((rv = nng_push0_open(s)) != 0) {
		return err_from_nng(rv);
	}
	nng_socket_set_int(*s, NNG_OPT_SENDBUF, INBOX_BUF);
	rv = nng_dial(*s, ac_rt_url(rt, inbox_names[to], url, sizeof(url)), NULL, 0);
	if (rv != 0) {
		nng_close(*s);
		return err_from_nng(rv);
	}
	return AC_OK;
}

ac_err ac_rt_alloc(ac_rt **out)
{
	ac_rt *rt = calloc(1, sizeof(*rt));
	char url[128];
	int n = 0, p = 0, rv;
	ac_err err = AC_OK;

	if (rt == NULL) {
		return AC_ENOMEM;
	}
	snprintf(rt->prefix, sizeof(rt->prefix), "inproc://ac%u", atomic_fetch_add(&rt_instances, 1));
	for (; n < AC_ACTOR_COUNT; n++) {
		if ((rv = nng_pull0_open(&rt->inbox[n])) != 0) {
			err = err_from_nng(rv);
			goto fail_inbox;
		}
		nng_socket_set_int(rt->inbox[n], NNG_OPT_RECVBUF, INBOX_BUF);
		rv = nng_listen(rt->inbox[n], ac_rt_url(rt, inbox_names[n], url, sizeof(url)), NULL, 0);
		if (rv != 0) {
			nng_close(rt->inbox[n]);
			err = err_from_nng(rv);
			goto fail_inbox;
		}
	}
	for (; p < AC_ACTOR_COUNT; p++) {
		if ((err = open_push(rt, (ac_actor_id)p, &rt->shared_push[p])) != AC_OK) {
			goto fail_push;
		}
	}
	*out = rt;
	return AC_OK;

fail_push:
	while (p-- > 0) {
		nng_close(rt->shared_push[p]);
	}
fail_inbox:
	while (n-- > 0) {
		nng_close(rt->inbox[n]);
	}
	free(rt);
	return err;
}

void ac_rt_free(ac_rt *rt)
{
	if (rt == NULL) {
		return;
	}
	for (int i = 0; i < AC_ACTOR_COUNT; i++) {
		for (int p = 0; rt->has_retired[i] && p < AC_ACTOR_COUNT; p++) {
			nng_close(rt->retired[i][p]);
		}
		nng_close(rt->shared_push[i]);
		nng_close(rt->inbox[i]);
	}
	free(rt);
}

void ac_rt_set_reply_sink(ac_rt *rt, ac_reply_sink_fn fn, void *ctx)
{
	if (fn == NULL) {
		atomic_store(&rt->reply_sink, NULL);
	}
	atomic_store(&rt->reply_ctx, ctx);
	atomic_store(&rt->reply_sink, fn);
}

uint8_t ac_rt_request_sent(ac_rt *rt, ac_actor_id to)
{
	unsigned n = atomic_fetch_add(&rt->in_transit[to], 1) + 1;

	return n > UINT8_MAX ? UINT8_MAX : (uint8_t)n;
}

void ac_rt_request_lost(ac_rt *rt, ac_actor_id to)
{
	atomic_fetch_sub(&rt->in_transit[to], 1);
}

ac_err ac_rt_send(ac_rt *rt, ac_actor_id to, nng_msg **m)
{
	int rv = nng_sendmsg(rt->shared_push[to], *m, NNG_FLAG_NONBLOCK);

	if (rv != 0) {
		return err_from_nng(rv);
	}
	*m = NULL;
	return AC_OK;
}

/* ---- outbox ---- */

static ac_err outbox_push(outbox *o, nng_msg *m)
{
	if (o->count == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		nng_msg **ring = malloc(cap * sizeof(*ring));
		if (ring == NULL) {
			return AC_ENOMEM;
		}
		for (size_t i = 0; i < o->count; i++) {
			ring[i] = o->ring[(o->head + i) % o->cap];
		}
		free(o->ring);
		o->ring = ring;
		o->cap = cap;
		o->head = 0;
	}
	o->ring[(o->head + o->count) % o->cap] = m;
	o->count++;
	return AC_OK;
}

static void outbox_fini(outbox *o)
{
	for (size_t i = 0; i < o->count; i++) {
		nng_msg_free(o->ring[(o->head + i) % o->cap]);
	}
	free(o->ring);
	memset(o, 0, sizeof(*o));
}

/* Sends what waits for peer `to` until the socket is full. */
static void outbox_flush(ac_actor *a, int to)
{
	outbox *o = &a->pending[to];

	while (o->count > 0) {
		nng_msg *m = o->ring[o->head];
		int rv = nng_sendmsg(a->out[to], m, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN) {
			return;
		}
		if (rv != 0) {
			ac_log(AC_LOG_ERR, a->def->name, "send_failed", "to=%s err=%s",
			    inbox_names[to], nng_strerror(rv));
			nng_msg_free(m);
		}
		o->head = (o->head + 1) % o->cap;
		o->count--;
	}
}

/* ---- sending ---- */

ac_rt *ac_actor_rt(ac_actor *a)
{
	return a->rt;
}

const char *ac_actor_name(const ac_actor *a)
{
	return a->def->name;
}

ac_err ac_actor_send(ac_actor *a, ac_actor_id to, const ac_env *env, const void *body,
    size_t len)
{
	nng_msg *m;
	ac_reply_sink_fn sink;
	ac_env fwd;
	ac_err err;
	int rv;

	AC_ASSERT(pthread_equal(pthread_self(), a->thread));
	sink = to == AC_ACTOR_GATEWAY && env->type == AC_MSG_GW_REPLY ?
	    atomic_load(&a->rt->reply_sink) : NULL;
	if (sink != NULL) {
		sink(atomic_load(&a->rt->reply_ctx), env->corr_id, body, len);
		return AC_OK;
	}
	/* passed on by an actor, a request is no longer a client's load hint */
	fwd = *env;
	fwd.inflight = 0;
	if ((err = ac_msg_alloc(&m, &fwd, body, len)) != AC_OK) {
		ac_log(AC_LOG_ERR, a->def->name, "send_failed", "to=%s err=%s", inbox_names[to],
		    ac_strerror(err));
		return err;
	}
	if (a->pending[to].count == 0) {
		rv = nng_sendmsg(a->out[to], m, NNG_FLAG_NONBLOCK);
		if (rv == 0) {
			return AC_OK;
		}
		if (rv != NNG_EAGAIN) {
			nng_msg_free(m);
			return err_from_nng(rv);
		}
	}
	if ((err = outbox_push(&a->pending[to], m)) != AC_OK) {
		nng_msg_free(m);
		ac_log(AC_LOG_ERR, a->def->name, "send_failed", "to=%s err=outbox_full",
		    inbox_names[to]);
	}
	return err;
}

ac_err ac_actor_timer_add(ac_actor *a, int64_t deadline_ms, uint32_t kind, uint64_t tag,
    ac_timer_id *id_out)
{
	return ac_timers_add(a->timers, deadline_ms, kind, tag, id_out);
}

bool ac_actor_timer_cancel(ac_actor *a, ac_timer_id id)
{
	return ac_timers_cancel(a->timers, id);
}

ac_err ac_actor_watch(ac_actor *a, nng_socket sock, ac_watch_fn fn)
{
	int fd, rv;

	if (a->watch_count == MAX_WATCH) {
		return AC_EFULL;
	}
	if ((rv = nng_socket_get_int(sock, NNG_OPT_RECVFD, &fd)) != 0) {
		return err_from_nng(rv);
	}
	a->watches[a->watch_count++] = (watch){ .sock = sock, .fd = fd, .fn = fn };
	return AC_OK;
}

/* ---- the loop ---- */

static void dispatch(ac_actor *a, nng_msg *m)
{
	ac_call call = { .actor = a, .arena = &a->arena };
	const ac_handler *h;
	ac_decode_err derr;

	if (ac_msg_parse(m, &call.env, &call.body, &call.body_len) != AC_OK) {
		ac_log(AC_LOG_ERR, a->def->name, "bad_message", "len=%zu", nng_msg_len(m));
		return;
	}
	if (call.env.inflight > 0) {
		atomic_fetch_sub(&a->rt->in_transit[a->def->id], 1); /* it has arrived */
	}
	if (call.env.type == AC_MSG_STOP) {
		a->stopping = true;
		return;
	}
	h = call.env.type < AC_MSG_COUNT ? &a->def->handlers[call.env.type] : NULL;
	if (h == NULL || h->fn == NULL) {
		ac_log(AC_LOG_ERR, a->def->name, "unhandled_message", "type=%u", call.env.type);
		ac_actor_reply_err(a, &call.env, AC_EUNKNOWNOP, "no handler for this message", NULL);
		return;
	}
	if (h->schema != NULL) {
		void *req = ac_arena_alloc(&a->arena, h->schema->size);
		ac_err err = req == NULL ? AC_ENOMEM :
		    ac_schema_decode_bytes(h->schema, call.body, call.body_len, req, &a->arena, &derr);
		if (err != AC_OK) {
			if (call.env.corr_id == 0) { /* from a peer, not a client: nobody hears a reply */
				ac_log(AC_LOG_ERR, a->def->name, "message_refused",
				    "type=%u field=%s error=\"%s\"", call.env.type,
				    err == AC_ENOMEM ? "" : derr.field,
				    err == AC_ENOMEM ? "out of memory" : derr.message);
			}
			ac_actor_reply_err(a, &call.env, err == AC_ENOMEM ? AC_EUNAVAIL : derr.code,
			    err == AC_ENOMEM ? "out of memory" : derr.message, derr.field);
			ac_arena_reset(&a->arena);
			return;
		}
		call.req = req;
	}
	h->fn(a->state, &call);
	ac_arena_reset(&a->arena);
}

/* Receives and dispatches up to budget messages from sock; returns how many. */
static unsigned drain(ac_actor *a, nng_socket sock, ac_watch_fn fn, unsigned budget)
{
	unsigned n = 0;
	nng_msg *m;

	while (n < budget && !a->stopping && nng_recvmsg(sock, &m, NNG_FLAG_NONBLOCK) == 0) {
		if (fn != NULL) {
			fn(a->state, a, nng_msg_body(m), nng_msg_len(m));
		} else {
			dispatch(a, m);
		}
		nng_msg_free(m);
		n++;
	}
	return n;
}

/* Fires up to budget due timers; returns how many (they count as handled: a timer's
 * changes must reach on_drained, the commit point, like a message's). The budget keeps
 * a burst (100 000 fallback or ttl timers due at once) from blinding the actor to its
 * inbox: the rest fire in the next passes, the poll between them not waiting. */
static unsigned fire_timers(ac_actor *a, unsigned budget)
{
	ac_timer_entry t;
	int64_t now = ac_clock_mono_ms();
	unsigned n = 0;

	while (n < budget && !a->stopping && ac_timers_pop_due(a->timers, now, &t)) {
		if (a->def->on_timer != NULL) {
			a->def->on_timer(a->state, a, &t);
		}
		n++;
	}
	return n;
}

static int poll_timeout_ms(ac_actor *a)
{
	int64_t next = ac_timers_next_deadline(a->timers);
	int64_t now;

	if (ac_mpw_len(&a->pubw) > 0 && a->pub_due_ms < next) {
		next = a->pub_due_ms;
	}

	if (next == INT64_MAX) {
		return -1;
	}
	now = ac_clock_mono_ms();
	if (next <= now) {
		return 0;
	}
	return next - now > 60000 ? 60000 : (int)(next - now);
}

/* Fills fds: inbox, watched sockets, then SENDFDs of peers we owe messages. */
static int build_pollset(ac_actor *a, int inbox_fd, struct pollfd *fds, int *peer_of)
{
	int n = 0, fd;

	fds[n++] = (struct pollfd){ .fd = inbox_fd, .events = POLLIN };
	for (unsigned i = 0; i < a->watch_count; i++) {
		fds[n++] = (struct pollfd){ .fd = a->watches[i].fd, .events = POLLIN };
	}
	for (int p = 0; p < AC_ACTOR_COUNT; p++) {
		if (a->pending[p].count > 0 &&
		    nng_socket_get_int(a->out[p], NNG_OPT_SENDFD, &fd) == 0) {
			peer_of[n] = p;
			fds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		}
	}
	return n;
}

/* Group commit under load: while two or more client requests sent to this actor have
 * not reached its inbox's front yet (ac_rt_request_sent), or while the actor says it
 * expects answers that belong to this batch (gather_more), the batch waits for them
 * (up to gather_us, or until the budget fills), so that they share one commit. A
 * lone request never waits, and neither does a pair: a single straggler is not worth
 * a commit's delay. */
static unsigned gather(ac_actor *a, int inbox_fd, unsigned budget)
{
	int64_t until = ac_clock_mono_us() + a->def->gather_us;
	unsigned n = 0;

	for (;;) {
		int64_t now = ac_clock_mono_us();
		struct pollfd pfd = { .fd = inbox_fd, .events = POLLIN };
		struct timespec ts;

		bool wanted = atomic_load(&a->rt->in_transit[a->def->id]) >= 2 ||
		    (a->def->gather_more != NULL && a->def->gather_more(a->state));
		if (!wanted || now >= until || n >= budget || a->stopping) {
			return n;
		}
		ts.tv_sec = (until - now) / 1000000;
		ts.tv_nsec = ((until - now) % 1000000) * 1000;
		if (ppoll(&pfd, 1, &ts, NULL) <= 0) {
			return n;
		}
		n += drain(a, a->rt->inbox[a->def->id], NULL, budget - n);
	}
}

static void run_loop(ac_actor *a, int inbox_fd)
{
	unsigned budget = a->def->max_batch ? a->def->max_batch : 256;
	struct pollfd fds[1 + MAX_WATCH + AC_ACTOR_COUNT];
	int peer_of[1 + MAX_WATCH + AC_ACTOR_COUNT];

	while (!a->stopping) {
		unsigned handled = 0;
		int n = build_pollset(a, inbox_fd, fds, peer_of);

		if (poll(fds, (nfds_t)n, poll_timeout_ms(a)) < 0) {
			continue; /* EINTR */
		}
		handled += fire_timers(a, budget);
		handled += drain(a, a->rt->inbox[a->def->id], NULL, budget);
		if (handled > 0 && a->def->gather_us > 0) {
			handled += gather(a, inbox_fd, budget > handled ? budget - handled : 0);
		}
		for (unsigned i = 0; i < a->watch_count; i++) {
			handled += drain(a, a->watches[i].sock, a->watches[i].fn, budget);
		}
		if (handled > 0 && a->def->on_drained != NULL) {
			a->def->on_drained(a->state, a);
		}
		if (ac_mpw_len(&a->pubw) > 0 && ac_clock_mono_ms() >= a->pub_due_ms) {
			ac_actor_publish_flush(a);
		}
		for (int p = 0; p < AC_ACTOR_COUNT; p++) {
			outbox_flush(a, p);
		}
	}
	/* Messages that arrived before STOP are still handled: a stopping queue commits
	 * what it was asked to do, a stopping gateway delivers the replies it got. */
	a->stopping = false;
	while (drain(a, a->rt->inbox[a->def->id], NULL, budget) > 0 && !a->stopping) {
		if (a->def->on_drained != NULL) {
			a->def->on_drained(a->state, a);
		}
		ac_actor_publish_flush(a);
	}
	a->stopping = true;
}

/* What stop() sent (answers to held requests) must still reach running peers: wait
 * for room, up to a bound, since a stopped peer never drains. */
static void flush_before_exit(ac_actor *a)
{
	int64_t deadline = ac_clock_mono_ms() + 2000;
	struct pollfd fds[AC_ACTOR_COUNT];

	ac_actor_publish_flush(a); /* what stop() published */
	for (;;) {
		int n = 0, fd;
		for (int p = 0; p < AC_ACTOR_COUNT; p++) {
			outbox_flush(a, p);
			if (a->pending[p].count > 0 &&
			    nng_socket_get_int(a->out[p], NNG_OPT_SENDFD, &fd) == 0) {
				fds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
			}
		}
		int64_t left = deadline - ac_clock_mono_ms();
		if (n == 0 || left <= 0) {
			return;
		}
		poll(fds, (nfds_t)n, (int)(left > 50 ? 50 : left));
	}
}

static void close_peers(ac_actor *a, int upto)
{
	for (int p = 0; p < upto; p++) {
		outbox_fini(&a->pending[p]);
		nng_close(a->out[p]);
	}
}

static void report_started(ac_actor *a, ac_err err)
{
	pthread_mutex_lock(&a->lock);
	a->started = true;
	a->start_err = err;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->lock);
}

/* "ac:queue" etc. in top -H, perf and gdb; Linux caps names at 15 bytes. */
static void name_thread(const char *name)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "ac:%s", name);
	pthread_setname_np(pthread_self(), buf);
}

static void *actor_main(void *arg)
{
	ac_actor *a = arg;
	ac_err err = AC_OK;
	int p = 0, inbox_fd = -1;

	a->thread = pthread_self();
	name_thread(a->def->name);
	for (; p < AC_ACTOR_COUNT; p++) {
		if ((err = open_push(a->rt, (ac_actor_id)p, &a->out[p])) != AC_OK) {
			goto fail_peers;
		}
	}
	if (nng_socket_get_int(a->rt->inbox[a->def->id], NNG_OPT_RECVFD, &inbox_fd) != 0) {
		err = AC_EINTERNAL;
		goto fail_peers;
	}
	if (a->def->start != NULL && (err = a->def->start(a->state, a)) != AC_OK) {
		goto fail_peers;
	}
	report_started(a, AC_OK);
	run_loop(a, inbox_fd);
	if (a->def->stop != NULL) {
		a->def->stop(a->state, a);
	}
	flush_before_exit(a);
	for (int peer = 0; peer < AC_ACTOR_COUNT; peer++) {
		outbox_fini(&a->pending[peer]);
		a->rt->retired[a->def->id][peer] = a->out[peer];
	}
	a->rt->has_retired[a->def->id] = true;
	return NULL;

fail_peers:
	close_peers(a, p);
	report_started(a, err);
	return NULL;
}

ac_err ac_actor_start(ac_rt *rt, const ac_actor_def *def, void *state, ac_actor **out)
{
	ac_actor *a = calloc(1, sizeof(*a));
	pthread_t tid; /* a->thread is set by the thread itself before it runs any code */
	ac_err err;

	*out = NULL;
	if (a == NULL) {
		return AC_ENOMEM;
	}
	a->rt = rt;
	a->def = def;
	a->state = state;
	ac_arena_init(&a->arena);
	ac_mpw_init(&a->scratch);
	ac_mpw_init(&a->pubw);
	ac_mpw_init(&a->pubtmp);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cv, NULL);
	if ((err = ac_timers_alloc(&a->timers)) != AC_OK) {
		goto fail_timers;
	}
	/* Set before the thread exists: callers keep the handle in the actor's own state
	 * (&q->actor), which the actor thread reads from its first message on. */
	*out = a;
	if (pthread_create(&tid, NULL, actor_main, a) != 0) {
		err = AC_ENOMEM;
		goto fail_thread;
	}
	pthread_mutex_lock(&a->lock);
	while (!a->started) {
		pthread_cond_wait(&a->cv, &a->lock);
	}
	err = a->start_err;
	pthread_mutex_unlock(&a->lock);
	if (err != AC_OK) {
		pthread_join(tid, NULL);
		goto fail_thread;
	}
	return AC_OK;

fail_thread:
	*out = NULL;
	ac_timers_free(a->timers);
fail_timers:
	ac_mpw_fini(&a->pubw);
	ac_mpw_fini(&a->pubtmp);
	ac_mpw_fini(&a->scratch);
	ac_arena_fini(&a->arena);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->lock);
	free(a);
	return err;
}

void ac_actor_stop(ac_actor *a)
{
	ac_env env = { .type = AC_MSG_STOP };
	nng_msg *m;

	if (a == NULL) {
		return;
	}
	/* The inbox may be full under load: retry until the stop message is in. */
	while (ac_msg_alloc(&m, &env, NULL, 0) == AC_OK) {
		if (nng_sendmsg(a->rt->shared_push[a->def->id], m, 0) == 0) {
			break;
		}
		nng_msg_free(m);
	}
	pthread_join(a->thread, NULL);
	ac_timers_free(a->timers);
	ac_mpw_fini(&a->pubw);
	ac_mpw_fini(&a->pubtmp);
	ac_mpw_fini(&a->scratch);
	ac_arena_fini(&a->arena);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
