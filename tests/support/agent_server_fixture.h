/* SPDX-License-Identifier: MIT
 * Fixture of the system tests about agents (agents, fencing, leases, retries, fetch
 * cache): a server started by boot() for agent tests (ac_ts_start_agents) and cli, an
 * admin client (client ops, and agent ops for any agent), both freed by teardown() (the
 * suite's .fini). Header-only: included by exactly one test file per executable.
 */
#ifndef AC_TESTS_AGENT_SERVER_FIXTURE_H
#define AC_TESTS_AGENT_SERVER_FIXTURE_H

#include <criterion/criterion.h>

#include "test_server.h"

static ac_test_server srv;
static ac_client *cli;

static inline void boot(const char *const *extra)
{
	cr_assert(ac_ts_start_agents(&srv, extra));
	cli = ac_ts_client(&srv);
}

static inline void teardown(void)
{
	ac_client_close(cli);
	ac_ts_cleanup(&srv);
}

#endif
