/* SPDX-License-Identifier: MIT
 * The scheduler actor alone (src/scheduler/scheduler.c) with fake queue, gateway and
 * telemetry actors over inproc (support/sched_harness.h): task events and fetches in,
 * AC_MSG_ASSIGN proposals and fetch replies out. Absence is checked with barriers on
 * the same channel, never with sleeps. Over 500 lines: one Test per behaviour.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "rt/clock.h"
#include "sched_harness.h"

TestSuite(scheduler, .init = sched_setup, .fini = sched_teardown, .timeout = 120);

static const char *const GIT[] = { "git", NULL };
static const char *const GPU[] = { "gpu", NULL };
static const char *const GIT_PY[] = { "py", "git", NULL };

/* ---- fetches without tasks ---- */

Test(scheduler, fetch_with_no_task_and_wait_0_is_answered_ok_without_task)
{
	reply_rec r;

	send_fetch((fetch){ .agent = "a1", .corr_id = 11, .wait_ms = 0 });
	r = wait_reply(11);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	cr_assert_str_empty(r.code);
	cr_assert_eq(assign_count(), 0);
	expect_no_bad();
}

Test(scheduler, held_fetch_expires_after_wait_ms_with_ok_and_no_task)
{
	int64_t start = ac_clock_mono_ms();
	reply_rec r;

	send_fetch((fetch){ .agent = "a1", .corr_id = 12, .wait_ms = 50 });
	r = wait_reply(12);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	cr_assert_geq(r.at_mono_ms - start, 50, "answered after %lld ms",
	    (long long)(r.at_mono_ms - start));
	/* the expired fetch is gone: a task now finds nobody */
	send_task((task_ev){ .id = 1, .tier = AC_TIER_COMPLEX });
	barrier_queue();
	cr_assert_eq(real_assigns(), 0);
	expect_no_bad();
}

/* ---- assignment ---- */

Test(scheduler, fetch_then_task_event_proposes_one_assignment_with_the_fetch_envelope)
{
	assign_rec a;

	send_fetch((fetch){ .agent = "agent-7", .corr_id = 21, .pipe_id = 5, .wait_ms = 10000 });
	barrier_gateway(); /* the fetch is held */
	send_task((task_ev){ .id = 7, .generation = 3, .priority = AC_PRIO_NORMAL,
	    .enqueued_at_ms = 100, .tier = AC_TIER_COMPLEX });
	a = wait_assign(1);
	cr_assert_eq(a.corr_id, 21, "the ASSIGN carries the fetch's reply handle");
	cr_assert_eq(a.pipe_id, 5);
	cr_assert_eq(a.task_id, 7);
	cr_assert_eq(a.generation, 3);
	cr_assert_str_eq(a.agent, "agent-7", "the fetch body travels with the proposal");
	cr_assert(a.decision_ok, "the decision has every field of DESIGN 5.4");
	cr_assert_str_eq(a.tier, "complex");
	cr_assert_str_eq(a.target, "claude");
	cr_assert(a.endpoint_set);
	cr_assert_str_eq(a.endpoint, "claude_api");
	cr_assert_str_eq(a.model, "claude");
	cr_assert_str_eq(a.cost, "api");
	cr_assert_not(a.fallback_used);
	cr_assert_eq(a.candidate_count, 0);
	cr_assert_str_eq(a.reason, "inferred:complex (confidence 0.90, word_count=4, files=0)");
	/* exactly one proposal, and the scheduler did not answer the fetch itself */
	barrier_queue();
	cr_assert_eq(real_assigns(), 1);
	barrier_gateway();
	cr_assert_not(replied(21));
	expect_no_bad();
}

Test(scheduler, task_then_fetch_is_assigned_at_once)
{
	assign_rec a;

	send_task((task_ev){ .id = 8, .generation = 1, .tier = AC_TIER_TRIVIAL });
	send_fetch((fetch){ .agent = "a1", .corr_id = 22, .wait_ms = 0 });
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 8);
	cr_assert_eq(a.corr_id, 22);
	barrier_gateway();
	cr_assert_not(replied(22), "a fetch that got a task is answered by the queue");
	expect_no_bad();
}

Test(scheduler, decision_target_follows_the_tier)
{
	assign_rec a;

	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	send_fetch((fetch){ .agent = "a1", .corr_id = 31 });
	a = wait_assign(1);
	cr_assert(a.decision_ok);
	cr_assert_str_eq(a.tier, "trivial");
	cr_assert_str_eq(a.target, "sidecar");
	cr_assert_not(a.endpoint_set, "sidecar has no endpoint");
	cr_assert_not(a.model_set, "sidecar has no model");
	cr_assert_str_eq(a.cost, "free");
	cr_assert_eq(a.candidate_count, 0);

	send_task((task_ev){ .id = 2, .tier = AC_TIER_COMPLEX, .model = "ignored" });
	send_fetch((fetch){ .agent = "a1", .corr_id = 32 });
	a = wait_assign(2);
	cr_assert_str_eq(a.tier, "complex");
	cr_assert_str_eq(a.target, "claude");
	cr_assert_str_eq(a.endpoint, "claude_api");
	cr_assert_str_eq(a.model, "claude");
	cr_assert_str_eq(a.cost, "api");
	cr_assert_eq(a.candidate_count, 0);
	expect_no_bad();
}

/* DESIGN 5.5: a standard task with no endpoint is not handed to an agent; after
 * fallback_wait_ms it goes one tier up, to claude, and says so. */
Test(scheduler, standard_task_without_endpoint_waits_then_falls_back_to_claude)
{
	int64_t start;
	assign_rec a;

	ac_scheduler_stop(sched);
	cfg.fallback_wait_ms = 300;
	cr_assert_eq(ac_scheduler_start(rt, &cfg, &sched), AC_OK);
	start = ac_clock_wall_ms();
	send_fetch((fetch){ .agent = "a1", .corr_id = 36, .wait_ms = 10000 });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_STANDARD });
	a = wait_assign(1);
	cr_assert_geq(a.at_wall_ms - start, 300 - 1, "assigned after %lld ms",
	    (long long)(a.at_wall_ms - start));
	cr_assert(a.decision_ok);
	cr_assert_str_eq(a.tier, "complex");
	cr_assert_str_eq(a.target, "claude");
	cr_assert(a.fallback_used);
	cr_assert_str_eq(a.from_tier, "standard");
	cr_assert_str_eq(a.fallback_reason, "no_healthy_ollama_endpoints");
	cr_assert_eq(a.corr_id, 36);
	expect_no_bad();
}

Test(scheduler, tasks_are_proposed_by_priority_then_fifo)
{
	task_ev evs[] = {
		{ .id = 1, .priority = AC_PRIO_LOW, .enqueued_at_ms = 10, .tier = AC_TIER_TRIVIAL },
		{ .id = 2, .priority = AC_PRIO_URGENT, .enqueued_at_ms = 50, .tier = AC_TIER_COMPLEX },
		{ .id = 3, .priority = AC_PRIO_NORMAL, .enqueued_at_ms = 20, .tier = AC_TIER_COMPLEX,
		  .caps = GIT },
		{ .id = 4, .priority = AC_PRIO_HIGH, .enqueued_at_ms = 90, .tier = AC_TIER_TRIVIAL },
		{ .id = 5, .priority = AC_PRIO_URGENT, .enqueued_at_ms = 40, .tier = AC_TIER_COMPLEX },
		{ .id = 6, .priority = AC_PRIO_NORMAL, .enqueued_at_ms = 20, .tier = AC_TIER_TRIVIAL },
	};
	uint64_t want[] = { 5, 2, 4, 3, 6, 1 };
	char agent[16];

	send_tasks(evs, 6);
	for (size_t i = 0; i < 6; i++) {
		snprintf(agent, sizeof(agent), "agent-%zu", i);
		send_fetch((fetch){ .agent = agent, .corr_id = 40 + i, .caps = GIT_PY });
	}
	wait_assign(6);
	lock();
	for (size_t i = 0; i < 6; i++) {
		cr_assert_eq(pr.assigns[i].task_id, want[i], "position %zu: task %llu, want %llu", i,
		    (unsigned long long)pr.assigns[i].task_id, (unsigned long long)want[i]);
		cr_assert_eq(pr.assigns[i].corr_id, 40 + i);
	}
	unlock();
	/* no task left: the next fetch is answered without one */
	send_fetch((fetch){ .agent = "agent-x", .corr_id = 49 });
	cr_assert(wait_reply(49).ok);
	cr_assert_not(wait_reply(49).has_task);
	expect_no_bad();
}

Test(scheduler, capability_or_target_mismatch_gets_no_assignment)
{
	static const char *const sidecar_only[] = { "sidecar", NULL };
	assign_rec a;

	send_fetch((fetch){ .agent = "py-agent", .corr_id = 51, .wait_ms = 10000, .caps = GIT_PY });
	send_fetch((fetch){ .agent = "small", .corr_id = 52, .wait_ms = 10000,
	    .targets = sidecar_only, .caps = GPU });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL, .caps = GPU, .priority = AC_PRIO_LOW });
	send_task((task_ev){ .id = 2, .tier = AC_TIER_COMPLEX, .caps = GPU });
	barrier_queue();
	cr_assert_eq(real_assigns(), 1);
	lock();
	a = pr.assigns[0];
	unlock();
	cr_assert_eq(a.task_id, 1, "the gpu sidecar task fits the small agent only");
	cr_assert_str_eq(a.agent, "small");
	/* task 2 needs gpu and claude: nobody held can take it, a fitting fetch can */
	send_fetch((fetch){ .agent = "gpu-agent", .corr_id = 53, .caps = GPU });
	a = wait_assign(3);
	cr_assert_eq(a.task_id, 2);
	cr_assert_eq(a.corr_id, 53);
	expect_no_bad();
}

Test(scheduler, newer_fetch_from_the_same_agent_answers_the_older)
{
	reply_rec r;
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 61, .wait_ms = 10000 });
	send_fetch((fetch){ .agent = "a1", .corr_id = 62, .wait_ms = 10000 });
	r = wait_reply(61);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	send_task((task_ev){ .id = 1, .tier = AC_TIER_COMPLEX });
	a = wait_assign(1);
	cr_assert_eq(a.corr_id, 62);
	barrier_queue();
	cr_assert_eq(real_assigns(), 1);
	barrier_gateway();
	cr_assert_not(replied(62));
	expect_no_bad();
}

Test(scheduler, assign_rejected_re_holds_the_fetch_and_it_gets_the_next_task)
{
	task_ev evs[] = {
		{ .id = 1, .priority = AC_PRIO_URGENT, .tier = AC_TIER_TRIVIAL },
		{ .id = 2, .priority = AC_PRIO_NORMAL, .tier = AC_TIER_TRIVIAL },
	};
	assign_rec a;

	lock();
	pr.reject_left = 1;
	unlock();
	send_fetch((fetch){ .agent = "a1", .corr_id = 71, .pipe_id = 4, .wait_ms = 10000 });
	send_tasks(evs, 2);
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 1);
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 2, "after the refusal the fetch takes the next task");
	cr_assert_eq(a.corr_id, 71);
	cr_assert_eq(a.pipe_id, 4);
	cr_assert_str_eq(a.agent, "a1");
	barrier_gateway();
	cr_assert_not(replied(71));
	expect_no_bad();
}

Test(scheduler, assign_rejected_with_no_task_left_waits_again)
{
	assign_rec a;

	lock();
	pr.reject_left = 1;
	unlock();
	send_fetch((fetch){ .agent = "a1", .corr_id = 72, .wait_ms = 10000 });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	wait_assign(1);
	barrier_gateway();
	cr_assert_not(replied(72), "the refused fetch is held again, not answered");
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL });
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 2);
	cr_assert_eq(a.corr_id, 72);
	expect_no_bad();
}

Test(scheduler, agent_gone_drops_its_held_fetch)
{
	reply_rec r;
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 81, .wait_ms = 10000 });
	send_agent_gone("a1");
	r = wait_reply(81);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	send_agent_gone("nobody"); /* harmless */
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	barrier_queue();
	cr_assert_eq(real_assigns(), 0, "the gone agent's fetch was still held");
	send_fetch((fetch){ .agent = "a2", .corr_id = 82 });
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 1);
	cr_assert_str_eq(a.agent, "a2");
	expect_no_bad();
}

/* The answer is read by nobody, but it frees the gateway worker holding the request. */
Test(scheduler, pipe_closed_answers_and_drops_fetches_on_that_pipe)
{
	reply_rec r;
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 83, .pipe_id = 9, .wait_ms = 10000 });
	send_fetch((fetch){ .agent = "a2", .corr_id = 84, .pipe_id = 10, .wait_ms = 10000 });
	send_to_sched(AC_MSG_PIPE_CLOSED, 0, 9, NULL);
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	a = wait_assign(1);
	cr_assert_str_eq(a.agent, "a2");
	cr_assert_eq(a.corr_id, 84);
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL });
	barrier_queue();
	cr_assert_eq(real_assigns(), 1);
	r = wait_reply(83);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	cr_assert_not(replied(84));
	expect_no_bad();
}

Test(scheduler, removed_task_event_drops_the_pending_task)
{
	task_ev evs[] = {
		{ .id = 1, .priority = AC_PRIO_URGENT, .tier = AC_TIER_TRIVIAL },
		{ .id = 2, .priority = AC_PRIO_LOW, .tier = AC_TIER_TRIVIAL },
		{ .id = 3, .priority = AC_PRIO_HIGH, .tier = AC_TIER_TRIVIAL },
	};
	assign_rec a;

	send_tasks(evs, 3);
	send_tasks((task_ev[]){ { .id = 1, .removed = true }, { .id = 3, .removed = true },
	    { .id = 77, .removed = true } }, 3);
	send_fetch((fetch){ .agent = "a1", .corr_id = 91 });
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 2);
	send_fetch((fetch){ .agent = "a2", .corr_id = 92 });
	cr_assert(wait_reply(92).ok);
	cr_assert_not(wait_reply(92).has_task);
	cr_assert_eq(real_assigns(), 1);
	expect_no_bad();
}

Test(scheduler, task_event_replaces_the_pending_task_with_the_same_id)
{
	assign_rec a;

	send_task((task_ev){ .id = 1, .generation = 1, .tier = AC_TIER_TRIVIAL, .caps = GPU });
	send_task((task_ev){ .id = 1, .generation = 2, .tier = AC_TIER_COMPLEX });
	send_fetch((fetch){ .agent = "a1", .corr_id = 93 });
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 1);
	cr_assert_eq(a.generation, 2);
	cr_assert_str_eq(a.target, "claude");
	send_fetch((fetch){ .agent = "a2", .corr_id = 94, .caps = GPU });
	cr_assert_not(wait_reply(94).has_task, "the replaced version is gone");
	expect_no_bad();
}

Test(scheduler, avoided_agent_is_passed_over_for_another_waiting_one)
{
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 95, .wait_ms = 10000 });
	send_fetch((fetch){ .agent = "a2", .corr_id = 96, .wait_ms = 10000 });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL, .avoid = "a1" });
	a = wait_assign(1);
	cr_assert_str_eq(a.agent, "a2");
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL, .avoid = "a1" });
	a = wait_assign(2);
	cr_assert_str_eq(a.agent, "a1", "the avoided agent takes it when it is the only one");
	expect_no_bad();
}

Test(scheduler, delayed_task_is_not_assigned_before_its_time)
{
	int64_t not_before = ac_clock_wall_ms() + 400;
	task_ev evs[] = {
		{ .id = 1, .priority = AC_PRIO_URGENT, .not_before_ms = not_before,
		  .tier = AC_TIER_TRIVIAL },
		{ .id = 2, .priority = AC_PRIO_LOW, .tier = AC_TIER_TRIVIAL },
	};
	assign_rec a;

	send_tasks(evs, 2);
	send_fetch((fetch){ .agent = "a1", .corr_id = 101 });
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 2, "the urgent task is not eligible yet");
	send_fetch((fetch){ .agent = "a2", .corr_id = 102, .wait_ms = 10000 });
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 1);
	cr_assert_eq(a.corr_id, 102);
	/* ms clocks: the timer may fire within the millisecond before not_before_ms */
	cr_assert_geq(a.at_wall_ms, not_before - 1, "assigned %lld ms early",
	    (long long)(not_before - a.at_wall_ms));
	expect_no_bad();
}

Test(scheduler, delayed_task_replaced_before_its_time_keeps_only_the_new_timer)
{
	int64_t now = ac_clock_wall_ms();
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 103, .wait_ms = 10000 });
	send_task((task_ev){ .id = 1, .generation = 1, .not_before_ms = now + 100,
	    .tier = AC_TIER_TRIVIAL });
	send_task((task_ev){ .id = 1, .generation = 2, .not_before_ms = now + 300,
	    .tier = AC_TIER_TRIVIAL });
	a = wait_assign(1);
	cr_assert_eq(a.generation, 2);
	cr_assert_geq(a.at_wall_ms, now + 300 - 1, "the first timer released the new version");
	expect_no_bad();
}

/* The fetch's wait_ms bounds the whole long-poll (DESIGN 4: "no task after wait_ms"):
 * a proposal refused late must not start a fresh wait_ms. */
Test(scheduler, refused_fetch_keeps_its_original_deadline)
{
	int64_t start = ac_clock_mono_ms();
	reply_rec r;

	lock();
	pr.reject_left = 1;
	unlock();
	send_fetch((fetch){ .agent = "a1", .corr_id = 131, .wait_ms = 600 });
	/* released by the scheduler's own timer at ~400 ms, proposed, refused */
	send_task((task_ev){ .id = 1, .not_before_ms = ac_clock_wall_ms() + 400,
	    .tier = AC_TIER_TRIVIAL });
	r = wait_reply(131);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	cr_assert_eq(assign_count(), 1, "the refused proposal");
	cr_assert_leq(r.at_mono_ms - start, 600 + 250,
	    "a fetch with wait_ms 600 was answered after %lld ms",
	    (long long)(r.at_mono_ms - start));
	expect_no_bad();
}

/* One held fetch per agent, the newer wins (DESIGN 4): a refused proposal made for an
 * older fetch must not displace the agent's newer one. */
Test(scheduler, refused_older_fetch_does_not_displace_a_newer_one)
{
	ac_env env;
	nng_msg *m;
	reply_rec r;
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 141, .wait_ms = 10000 });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	wait_assign(1); /* proposed for fetch 141; the fake queue keeps it */
	send_fetch((fetch){ .agent = "a1", .corr_id = 142, .wait_ms = 10000 }); /* newer */
	barrier_gateway();
	lock();
	env = pr.last_env;
	env.type = AC_MSG_ASSIGN_REJECTED;
	cr_assert_eq(ac_msg_alloc(&m, &env, pr.last_body, pr.last_len), AC_OK);
	unlock();
	cr_assert_eq(env.corr_id, 141);
	cr_assert_eq(ac_rt_send(rt, AC_ACTOR_SCHEDULER, &m), AC_OK); /* the queue refuses */
	barrier_gateway(); /* whatever the refusal answers has arrived */
	cr_assert_not(replied(142), "the agent's newer fetch was answered without a task");
	cr_assert(replied(141), "the refused, older fetch is answered");
	r = wait_reply(141);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL });
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 2);
	cr_assert_eq(a.corr_id, 142);
	expect_no_bad();
}

/* The longest-waiting capable agent gets a new task (scheduler_state.h), whatever
 * profile its capabilities put it in. */
Test(scheduler, longest_waiting_agent_gets_the_task_across_profiles)
{
	static const char *const x[] = { "x", NULL };
	static const char *const xy[] = { "x", "y", NULL };
	assign_rec a;

	send_fetch((fetch){ .agent = "a", .corr_id = 151, .wait_ms = 10000, .caps = x });
	send_fetch((fetch){ .agent = "b", .corr_id = 152, .wait_ms = 10000, .caps = xy });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL, .caps = x });
	a = wait_assign(1);
	cr_assert_str_eq(a.agent, "a");
	send_fetch((fetch){ .agent = "a", .corr_id = 153, .wait_ms = 10000, .caps = x });
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL, .caps = x });
	a = wait_assign(2);
	cr_assert_str_eq(a.agent, "b", "b waited since before a's second fetch, %s got task 2",
	    a.agent);
	expect_no_bad();
}

Test(scheduler, each_match_is_published)
{
	uint64_t want = 2;

	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL });
	send_fetch((fetch){ .agent = "a1", .corr_id = 111 });
	send_fetch((fetch){ .agent = "a2", .corr_id = 112 });
	wait_assign(2);
	cr_assert(wait_until(matches_at_least, &want, WAIT_MS), "%llu scheduler.match events",
	    (unsigned long long)pr.matches);
	unlock();
	expect_no_bad();
}

Test(scheduler, stop_answers_held_fetches_unavailable)
{
	reply_rec r;

	send_fetch((fetch){ .agent = "a1", .corr_id = 121, .wait_ms = 10000 });
	barrier_gateway(); /* held */
	ac_scheduler_stop(sched);
	sched = NULL;
	cr_assert(wait_until(has_reply, &(uint64_t){ 121 }, 5000), "no reply at stop");
	unlock();
	r = wait_reply(121);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.code, "unavailable");
	expect_no_bad();
}

/* Every held fetch is answered at stop, however many there are (scheduler.h): the
 * replies sent from the stop callback must survive the actor closing its sockets. */
Test(scheduler, stop_answers_every_held_fetch_unavailable)
{
	enum { N = 2000 };
	uint64_t want = N;
	char agent[32];

	for (uint64_t i = 0; i < N; i++) {
		snprintf(agent, sizeof(agent), "agent-%llu", (unsigned long long)i);
		send_fetch((fetch){ .agent = agent, .corr_id = 1000 + i, .wait_ms = 20000 });
	}
	barrier_gateway(); /* all held */
	ac_scheduler_stop(sched);
	sched = NULL;
	cr_assert(wait_until(unavailable_at_least, &want, 5000),
	    "%llu of %d held fetches were answered at stop", (unsigned long long)pr.unavailable, N);
	unlock();
	expect_no_bad();
}
