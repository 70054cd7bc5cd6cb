/* SPDX-License-Identifier: MIT
 * A burst of due timers (a mass fallback or ttl expiry) fires in slices of the
 * actor's batch budget, with its inbox read between slices: a message that arrives
 * during the burst is handled before the burst ends (src/rt/actor.c fire_timers).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "rt/actor.h"
#include "rt/clock.h"

#define BURST 3000
#define TIMER_COST_US 100 /* the burst lasts about 0.3 s */
#define BUDGET 256

static ac_rt *rt;
static ac_actor *actor;
static atomic_uint fired;
static atomic_uint fired_when_message; /* timers fired before the message was handled */
static atomic_bool message_seen;

static void on_timer(void *state, ac_actor *a, const ac_timer_entry *t)
{
	(void)state;
	(void)a;
	(void)t;
	usleep(TIMER_COST_US);
	atomic_fetch_add(&fired, 1);
}

static void on_msg(void *state, ac_call *call)
{
	(void)state;
	(void)call;
	atomic_store(&fired_when_message, atomic_load(&fired));
	atomic_store(&message_seen, true);
}

/* every timer due at once, before the loop runs */
static ac_err start(void *state, ac_actor *a)
{
	(void)state;
	for (int i = 0; i < BURST; i++) {
		if (ac_actor_timer_add(a, ac_clock_mono_ms(), 1, (uint64_t)i, NULL) != AC_OK) {
			return AC_ENOMEM;
		}
	}
	return AC_OK;
}

static const ac_handler handlers[AC_MSG_COUNT] = {
	[AC_MSG_TEL_COUNT] = { on_msg, NULL },
};

static const ac_actor_def burst_def = {
	.name = "burst",
	.id = AC_ACTOR_QUEUE,
	.handlers = handlers,
	.start = start,
	.on_timer = on_timer,
	.max_batch = BUDGET,
};

static void setup(void)
{
	atomic_store(&fired, 0);
	atomic_store(&fired_when_message, 0);
	atomic_store(&message_seen, false);
	cr_assert_eq(ac_rt_alloc(&rt), AC_OK);
}

static void teardown(void)
{
	ac_actor_stop(actor);
	ac_rt_free(rt);
}

TestSuite(timer_burst, .init = setup, .fini = teardown, .timeout = 60);

Test(timer_burst, a_message_is_handled_between_slices_of_a_timer_burst)
{
	ac_env env = { .type = AC_MSG_TEL_COUNT };
	nng_msg *m;

	cr_assert_eq(ac_actor_start(rt, &burst_def, NULL, &actor), AC_OK);
	cr_assert_eq(ac_msg_alloc(&m, &env, NULL, 0), AC_OK);
	cr_assert_eq(ac_rt_send(rt, AC_ACTOR_QUEUE, &m), AC_OK);
	for (int i = 0; i < 6000 && atomic_load(&fired) < BURST; i++) {
		usleep(10 * 1000); /* bounded wait for the whole burst: up to 60 s */
	}
	cr_assert_eq(atomic_load(&fired), BURST, "every timer fires in the end");
	cr_assert(atomic_load(&message_seen));
	cr_assert_lt(atomic_load(&fired_when_message), BURST,
	    "the message waited for all %d timers", BURST);
}
