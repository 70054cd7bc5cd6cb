/* SPDX-License-Identifier: MIT
 * Tests for group-commit gathering in src/rt/actor.c: a batch stays open while two or
 * more client requests counted by ac_rt_request_sent have not arrived, closes as soon
 * as fewer are missing, never waits for a lone request or for actor
 * messages, and never waits past gather_us.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "rt/actor.h"

#define WAIT_S 30    /* deadline for conditions that must come true (ASan, loaded CI) */
#define MAX_BATCHES 16

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned handled;              /* messages handled so far */
	unsigned open;                 /* messages in the batch not yet drained */
	unsigned batches[MAX_BATCHES]; /* size of each drained batch */
	unsigned batch_count;
} g;

static ac_rt *rt;
static ac_actor *actor;

static void on_msg(void *state, ac_call *call)
{
	(void)state;
	(void)call;
	pthread_mutex_lock(&g.mu);
	g.handled++;
	g.open++;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
}

static void on_drained(void *state, ac_actor *a)
{
	(void)state;
	(void)a;
	pthread_mutex_lock(&g.mu);
	if (g.batch_count < MAX_BATCHES) {
		g.batches[g.batch_count++] = g.open;
	}
	g.open = 0;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
}

static const ac_handler handlers[AC_MSG_COUNT] = {
	[AC_MSG_TEL_COUNT] = { on_msg, NULL },
};

/* A window far longer than any test waits: a batch that closes did so because its
 * requests were in, not because the window ran out. */
static const ac_actor_def long_window = {
	.name = "gatherer",
	.id = AC_ACTOR_QUEUE,
	.handlers = handlers,
	.on_drained = on_drained,
	.gather_us = 3600u * 1000000u,
};

/* gather_more: the actor awaits one answer per message it handled with awaits set
 * (as the queue awaits the scheduler's answer to an early fetch). */
static atomic_uint awaited;

static bool gather_more(void *state)
{
	(void)state;
	return atomic_load(&awaited) > 0;
}

static void on_awaited(void *state, ac_call *call)
{
	atomic_fetch_sub(&awaited, 1);
	on_msg(state, call);
}

static const ac_handler awaiting_handlers[AC_MSG_COUNT] = {
	[AC_MSG_TEL_COUNT] = { on_msg, NULL },
	[AC_MSG_TEL_EVENT] = { on_awaited, NULL },
};

static const ac_actor_def awaiting_window = {
	.name = "gatherer",
	.id = AC_ACTOR_QUEUE,
	.handlers = awaiting_handlers,
	.on_drained = on_drained,
	.gather_us = 3600u * 1000000u,
	.gather_more = gather_more,
};

static const ac_actor_def short_window = {
	.name = "gatherer",
	.id = AC_ACTOR_QUEUE,
	.handlers = handlers,
	.on_drained = on_drained,
	.gather_us = 20000,
};

static void setup(void)
{
	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	actor = NULL;
	cr_assert_eq(ac_rt_alloc(&rt), AC_OK);
}

static void teardown(void)
{
	ac_actor_stop(actor);
	ac_rt_free(rt);
	pthread_cond_destroy(&g.cv);
	pthread_mutex_destroy(&g.mu);
}

TestSuite(gather, .init = setup, .fini = teardown, .timeout = 60);

/* Counts n client requests as on their way, as the gateway does before it sends. */
static void announce(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		cr_assert_gt(ac_rt_request_sent(rt, AC_ACTOR_QUEUE), 0);
	}
}

/* Sends one message; a client request (announced before) when is_request. */
static void send_type(ac_msg_type type, bool is_request)
{
	ac_env env = { .type = (uint8_t)type, .inflight = is_request ? 1 : 0 };
	nng_msg *m;

	cr_assert_eq(ac_msg_alloc(&m, &env, NULL, 0), AC_OK);
	cr_assert_eq(ac_rt_send(rt, AC_ACTOR_QUEUE, &m), AC_OK);
}

static void send_msg(bool is_request)
{
	send_type(AC_MSG_TEL_COUNT, is_request);
}

/* Waits until *counter reaches want; false after WAIT_S seconds. */
static bool wait_until(const unsigned *counter, unsigned want)
{
	struct timespec dl;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_S;
	pthread_mutex_lock(&g.mu);
	while (*counter < want && ok) {
		ok = pthread_cond_timedwait(&g.cv, &g.mu, &dl) == 0 || *counter >= want;
	}
	ok = *counter >= want;
	pthread_mutex_unlock(&g.mu);
	return ok;
}

Test(gather, a_batch_waits_for_the_requests_the_gateway_has_passed_on)
{
	cr_assert_eq(ac_actor_start(rt, &long_window, NULL, &actor), AC_OK);
	announce(4);
	send_msg(true); /* three more on their way */
	cr_assert(wait_until(&g.handled, 1));
	send_msg(true);
	cr_assert(wait_until(&g.handled, 2));
	send_msg(true); /* now only one straggler is missing: not worth waiting for */
	cr_assert(wait_until(&g.batch_count, 1), "the batch never closed");
	cr_assert_eq(g.batches[0], 3, "one commit for the three requests, got a batch of %u",
	    g.batches[0]);
	send_msg(true);
	cr_assert(wait_until(&g.batch_count, 2));
	cr_assert_eq(g.batches[1], 1);
}

Test(gather, a_lone_request_closes_its_batch_at_once)
{
	cr_assert_eq(ac_actor_start(rt, &long_window, NULL, &actor), AC_OK);
	announce(1);
	send_msg(true);
	cr_assert(wait_until(&g.batch_count, 1), "a lone request waited for company");
	cr_assert_eq(g.batches[0], 1);
	/* one more on its way is not worth waiting for either: only two or more are */
	announce(2);
	send_msg(true);
	cr_assert(wait_until(&g.batch_count, 2), "waited for a single straggler");
	cr_assert_eq(g.batches[1], 1);
}

Test(gather, messages_from_actors_never_hold_a_batch_open)
{
	cr_assert_eq(ac_actor_start(rt, &long_window, NULL, &actor), AC_OK);
	send_msg(false);
	cr_assert(wait_until(&g.batch_count, 1));
	cr_assert_eq(g.batches[0], 1);
}

Test(gather, a_batch_closes_when_its_window_ends_even_if_requests_are_missing)
{
	cr_assert_eq(ac_actor_start(rt, &short_window, NULL, &actor), AC_OK);
	announce(9);
	send_msg(true); /* eight announced requests never come */
	cr_assert(wait_until(&g.batch_count, 1), "the window never ended");
	cr_assert_eq(g.batches[0], 1);
}

Test(gather, a_batch_waits_for_what_the_actor_awaits)
{
	cr_assert_eq(ac_actor_start(rt, &awaiting_window, NULL, &actor), AC_OK);
	atomic_store(&awaited, 1);
	send_msg(false); /* opens the batch; the awaited answer is not there yet */
	cr_assert(wait_until(&g.handled, 1));
	send_type(AC_MSG_TEL_EVENT, false);
	cr_assert(wait_until(&g.batch_count, 1), "the batch never closed");
	cr_assert_eq(g.batches[0], 2, "the awaited answer missed the batch: %u", g.batches[0]);
	/* nothing awaited: a batch closes at once */
	send_msg(false);
	cr_assert(wait_until(&g.batch_count, 2));
	cr_assert_eq(g.batches[1], 1);
}
