/* SPDX-License-Identifier: MIT
 * Retention (DESIGN §7): finished tasks older than retention_ms are deleted in small
 * batches, live ones never, and the counters follow the deletions. The pruner runs a
 * second after start, then every minute: the test restarts the server to meet it.
 */
#include <unistd.h>

#include <criterion/criterion.h>

#include "agent_server_fixture.h"
#include "test_server.h"

TestSuite(retention, .fini = teardown);

static uint64_t stat_of(const char *path)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	uint64_t n = ac_ts_u64(r, path);

	ac_reply_free(r);
	return n;
}

static uint64_t run_to_completion(const char *description)
{
	uint64_t id, gen;

	id = ac_ts_submit(cli, "%s", description);
	cr_assert_eq(ac_ts_fetch(cli, "a1", 2000, true, &gen), id);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "a1", id, gen, ""), "complete");
	return id;
}

Test(retention, finished_tasks_past_retention_are_pruned_and_uncounted, .timeout = 60)
{
	static const char *const args[] = { "--set", "retention_ms=1", NULL };
	uint64_t done1, done2, waiting;
	ac_reply *r;
	int i;

	boot(args);
	ac_ts_hello(cli, "a1", "");
	done1 = run_to_completion("\"description\":\"fix typo one\"");
	done2 = run_to_completion("\"description\":\"fix typo two\"");
	waiting = ac_ts_submit(cli, "\"description\":\"fix typo three\",\"needed_capabilities\":[\"gpu\"]");
	cr_assert_eq(stat_of("queue.by_status.completed"), 2);
	cr_assert_eq(ac_ts_stop(&srv), 0);
	ac_client_close(cli);
	cr_assert(ac_ts_restart(&srv, args));
	cli = ac_ts_client(&srv);
	for (i = 0; i < 1000 && stat_of("queue.by_status.completed") != 0; i++) {
		usleep(10 * 1000);
	}
	cr_assert_eq(stat_of("queue.by_status.completed"), 0, "the finished tasks were not pruned");
	cr_assert_eq(stat_of("queue.by_status.queued"), 1);
	for (uint64_t id = done1; id <= done2; id += done2 - done1) {
		r = ac_ts_call(cli, "{\"op\":\"task.get\",\"id\":%llu}", (unsigned long long)id);
		ac_ts_expect_err(r, AC_ENOTFOUND, "id", "task.get of a pruned task");
	}
	r = ac_ts_get(cli, waiting);
	ac_ts_expect_str(r, "task.status", "queued");
	ac_reply_free(r);
}
