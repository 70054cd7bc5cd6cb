/* SPDX-License-Identifier: MIT
 * System tests of reclaims (DESIGN §3 statuses, §4 liveness rules, §7 restart): accept
 * timeout, lease expiry and its extension, agent timeout, bye, the max_reclaims guard,
 * aborts, and assigned tasks across a restart. Ports original-tests.md §6 (agent FSM
 * 14-16) and §8 (failure paths 2-3), with agent loss as agent_timeout_ms or agent.bye.
 */
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "agent_server_fixture.h"
#include "test_server.h"

TestSuite(leases, .fini = teardown);

#define ULL(x) ((unsigned long long)(x))

/* After a reclaim: queued, one generation up, reclaim_count n, a "reclaimed" entry. */
static void expect_reclaimed(uint64_t id, uint64_t gen_before, uint64_t count)
{
	ac_reply *r;

	cr_assert(ac_ts_wait_status(cli, id, "queued", 5000), "task %llu was not reclaimed", ULL(id));
	r = ac_ts_get(cli, id);
	cr_assert_eq(ac_ts_u64(r, "task.generation"), gen_before + 1);
	cr_assert_eq(ac_ts_u64(r, "task.reclaim_count"), count);
	cr_assert(ac_ts_history_has(r, "reclaimed", NULL), "no reclaimed history entry");
	cr_assert(ac_reply_get(r, "task.assigned_to") == NULL ||
	        ac_reply_get(r, "task.assigned_to")->type == MSGPACK_OBJECT_NIL,
	    "a queued task still names its agent");
	ac_reply_free(r);
}

/* agent.heartbeat; whether id is in its abort list. */
static bool heartbeat_aborts(ac_client *c, const char *agent, uint64_t id)
{
	ac_reply *r = ac_ts_call(c, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"%s\"}", agent);
	const msgpack_object *a;
	bool found = false;

	cr_assert(ac_reply_ok(r), "heartbeat: %s", ac_reply_message(r));
	a = ac_reply_get(r, "abort");
	cr_assert(a != NULL && a->type == MSGPACK_OBJECT_ARRAY, "heartbeat without abort list");
	for (uint32_t i = 0; i < a->via.array.size; i++) {
		found |= a->via.array.ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    a->via.array.ptr[i].via.u64 == id;
	}
	ac_reply_free(r);
	return found;
}

/* ---- accept timeout ---- */

/* failure_paths_test 2, agent_fsm_test 16. */
Test(leases, accept_timeout_requeues_with_higher_generation, .timeout = 30)
{
	static const char *const args[] = { "--set", "accept_timeout_ms=300", NULL };
	ac_reply *r;
	uint64_t id, gen;
	bool abort_flag = false;

	boot(args);
	ac_ts_hello(cli, "slow", "");
	id = ac_ts_submit(cli, "\"description\":\"timeout test\"");
	cr_assert_eq(ac_ts_fetch(cli, "slow", 2000, false, &gen), id);
	expect_reclaimed(id, gen, 1);
	r = ac_ts_get(cli, id);
	cr_assert(ac_ts_history_has(r, "reclaimed", "accept_timeout"), "reclaim reason");
	ac_reply_free(r);
	cr_assert(ac_ts_wait_agent_state(cli, "slow", "idle", 3000));
	/* too late: the old generation is fenced off, and the agent is told to drop it */
	ac_ts_expect_err(ac_ts_fenced(cli, "task.accept", "slow", id, gen, ""), AC_ESTALE, NULL,
	    "accept after the reclaim");
	r = ac_ts_fenced(cli, "task.progress", "slow", id, gen, "");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_reply_bool(r, "abort", &abort_flag) && abort_flag, "progress of a reclaimed task");
	ac_reply_free(r);
	cr_assert(heartbeat_aborts(cli, "slow", id), "reclaimed task not in the heartbeat's abort");
	/* named once: the next heartbeat has nothing */
	cr_assert_not(heartbeat_aborts(cli, "slow", id));
}

Test(leases, accepted_task_is_not_reclaimed_by_the_accept_timeout, .timeout = 30)
{
	static const char *const args[] = { "--set", "accept_timeout_ms=300", NULL };
	uint64_t id, gen;
	long long until;

	boot(args);
	ac_ts_hello(cli, "quick", "");
	id = ac_ts_submit(cli, "\"description\":\"accepted in time\"");
	cr_assert_eq(ac_ts_fetch(cli, "quick", 2000, false, &gen), id);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.accept", "quick", id, gen, ""), "accept");
	until = ac_ts_now_ms() + 900;
	while (ac_ts_now_ms() < until) {
		ac_reply *r = ac_ts_get(cli, id);
		ac_ts_expect_str(r, "task.status", "working");
		ac_reply_free(r);
		usleep(50000);
	}
}

/* ---- lease ---- */

Test(leases, lease_expiry_reclaims_a_silent_working_task, .timeout = 30)
{
	static const char *const args[] = { "--set", "lease_ms=300", NULL };
	ac_reply *r;
	uint64_t id, gen;

	boot(args);
	ac_ts_hello(cli, "quiet", "");
	id = ac_ts_submit(cli, "\"description\":\"long job\"");
	cr_assert_eq(ac_ts_fetch(cli, "quiet", 2000, true, &gen), id);
	expect_reclaimed(id, gen, 1);
	r = ac_ts_get(cli, id);
	cr_assert(ac_ts_history_has(r, "reclaimed", "lease"), "reclaim reason");
	ac_reply_free(r);
	cr_assert(heartbeat_aborts(cli, "quiet", id));
}

/* A long task stays alive while its agent reports (DESIGN §12.6). */
Test(leases, progress_and_heartbeat_extend_the_lease, .timeout = 30)
{
	static const char *const args[] = { "--set", "lease_ms=500", NULL };
	uint64_t id, gen;
	long long t0;

	boot(args);
	ac_ts_hello(cli, "busy", "");
	id = ac_ts_submit(cli, "\"description\":\"long job\"");
	cr_assert_eq(ac_ts_fetch(cli, "busy", 2000, true, &gen), id);
	/* 1.5 s of progress, then 1.5 s of heartbeats: three leases each, never reclaimed */
	for (int phase = 0; phase < 2; phase++) {
		t0 = ac_ts_now_ms();
		while (ac_ts_now_ms() - t0 < 1500) {
			ac_reply *r;
			if (phase == 0) {
				bool abort_flag = true;
				r = ac_ts_fenced(cli, "task.progress", "busy", id, gen, ",\"message\":\"still here\"");
				cr_assert(ac_reply_bool(r, "abort", &abort_flag) && !abort_flag,
				    "abort while the agent reports progress");
				ac_reply_free(r);
			} else {
				cr_assert_not(heartbeat_aborts(cli, "busy", id), "abort while the agent heartbeats");
			}
			r = ac_ts_get(cli, id);
			ac_ts_expect_str(r, "task.status", "working");
			ac_reply_free(r);
			usleep(100000);
		}
	}
	/* silent now: reclaimed one lease later */
	expect_reclaimed(id, gen, 1);
}

/* ---- agent loss ---- */

/* failure_paths_test 3 and agent_fsm_test 14-15, the crash being agent_timeout_ms. */
Test(leases, silent_agent_goes_offline_and_its_task_is_reclaimed, .timeout = 30)
{
	static const char *const args[] = { "--set", "agent_timeout_ms=400", NULL };
	ac_reply *r;
	uint64_t id, gen;

	boot(args);
	ac_ts_hello(cli, "crashy", "");
	id = ac_ts_submit(cli, "\"description\":\"crash test\"");
	cr_assert_eq(ac_ts_fetch(cli, "crashy", 2000, true, &gen), id);
	expect_reclaimed(id, gen, 1);
	r = ac_ts_get(cli, id);
	cr_assert(ac_ts_history_has(r, "reclaimed", "offline"), "reclaim reason");
	ac_reply_free(r);
	cr_assert(ac_ts_wait_agent_state(cli, "crashy", "offline", 3000));
	/* offline: agent ops need a new hello; then the abort is waiting for it */
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.fetch\",\"agent_id\":\"crashy\",\"wait_ms\":0}"),
	    AC_ECONFLICT, "agent_id", "fetch while offline");
	ac_ts_hello(cli, "crashy", "");
	cr_assert(ac_ts_wait_agent_state(cli, "crashy", "idle", 3000));
	cr_assert(heartbeat_aborts(cli, "crashy", id), "the reclaimed task is not in abort");
}

Test(leases, heartbeats_keep_an_agent_online, .timeout = 30)
{
	static const char *const args[] = { "--set", "agent_timeout_ms=400", NULL };
	uint64_t id, gen;
	long long t0;

	boot(args);
	ac_ts_hello(cli, "alive", "");
	id = ac_ts_submit(cli, "\"description\":\"keep me\"");
	cr_assert_eq(ac_ts_fetch(cli, "alive", 2000, true, &gen), id);
	t0 = ac_ts_now_ms();
	while (ac_ts_now_ms() - t0 < 1500) {
		ac_reply *r;
		cr_assert_not(heartbeat_aborts(cli, "alive", id));
		r = ac_ts_get(cli, id);
		ac_ts_expect_str(r, "task.status", "working");
		ac_reply_free(r);
		usleep(100000);
	}
	cr_assert(ac_ts_wait_agent_state(cli, "alive", "working", 1000));
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "alive", id, gen, ""), "complete");
}

Test(leases, bye_reclaims_at_once, .timeout = 30)
{
	ac_reply *r;
	uint64_t id, gen;

	boot(NULL); /* default timeouts (60 s accept, 300 s lease): only bye can reclaim here */
	ac_ts_hello(cli, "leaver", "");
	id = ac_ts_submit(cli, "\"description\":\"dropped\"");
	cr_assert_eq(ac_ts_fetch(cli, "leaver", 2000, true, &gen), id);
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.bye\",\"agent_id\":\"leaver\"}"), "bye");
	expect_reclaimed(id, gen, 1);
	r = ac_ts_get(cli, id);
	cr_assert(ac_ts_history_has(r, "reclaimed", NULL));
	ac_reply_free(r);
	cr_assert(ac_ts_wait_agent_state(cli, "leaver", "offline", 3000));
	ac_ts_expect_err(ac_ts_fenced(cli, "task.complete", "leaver", id, gen, ""), AC_ESTALE, NULL,
	    "complete after bye");
}

Test(leases, bye_answers_a_held_fetch, .timeout = 30)
{
	ac_client *held = NULL;
	ac_ts_bg bg;
	ac_reply *r;

	boot(NULL);
	held = ac_ts_client(&srv);
	ac_ts_hello(cli, "leaver", "");
	ac_ts_bg_start(&bg, held, "{\"op\":\"agent.fetch\",\"agent_id\":\"leaver\",\"wait_ms\":8000}");
	cr_assert(ac_ts_wait_held_fetches(cli, 1, 5000));
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.bye\",\"agent_id\":\"leaver\"}"), "bye");
	r = ac_ts_bg_join(&bg);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_not(ac_ts_has_task(r));
	cr_assert_lt(bg.finished_ms - bg.started_ms, 6000, "the held fetch outlived the bye");
	ac_reply_free(r);
	/* a task submitted now is not given to the departed agent */
	uint64_t id = ac_ts_submit(cli, "\"description\":\"after bye\"");
	cr_assert(ac_ts_wait_status(cli, id, "queued", 100));
	ac_client_close(held);
}

/* ---- poison-task guard ---- */

Test(leases, reaching_max_reclaims_dead_letters_the_task, .timeout = 30)
{
	static const char *const args[] = { "--set", "accept_timeout_ms=200", "--set", "max_reclaims=2",
		NULL };
	ac_reply *r;
	uint64_t id, gen;

	boot(args);
	ac_ts_hello(cli, "flaky", "");
	id = ac_ts_submit(cli, "\"description\":\"poison\"");
	cr_assert_eq(ac_ts_fetch(cli, "flaky", 2000, false, &gen), id);
	expect_reclaimed(id, gen, 1);
	/* the only agent gets it again (avoided only when another is idle) */
	cr_assert_eq(ac_ts_fetch(cli, "flaky", 2000, false, &gen), id);
	cr_assert(ac_ts_wait_status(cli, id, "dead_letter", 5000));
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.last_error", "too_many_reclaims");
	cr_assert_eq(ac_ts_u64(r, "task.reclaim_count"), 2);
	ac_reply_free(r);
	cr_assert(heartbeat_aborts(cli, "flaky", id));
	/* an operator retry starts the counts again */
	r = ac_ts_call(cli, "{\"op\":\"task.retry\",\"id\":%llu}", ULL(id));
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	ac_ts_expect_str(r, "task.status", "queued");
	cr_assert_eq(ac_ts_u64(r, "task.reclaim_count"), 0);
	cr_assert_eq(ac_ts_u64(r, "task.retry_count"), 0);
	ac_reply_free(r);
	cr_assert_eq(ac_ts_fetch(cli, "flaky", 2000, true, &gen), id);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "flaky", id, gen, ""), "complete");
}

/* ---- agent choice after a reclaim ---- */

/* Polls task.get (10 ms) until the task reaches generation gen. */
static bool wait_generation(uint64_t id, uint64_t gen, int timeout_ms)
{
	long long deadline = ac_ts_now_ms() + timeout_ms;
	uint64_t have = 0;

	while (ac_ts_now_ms() < deadline) {
		ac_reply *r = ac_ts_get(cli, id);
		have = ac_ts_u64(r, "task.generation");
		ac_reply_free(r);
		if (have >= gen) {
			return true;
		}
		usleep(10000);
	}
	cr_log_warn("task %llu at generation %llu, not %llu", ULL(id), ULL(have), ULL(gen));
	return false;
}

/* While an agent holds a task it may not fetch another (one task at a time, DESIGN §3),
 * so a cannot be waiting when its task is reclaimed. The window for both agents to wait
 * is the requeued standard task's own wait for an Ollama endpoint (fallback_wait_ms,
 * DESIGN §5.5): only then is it placed, with a and b both idle and waiting. */
Test(leases, reclaimed_task_avoids_its_agent_when_another_is_idle, .timeout = 30)
{
	static const char *const args[] = { "--set", "accept_timeout_ms=400", "--set",
		"fallback_wait_ms=2000", NULL };
	ac_client *a_c, *b_c;
	ac_ts_bg a_f, b_f;
	ac_reply *r;
	uint64_t id, gen;

	boot(args);
	a_c = ac_ts_client(&srv);
	b_c = ac_ts_client(&srv);
	ac_ts_hello(a_c, "a", "");
	ac_ts_hello(b_c, "b", "");
	id = ac_ts_submit(cli, "\"description\":\"hot potato\"");
	cr_assert_eq(ac_ts_fetch(a_c, "a", 5000, false, &gen), id);
	/* a's assignment times out: queued again, waiting for its tier */
	cr_assert(wait_generation(id, gen + 1, 5000), "the task was not reclaimed");
	ac_ts_bg_start(&a_f, a_c, "{\"op\":\"agent.fetch\",\"agent_id\":\"a\",\"wait_ms\":8000}");
	ac_ts_bg_start(&b_f, b_c, "{\"op\":\"agent.fetch\",\"agent_id\":\"b\",\"wait_ms\":8000}");
	cr_assert(ac_ts_wait_held_fetches(cli, 2, 5000));
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "queued");
	ac_ts_expect_str(r, "task.pending_reason", "no_healthy_ollama_endpoints");
	cr_assert_eq(ac_ts_u64(r, "task.generation"), gen + 1,
	    "placed before both agents waited: the test missed its 2 s window");
	ac_reply_free(r);
	r = ac_ts_bg_join(&b_f);
	cr_assert(ac_ts_has_task(r), "the other idle agent got nothing");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	cr_assert_eq(ac_ts_u64(r, "task.generation"), gen + 2);
	ac_reply_free(r);
	/* release a's held fetch: it got nothing */
	cr_assert_eq(ac_ts_fetch(cli, "a", 0, false, NULL), 0);
	r = ac_ts_bg_join(&a_f);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_not(ac_ts_has_task(r), "the task went back to the agent that timed out");
	ac_reply_free(r);
	ac_client_close(a_c);
	ac_client_close(b_c);
}

/* A reclaim by timer must reach the scheduler by itself: an idle agent waits in a
 * long-poll and nothing else talks to the server (DESIGN §4 rules, §5.5). The agent
 * that let the task time out does not wait for it: while it holds a task it may not
 * fetch another (one task at a time, DESIGN §3). */
Test(leases, timed_out_task_is_offered_again_without_other_traffic, .timeout = 30)
{
	static const char *const args[] = { "--set", "accept_timeout_ms=300", NULL };
	ac_client *first_c, *held;
	ac_ts_bg bg;
	ac_reply *r;
	uint64_t id, gen;

	boot(args);
	first_c = ac_ts_client(&srv);
	held = ac_ts_client(&srv);
	ac_ts_hello(first_c, "first", "");
	ac_ts_hello(held, "waiter", "");
	id = ac_ts_submit(cli, "\"description\":\"offered again\"");
	cr_assert_eq(ac_ts_fetch(first_c, "first", 2000, false, &gen), id);
	ac_ts_bg_start(&bg, held, "{\"op\":\"agent.fetch\",\"agent_id\":\"waiter\",\"wait_ms\":5000}");
	r = ac_ts_bg_join(&bg);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_ts_has_task(r),
	    "no task within 5 s although it was reclaimed after 300 ms and 'waiter' was waiting");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	cr_assert_eq(ac_ts_u64(r, "task.generation"), gen + 2);
	ac_ts_expect_str(r, "task.assigned_to", "waiter");
	ac_reply_free(r);
	ac_client_close(first_c);
	ac_client_close(held);
}

/* ---- restart (DESIGN §7) ---- */

Test(leases, assigned_tasks_stay_assigned_across_a_restart, .timeout = 60)
{
	static const char *const again[] = { "--set", "accept_timeout_ms=10000", NULL };
	ac_reply *r;
	uint64_t t1, t2, g1, g2;

	boot(NULL);
	ac_ts_hello(cli, "a1", "");
	ac_ts_hello(cli, "a2", "");
	t1 = ac_ts_submit(cli, "\"description\":\"assigned before the restart\"");
	cr_assert_eq(ac_ts_fetch(cli, "a1", 2000, false, &g1), t1);
	t2 = ac_ts_submit(cli, "\"description\":\"working before the restart\"");
	cr_assert_eq(ac_ts_fetch(cli, "a2", 2000, true, &g2), t2);
	/* stop first: closing the agents' connection would reclaim their tasks at once */
	cr_assert_eq(ac_ts_stop(&srv), 0);
	ac_client_close(cli);
	cr_assert(ac_ts_restart(&srv, again));
	cli = ac_ts_client(&srv);
	r = ac_ts_get(cli, t1);
	ac_ts_expect_str(r, "task.status", "assigned");
	ac_ts_expect_str(r, "task.assigned_to", "a1");
	cr_assert_eq(ac_ts_u64(r, "task.generation"), g1);
	ac_reply_free(r);
	r = ac_ts_get(cli, t2);
	ac_ts_expect_str(r, "task.status", "working");
	ac_ts_expect_str(r, "task.assigned_to", "a2");
	ac_reply_free(r);
	/* the registry starts empty: agents say hello again */
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.fetch\",\"agent_id\":\"a1\",\"wait_ms\":0}"),
	    AC_ECONFLICT, "agent_id", "fetch before hello after a restart");
	r = ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"a1\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_eq(ac_reply_get(r, "tasks")->via.array.size, 1);
	cr_assert_eq(ac_ts_u64(r, "tasks[0].id"), t1);
	cr_assert_eq(ac_ts_u64(r, "tasks[0].generation"), g1);
	ac_ts_expect_str(r, "tasks[0].status", "assigned");
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"a2\"}");
	cr_assert_eq(ac_reply_get(r, "tasks")->via.array.size, 1);
	cr_assert_eq(ac_ts_u64(r, "tasks[0].id"), t2);
	ac_ts_expect_str(r, "tasks[0].status", "working");
	ac_reply_free(r);
	/* and carry on with the generations they had */
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.accept", "a1", t1, g1, ""), "accept after restart");
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "a1", t1, g1, ""), "complete after restart");
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "a2", t2, g2, ",\"tokens_used\":3"),
	    "complete after restart");
	cr_assert(ac_ts_wait_status(cli, t1, "completed", 100));
	cr_assert(ac_ts_wait_status(cli, t2, "completed", 100));
}

/* The agent's state and current task are back once it says hello (DESIGN §3 agent). */
Test(leases, hello_after_a_restart_restores_the_agent_state, .timeout = 60)
{
	ac_reply *r;
	uint64_t id, gen;
	bool ok;

	boot(NULL);
	ac_ts_hello(cli, "a1", "");
	id = ac_ts_submit(cli, "\"description\":\"working before the restart\"");
	cr_assert_eq(ac_ts_fetch(cli, "a1", 2000, true, &gen), id);
	/* stop first: closing the agents' connection would reclaim their tasks at once */
	cr_assert_eq(ac_ts_stop(&srv), 0);
	ac_client_close(cli);
	cr_assert(ac_ts_restart(&srv, NULL));
	cli = ac_ts_client(&srv);
	ac_ts_hello(cli, "a1", "");
	ok = ac_ts_wait_agent_state(cli, "a1", "working", 2000);
	r = ac_ts_call(cli, "{\"op\":\"agent.list\"}");
	cr_assert(ok, "agent a1 with a working task is not listed as working after hello");
	cr_assert_eq(ac_ts_u64(r, "agents[0].current_task"), id);
	ac_reply_free(r);
}

Test(leases, tasks_of_agents_silent_after_a_restart_are_reclaimed, .timeout = 60)
{
	static const char *const again[] = { "--set", "accept_timeout_ms=1500", NULL };
	ac_reply *r;
	uint64_t t1, t2, g1, g2;

	boot(NULL);
	ac_ts_hello(cli, "back", "");
	ac_ts_hello(cli, "gone", "");
	t1 = ac_ts_submit(cli, "\"description\":\"its agent comes back\"");
	cr_assert_eq(ac_ts_fetch(cli, "back", 2000, false, &g1), t1);
	t2 = ac_ts_submit(cli, "\"description\":\"its agent never returns\"");
	cr_assert_eq(ac_ts_fetch(cli, "gone", 2000, true, &g2), t2);
	/* stop first: closing the agents' connection would reclaim their tasks at once */
	cr_assert_eq(ac_ts_stop(&srv), 0);
	ac_client_close(cli);
	cr_assert(ac_ts_restart(&srv, again));
	cli = ac_ts_client(&srv);
	ac_ts_hello(cli, "back", "");
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.accept", "back", t1, g1, ""), "accept after restart");
	expect_reclaimed(t2, g2, 1);
	r = ac_ts_get(cli, t1);
	ac_ts_expect_str(r, "task.status", "working");
	cr_assert_eq(ac_ts_u64(r, "task.generation"), g1);
	ac_reply_free(r);
	/* the returning agent is told nothing to abort, the silent one's task is free again */
	cr_assert_not(heartbeat_aborts(cli, "back", t1));
	ac_ts_hello(cli, "other", "");
	cr_assert_eq(ac_ts_fetch(cli, "other", 2000, false, NULL), t2);
}
