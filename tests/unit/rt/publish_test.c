/* SPDX-License-Identifier: MIT
 * Tests for event publishing in src/rt/actor.c: the event batch format read by
 * ac_event_next (round trip, every bin header size, truncated and foreign bodies),
 * and an actor's events of one batch leaving in order as one message.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "rt/actor.h"

#define WAIT_S 30

/* ---- the format ---- */

static void put_event(ac_mpw *body, const char *topic, size_t pad)
{
	ac_mpw ev;
	char *filler = calloc(pad + 1, 1);

	cr_assert_not_null(filler);
	memset(filler, 'x', pad);
	ac_mpw_init(&ev);
	ac_mpw_cstr(&ev, topic);
	ac_mpw_map(&ev, 1);
	ac_mpw_key(&ev, "pad");
	ac_mpw_cstr(&ev, filler);
	ac_mpw_bin(body, ac_mpw_data(&ev), ac_mpw_len(&ev));
	ac_mpw_fini(&ev);
	free(filler);
}

Test(event_batch, events_come_back_in_order_whatever_their_size)
{
	static const size_t pads[] = { 0, 300, 70000 }; /* bin8, bin16, bin32 */
	ac_mpw body;
	const uint8_t *ev;
	size_t off = 0, len, n = 0;

	ac_mpw_init(&body);
	put_event(&body, "a.first", pads[0]);
	put_event(&body, "b.second", pads[1]);
	put_event(&body, "c.third", pads[2]);
	cr_assert_eq(body.err, AC_OK);
	while (ac_event_next(ac_mpw_data(&body), ac_mpw_len(&body), &off, &ev, &len)) {
		cr_assert_lt(n, 3);
		cr_assert_eq(ev[1], (uint8_t)"abc"[n], "event %zu out of order", n);
		cr_assert_gt(len, pads[n]);
		n++;
	}
	cr_assert_eq(n, 3);
	cr_assert_eq(off, ac_mpw_len(&body), "the whole body was read");
	ac_mpw_fini(&body);
}

Test(event_batch, a_truncated_or_foreign_body_stops_without_reading_past_it)
{
	ac_mpw body;
	const uint8_t *ev;
	size_t off = 0, len;
	static const uint8_t foreign[] = { 0x81, 0xa1, 'a', 0x01 }; /* a map, not a bin */

	ac_mpw_init(&body);
	put_event(&body, "a.first", 10);
	put_event(&body, "b.second", 10);
	/* cut the second event short */
	cr_assert(ac_event_next(ac_mpw_data(&body), ac_mpw_len(&body) - 3, &off, &ev, &len));
	cr_assert_not(ac_event_next(ac_mpw_data(&body), ac_mpw_len(&body) - 3, &off, &ev, &len));
	cr_assert_eq(off, ac_mpw_len(&body) - 3);
	off = 0;
	cr_assert_not(ac_event_next(foreign, sizeof foreign, &off, &ev, &len));
	cr_assert_eq(off, sizeof foreign);
	off = 0;
	cr_assert_not(ac_event_next(foreign, 0, &off, &ev, &len));
	ac_mpw_fini(&body);
}

/* ---- an actor's batch ---- */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned messages, events;
	char order[8];
} seen;

static ac_rt *rt;
static ac_actor *publisher, *telemetry;

/* Publishes three events for one message. */
static void on_publish(void *state, ac_call *call)
{
	ac_mpw data;

	(void)state;
	ac_mpw_init(&data);
	for (int i = 0; i < 3; i++) {
		char topic[] = { (char)('a' + i), '.', 'e', '\0' };
		ac_mpw_reset(&data);
		ac_mpw_map(&data, 0);
		ac_actor_publish(call->actor, topic, &data);
	}
	ac_mpw_fini(&data);
}

static void on_events(void *state, ac_call *call)
{
	const uint8_t *ev;
	size_t off = 0, len;

	(void)state;
	pthread_mutex_lock(&seen.mu);
	seen.messages++;
	while (ac_event_next(call->body, call->body_len, &off, &ev, &len)) {
		if (seen.events < sizeof seen.order - 1) {
			seen.order[seen.events] = (char)ev[1];
		}
		seen.events++;
	}
	pthread_cond_broadcast(&seen.cv);
	pthread_mutex_unlock(&seen.mu);
}

static const ac_handler publisher_handlers[AC_MSG_COUNT] = {
	[AC_MSG_TEL_COUNT] = { on_publish, NULL },
};
static const ac_handler telemetry_handlers[AC_MSG_COUNT] = {
	[AC_MSG_TEL_EVENT] = { on_events, NULL },
};
static const ac_actor_def publisher_def = {
	.name = "publisher",
	.id = AC_ACTOR_QUEUE,
	.handlers = publisher_handlers,
};
static const ac_actor_def telemetry_def = {
	.name = "fake-telemetry",
	.id = AC_ACTOR_TELEMETRY,
	.handlers = telemetry_handlers,
};

static void setup(void)
{
	memset(&seen, 0, sizeof(seen));
	pthread_mutex_init(&seen.mu, NULL);
	pthread_cond_init(&seen.cv, NULL);
	publisher = telemetry = NULL;
	cr_assert_eq(ac_rt_alloc(&rt), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &telemetry_def, NULL, &telemetry), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &publisher_def, NULL, &publisher), AC_OK);
}

static void teardown(void)
{
	ac_actor_stop(publisher);
	ac_actor_stop(telemetry);
	ac_rt_free(rt);
	pthread_cond_destroy(&seen.cv);
	pthread_mutex_destroy(&seen.mu);
}

Test(publish, one_batch_of_events_leaves_as_one_message_in_order, .init = setup,
    .fini = teardown, .timeout = 60)
{
	ac_env env = { .type = AC_MSG_TEL_COUNT };
	struct timespec dl;
	nng_msg *m;

	cr_assert_eq(ac_msg_alloc(&m, &env, NULL, 0), AC_OK);
	cr_assert_eq(ac_rt_send(rt, AC_ACTOR_QUEUE, &m), AC_OK);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_S;
	pthread_mutex_lock(&seen.mu);
	while (seen.events < 3 && pthread_cond_timedwait(&seen.cv, &seen.mu, &dl) == 0) {
	}
	pthread_mutex_unlock(&seen.mu);
	cr_assert_eq(seen.events, 3);
	cr_assert_eq(seen.messages, 1, "three events took %u messages", seen.messages);
	cr_assert_str_eq(seen.order, "abc");
}
