/* SPDX-License-Identifier: MIT
 * The scheduler actor with an endpoint view (registry snapshots sent by the test) and
 * fake peers (support/sched_harness.h): which agent gets an ollama task, how much work
 * a freed slot or a recovered endpoint costs (routing.reevaluations), and what the
 * routing counters say. No sleeps: stats requests order after every earlier message.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sched_harness.h"

TestSuite(sched_routing, .init = sched_setup, .fini = sched_teardown, .timeout = 120);

#define MODEL "qwen2.5-coder:7b"
static const char *const MODELS[] = { MODEL, NULL };
static const char *const OLLAMA[] = { "ollama", NULL };

/* Restarts the scheduler with endpoint_slots slots and fallback_wait_ms wait_ms. */
static void restart(int64_t slots, int64_t wait_ms)
{
	ac_scheduler_stop(sched);
	cfg.endpoint_slots = slots;
	cfg.fallback_wait_ms = wait_ms;
	cr_assert_eq(ac_scheduler_start(rt, &cfg, &sched), AC_OK);
}

static void send_std(uint64_t id, const char *model)
{
	send_task((task_ev){ .id = id, .generation = 1, .enqueued_at_ms = (int64_t)id,
	    .tier = AC_TIER_STANDARD, .model = model });
}

/* n standard tasks first..first+n-1, one message. */
static void send_stds(uint64_t first, size_t n, const char *model)
{
	task_ev evs[64];

	cr_assert_leq(n, 64);
	for (size_t i = 0; i < n; i++) {
		evs[i] = (task_ev){ .id = first + i, .generation = 1, .enqueued_at_ms = (int64_t)(first + i),
			.tier = AC_TIER_STANDARD, .model = model };
	}
	send_tasks(evs, n);
}

/* An agent that runs ollama tasks takes one now (its fetch answered by a proposal). */
static assign_rec take_one(const char *agent, uint64_t corr)
{
	size_t before = assign_count(); /* before the fetch: its assignment may come at once */

	send_fetch((fetch){ .agent = agent, .corr_id = corr, .wait_ms = 10000, .targets = OLLAMA });
	return wait_assign(before + 1);
}

/* ---- a freed slot (DESIGN §5.5 cost: an event touches only what it can unblock) ---- */

/* With every slot taken, tasks wait endpoints_saturated. A release on the full
 * endpoint looks at one waiting task, lets exactly one go, and a release on an
 * endpoint with room looks at none: never a walk of all that wait. */
Test(sched_routing, a_freed_slot_reevaluates_one_waiting_task_not_all)
{
	static const endpoint_spec ep = { "10.0.0.1:11434", true, MODELS, -1 };
	uint64_t before;

	restart(2, 600000);
	send_snapshot(&ep, 1);
	send_std(1, NULL);
	send_std(2, NULL);
	cr_assert_str_eq(take_one("a1", 11).endpoint, ep.id);
	cr_assert_str_eq(take_one("a2", 12).endpoint, ep.id);
	send_stds(3, 50, NULL); /* the endpoint is full: all 50 wait */
	cr_assert_eq(routing_stat("waiting_for_endpoint", NULL), 50);
	before = routing_stat("reevaluations", NULL);

	send_task((task_ev){ .id = 1, .removed = true }); /* task 1 finished: 2 -> 1 in flight */
	cr_assert_eq(routing_stat("reevaluations", NULL) - before, 1,
	    "a slot freed on a full endpoint: one waiting task looked at, not all 50");
	cr_assert_eq(routing_stat("waiting_for_endpoint", NULL), 49, "exactly one task went");

	/* nobody took it: it holds the freed slot's place in the lane; the next release is
	 * on an endpoint with room and cannot let a waiting task go */
	send_task((task_ev){ .id = 2, .removed = true });
	cr_assert_eq(routing_stat("reevaluations", NULL) - before, 1,
	    "a release on an endpoint that was not full looked at waiting tasks");
	cr_assert_eq(routing_stat("waiting_for_endpoint", NULL), 49);
	/* the task that went is the oldest waiting one, and an agent gets it */
	cr_assert_eq(take_one("a3", 13).task_id, 3);
	expect_no_bad();
}

/* A recovered endpoint lets as many waiting tasks go as it has free slots, oldest
 * first, and looks only at the head of each group of alike tasks: a group whose head
 * cannot go (a model no endpoint has) is not walked. */
Test(sched_routing, a_recovered_endpoint_lets_go_as_many_tasks_as_it_has_slots)
{
	endpoint_spec ep = { "10.0.0.1:11434", false, MODELS, -1 };
	uint64_t before, looked;

	restart(4, 600000);
	send_snapshot(&ep, 1);
	send_stds(1, 20, NULL);
	send_stds(101, 10, "nope:1b");
	cr_assert_eq(routing_stat("waiting_for_endpoint", NULL), 30);
	before = routing_stat("reevaluations", NULL);

	ep.is_healthy = true;
	send_snapshot(&ep, 1);
	looked = routing_stat("reevaluations", NULL) - before;
	cr_assert_eq(routing_stat("waiting_for_endpoint", NULL), 26, "4 slots: 4 tasks go");
	cr_assert_leq(looked, 2 * 4, "%llu waiting tasks looked at: more than 2 group heads x 4 slots",
	    (unsigned long long)looked);
	for (uint64_t id = 1; id <= 4; id++) {
		char agent[16];
		snprintf(agent, sizeof(agent), "w%llu", (unsigned long long)id);
		cr_assert_eq(take_one(agent, 20 + id).task_id, id, "oldest first");
	}
	expect_no_bad();
}

/* ---- agent choice (DESIGN §5.5) ---- */

/* The endpoint is chosen by score; the agent next to it gets the task even though
 * another agent has waited longer; with nobody next to it, the longest-waiting one. */
Test(sched_routing, the_agent_next_to_the_best_endpoint_gets_the_ollama_task)
{
	static const endpoint_spec eps[] = {
		{ "10.0.0.1:11434", true, MODELS, 10 }, /* the better score */
		{ "10.0.0.2:11434", true, MODELS, 70 },
	};
	assign_rec a;

	send_snapshot(eps, 2);
	send_fetch((fetch){ .agent = "near-b", .corr_id = 31, .wait_ms = 10000, .targets = OLLAMA,
	    .endpoint = eps[1].id });
	send_fetch((fetch){ .agent = "near-a", .corr_id = 32, .wait_ms = 10000, .targets = OLLAMA,
	    .endpoint = eps[0].id });
	send_std(1, NULL);
	a = wait_assign(1);
	cr_assert_str_eq(a.endpoint, eps[0].id, "the best endpoint by score");
	cr_assert_str_eq(a.agent, "near-a", "the agent next to it, not the longest-waiting one");
	send_fetch((fetch){ .agent = "nowhere", .corr_id = 33, .wait_ms = 10000, .targets = OLLAMA });
	send_std(2, NULL);
	a = wait_assign(2);
	cr_assert_str_eq(a.endpoint, eps[0].id, "a has one in flight and still scores better");
	cr_assert_str_eq(a.agent, "near-b", "nobody next to a: the longest-waiting agent");
	expect_no_bad();
}

/* The router sees every usable endpoint, not only a first batch of them: with 1 100
 * healthy ones registered, the only one with the task's model is the last. (Its
 * scratch held 1 024 once, and the endpoints past it were never chosen.) Unhealthy
 * registrations do not count against it: they are not in the view at all. */
Test(sched_routing, the_router_sees_every_endpoint_however_many)
{
	enum { N = 1100 };
	static const char *const special[] = { "special:1b", NULL };
	static endpoint_spec eps[N + 500];
	static char ids[N + 500][32];
	assign_rec a;

	for (int i = 0; i < N + 500; i++) {
		snprintf(ids[i], sizeof(ids[i]), "10.1.%d.%d:11434", i / 256, i % 256);
		/* 500 dead registrations first, then N healthy ones */
		eps[i] = (endpoint_spec){ ids[i], i >= 500, i == N + 499 ? special : MODELS, -1 };
	}
	send_snapshot(eps, N + 500);
	send_fetch((fetch){ .agent = "a1", .corr_id = 41, .wait_ms = 10000, .targets = OLLAMA });
	send_std(1, "special:1b");
	a = wait_assign(1);
	cr_assert_str_eq(a.endpoint, ids[N + 499]);
	cr_assert_str_eq(a.model, "special:1b");
	cr_assert_eq(a.candidate_count, 1);
	expect_no_bad();
}

/* ---- routing counters: one per task decision ---- */

/* The queue refused a proposal (the task had moved on): that decision is no task's and
 * leaves routing.by_tier / by_target; the fetch then takes the next task, counted once. */
Test(sched_routing, a_refused_proposal_is_not_counted)
{
	task_ev evs[] = {
		{ .id = 1, .generation = 1, .priority = AC_PRIO_URGENT, .tier = AC_TIER_TRIVIAL },
		{ .id = 2, .generation = 1, .priority = AC_PRIO_NORMAL, .tier = AC_TIER_COMPLEX },
	};

	lock();
	pr.reject_left = 1;
	unlock();
	send_fetch((fetch){ .agent = "a1", .corr_id = 41, .wait_ms = 10000 });
	send_tasks(evs, 2);
	cr_assert_eq(wait_assign(1).task_id, 1);
	cr_assert_eq(wait_assign(2).task_id, 2, "after the refusal the fetch takes the next task");
	cr_assert_eq(routing_stat("by_tier", "trivial"), 0, "the refused decision is counted");
	cr_assert_eq(routing_stat("by_target", "sidecar"), 0);
	cr_assert_eq(routing_stat("by_tier", "complex"), 1);
	cr_assert_eq(routing_stat("by_target", "claude"), 1);
	expect_no_bad();
}

/* A task the queue gives back untaken (queued again at the generation proposed: its
 * agent was busy) keeps its decision: it does not wait or fall back again, and is not
 * counted again. Back at a new generation (reclaimed, failed) it is a new decision. */
Test(sched_routing, a_task_given_back_untaken_keeps_its_decision_and_its_count)
{
	task_ev back = { .id = 1, .generation = 1, .tier = AC_TIER_STANDARD };
	assign_rec a;

	restart(4, 0); /* no endpoint: a standard task falls back at once */
	send_fetch((fetch){ .agent = "a1", .corr_id = 51, .wait_ms = 10000 });
	send_task(back);
	a = wait_assign(1);
	cr_assert(a.fallback_used && strcmp(a.target, "claude") == 0);
	cr_assert_eq(routing_stat("fallbacks", NULL), 1);

	send_task(back); /* the queue gives it back: its agent already had a task */
	cr_assert_eq(routing_stat("waiting_for_endpoint", NULL), 0, "it waits for an endpoint again");
	send_fetch((fetch){ .agent = "a2", .corr_id = 52, .wait_ms = 10000 });
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 1);
	cr_assert(a.fallback_used, "the decision it had is kept");
	cr_assert_str_eq(a.from_tier, "standard");
	cr_assert_str_eq(a.fallback_reason, "no_healthy_ollama_endpoints");
	cr_assert_eq(routing_stat("fallbacks", NULL), 1, "it fell back twice");
	cr_assert_eq(routing_stat("by_tier", "complex"), 1, "it was counted twice");
	cr_assert_eq(routing_stat("by_target", "claude"), 1);

	send_task((task_ev){ .id = 1, .generation = 3, .tier = AC_TIER_TRIVIAL }); /* reclaimed */
	send_fetch((fetch){ .agent = "a3", .corr_id = 53, .wait_ms = 10000 });
	cr_assert_eq(wait_assign(3).task_id, 1);
	cr_assert_eq(routing_stat("by_tier", "trivial"), 1, "a new generation is a new decision");
	cr_assert_eq(routing_stat("by_tier", "complex"), 1);
	expect_no_bad();
}

/* DESIGN §5.5: once a task fell back (announced, counted), it goes to the first idle
 * agent of the tier above, even if its own tier's endpoint has come back since. */
Test(sched_routing, a_fallback_taken_stays_taken_after_the_endpoint_recovers)
{
	endpoint_spec ep = { "10.0.0.1:11434", false, MODELS, -1 };
	assign_rec a;

	restart(4, 0); /* no healthy endpoint: a standard task falls back at once */
	send_snapshot(&ep, 1);
	send_std(1, NULL);
	for (int i = 0; routing_stat("fallbacks", NULL) == 0; i++) { /* its timer, due at once */
		cr_assert_lt(i, 5000, "the fallback never fired");
		usleep(1000);
	}
	ep.is_healthy = true;
	send_snapshot(&ep, 1); /* back before any agent asked */
	send_fetch((fetch){ .agent = "any", .corr_id = 61, .wait_ms = 10000 });
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 1);
	cr_assert_str_eq(a.target, "claude", "the announced fallback was not the one applied");
	cr_assert(a.fallback_used);
	cr_assert_eq(routing_stat("by_target", "claude"), 1);
	cr_assert_eq(routing_stat("by_target", "ollama"), 0);
	expect_no_bad();
}
