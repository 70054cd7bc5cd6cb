/* SPDX-License-Identifier: MIT
 * Tests for src/rt/actor.c with small test actors over inproc (one ac_rt per test):
 * the start/stop handshake, a failing start, dispatch by message id, the runtime's
 * own invalid_argument/unknown_op replies (read by a fake gateway actor), timers,
 * the outbox under a 50 000-message burst to a slow peer, draining before STOP, and
 * sends from a stop callback. Over 500 lines: the test actors and their probe live here.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "test_sync.h"
#include "codec/agent_wire.h"
#include "rt/actor.h"
#include "rt/clock.h"

#define WAIT_MS 30000 /* generous deadline for conditions (ASan, loaded CI) */
#define BURST 50000

/* ---- the probe: what the actors saw, shared with the test thread under a lock ---- */

typedef struct reply {
	uint64_t corr_id;
	bool ok;
	char code[32];
	char field[128];
} reply;

typedef struct probe {
	ac_tsync sync; /* guards the rest; sync.bad: the first check that failed on an actor
			* thread (Criterion asserts belong to the test thread) */
	/* dispatch */
	uint16_t types[32];
	uint64_t corr[32];
	size_t type_count;
	char fetch_agent[129];
	uint64_t fetch_wait_ms;
	/* sequence messages (AC_MSG_TEL_COUNT with a raw uint64 body) */
	uint64_t received, out_of_order;
	uint64_t received_at_stop;
	/* burst */
	uint64_t send_errors;
	uint64_t received_when_sent; /* what the peer had handled when the burst was sent */
	bool burst_sent;
	/* timers */
	uint64_t timer_tags[16];
	size_t timer_count;
	int64_t early_ms;          /* worst firing before its deadline (should stay 0) */
	bool cancel_pending_ok, cancel_fired_refused;
	/* lifecycle */
	bool start_called, stop_called, start_on_other_thread;
	bool handle_at_start; /* the start callback found its handle already in its state */
	/* gateway */
	reply replies[16];
	size_t reply_count;
} probe;

typedef struct tactor {
	probe *pr;
	ac_actor *self;
	ac_actor *handle; /* where a test may ask ac_actor_start to put the handle */
	ac_err start_result;
	unsigned work;               /* spin iterations per sequence message */
	unsigned stop_sends;         /* sequence messages the stop callback sends to the peer */
	ac_timer_id first_timer;
	pthread_t test_thread;
} tactor;

static probe pr;
static ac_rt *rt;
static tactor worker_st, peer_st, gw_st;
static ac_actor *worker, *peer, *gw;

static void lock(void)
{
	ac_tsync_lock(&pr.sync);
}

static void unlock_signal(void)
{
	ac_tsync_unlock_signal(&pr.sync);
}

/* Waits, holding the lock on return, until pred() holds or timeout_s passes. */
static bool wait_for_s(bool (*pred)(const void *arg), const void *arg, int timeout_s)
{
	return ac_tsync_wait(&pr.sync, pred, arg, (int64_t)timeout_s * 1000);
}

static bool wait_for(bool (*pred)(const void *arg), const void *arg)
{
	return wait_for_s(pred, arg, WAIT_MS / 1000);
}

static void unlock(void)
{
	ac_tsync_unlock(&pr.sync);
}

/* For actor threads: records the first failed check; the test thread asserts on it. */
#define CHECK(cond) ac_tsync_check(&pr.sync, (cond), #cond, __LINE__)

static bool received_at_least(const void *arg)
{
	return pr.received >= *(const uint64_t *)arg;
}

static bool types_at_least(const void *arg)
{
	return pr.type_count >= *(const size_t *)arg;
}

static bool replies_at_least(const void *arg)
{
	return pr.reply_count >= *(const size_t *)arg;
}

static bool timers_at_least(const void *arg)
{
	return pr.timer_count >= *(const size_t *)arg;
}

static bool burst_done(const void *arg)
{
	(void)arg;
	return pr.burst_sent;
}

/* ---- handlers ---- */

static void record_type(const ac_call *call)
{
	lock();
	if (pr.type_count < 32) {
		pr.corr[pr.type_count] = call->env.corr_id;
		pr.types[pr.type_count++] = call->env.type;
	}
	unlock_signal();
}

static void spin(unsigned n)
{
	volatile uint64_t x = 1;

	for (unsigned i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	}
}

/* AC_MSG_TEL_COUNT: body is one raw uint64, the sender's sequence number (from 0). */
static void on_seq(void *state, ac_call *call)
{
	tactor *t = state;
	uint64_t seq;

	CHECK(call->body_len == sizeof(seq));
	if (call->body_len != sizeof(seq)) {
		return;
	}
	memcpy(&seq, call->body, sizeof(seq));
	spin(t->work);
	lock();
	pr.out_of_order += seq != pr.received;
	pr.received++;
	unlock_signal();
}

static void on_other(void *state, ac_call *call)
{
	(void)state;
	CHECK(call->req == NULL);
	CHECK(call->arena != NULL);
	record_type(call);
}

/* AC_MSG_OP_AGENT_FETCH, decoded by the runtime with ac_req_agent_fetch_schema. */
static void on_fetch(void *state, ac_call *call)
{
	const ac_req_agent_fetch *f = call->req;

	(void)state;
	CHECK(f != NULL);
	if (f == NULL) {
		return;
	}
	lock();
	ac_str_cpy(pr.fetch_agent, sizeof(pr.fetch_agent), f->agent_id);
	pr.fetch_wait_ms = f->wait_ms.v;
	unlock_signal();
	record_type(call);
}

/* AC_MSG_HEARTBEAT_FWD: send BURST sequence messages to the registry-id peer at once. */
static void on_burst(void *state, ac_call *call)
{
	tactor *t = state;
	ac_env env = { .type = AC_MSG_TEL_COUNT };
	uint64_t errors = 0;

	(void)call;
	for (uint64_t seq = 0; seq < BURST; seq++) {
		errors += ac_actor_send(t->self, AC_ACTOR_REGISTRY, &env, &seq, sizeof(seq)) != AC_OK;
	}
	lock();
	pr.send_errors = errors;
	pr.received_when_sent = pr.received;
	pr.burst_sent = true;
	unlock_signal();
}

enum { T_FIRST = 1, T_SECOND, T_THIRD, T_FOURTH, T_CANCELLED_A = 98, T_CANCELLED_B = 99 };

/* AC_MSG_HELLO_FWD: arm timers out of order, cancel two of them. */
static void on_arm_timers(void *state, ac_call *call)
{
	tactor *t = state;
	int64_t now = ac_clock_mono_ms();
	ac_timer_id a, b, id;
	bool ok;

	(void)call;
	CHECK(ac_actor_timer_add(t->self, now + 60, 7, T_FOURTH, &id) == AC_OK);
	CHECK(ac_actor_timer_add(t->self, now + 15, 7, T_FIRST, &t->first_timer) == AC_OK);
	CHECK(ac_actor_timer_add(t->self, now + 40, 7, T_SECOND, &id) == AC_OK);
	CHECK(ac_actor_timer_add(t->self, now + 5, 7, T_CANCELLED_A, &a) == AC_OK);
	CHECK(ac_actor_timer_add(t->self, now + 40, 7, T_THIRD, &id) == AC_OK); /* after SECOND */
	CHECK(ac_actor_timer_add(t->self, now + 30, 7, T_CANCELLED_B, &b) == AC_OK);
	ok = ac_actor_timer_cancel(t->self, a) && ac_actor_timer_cancel(t->self, b) &&
	    !ac_actor_timer_cancel(t->self, b);
	lock();
	pr.cancel_pending_ok = ok;
	unlock_signal();
}

static void on_timer(void *state, ac_actor *a, const ac_timer_entry *e)
{
	tactor *t = state;
	int64_t early = e->deadline_ms - ac_clock_mono_ms();

	CHECK(a == t->self);
	CHECK(e->kind == 7);
	lock();
	if (pr.timer_count < 16) {
		pr.timer_tags[pr.timer_count++] = e->tag;
	}
	pr.early_ms = early > pr.early_ms ? early : pr.early_ms;
	if (e->tag == T_FOURTH) {
		pr.cancel_fired_refused = !ac_actor_timer_cancel(a, t->first_timer);
	}
	unlock_signal();
}

static ac_err on_start(void *state, ac_actor *a)
{
	tactor *t = state;
	int64_t until = ac_clock_mono_ms() + 20;

	t->self = a;
	/* A slow start: without the handshake ac_actor_start would return first. */
	while (ac_clock_mono_ms() < until) {
		spin(1000);
	}
	lock();
	pr.start_called = true;
	pr.start_on_other_thread = !pthread_equal(pthread_self(), t->test_thread);
	pr.handle_at_start = t->handle == a;
	unlock_signal();
	return t->start_result;
}

static void on_stop(void *state, ac_actor *a)
{
	tactor *t = state;
	ac_env env = { .type = AC_MSG_TEL_COUNT };
	uint64_t errors = 0;

	for (uint64_t seq = 0; seq < t->stop_sends; seq++) {
		errors += ac_actor_send(a, AC_ACTOR_REGISTRY, &env, &seq, sizeof(seq)) != AC_OK;
	}
	lock();
	pr.stop_called = true;
	pr.received_at_stop = pr.received;
	pr.send_errors += errors;
	unlock_signal();
}

/* ---- fake gateway: records AC_MSG_GW_REPLY bodies ---- */

typedef struct gw_error {
	ac_str code;
	ac_str message;
	ac_str field;
} gw_error;
typedef struct gw_reply {
	ac_flag ok;
	ac_obj error;
} gw_reply;
static const ac_field gw_error_fields[] = {
	AC_F(gw_error, code, "code", AC_FT_STR, true),
	AC_F(gw_error, message, "message", AC_FT_STR, true),
	AC_F(gw_error, field, "field", AC_FT_STR, false),
};
static const ac_schema gw_error_schema = AC_SCHEMA("error", gw_error, gw_error_fields);
static const ac_field gw_reply_fields[] = {
	AC_F(gw_reply, ok, "ok", AC_FT_FLAG, true),
	AC_F(gw_reply, error, "error", AC_FT_OBJ, false, .sub = &gw_error_schema),
};
static const ac_schema gw_reply_schema = AC_SCHEMA("reply", gw_reply, gw_reply_fields);

static void on_gw_reply(void *state, ac_call *call)
{
	gw_reply r;
	reply rec = { .corr_id = call->env.corr_id };

	(void)state;
	CHECK(ac_schema_decode_bytes(&gw_reply_schema, call->body, call->body_len, &r, call->arena,
	          NULL) == AC_OK);
	rec.ok = r.ok.v;
	if (r.error.set) {
		const gw_error *e = r.error.p;
		ac_str_cpy(rec.code, sizeof(rec.code), e->code);
		ac_str_cpy(rec.field, sizeof(rec.field), e->field);
	}
	lock();
	if (pr.reply_count < 16) {
		pr.replies[pr.reply_count++] = rec;
	}
	unlock_signal();
}

/* ---- actor definitions ---- */

static const ac_handler worker_handlers[AC_MSG_COUNT] = {
	[AC_MSG_TEL_COUNT] = { on_seq, NULL },
	[AC_MSG_AGENT_NOTES] = { on_other, NULL },
	[AC_MSG_STATS_COLLECT] = { on_other, NULL },
	[AC_MSG_OP_AGENT_FETCH] = { on_fetch, &ac_req_agent_fetch_schema },
	[AC_MSG_HEARTBEAT_FWD] = { on_burst, NULL },
	[AC_MSG_HELLO_FWD] = { on_arm_timers, NULL },
};

static const ac_actor_def worker_def = {
	.name = "worker",
	.id = AC_ACTOR_QUEUE,
	.handlers = worker_handlers,
	.start = on_start,
	.stop = on_stop,
	.on_timer = on_timer,
};

static const ac_actor_def peer_def = {
	.name = "peer",
	.id = AC_ACTOR_REGISTRY,
	.handlers = worker_handlers,
	.start = on_start,
	.stop = on_stop,
};

static const ac_handler gw_handlers[AC_MSG_COUNT] = {
	[AC_MSG_GW_REPLY] = { on_gw_reply, NULL },
};

static ac_err gw_start(void *state, ac_actor *a)
{
	((tactor *)state)->self = a;
	return AC_OK;
}

static const ac_actor_def gw_def = {
	.name = "fake-gateway",
	.id = AC_ACTOR_GATEWAY,
	.handlers = gw_handlers,
	.start = gw_start,
};

/* ---- fixture ---- */

static void setup(void)
{
	memset(&pr, 0, sizeof(pr));
	ac_tsync_init(&pr.sync);
	worker_st = (tactor){ .pr = &pr, .test_thread = pthread_self() };
	peer_st = worker_st;
	gw_st = worker_st;
	worker = peer = gw = NULL;
	cr_assert_eq(ac_rt_alloc(&rt), AC_OK);
}

static void teardown(void)
{
	ac_tsync_unlock(&pr.sync); /* held if an assertion failed while waiting; else EPERM */
	ac_actor_stop(worker);
	ac_actor_stop(peer);
	ac_actor_stop(gw);
	ac_rt_free(rt);
	cr_expect_str_empty(pr.sync.bad, "an actor thread saw: %s", pr.sync.bad);
	ac_tsync_fini(&pr.sync);
}

TestSuite(actor, .init = setup, .fini = teardown, .timeout = 120);

/* Sends type with body from the test thread. */
static void send_msg(ac_actor_id to, uint16_t type, uint64_t corr_id, const void *body,
    size_t len)
{
	ac_env env = { .type = type, .corr_id = corr_id, .pipe_id = 3, .role = AC_ROLE_AGENT };
	nng_msg *m;

	cr_assert_eq(ac_msg_alloc(&m, &env, body, len), AC_OK);
	cr_assert_eq(ac_rt_send(rt, to, &m), AC_OK);
	cr_assert_null(m);
}

static void send_seq(ac_actor_id to, uint64_t seq)
{
	send_msg(to, AC_MSG_TEL_COUNT, 0, &seq, sizeof(seq));
}

static void send_map(ac_actor_id to, uint16_t type, uint64_t corr_id, const ac_mpw *w)
{
	cr_assert_eq(w->err, AC_OK);
	send_msg(to, type, corr_id, ac_mpw_data(w), ac_mpw_len(w));
}

static const reply *reply_for(uint64_t corr_id)
{
	for (size_t i = 0; i < pr.reply_count; i++) {
		if (pr.replies[i].corr_id == corr_id) {
			return &pr.replies[i];
		}
	}
	return NULL;
}

/* Fails the test when a check on an actor thread failed (call at the end of each test:
 * Criterion does not count failures reported from .fini). */
static void expect_no_bad(void)
{
	lock();
	cr_assert_str_empty(pr.sync.bad, "an actor thread saw: %s", pr.sync.bad);
	unlock();
}

/* ---- lifecycle ---- */

Test(actor, start_returns_after_the_start_callback_and_stop_runs_the_stop_callback)
{
	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &worker), AC_OK);
	cr_assert_not_null(worker);
	lock();
	cr_assert(pr.start_called, "ac_actor_start returned before start ran");
	cr_assert(pr.start_on_other_thread);
	cr_assert_not(pr.stop_called);
	unlock();
	cr_assert_str_eq(ac_actor_name(worker), "worker");
	cr_assert_eq(worker_st.self, worker);
	ac_actor_stop(worker);
	worker = NULL;
	lock();
	cr_assert(pr.stop_called);
	unlock();
	ac_actor_stop(NULL); /* no-op */
	expect_no_bad();
}

/* Servers keep an actor's handle in the actor's own state (&q->actor) and its thread
 * reads it from there: it must be written before the thread runs (TSan saw the
 * write land after the thread had started). */
Test(actor, the_handle_is_in_place_before_the_thread_runs)
{
	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &worker_st.handle), AC_OK);
	worker = worker_st.handle;
	lock();
	cr_assert(pr.handle_at_start, "start ran before *out was set");
	unlock();
	expect_no_bad();
}

Test(actor, failing_start_returns_its_error_and_the_id_can_start_again)
{
	ac_actor *a = NULL;

	worker_st.start_result = AC_EIO;
	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &a), AC_EIO);
	cr_assert_null(a, "out is untouched on failure");
	lock();
	cr_assert(pr.start_called);
	cr_assert_not(pr.stop_called, "stop is not called after a failed start");
	unlock();
	worker_st.start_result = AC_OK;
	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &worker), AC_OK);
	send_seq(AC_ACTOR_QUEUE, 0);
	uint64_t one = 1;
	cr_assert(wait_for(received_at_least, &one), "the restarted actor reads its inbox");
	unlock();
	expect_no_bad();
}

/* ---- dispatch ---- */

Test(actor, handler_table_dispatches_by_message_id_in_order)
{
	uint8_t empty_map = 0x80;
	size_t want = 4;

	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &worker), AC_OK);
	send_msg(AC_ACTOR_QUEUE, AC_MSG_AGENT_NOTES, 11, &empty_map, 1);
	send_msg(AC_ACTOR_QUEUE, AC_MSG_STATS_COLLECT, 12, &empty_map, 1);
	send_msg(AC_ACTOR_QUEUE, AC_MSG_STATS_COLLECT, 13, NULL, 0);
	send_msg(AC_ACTOR_QUEUE, AC_MSG_AGENT_NOTES, 14, NULL, 0);
	cr_assert(wait_for(types_at_least, &want));
	cr_assert_eq(pr.type_count, 4);
	cr_assert_eq(pr.types[0], AC_MSG_AGENT_NOTES);
	cr_assert_eq(pr.types[1], AC_MSG_STATS_COLLECT);
	cr_assert_eq(pr.types[2], AC_MSG_STATS_COLLECT);
	cr_assert_eq(pr.types[3], AC_MSG_AGENT_NOTES);
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(pr.corr[i], 11 + i);
	}
	unlock();
	expect_no_bad();
}

Test(actor, schema_decodes_the_body_before_the_handler)
{
	ac_mpw w;
	size_t want = 1;

	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &worker), AC_OK);
	ac_mpw_init(&w);
	ac_mpw_map(&w, 2);
	ac_mpw_key(&w, "agent_id");
	ac_mpw_cstr(&w, "agent-7");
	ac_mpw_key(&w, "wait_ms");
	ac_mpw_u64(&w, 1234);
	send_map(AC_ACTOR_QUEUE, AC_MSG_OP_AGENT_FETCH, 21, &w);
	ac_mpw_fini(&w);
	cr_assert(wait_for(types_at_least, &want));
	cr_assert_eq(pr.types[0], AC_MSG_OP_AGENT_FETCH);
	cr_assert_str_eq(pr.fetch_agent, "agent-7");
	cr_assert_eq(pr.fetch_wait_ms, 1234);
	unlock();
	expect_no_bad();
}

/* Three bad bodies with a reply handle, one without; then a good one. */
Test(actor, schema_decode_failure_replies_invalid_argument_to_the_gateway)
{
	ac_mpw w;
	uint8_t not_a_map = 0x05;
	size_t want_replies = 4, want_types = 1;
	const reply *r;

	cr_assert_eq(ac_actor_start(rt, &gw_def, &gw_st, &gw), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &worker), AC_OK);
	ac_mpw_init(&w);
	ac_mpw_map(&w, 1); /* agent_id missing */
	ac_mpw_key(&w, "wait_ms");
	ac_mpw_u64(&w, 5);
	send_map(AC_ACTOR_QUEUE, AC_MSG_OP_AGENT_FETCH, 31, &w);
	send_map(AC_ACTOR_QUEUE, AC_MSG_OP_AGENT_FETCH, 0, &w); /* no reply expected */
	ac_mpw_reset(&w);
	ac_mpw_map(&w, 2);
	ac_mpw_key(&w, "agent_id");
	ac_mpw_cstr(&w, "agent-1");
	ac_mpw_key(&w, "wait_ms");
	ac_mpw_u64(&w, AC_FETCH_WAIT_MAX_MS + 1);
	send_map(AC_ACTOR_QUEUE, AC_MSG_OP_AGENT_FETCH, 32, &w);
	send_msg(AC_ACTOR_QUEUE, AC_MSG_OP_AGENT_FETCH, 33, &not_a_map, 1);
	send_msg(AC_ACTOR_QUEUE, AC_MSG_AGENT_GONE, 34, NULL, 0); /* no handler */
	ac_mpw_reset(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "agent_id");
	ac_mpw_cstr(&w, "agent-1");
	send_map(AC_ACTOR_QUEUE, AC_MSG_OP_AGENT_FETCH, 35, &w); /* good: no reply from runtime */
	ac_mpw_fini(&w);
	cr_assert(wait_for(types_at_least, &want_types));
	unlock();
	cr_assert(wait_for(replies_at_least, &want_replies));
	cr_assert_eq(pr.type_count, 1, "the handler saw only the valid body");
	cr_assert_str_eq(pr.fetch_agent, "agent-1");
	cr_assert_not_null(r = reply_for(31));
	cr_assert_not(r->ok);
	cr_assert_str_eq(r->code, "invalid_argument");
	cr_assert_str_eq(r->field, "agent_id");
	cr_assert_not_null(r = reply_for(32));
	cr_assert_str_eq(r->code, "invalid_argument");
	cr_assert_str_eq(r->field, "wait_ms");
	cr_assert_not_null(r = reply_for(33));
	cr_assert_not(r->ok);
	cr_assert_str_eq(r->code, "bad_request");
	cr_assert_not_null(r = reply_for(34));
	cr_assert_str_eq(r->code, "unknown_op");
	cr_assert_null(reply_for(0));
	cr_assert_null(reply_for(35));
	unlock();
	expect_no_bad();
}

/* ---- timers ---- */

Test(actor, timers_fire_in_deadline_order_and_cancel_works)
{
	size_t want = 4;

	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &worker), AC_OK);
	send_msg(AC_ACTOR_QUEUE, AC_MSG_HELLO_FWD, 0, NULL, 0);
	cr_assert(wait_for(timers_at_least, &want));
	cr_assert(pr.cancel_pending_ok, "cancel of a pending timer is true, of a cancelled one false");
	cr_assert_eq(pr.timer_count, 4, "cancelled timers fired (%zu fired)", pr.timer_count);
	cr_assert_eq(pr.timer_tags[0], T_FIRST);
	cr_assert_eq(pr.timer_tags[1], T_SECOND);
	cr_assert_eq(pr.timer_tags[2], T_THIRD);
	cr_assert_eq(pr.timer_tags[3], T_FOURTH);
	cr_assert_leq(pr.early_ms, 0, "a timer fired %lld ms before its deadline",
	    (long long)pr.early_ms);
	cr_assert(pr.cancel_fired_refused, "cancelling a fired timer is a harmless false");
	unlock();
	expect_no_bad();
}

/* ---- outbox ---- */

Test(actor, outbox_delivers_a_burst_to_a_slow_peer_in_order)
{
	uint64_t want = BURST;

	peer_st.work = 2000; /* a little work per message: the peer drains slower than we send */
	cr_assert_eq(ac_actor_start(rt, &peer_def, &peer_st, &peer), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &worker), AC_OK);
	send_msg(AC_ACTOR_QUEUE, AC_MSG_HEARTBEAT_FWD, 0, NULL, 0);
	cr_assert(wait_for(burst_done, NULL));
	cr_assert_eq(pr.send_errors, 0, "ac_actor_send failed %llu times",
	    (unsigned long long)pr.send_errors);
	/* sanity: more was sent than nng's two 8192-message buffers hold, so the outbox
	 * really carried part of the burst */
	cr_assert_lt(pr.received_when_sent, BURST - 2 * 8192);
	unlock();
	cr_assert(wait_for(received_at_least, &want), "received %llu of %d",
	    (unsigned long long)pr.received, BURST);
	cr_assert_eq(pr.received, BURST);
	cr_assert_eq(pr.out_of_order, 0);
	unlock();
	expect_no_bad();
}

/* ---- stop ---- */

Test(actor, messages_sent_before_stop_are_still_handled)
{
	enum { N = 2000 };

	worker_st.work = 20000;
	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &worker), AC_OK);
	for (uint64_t seq = 0; seq < N; seq++) {
		send_seq(AC_ACTOR_QUEUE, seq);
	}
	ac_actor_stop(worker);
	worker = NULL;
	lock();
	cr_assert_eq(pr.received, N, "handled %llu of %d", (unsigned long long)pr.received, N);
	cr_assert_eq(pr.received_at_stop, N, "the stop callback ran before the last message");
	cr_assert_eq(pr.out_of_order, 0);
	cr_assert(pr.stop_called);
	unlock();
	expect_no_bad();
}

/* A stopping actor's last messages (the scheduler answers held fetches from its stop
 * callback, the queue sends its last replies) reach a peer that is still running. */
Test(actor, messages_sent_from_the_stop_callback_reach_a_running_peer)
{
	enum { N = 1000 };
	uint64_t want = N;

	worker_st.stop_sends = N;
	cr_assert_eq(ac_actor_start(rt, &peer_def, &peer_st, &peer), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &worker_def, &worker_st, &worker), AC_OK);
	ac_actor_stop(worker);
	worker = NULL;
	lock();
	cr_assert_eq(pr.send_errors, 0);
	unlock();
	cr_assert(wait_for_s(received_at_least, &want, 5), "the peer got %llu of %d",
	    (unsigned long long)pr.received, N);
	cr_assert_eq(pr.out_of_order, 0);
	unlock();
	expect_no_bad();
}
