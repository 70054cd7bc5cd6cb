/* SPDX-License-Identifier: MIT
 * libagentcom's agent ops (include/agentcom/agent.h) against a real agentcomd: one
 * agent's whole life through them, hello to bye, and the resources a heartbeat reports.
 */
#include <stdio.h>

#include <criterion/criterion.h>

#include "agent_server_fixture.h"
#include "agentcom/agent.h"
#include "endpoint_util.h"
#include "test_server.h"

TestSuite(agent_ops, .fini = teardown);

/* Asserts err is AC_OK and the reply *r ok; returns the reply. (The call's result and
 * the reply are passed separately, the call made first: C leaves the order in which a
 * call's arguments are evaluated open.) */
#define OK(call, what) ok_reply((call), &r, (what))

static ac_reply *ok_reply(ac_err err, ac_reply **r, const char *what)
{
	cr_assert_eq(err, AC_OK, "%s: %s", what, ac_strerror(err));
	cr_assert(ac_reply_ok(*r), "%s: %s", what, ac_reply_message(*r));
	return *r;
}

static uint64_t u64_at(ac_reply *r, const char *path)
{
	uint64_t v = 0;

	cr_assert(ac_reply_u64(r, path, &v), "no %s", path);
	return v;
}

Test(agent_ops, an_agent_lives_through_the_library_calls, .timeout = 30)
{
	static const char *const caps[] = { "gpu" };
	ac_hello h = { .name = "lib agent", .capabilities = caps, .capability_count = 1 };
	ac_completion next = { .has_fetch = true, .fetch_wait_ms = 2000, .accept = true };
	uint64_t t1, t2, t3, g1, g2;
	ac_reply *r = NULL;
	bool abort_flag = true;

	boot(NULL);
	r = OK(ac_op_hello(cli, "lib", &h, &r), "hello");
	cr_assert_gt(u64_at(r, "heartbeat_ms"), 0);
	ac_reply_free(r);
	r = OK(ac_op_fetch(cli, "lib", 50, false, &r), "empty fetch");
	cr_assert_not(ac_ts_has_task(r), "a task out of nowhere");
	ac_reply_free(r);

	t1 = ac_ts_submit(cli, "\"description\":\"fix typo one\",\"needed_capabilities\":[\"gpu\"]");
	t2 = ac_ts_submit(cli, "\"description\":\"fix typo two\"");
	t3 = ac_ts_submit(cli, "\"description\":\"fix typo three\"");
	r = OK(ac_op_fetch(cli, "lib", 2000, false, &r), "fetch");
	cr_assert_eq(u64_at(r, "task.id"), t1);
	g1 = u64_at(r, "task.generation");
	ac_reply_free(r);
	ac_reply_free(OK(ac_op_accept(cli, "lib", t1, g1, &r), "accept"));
	r = OK(ac_op_progress(cli, "lib", t1, g1, "half way", &r), "progress");
	cr_assert(ac_reply_bool(r, "abort", &abort_flag) && !abort_flag);
	ac_reply_free(r);
	ac_reply_free(OK(ac_op_heartbeat(cli, "lib", &r), "heartbeat"));

	/* complete and take the next task, accepted, in one call */
	r = OK(ac_op_complete(cli, "lib", t1, g1, &next, &r), "complete with fetch");
	cr_assert_eq(u64_at(r, "task.id"), t2);
	ac_ts_expect_str(r, "task.status", "working");
	g2 = u64_at(r, "task.generation");
	ac_reply_free(r);
	r = ac_ts_get(cli, t1);
	ac_ts_expect_str(r, "task.status", "completed");
	ac_reply_free(r);

	/* a failure that is not worth retrying goes to dead_letter */
	r = OK(ac_op_fail(cli, "lib", t2, g2, "cannot build", false, &r), "fail");
	ac_ts_expect_str(r, "status", "dead_letter");
	ac_reply_free(r);

	/* bye: the agent is offline and its next fetch is refused */
	r = OK(ac_op_fetch(cli, "lib", 2000, true, &r), "fetch three");
	cr_assert_eq(u64_at(r, "task.id"), t3);
	ac_reply_free(r);
	ac_reply_free(OK(ac_op_bye(cli, "lib", &r), "bye"));
	cr_assert(ac_ts_wait_status(cli, t3, "queued", 3000), "bye did not give task %llu back",
	    (unsigned long long)t3);
	cr_assert(ac_ts_wait_agent_state(cli, "lib", "offline", 3000));
}

/* ac_op_heartbeat_with sends the values whose has_ flag is set, and only those; the
 * server keeps them on the endpoint of the agent's ollama_url. Nothing set (or NULL)
 * is a plain heartbeat, which leaves the last report in place. */
Test(agent_ops, heartbeat_with_reports_the_resources_that_are_set, .timeout = 30)
{
	fake_ollama *fo = fake_ollama_start();
	char url[64];
	ac_hello h = { .ollama_url = url };
	ac_host_resources res = { .has_cpu_percent = true, .cpu_percent = 12.5,
		.has_ram_total = true, .ram_total_bytes = 64ull << 30,
		.has_vram_used = true, .vram_used_bytes = 3ull << 30 };
	ac_host_resources none = { .has_cpu_percent = false };
	int64_t at = 0, at_after = 0;
	double cpu = 0;
	ac_reply *r = NULL;

	cr_assert_not_null(fo);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)fake_ollama_port(fo));
	boot(NULL);
	ac_reply_free(OK(ac_op_hello(cli, "host", &h, &r), "hello"));
	ac_reply_free(OK(ac_op_heartbeat_with(cli, "host", &res, &r), "heartbeat with"));
	r = ac_ep_list(cli);
	cr_assert(ac_reply_f64(r, "endpoints[0].resources.cpu_percent", &cpu), "no cpu_percent");
	cr_assert_float_eq(cpu, 12.5, 1e-9);
	cr_assert_eq(u64_at(r, "endpoints[0].resources.ram_total_bytes"), 64ull << 30);
	cr_assert_eq(u64_at(r, "endpoints[0].resources.vram_used_bytes"), 3ull << 30);
	cr_assert_null(ac_reply_get(r, "endpoints[0].resources.ram_used_bytes"), "not set, yet sent");
	cr_assert_null(ac_reply_get(r, "endpoints[0].resources.vram_total_bytes"), "not set, yet sent");
	cr_assert(ac_reply_i64(r, "endpoints[0].resources.reported_at_ms", &at) && at > 0);
	ac_reply_free(r);

	ac_reply_free(OK(ac_op_heartbeat_with(cli, "host", &none, &r), "heartbeat, nothing set"));
	ac_reply_free(OK(ac_op_heartbeat_with(cli, "host", NULL, &r), "heartbeat, NULL"));
	ac_reply_free(OK(ac_op_heartbeat(cli, "host", &r), "plain heartbeat"));
	r = ac_ep_list(cli);
	cr_assert(ac_reply_i64(r, "endpoints[0].resources.reported_at_ms", &at_after));
	cr_assert_eq(at_after, at, "a heartbeat without resources replaced the report");
	cr_assert_eq(u64_at(r, "endpoints[0].resources.ram_total_bytes"), 64ull << 30);
	ac_reply_free(r);
	fake_ollama_free(fo);
}
