/* SPDX-License-Identifier: MIT
 * libagentcom's agent ops (include/agentcom/agent.h) against a real agentcomd: one
 * agent's whole life through them, hello to bye.
 */
#include <criterion/criterion.h>

#include "agent_server_fixture.h"
#include "agentcom/agent.h"
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
