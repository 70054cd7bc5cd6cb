/* SPDX-License-Identifier: MIT
 * libagentcom's subscriber (agentcom/sub.h) against a PUB socket of the test's own:
 * events are `topic NUL map` with ts_ms and seq, anything else is skipped and counted,
 * seq gaps count as missed only when every topic is subscribed.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "agentcom/sub.h"
#include "codec/mpw.h"

static nng_socket pub;
static atomic_int pub_pipes; /* connections the publisher has taken in (it sends on them) */
static char url[64];
static ac_sub *opened; /* the test's subscriber, closed after the publisher */

static void on_pub_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)ev;
	(void)arg;
	atomic_fetch_add(&pub_pipes, 1);
}

static void setup(void)
{
	static int n;

	snprintf(url, sizeof(url), "inproc://sub-test-%d-%ld", n++, (long)time(NULL));
	atomic_store(&pub_pipes, 0);
	cr_assert_eq(nng_pub0_open(&pub), 0);
	cr_assert_eq(nng_pipe_notify(pub, NNG_PIPE_EV_ADD_POST, on_pub_pipe, NULL), 0);
	cr_assert_eq(nng_listen(pub, url, NULL, 0), 0);
}

/* The publisher first, and its connection gone: nng 1.5.2 now and then never returns
 * from closing a SUB socket whose publisher is still up (agentcom/sub.h). */
static void teardown(void)
{
	nng_close(pub);
	for (int i = 0; i < 5000 && opened != NULL && ac_sub_is_connected(opened); i++) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	ac_sub_close(opened);
	opened = NULL;
}

TestSuite(sub, .init = setup, .fini = teardown, .timeout = 30);

/* Publishes topic NUL {ts_ms, seq, n} (with_seq false: without seq). */
static void publish(const char *topic, uint64_t seq, bool with_seq)
{
	ac_mpw w;
	nng_msg *m;

	ac_mpw_init(&w);
	ac_mpw_raw(&w, topic, strlen(topic) + 1);
	ac_mpw_map(&w, with_seq ? 3 : 2);
	ac_mpw_key(&w, "ts_ms");
	ac_mpw_i64(&w, 1700000000000);
	if (with_seq) {
		ac_mpw_key(&w, "seq");
		ac_mpw_u64(&w, seq);
	}
	ac_mpw_key(&w, "n");
	ac_mpw_u64(&w, seq * 10);
	cr_assert_eq(nng_msg_alloc(&m, 0), 0);
	cr_assert_eq(nng_msg_append(m, ac_mpw_data(&w), ac_mpw_len(&w)), 0);
	cr_assert_eq(nng_sendmsg(pub, m, 0), 0);
	ac_mpw_fini(&w);
}

static ac_sub *open_connected(const char *const *prefixes)
{
	ac_sub *s = NULL;

	cr_assert_eq(ac_sub_open(&s, url, prefixes), AC_OK);
	/* both ends: the subscriber sees its connection before the publisher sends on it */
	for (int i = 0; i < 5000 && (!ac_sub_is_connected(s) || atomic_load(&pub_pipes) == 0); i++) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	cr_assert(ac_sub_is_connected(s));
	opened = s;
	return s;
}

Test(sub, events_arrive_and_malformed_frames_are_skipped)
{
	ac_sub *s = open_connected(NULL);
	ac_event ev;

	publish("task.submitted", 1, true);
	publish("task.broken", 2, false); /* no seq: not an event */
	publish("task.completed", 4, true); /* 2 and 3 never came */
	cr_assert_eq(ac_sub_recv(s, 5000, &ev), AC_OK);
	cr_assert_str_eq(ev.topic, "task.submitted");
	cr_assert_eq(ev.seq, 1);
	cr_assert_eq(ev.ts_ms, 1700000000000);
	cr_assert_gt(ev.len, 0);
	cr_assert_eq(ac_sub_recv(s, 5000, &ev), AC_OK);
	cr_assert_str_eq(ev.topic, "task.completed");
	cr_assert_eq(ev.seq, 4);
	cr_assert_eq(ac_sub_bad_frames(s), 1);
	cr_assert_eq(ac_sub_missed(s), 2);
	cr_assert_eq(ac_sub_recv(s, 50, &ev), AC_ETIMEDOUT);
}

Test(sub, a_prefix_filters_and_its_gaps_are_not_losses)
{
	static const char *const prefixes[] = { "agent.", NULL };
	ac_sub *s = open_connected(prefixes);
	ac_event ev;

	publish("agent.joined", 1, true);
	publish("task.submitted", 2, true);
	publish("agent.left", 3, true);
	cr_assert_eq(ac_sub_recv(s, 5000, &ev), AC_OK);
	cr_assert_str_eq(ev.topic, "agent.joined");
	cr_assert_eq(ac_sub_recv(s, 5000, &ev), AC_OK);
	cr_assert_str_eq(ev.topic, "agent.left");
	cr_assert_eq(ac_sub_missed(s), 0);
}

Test(sub, a_malformed_url_is_refused)
{
	ac_sub *s = NULL;

	cr_assert_eq(ac_sub_open(&s, "nosuch://x", NULL), AC_EADDRINVAL);
	cr_assert_null(s);
}
