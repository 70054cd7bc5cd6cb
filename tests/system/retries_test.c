/* SPDX-License-Identifier: MIT
 * System tests of task.fail (DESIGN §3 max_retries, §4 task.fail, §5.5 agent choice):
 * retries with doubling jittered backoff, dead-lettering after max_retries attempts
 * (0 behaves as 1) or at once when not retryable, and avoiding the failed agent. Ports
 * original-tests.md §8 failure_paths_test 1.
 */
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "agent_server_fixture.h"
#include "test_server.h"

static const char *const fast_backoff[] = { "--set", "retry_backoff_ms=50", NULL };

TestSuite(retries, .fini = teardown);

#define ULL(x) ((unsigned long long)(x))

/* task.fail by agent; asserts ok and the status it answers. */
static void fail_as(const char *agent, uint64_t id, uint64_t gen, const char *error,
    const char *want_status)
{
	char extra[256];
	ac_reply *r;

	snprintf(extra, sizeof(extra), ",\"error\":\"%s\"", error);
	r = ac_ts_fenced(cli, "task.fail", agent, id, gen, extra);
	cr_assert(ac_reply_ok(r), "fail: %s", ac_reply_message(r));
	ac_ts_expect_str(r, "status", want_status);
	ac_reply_free(r);
}

/* failure_paths_test 1: max_retries 2 -> queued after the first failure (retry_count 1),
 * reassigned with a higher generation, dead_letter after the second (retry_count 2). */
Test(retries, failed_task_retries_then_dead_letters, .timeout = 30)
{
	ac_reply *r;
	uint64_t id, g1, g2;
	bool listed = false;

	boot(fast_backoff);
	ac_ts_hello(cli, "solo", "");
	id = ac_ts_submit(cli, "\"description\":\"retry dead-letter test\",\"max_retries\":2");
	cr_assert_eq(ac_ts_fetch(cli, "solo", 2000, false, &g1), id);
	fail_as("solo", id, g1, "first failure", "queued");
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "queued");
	cr_assert_eq(ac_ts_u64(r, "task.retry_count"), 1);
	cr_assert_eq(ac_ts_u64(r, "task.generation"), g1 + 1);
	ac_ts_expect_str(r, "task.last_error", "first failure");
	ac_reply_free(r);
	/* the failed agent is the only one: it gets the task again */
	cr_assert_eq(ac_ts_fetch(cli, "solo", 3000, true, &g2), id);
	cr_assert_eq(g2, g1 + 2);
	fail_as("solo", id, g2, "second failure", "dead_letter");
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "dead_letter");
	cr_assert_eq(ac_ts_u64(r, "task.retry_count"), 2);
	ac_ts_expect_str(r, "task.last_error", "second failure");
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"task.list\",\"status\":\"dead_letter\"}");
	for (uint32_t i = 0; i < ac_reply_get(r, "tasks")->via.array.size; i++) {
		char path[32];
		snprintf(path, sizeof(path), "tasks[%u].id", i);
		listed |= ac_ts_u64(r, path) == id;
	}
	ac_reply_free(r);
	cr_assert(listed, "not in the dead-letter list");
	cr_assert_eq(ac_ts_fetch(cli, "solo", 0, false, NULL), 0);
}

/* max_retries counts attempts in total: 3 means the third failure dead-letters. */
Test(retries, max_retries_three_means_three_attempts, .timeout = 30)
{
	ac_reply *r;
	uint64_t id, gen;

	boot(fast_backoff);
	ac_ts_hello(cli, "solo", "");
	id = ac_ts_submit(cli, "\"description\":\"three strikes\",\"max_retries\":3");
	for (int attempt = 1; attempt <= 3; attempt++) {
		cr_assert_eq(ac_ts_fetch(cli, "solo", 3000, true, &gen), id, "attempt %d not delivered", attempt);
		fail_as("solo", id, gen, "nope", attempt < 3 ? "queued" : "dead_letter");
	}
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "dead_letter");
	cr_assert_eq(ac_ts_u64(r, "task.retry_count"), 3);
	ac_reply_free(r);
}

Test(retries, max_retries_zero_behaves_as_one, .timeout = 30)
{
	ac_reply *r;
	uint64_t id, gen;

	boot(fast_backoff);
	ac_ts_hello(cli, "solo", "");
	id = ac_ts_submit(cli, "\"description\":\"one shot\",\"max_retries\":0");
	cr_assert_eq(ac_ts_fetch(cli, "solo", 2000, true, &gen), id);
	fail_as("solo", id, gen, "once is enough", "dead_letter");
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "dead_letter");
	cr_assert_eq(ac_ts_u64(r, "task.retry_count"), 1);
	ac_reply_free(r);
}

Test(retries, non_retryable_failure_dead_letters_at_once, .timeout = 30)
{
	ac_reply *r;
	uint64_t id, gen;

	boot(fast_backoff);
	ac_ts_hello(cli, "solo", "");
	id = ac_ts_submit(cli, "\"description\":\"hopeless\",\"max_retries\":5");
	cr_assert_eq(ac_ts_fetch(cli, "solo", 2000, true, &gen), id);
	r = ac_ts_fenced(cli, "task.fail", "solo", id, gen, ",\"error\":\"bad input\",\"retryable\":false");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	ac_ts_expect_str(r, "status", "dead_letter");
	ac_reply_free(r);
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "dead_letter");
	ac_ts_expect_str(r, "task.last_error", "bad input");
	cr_assert_eq(ac_ts_u64(r, "task.retry_count"), 1);
	ac_reply_free(r);
	/* retryable defaults to true: a plain failure of another task is retried */
	id = ac_ts_submit(cli, "\"description\":\"hopeful\",\"max_retries\":5");
	cr_assert_eq(ac_ts_fetch(cli, "solo", 2000, true, &gen), id);
	fail_as("solo", id, gen, "transient", "queued");
}

/* The delay of failure n (retry_count n after it): not_before_ms - updated_at_ms. */
static int64_t backoff_of(uint64_t id)
{
	ac_reply *r = ac_ts_get(cli, id);
	int64_t not_before = 0, updated = 0;

	cr_assert(ac_reply_i64(r, "task.not_before_ms", &not_before));
	cr_assert(ac_reply_i64(r, "task.updated_at_ms", &updated));
	ac_reply_free(r);
	return not_before - updated;
}

/* retry_backoff_ms 50: 50, 100, 200, 400 ms, each +-25 %. */
Test(retries, retry_backoff_doubles_with_jitter, .timeout = 30)
{
	int64_t first[8];
	uint64_t id, gen, ids[8];
	bool varied = false;

	boot(fast_backoff);
	ac_ts_hello(cli, "solo", "");
	id = ac_ts_submit(cli, "\"description\":\"backoff\",\"max_retries\":6");
	for (int n = 1, ms = 50; n <= 4; n++, ms *= 2) {
		int64_t d;
		cr_assert_eq(ac_ts_fetch(cli, "solo", 3000, true, &gen), id);
		fail_as("solo", id, gen, "again", "queued");
		d = backoff_of(id);
		cr_assert(d >= ms * 3 / 4 - 1 && d <= ms * 5 / 4 + 1,
		    "failure %d: backoff %lld ms, want %d +-25%%", n, (long long)d, ms);
	}
	/* jitter: first failures of several tasks do not all wait the same (each is cancelled
	 * after its failure, so that none comes back into the next one's way) */
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"task.cancel\",\"id\":%llu}", ULL(id)), "cancel");
	for (int i = 0; i < 8; i++) {
		ids[i] = ac_ts_submit(cli, "\"description\":\"jitter %d\",\"priority\":\"urgent\"", i);
		cr_assert_eq(ac_ts_fetch(cli, "solo", 3000, true, &gen), ids[i]);
		fail_as("solo", ids[i], gen, "again", "queued");
		first[i] = backoff_of(ids[i]);
		cr_assert(first[i] >= 36 && first[i] <= 63, "backoff %lld", (long long)first[i]);
		varied |= first[i] != first[0];
		ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"task.cancel\",\"id\":%llu}", ULL(ids[i])),
		    "cancel");
	}
	cr_assert(varied, "8 first backoffs were all %lld ms: no jitter", (long long)first[0]);
}

Test(retries, failed_task_is_not_fetched_before_its_backoff, .timeout = 30)
{
	static const char *const args[] = { "--set", "retry_backoff_ms=1000", NULL };
	ac_reply *r;
	uint64_t id, gen;
	int64_t not_before;
	long long failed_at;

	boot(args);
	ac_ts_hello(cli, "solo", "");
	id = ac_ts_submit(cli, "\"description\":\"wait for it\"");
	cr_assert_eq(ac_ts_fetch(cli, "solo", 2000, true, &gen), id);
	fail_as("solo", id, gen, "later", "queued");
	failed_at = ac_ts_now_ms();
	r = ac_ts_get(cli, id);
	cr_assert(ac_reply_i64(r, "task.not_before_ms", &not_before));
	ac_reply_free(r);
	if (ac_ts_now_ms() - failed_at < 500) { /* the shortest backoff is 750 ms */
		cr_assert_eq(ac_ts_fetch(cli, "solo", 0, true, NULL), 0, "fetched during its backoff");
	}
	cr_assert_eq(ac_ts_fetch(cli, "solo", 5000, true, NULL), id);
	cr_assert_geq(ac_ts_wall_ms(), not_before, "delivered before not_before_ms");
}

/* DESIGN §5.5: a failed agent is avoided on the next attempt if another is idle. While
 * a holds the task it may not fetch another (one task at a time, DESIGN §3): both agents
 * start waiting after the failure, within the retry backoff (1.5 to 2.5 s here). */
Test(retries, failed_task_avoids_its_agent_when_another_is_idle, .timeout = 30)
{
	static const char *const args[] = { "--set", "retry_backoff_ms=2000", NULL };
	ac_client *a_c, *b_c;
	ac_ts_bg a_f, b_f;
	ac_reply *r;
	uint64_t id, gen;
	int64_t not_before;

	boot(args);
	a_c = ac_ts_client(&srv);
	b_c = ac_ts_client(&srv);
	ac_ts_hello(a_c, "a", "");
	ac_ts_hello(b_c, "b", "");
	id = ac_ts_submit(cli, "\"description\":\"not for a\"");
	cr_assert_eq(ac_ts_fetch(a_c, "a", 2000, true, &gen), id);
	fail_as("a", id, gen, "a cannot", "queued");
	ac_ts_bg_start(&a_f, a_c, "{\"op\":\"agent.fetch\",\"agent_id\":\"a\",\"wait_ms\":8000}");
	ac_ts_bg_start(&b_f, b_c, "{\"op\":\"agent.fetch\",\"agent_id\":\"b\",\"wait_ms\":8000}");
	cr_assert(ac_ts_wait_held_fetches(cli, 2, 5000));
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "queued");
	cr_assert(ac_reply_i64(r, "task.not_before_ms", &not_before));
	ac_reply_free(r);
	cr_assert_lt(ac_ts_wall_ms(), not_before,
	    "the backoff ended before both agents waited: the test missed its window");
	r = ac_ts_bg_join(&b_f);
	cr_assert(ac_ts_has_task(r), "the other idle agent got nothing");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	ac_reply_free(r);
	cr_assert_eq(ac_ts_fetch(cli, "a", 0, false, NULL), 0); /* releases a's held fetch */
	r = ac_ts_bg_join(&a_f);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_not(ac_ts_has_task(r), "the task went back to the agent that failed it");
	ac_reply_free(r);
	ac_client_close(a_c);
	ac_client_close(b_c);
}
