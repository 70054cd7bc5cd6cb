/* SPDX-License-Identifier: MIT
 * scheduler.attempt (proto/topics.md): one event per pass of the scheduler that tried to
 * place tasks, saying what set it off and how many tasks and idle agents it had.
 */
#include <criterion/criterion.h>

#include "agent_server_fixture.h"
#include "telemetry_sub.h"
#include "test_server.h"

static ac_tsub *sub;

/* The server first: nng 1.5.2 now and then never returns from closing a SUB socket
 * whose publisher is still up (see ep_server_fixture.h). */
static void close_all(void)
{
	teardown();
	ac_tsub_close(sub);
	sub = NULL;
}

TestSuite(sched_events, .fini = close_all);

static uint64_t field(const ac_tevent *e, const char *key)
{
	uint64_t n = UINT64_MAX;

	cr_assert(ac_tevent_u64(e, key, &n), "scheduler.attempt without %s", key);
	return n;
}

Test(sched_events, an_attempt_per_pass_names_its_trigger_and_counts, .timeout = 30)
{
	static const char *const prefixes[] = { "scheduler.attempt", NULL };
	ac_tevent *e;
	uint64_t id;

	boot(NULL);
	cr_assert_not_null(sub = ac_tsub_open(srv.pub, prefixes));
	/* a task and no agent: the pass that took the task in has nobody to give it to */
	id = ac_ts_submit(cli, "\"description\":\"fix typo in attempt test\"");
	cr_assert_not_null(e = ac_tsub_wait(sub, "scheduler.attempt", "trigger", "task_event", 5000),
	    "no scheduler.attempt for the submit");
	cr_assert_eq(field(e, "queued_tasks"), 1);
	cr_assert_eq(field(e, "idle_agents"), 0);
	ac_tevent_free(e);
	/* an agent fetches: its pass places the task, leaving nothing on either side */
	ac_ts_hello(cli, "w", "");
	cr_assert_eq(ac_ts_fetch(cli, "w", 2000, false, NULL), id);
	cr_assert_not_null(e = ac_tsub_wait(sub, "scheduler.attempt", "trigger", "agent_fetch", 5000),
	    "no scheduler.attempt for the fetch");
	cr_assert_eq(field(e, "queued_tasks"), 0);
	cr_assert_eq(field(e, "idle_agents"), 0);
	ac_tevent_free(e);
	cr_assert_eq(ac_tsub_bad_frames(sub), 0);
}
