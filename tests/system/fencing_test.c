/* SPDX-License-Identifier: MIT
 * System tests of the fenced task ops (DESIGN §3 statuses, §4 rules): the full lifecycle,
 * fencing by agent and generation, conflicts, idempotent complete/fail, complete with
 * fetch_wait_ms, cancel and abort. Ports original-tests.md §6 (agent FSM 6-12) and §9-§10
 * (lifecycle, end to end).
 */
#include <string.h>

#include <criterion/criterion.h>

#include "agent_server_fixture.h"
#include "test_server.h"

TestSuite(fencing, .fini = teardown);

#define ULL(x) ((unsigned long long)(x))

static void task_is(uint64_t id, const char *status, const char *assigned_to)
{
	ac_reply *r = ac_ts_get(cli, id);

	ac_ts_expect_str(r, "task.status", status);
	if (assigned_to != NULL) {
		ac_ts_expect_str(r, "task.assigned_to", assigned_to);
	}
	ac_reply_free(r);
}

/* ---- lifecycle, fencing, idempotency ---- */

/* task_lifecycle_test 1 and websocket_e2e_test 1. */
Test(fencing, full_lifecycle_stores_result_and_tokens_used, .timeout = 30)
{
	ac_reply *r;
	uint64_t id, gen;
	bool abort_flag = true;

	boot(NULL);
	ac_ts_hello(cli, "ws-e2e-test-agent", ",\"capabilities\":[\"code\"]");
	id = ac_ts_submit(cli, "\"description\":\"lifecycle integration test\","
	                       "\"submitted_by\":\"e2e-test\"");
	cr_assert_eq(ac_ts_fetch(cli, "ws-e2e-test-agent", 2000, false, &gen), id);
	task_is(id, "assigned", "ws-e2e-test-agent");
	cr_assert(ac_ts_wait_agent_state(cli, "ws-e2e-test-agent", "assigned", 3000));
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.accept", "ws-e2e-test-agent", id, gen, ""), "accept");
	task_is(id, "working", "ws-e2e-test-agent");
	cr_assert(ac_ts_wait_agent_state(cli, "ws-e2e-test-agent", "working", 3000));
	r = ac_ts_fenced(cli, "task.progress", "ws-e2e-test-agent", id, gen,
	    ",\"message\":\"half way\",\"percent\":50");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_reply_bool(r, "abort", &abort_flag) && !abort_flag);
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "ws-e2e-test-agent", id, gen,
	              ",\"result\":{\"status\":\"success\",\"output\":\"e2e-test-result\"},"
	              "\"tokens_used\":42"),
	    "complete");
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "completed");
	ac_ts_expect_str(r, "task.result.status", "success");
	ac_ts_expect_str(r, "task.result.output", "e2e-test-result");
	cr_assert_eq(ac_ts_u64(r, "task.tokens_used"), 42);
	ac_reply_free(r);
	cr_assert(ac_ts_wait_agent_state(cli, "ws-e2e-test-agent", "idle", 3000));
}

Test(fencing, task_ops_are_fenced_by_agent_and_generation, .timeout = 30)
{
	uint64_t id, gen;

	boot(NULL);
	ac_ts_hello(cli, "a1", "");
	ac_ts_hello(cli, "a2", "");
	id = ac_ts_submit(cli, "\"description\":\"fenced\"");
	cr_assert_eq(ac_ts_fetch(cli, "a1", 2000, false, &gen), id);
	ac_ts_expect_err(ac_ts_fenced(cli, "task.accept", "a1", id, gen + 1, ""), AC_ESTALE, NULL,
	    "accept, wrong generation");
	ac_ts_expect_err(ac_ts_fenced(cli, "task.accept", "a2", id, gen, ""), AC_ESTALE, NULL, "accept, other agent");
	ac_ts_expect_err(ac_ts_fenced(cli, "task.fail", "a2", id, gen, ",\"error\":\"x\""), AC_ESTALE, NULL,
	    "fail, other agent");
	ac_ts_expect_err(ac_ts_fenced(cli, "task.fail", "a1", id, gen - 1, ",\"error\":\"x\""), AC_ESTALE, NULL,
	    "fail, older generation");
	/* the refused accepts changed nothing (agent_fsm_test 9) */
	task_is(id, "assigned", "a1");
	cr_assert(ac_ts_wait_agent_state(cli, "a1", "assigned", 3000));
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.accept", "a1", id, gen, ""), "accept");
	ac_ts_expect_err(ac_ts_fenced(cli, "task.complete", "a2", id, gen, ""), AC_ESTALE, NULL,
	    "complete, other agent");
	ac_ts_expect_err(ac_ts_fenced(cli, "task.complete", "a1", id, gen + 1, ""), AC_ESTALE, NULL,
	    "complete, wrong generation");
	task_is(id, "working", "a1");
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "a1", id, gen, ""), "complete");
	/* completed: fail and accept are not allowed any more */
	ac_ts_expect_err(ac_ts_fenced(cli, "task.fail", "a1", id, gen, ",\"error\":\"late\""), AC_ECONFLICT, NULL,
	    "fail after complete");
	ac_ts_expect_err(ac_ts_fenced(cli, "task.accept", "a1", id, gen, ""), AC_ECONFLICT, NULL,
	    "accept after complete");
	ac_ts_expect_err(ac_ts_fenced(cli, "task.complete", "a1", 987654, 1, ""), AC_ENOTFOUND, NULL,
	    "complete of an unknown task");
}

/* DESIGN §4: progress is one of the fenced ops; another agent -> stale_generation. */
Test(fencing, progress_from_another_agent_is_stale_generation, .timeout = 30)
{
	uint64_t id, gen;

	boot(NULL);
	ac_ts_hello(cli, "a1", "");
	ac_ts_hello(cli, "a2", "");
	id = ac_ts_submit(cli, "\"description\":\"mine\"");
	cr_assert_eq(ac_ts_fetch(cli, "a1", 2000, true, &gen), id);
	ac_ts_expect_err(ac_ts_fenced(cli, "task.progress", "a2", id, gen, ""), AC_ESTALE, NULL,
	    "progress from an agent the task was never assigned to");
}

/* DESIGN §3: assigned -accept-> working -complete-> completed; only task.fail is allowed
 * from assigned as well. */
Test(fencing, complete_before_accept_is_conflict, .timeout = 30)
{
	uint64_t id, gen;

	boot(NULL);
	ac_ts_hello(cli, "a1", "");
	id = ac_ts_submit(cli, "\"description\":\"not accepted yet\"");
	cr_assert_eq(ac_ts_fetch(cli, "a1", 2000, false, &gen), id);
	ac_ts_expect_err(ac_ts_fenced(cli, "task.complete", "a1", id, gen, ""), AC_ECONFLICT, NULL,
	    "complete of an assigned (not accepted) task");
	task_is(id, "assigned", "a1");
}

Test(fencing, fail_is_allowed_from_assigned, .timeout = 30)
{
	ac_reply *r;
	uint64_t id, gen;

	boot(NULL);
	ac_ts_hello(cli, "a1", "");
	id = ac_ts_submit(cli, "\"description\":\"cannot start\"");
	cr_assert_eq(ac_ts_fetch(cli, "a1", 2000, false, &gen), id);
	r = ac_ts_fenced(cli, "task.fail", "a1", id, gen, ",\"error\":\"no disk\",\"retryable\":false");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	ac_ts_expect_str(r, "status", "dead_letter");
	ac_reply_free(r);
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "dead_letter");
	ac_ts_expect_str(r, "task.last_error", "no disk");
	ac_reply_free(r);
}

Test(fencing, repeated_complete_is_ok_and_changes_nothing, .timeout = 30)
{
	ac_reply *r;
	uint64_t id, gen;

	boot(NULL);
	ac_ts_hello(cli, "a1", "");
	id = ac_ts_submit(cli, "\"description\":\"twice\"");
	cr_assert_eq(ac_ts_fetch(cli, "a1", 2000, true, &gen), id);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "a1", id, gen, ",\"result\":{\"n\":1},\"tokens_used\":7"),
	    "complete");
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "a1", id, gen, ",\"result\":{\"n\":2},\"tokens_used\":9"),
	    "repeated complete");
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "completed");
	cr_assert_eq(ac_ts_u64(r, "task.result.n"), 1, "the repeat overwrote the result");
	cr_assert_eq(ac_ts_u64(r, "task.tokens_used"), 7);
	ac_reply_free(r);
	/* the repeat of a complete with fetch_wait_ms is just as safe */
	r = ac_ts_fenced(cli, "task.complete", "a1", id, gen, ",\"fetch_wait_ms\":100");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	ac_reply_free(r);
}

Test(fencing, repeated_fail_is_ok_after_the_task_moved_on, .timeout = 30)
{
	static const char *const args[] = { "--set", "retry_backoff_ms=50", NULL };
	ac_reply *r;
	uint64_t id, g1, g2;

	boot(args);
	ac_ts_hello(cli, "a1", "");
	ac_ts_hello(cli, "a2", "");
	id = ac_ts_submit(cli, "\"description\":\"flaky\",\"max_retries\":3");
	cr_assert_eq(ac_ts_fetch(cli, "a1", 2000, true, &g1), id);
	r = ac_ts_fenced(cli, "task.fail", "a1", id, g1, ",\"error\":\"boom\"");
	ac_ts_expect_str(r, "status", "queued");
	ac_reply_free(r);
	/* requeued, then reassigned to a2 */
	cr_assert_eq(ac_ts_fetch(cli, "a2", 3000, true, &g2), id);
	cr_assert_gt(g2, g1);
	r = ac_ts_fenced(cli, "task.fail", "a1", id, g1, ",\"error\":\"boom\"");
	cr_assert(ac_reply_ok(r), "repeated fail: %s", ac_reply_message(r));
	ac_ts_expect_str(r, "status", "queued");
	ac_reply_free(r);
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "working");
	ac_ts_expect_str(r, "task.assigned_to", "a2");
	cr_assert_eq(ac_ts_u64(r, "task.generation"), g2);
	cr_assert_eq(ac_ts_u64(r, "task.retry_count"), 1, "the repeat counted as a second failure");
	ac_reply_free(r);
	/* the same for a dead-lettering fail */
	r = ac_ts_fenced(cli, "task.fail", "a2", id, g2, ",\"error\":\"fatal\",\"retryable\":false");
	ac_ts_expect_str(r, "status", "dead_letter");
	ac_reply_free(r);
	r = ac_ts_fenced(cli, "task.fail", "a2", id, g2, ",\"error\":\"fatal\",\"retryable\":false");
	cr_assert(ac_reply_ok(r), "repeated fail: %s", ac_reply_message(r));
	ac_ts_expect_str(r, "status", "dead_letter");
	ac_reply_free(r);
}

Test(fencing, complete_with_fetch_wait_returns_the_next_task, .timeout = 30)
{
	ac_reply *r;
	uint64_t t1, t2, g1;
	long long t0;

	boot(NULL);
	ac_ts_hello(cli, "w", "");
	t1 = ac_ts_submit(cli, "\"description\":\"first\"");
	t2 = ac_ts_submit(cli, "\"description\":\"second\"");
	cr_assert_eq(ac_ts_fetch(cli, "w", 2000, true, &g1), t1);
	r = ac_ts_fenced(cli, "task.complete", "w", t1, g1, ",\"fetch_wait_ms\":2000,\"accept\":true");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_ts_has_task(r), "no next task");
	cr_assert_eq(ac_ts_u64(r, "task.id"), t2);
	ac_ts_expect_str(r, "task.status", "working");
	uint64_t g2 = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	task_is(t1, "completed", NULL);
	/* nothing left: the reply comes after the wait with no task */
	t0 = ac_ts_now_ms();
	r = ac_ts_fenced(cli, "task.complete", "w", t2, g2, ",\"fetch_wait_ms\":300");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_not(ac_ts_has_task(r));
	cr_assert_geq(ac_ts_now_ms() - t0, 290);
	ac_reply_free(r);
	task_is(t2, "completed", NULL);
}

/* The answer to an early fetch that finds nothing at once (fetch_wait_ms 0) comes
 * while the completion's batch may still be open: it is held until the commit, and a
 * plain (no accept) next task comes assigned, not working. */
Test(fencing, complete_with_fetch_answers_after_the_commit, .timeout = 30)
{
	ac_reply *r;
	uint64_t t1, t2, t3, g1, g2;

	boot(NULL);
	ac_ts_hello(cli, "w", "");
	t1 = ac_ts_submit(cli, "\"description\":\"only\"");
	cr_assert_eq(ac_ts_fetch(cli, "w", 2000, true, &g1), t1);
	r = ac_ts_fenced(cli, "task.complete", "w", t1, g1, ",\"fetch_wait_ms\":0");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_not(ac_ts_has_task(r));
	ac_reply_free(r);
	task_is(t1, "completed", NULL);
	t2 = ac_ts_submit(cli, "\"description\":\"second\"");
	t3 = ac_ts_submit(cli, "\"description\":\"third\"");
	cr_assert_eq(ac_ts_fetch(cli, "w", 2000, true, &g2), t2);
	r = ac_ts_fenced(cli, "task.complete", "w", t2, g2, ",\"fetch_wait_ms\":1000");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_ts_has_task(r), "no next task");
	cr_assert_eq(ac_ts_u64(r, "task.id"), t3);
	ac_ts_expect_str(r, "task.status", "assigned");
	ac_reply_free(r);
	task_is(t2, "completed", NULL);
}

/* ---- cancel and abort ---- */

Test(fencing, cancelled_task_is_named_in_abort, .timeout = 30)
{
	ac_reply *r;
	uint64_t id, gen;
	bool abort_flag = false;

	boot(NULL);
	ac_ts_hello(cli, "a1", "");
	id = ac_ts_submit(cli, "\"description\":\"to cancel\"");
	cr_assert_eq(ac_ts_fetch(cli, "a1", 2000, true, &gen), id);
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"task.cancel\",\"id\":%llu}", ULL(id)), "cancel");
	r = ac_ts_fenced(cli, "task.progress", "a1", id, gen, ",\"percent\":10");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_reply_bool(r, "abort", &abort_flag) && abort_flag, "progress of a cancelled task");
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"a1\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_eq(ac_reply_get(r, "abort")->via.array.size, 1);
	cr_assert_eq(ac_ts_u64(r, "abort[0]"), id);
	ac_reply_free(r);
	ac_ts_expect_err(ac_ts_fenced(cli, "task.complete", "a1", id, gen, ""), AC_ECONFLICT, NULL,
	    "complete of a cancelled task");
	cr_assert(ac_ts_wait_agent_state(cli, "a1", "idle", 3000));
}

/* A shutdown answers held fetches `unavailable`, but the fetch riding on a completion
 * ends with `ok` and no task: `unavailable` there would say the completion failed,
 * and the agent would report a task that is already completed. */
Test(fencing, shutdown_ends_a_completions_fetch_with_ok, .timeout = 30)
{
	ac_client *fetcher, *completer;
	ac_ts_bg plain, done;
	ac_reply *r;
	uint64_t id, gen;

	boot(NULL);
	ac_ts_hello(cli, "idle", "");
	ac_ts_hello(cli, "busy", "");
	id = ac_ts_submit(cli, "\"description\":\"finished before the shutdown\"");
	cr_assert_eq(ac_ts_fetch(cli, "busy", 2000, true, &gen), id);
	fetcher = ac_ts_client(&srv);
	completer = ac_ts_client(&srv);
	ac_ts_bg_start(&plain, fetcher, "{\"op\":\"agent.fetch\",\"agent_id\":\"idle\",\"wait_ms\":20000}");
	ac_ts_bg_start(&done, completer, "{\"op\":\"task.complete\",\"agent_id\":\"busy\",\"id\":%llu,"
	    "\"generation\":%llu,\"fetch_wait_ms\":20000}", (unsigned long long)id,
	    (unsigned long long)gen);
	cr_assert(ac_ts_wait_held_fetches(cli, 2, 5000));
	cr_assert(ac_ts_wait_status(cli, id, "completed", 2000));
	cr_assert_eq(ac_ts_stop(&srv), 0);
	r = ac_ts_bg_join(&plain);
	cr_assert_eq(ac_reply_error(r), AC_EUNAVAIL, "a plain held fetch: %s", ac_reply_message(r));
	ac_reply_free(r);
	r = ac_ts_bg_join(&done);
	cr_assert(ac_reply_ok(r), "the completion's fetch: %s", ac_reply_message(r));
	cr_assert_not(ac_ts_has_task(r));
	ac_reply_free(r);
	ac_client_close(fetcher);
	ac_client_close(completer);
}
