/* SPDX-License-Identifier: MIT
 * System tests of the scheduler's cached agent profiles (agent.fetch served without the
 * registry's hop): a new hello, a bye or a timeout must reach the cache before the
 * agent's next fetch, and fetches served from it must keep the agent online.
 */
#include <criterion/criterion.h>

#include "agent_server_fixture.h"
#include "test_server.h"

TestSuite(fetch_cache, .fini = teardown);

/* A hello that takes a capability away is the profile the next fetch matches on, on
 * the same connection that fetched (and was cached) with the old one. */
Test(fetch_cache, a_new_hello_replaces_the_cached_profile, .timeout = 30)
{
	uint64_t id;

	boot(NULL);
	ac_ts_hello(cli, "prof-agent", ",\"capabilities\":[\"xcap\"]");
	cr_assert_eq(ac_ts_fetch(cli, "prof-agent", 0, false, NULL), 0); /* through the registry */
	cr_assert_eq(ac_ts_fetch(cli, "prof-agent", 0, false, NULL), 0); /* from the cache */
	ac_ts_hello(cli, "prof-agent", "");
	id = ac_ts_submit(cli, "\"description\":\"needs x\",\"needed_capabilities\":[\"xcap\"]");
	cr_assert_eq(ac_ts_fetch(cli, "prof-agent", 300, false, NULL), 0,
	    "a task needing xcap went to an agent whose hello no longer has it");
	cr_assert_eq(ac_ts_fetch(cli, "prof-agent", 0, false, NULL), 0);
	/* the capability back: the task was only waiting */
	ac_ts_hello(cli, "prof-agent", ",\"capabilities\":[\"xcap\"]");
	cr_assert_eq(ac_ts_fetch(cli, "prof-agent", 2000, false, NULL), id);
}

/* After bye the agent is offline: a fetch needs a new hello, cache or not. */
Test(fetch_cache, a_fetch_after_bye_needs_a_hello, .timeout = 30)
{
	boot(NULL);
	ac_ts_hello(cli, "bye-agent", "");
	cr_assert_eq(ac_ts_fetch(cli, "bye-agent", 0, false, NULL), 0);
	cr_assert_eq(ac_ts_fetch(cli, "bye-agent", 0, false, NULL), 0);
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.bye\",\"agent_id\":\"bye-agent\"}"), "bye");
	ac_ts_expect_err(
	    ac_ts_call(cli, "{\"op\":\"agent.fetch\",\"agent_id\":\"bye-agent\",\"wait_ms\":0}"),
	    AC_ECONFLICT, "agent_id", "fetch after bye");
}

/* Fetches the scheduler serves itself still count as the agent being alive
 * (agent_timeout_ms 400, fetching for 1.5 s); a timed-out agent's cache is gone. */
Test(fetch_cache, cached_fetches_keep_an_agent_online, .timeout = 30)
{
	static const char *const args[] = { "--set", "agent_timeout_ms=400", NULL };
	long long t0;

	boot(args);
	ac_ts_hello(cli, "busy-fetcher", "");
	t0 = ac_ts_now_ms();
	while (ac_ts_now_ms() - t0 < 1500) {
		cr_assert_eq(ac_ts_fetch(cli, "busy-fetcher", 100, false, NULL), 0);
	}
	cr_assert(ac_ts_wait_agent_state(cli, "busy-fetcher", "idle", 100));
	cr_assert(ac_ts_wait_agent_state(cli, "busy-fetcher", "offline", 3000));
	ac_ts_expect_err(
	    ac_ts_call(cli, "{\"op\":\"agent.fetch\",\"agent_id\":\"busy-fetcher\",\"wait_ms\":0}"),
	    AC_ECONFLICT, "agent_id", "fetch after timeout");
}
