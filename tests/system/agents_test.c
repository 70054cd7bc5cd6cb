/* SPDX-License-Identifier: MIT
 * System tests of the agent protocol (DESIGN §3 agent, §4 agent ops, §5.5 order and agent
 * choice): hello, long-poll fetch, routing by tier, targets and capabilities, dispatch
 * order, delays, agent list, stats and agent tokens. Ports original-tests.md §3
 * (scheduler) and §9 test 2; the task ops themselves are in fencing_test.c.
 */
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "fake_ollama.h"
#include "agent_server_fixture.h"
#include "test_server.h"

TestSuite(agents, .fini = teardown);

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

/* ---- hello ---- */

Test(agents, hello_reports_the_timeouts_and_no_tasks, .timeout = 30)
{
	static const char *const args[] = { "--set", "heartbeat_ms=1234", "--set",
		"accept_timeout_ms=2345", "--set", "lease_ms=3456", NULL };
	ac_reply *r;

	boot(args);
	r = ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"h-1\",\"name\":\"Builder\","
	                    "\"capabilities\":[\"code\"]}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_eq(ac_ts_u64(r, "heartbeat_ms"), 1234);
	cr_assert_eq(ac_ts_u64(r, "accept_timeout_ms"), 2345);
	cr_assert_eq(ac_ts_u64(r, "lease_ms"), 3456);
	cr_assert_not_null(ac_reply_get(r, "tasks"));
	cr_assert_eq(ac_reply_get(r, "tasks")->type, MSGPACK_OBJECT_ARRAY);
	cr_assert_eq(ac_reply_get(r, "tasks")->via.array.size, 0);
	ac_reply_free(r);
}

Test(agents, hello_validates_its_fields, .timeout = 30)
{
	boot(NULL);
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.hello\"}"), AC_EINVAL, "agent_id", "no agent_id");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"bad id!\"}"), AC_EINVAL,
	    "agent_id", "agent_id with a space");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"a\",\"targets\":[\"gpu\"]}"),
	    AC_EINVAL, "targets[0]", "unknown target");
}

Test(agents, agent_ops_need_a_hello_first, .timeout = 30)
{
	boot(NULL);
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.fetch\",\"agent_id\":\"ghost\",\"wait_ms\":0}"),
	    AC_ECONFLICT, "agent_id", "fetch before hello");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"ghost\"}"), AC_ECONFLICT,
	    "agent_id", "heartbeat before hello");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.bye\",\"agent_id\":\"ghost\"}"), AC_ECONFLICT,
	    "agent_id", "bye before hello");
	ac_ts_hello(cli, "ghost", "");
	cr_assert_eq(ac_ts_fetch(cli, "ghost", 0, false, NULL), 0);
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.bye\",\"agent_id\":\"ghost\"}"), "bye");
	/* after bye the agent is offline: it must say hello again */
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.fetch\",\"agent_id\":\"ghost\",\"wait_ms\":0}"),
	    AC_ECONFLICT, "agent_id", "fetch after bye");
}

/* ---- long-poll fetch ---- */

Test(agents, fetch_without_work_answers_no_task_after_wait_ms, .timeout = 30)
{
	long long t0;
	uint64_t id;

	boot(NULL);
	ac_ts_hello(cli, "w-1", "");
	t0 = ac_ts_now_ms();
	id = ac_ts_fetch(cli, "w-1", 300, false, NULL);
	cr_assert_eq(id, 0);
	cr_assert_geq(ac_ts_now_ms() - t0, 290, "answered before wait_ms");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.fetch\",\"agent_id\":\"w-1\",\"wait_ms\":30001}"),
	    AC_EINVAL, "wait_ms", "wait_ms above 30 000");
}

Test(agents, held_fetch_gets_a_task_submitted_later, .timeout = 30)
{
	ac_client *agent;
	ac_ts_bg bg;
	ac_reply *r;
	uint64_t id;

	boot(NULL);
	agent = ac_ts_client(&srv);
	ac_ts_hello(agent, "w-1", "");
	ac_ts_bg_start(&bg, agent, "{\"op\":\"agent.fetch\",\"agent_id\":\"w-1\",\"wait_ms\":8000}");
	cr_assert(ac_ts_wait_held_fetches(cli, 1, 5000));
	id = ac_ts_submit(cli, "\"description\":\"schedule me\"");
	r = ac_ts_bg_join(&bg);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_ts_has_task(r), "the held fetch got no task");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	cr_assert_lt(bg.finished_ms - bg.started_ms, 6000, "delivered only at the end of the wait");
	ac_ts_expect_str(r, "task.status", "assigned");
	ac_ts_expect_str(r, "task.assigned_to", "w-1");
	cr_assert_eq(ac_ts_u64(r, "task.generation"), 1);
	cr_assert_not_null(ac_reply_get(r, "task.routing_decision"));
	ac_reply_free(r);
	task_is(id, "assigned", "w-1");
	ac_client_close(agent);
}

Test(agents, a_newer_fetch_answers_the_older_with_no_task, .timeout = 30)
{
	ac_client *first, *second;
	ac_ts_bg older, newer;
	ac_reply *r;
	uint64_t id;

	boot(NULL);
	first = ac_ts_client(&srv);
	second = ac_ts_client(&srv);
	ac_ts_hello(cli, "w-1", "");
	ac_ts_bg_start(&older, first, "{\"op\":\"agent.fetch\",\"agent_id\":\"w-1\",\"wait_ms\":9000}");
	cr_assert(ac_ts_wait_held_fetches(cli, 1, 5000));
	ac_ts_bg_start(&newer, second, "{\"op\":\"agent.fetch\",\"agent_id\":\"w-1\",\"wait_ms\":8000}");
	r = ac_ts_bg_join(&older);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_not(ac_ts_has_task(r));
	cr_assert_lt(older.finished_ms - older.started_ms, 7000, "the older fetch waited its full time");
	ac_reply_free(r);
	/* the newer one is held and gets the next task */
	id = ac_ts_submit(cli, "\"description\":\"for the newer fetch\"");
	r = ac_ts_bg_join(&newer);
	cr_assert(ac_ts_has_task(r), "the newer fetch got no task");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	ac_reply_free(r);
	ac_client_close(first);
	ac_client_close(second);
}

Test(agents, fetch_with_accept_delivers_a_working_task, .timeout = 30)
{
	ac_reply *r;
	uint64_t id;

	boot(NULL);
	ac_ts_hello(cli, "w-1", "");
	id = ac_ts_submit(cli, "\"description\":\"accept at once\"");
	r = ac_ts_fetch_reply(cli, "w-1", 1000, true);
	cr_assert(ac_ts_has_task(r));
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	ac_ts_expect_str(r, "task.status", "working");
	ac_reply_free(r);
	task_is(id, "working", "w-1");
	cr_assert(ac_ts_wait_agent_state(cli, "w-1", "working", 3000));
}

/* ---- routing by tier, targets, capabilities ---- */

/* The routing tests watch the wait for an Ollama endpoint itself (DESIGN §5.5). */
#define FALLBACK_WAIT_MS 1500
static const char *const wait_args[] = { "--set", "fallback_wait_ms=1500", NULL };

/* Submits fields, fetches with agent "any" (all targets) and checks the decision. */
static void expect_route(const char *fields, const char *tier, const char *target,
    const char *cost)
{
	ac_reply *r;
	uint64_t id = ac_ts_submit(cli, "%s", fields), gen;

	r = ac_ts_fetch_reply(cli, "any", 2000, true);
	cr_assert(ac_ts_has_task(r), "no task for %s", fields);
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	gen = ac_ts_u64(r, "task.generation");
	ac_ts_expect_str(r, "task.routing_decision.effective_tier", tier);
	ac_ts_expect_str(r, "task.routing_decision.target_type", target);
	ac_ts_expect_str(r, "task.routing_decision.estimated_cost_tier", cost);
	if (strcmp(target, "claude") == 0) {
		ac_ts_expect_str(r, "task.routing_decision.selected_endpoint", "claude_api");
		ac_ts_expect_str(r, "task.routing_decision.selected_model", "claude");
	}
	ac_reply_free(r);
	/* the decision is stored on the task too (scheduler_test 9) */
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.routing_decision.target_type", target);
	cr_assert_not_null(ac_reply_get(r, "task.routing_decision.classification_reason"));
	cr_assert_not_null(ac_reply_get(r, "task.routing_decision.decided_at_ms"));
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "any", id, gen, ""), "complete");
}

/* DESIGN §5.5 with no Ollama endpoint: the standard (or unknown) task of fields is not
 * delivered at once but waits with pending_reason no_healthy_ollama_endpoints; after
 * fallback_wait_ms it goes one tier up, to claude, and the decision says so (§5.4).
 * Fetches with agent "any" (all targets), then completes the task. */
static void expect_fallback_route(const char *fields)
{
	long long t0 = ac_ts_now_ms(), waited;
	uint64_t id = ac_ts_submit(cli, "%s", fields), gen;
	char reason[256];
	const char *suffix = " [fallback from standard: no_healthy_ollama_endpoints]";
	ac_reply *r;
	bool used = false;

	/* its own tier first: no delivery within a short fetch */
	cr_assert_eq(ac_ts_fetch(cli, "any", 300, true, NULL), 0, "%s was delivered at once", fields);
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "queued");
	ac_ts_expect_str(r, "task.pending_reason", "no_healthy_ollama_endpoints");
	ac_reply_free(r);
	/* then one tier up */
	r = ac_ts_fetch_reply(cli, "any", 5000, true);
	waited = ac_ts_now_ms() - t0;
	cr_assert(ac_ts_has_task(r), "no task for %s within %lld ms (fallback_wait_ms %d)", fields, waited,
	    FALLBACK_WAIT_MS);
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	cr_assert_geq(waited, FALLBACK_WAIT_MS - 5, "delivered after %lld ms, before fallback_wait_ms", waited);
	gen = ac_ts_u64(r, "task.generation");
	ac_ts_expect_str(r, "task.routing_decision.effective_tier", "complex");
	ac_ts_expect_str(r, "task.routing_decision.target_type", "claude");
	ac_ts_expect_str(r, "task.routing_decision.selected_endpoint", "claude_api");
	ac_ts_expect_str(r, "task.routing_decision.selected_model", "claude");
	ac_ts_expect_str(r, "task.routing_decision.estimated_cost_tier", "api");
	cr_assert(ac_reply_bool(r, "task.routing_decision.fallback_used", &used) && used, "fallback_used");
	ac_ts_expect_str(r, "task.routing_decision.fallback_from_tier", "standard");
	ac_ts_expect_str(r, "task.routing_decision.fallback_reason", "no_healthy_ollama_endpoints");
	cr_assert_eq(ac_ts_u64(r, "task.routing_decision.candidate_count"), 0);
	cr_assert(ac_reply_str(r, "task.routing_decision.classification_reason", reason, sizeof(reason)));
	cr_assert(strlen(reason) > strlen(suffix) &&
	        strcmp(reason + strlen(reason) - strlen(suffix), suffix) == 0,
	    "classification_reason \"%s\" does not end with \"%s\"", reason, suffix);
	ac_reply_free(r);
	/* stored on the task, which no longer waits */
	r = ac_ts_get(cli, id);
	used = false;
	cr_assert(ac_reply_bool(r, "task.routing_decision.fallback_used", &used) && used);
	ac_ts_expect_str(r, "task.routing_decision.target_type", "claude");
	cr_assert(ac_reply_get(r, "task.pending_reason") == NULL ||
	        ac_reply_get(r, "task.pending_reason")->type == MSGPACK_OBJECT_NIL,
	    "an assigned task keeps its pending_reason");
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "any", id, gen, ""), "complete");
}

Test(agents, tasks_route_by_complexity_tier, .timeout = 30)
{
	ac_reply *r;
	bool b = true;
	int64_t decided;
	long long before;

	boot(wait_args);
	ac_ts_hello(cli, "any", "");
	before = ac_ts_wall_ms();
	expect_route("\"description\":\"fix typo in readme\"", "trivial", "sidecar", "free");
	expect_route("\"description\":\"refactor the authentication architecture and migrate the "
				 "database\"",
	    "complex", "claude", "api");
	/* standard with no Ollama endpoint: waits fallback_wait_ms, then goes to complex */
	expect_fallback_route("\"description\":\"add a settings page\",\"complexity_tier\":\"standard\"");
	/* the full decision of a trivial task (scheduler_test 9, router 31-34) */
	uint64_t id = ac_ts_submit(cli, "\"description\":\"fix typo in readme\"");
	r = ac_ts_fetch_reply(cli, "any", 2000, true);
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	ac_ts_expect_str(r, "task.routing_decision.classification_reason",
	    "inferred:trivial (confidence 0.90, word_count=4, files=0)");
	cr_assert(ac_reply_bool(r, "task.routing_decision.fallback_used", &b) && !b);
	cr_assert_eq(ac_ts_u64(r, "task.routing_decision.candidate_count"), 0);
	cr_assert(ac_reply_i64(r, "task.routing_decision.decided_at_ms", &decided));
	cr_assert(decided >= before && decided <= ac_ts_wall_ms(), "decided_at_ms %lld", (long long)decided);
	ac_reply_free(r);
	/* stats count the decisions */
	r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	/* by the decisions' tiers: the standard task fell back to complex */
	cr_assert_eq(ac_ts_u64(r, "routing.by_tier.trivial"), 2);
	cr_assert_eq(ac_ts_u64(r, "routing.by_tier.complex"), 2);
	cr_assert_eq(ac_ts_u64(r, "routing.by_tier.standard"), 0);
	cr_assert_eq(ac_ts_u64(r, "routing.by_target.sidecar"), 2);
	cr_assert_eq(ac_ts_u64(r, "routing.by_target.claude"), 2);
	cr_assert_eq(ac_ts_u64(r, "routing.by_target.ollama"), 0);
	cr_assert_eq(ac_ts_u64(r, "routing.fallbacks"), 1);
	ac_reply_free(r);
}

/* DESIGN §5.2 "unknown routes as standard" and §5.5 "unknown routes and falls back as
 * standard": with no endpoint it waits and falls back from "standard" exactly as a
 * standard task does. Its original (task_router_test 30: target ollama, effective tier
 * standard) needs a healthy endpoint: standard_and_unknown_tasks_go_to_a_healthy_endpoint. */
Test(agents, unknown_tier_routes_as_standard, .timeout = 30)
{
	boot(wait_args);
	ac_ts_hello(cli, "any", "");
	expect_fallback_route("\"description\":\"something\",\"complexity_tier\":\"unknown\"");
}

/* DESIGN §5.5: a standard task with no candidate does not go to an agent labelled ollama
 * without an endpoint; after the wait it goes to an agent that can run claude. */
Test(agents, a_standard_task_without_endpoints_never_goes_to_an_ollama_agent, .timeout = 30)
{
	ac_client *local_c, *cloud_c;
	ac_ts_bg local_f;
	ac_reply *r;
	uint64_t id;
	bool used = false;

	boot(wait_args);
	local_c = ac_ts_client(&srv);
	cloud_c = ac_ts_client(&srv);
	ac_ts_hello(local_c, "local", ",\"targets\":[\"ollama\"]");
	ac_ts_hello(cloud_c, "cloud", ",\"targets\":[\"claude\"]");
	/* the ollama agent waits through the whole fallback_wait_ms and beyond */
	ac_ts_bg_start(&local_f, local_c, "{\"op\":\"agent.fetch\",\"agent_id\":\"local\",\"wait_ms\":4000}");
	cr_assert(ac_ts_wait_held_fetches(cli, 1, 5000));
	id = ac_ts_submit(cli, "\"description\":\"add a settings page\",\"complexity_tier\":\"standard\"");
	r = ac_ts_fetch_reply(cloud_c, "cloud", 5000, false);
	cr_assert(ac_ts_has_task(r), "the claude agent got nothing after the fallback");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	ac_ts_expect_str(r, "task.routing_decision.target_type", "claude");
	cr_assert(ac_reply_bool(r, "task.routing_decision.fallback_used", &used) && used);
	ac_reply_free(r);
	r = ac_ts_bg_join(&local_f);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_not(ac_ts_has_task(r), "an ollama agent got a standard task while no endpoint was healthy");
	ac_reply_free(r);
	ac_client_close(local_c);
	ac_client_close(cloud_c);
}

/* Polls endpoint.list every 10 ms until endpoint id is healthy, or timeout_ms passes. */
static bool wait_endpoint_healthy(const char *id, int timeout_ms)
{
	long long deadline = ac_ts_now_ms() + timeout_ms;
	char status[32] = "";

	for (;;) {
		ac_reply *r = ac_ts_call(cli, "{\"op\":\"endpoint.list\"}");
		const msgpack_object *eps = ac_reply_get(r, "endpoints");
		cr_assert(ac_reply_ok(r), "endpoint.list: %s", ac_reply_message(r));
		status[0] = '\0';
		for (uint32_t i = 0; eps != NULL && eps->type == MSGPACK_OBJECT_ARRAY && i < eps->via.array.size;
		     i++) {
			char path[48], have[128];
			snprintf(path, sizeof(path), "endpoints[%u].id", i);
			if (ac_reply_str(r, path, have, sizeof(have)) && strcmp(have, id) == 0) {
				snprintf(path, sizeof(path), "endpoints[%u].status", i);
				ac_reply_str(r, path, status, sizeof(status));
			}
		}
		ac_reply_free(r);
		if (strcmp(status, "healthy") == 0) {
			return true;
		}
		if (ac_ts_now_ms() > deadline) {
			cr_log_warn("endpoint %s still '%s', not healthy, after %d ms", id, status, timeout_ms);
			return false;
		}
		usleep(10000);
	}
}

/* DESIGN §5.2-5.4 with a healthy Ollama endpoint (the fake of tests/support): standard
 * and unknown tasks go to target ollama at their own tier, on that endpoint, with the
 * configured default_model since the endpoint has it (original task_router_test 30). */
Test(agents, standard_and_unknown_tasks_go_to_a_healthy_endpoint, .timeout = 30)
{
	/* a long fallback_wait_ms: a task that is not placed at its own tier fails the test */
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"fallback_wait_ms=30000", NULL };
	static const char *const models[] = { "llama3.2:3b", "qwen2.5-coder:7b" };
	static const char *const fields[] = {
		"\"description\":\"add a settings page\",\"complexity_tier\":\"standard\"",
		"\"description\":\"something\",\"complexity_tier\":\"unknown\"",
	};
	fake_ollama *fo;
	ac_client *local_c;
	ac_reply *r;
	char ep[64];
	bool b = true;

	boot(args);
	cr_assert_not_null(fo = fake_ollama_start());
	fake_ollama_set_models(fo, models, 2);
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", (unsigned)fake_ollama_port(fo));
	r = ac_ts_call(cli, "{\"op\":\"endpoint.register\",\"host\":\"127.0.0.1\",\"port\":%u}",
	    (unsigned)fake_ollama_port(fo));
	cr_assert(ac_reply_ok(r), "endpoint.register: %s", ac_reply_message(r));
	ac_ts_expect_str(r, "endpoint.id", ep);
	ac_reply_free(r);
	cr_assert(wait_endpoint_healthy(ep, 5000), "the fake Ollama never became healthy");
	local_c = ac_ts_client(&srv);
	ac_ts_hello(local_c, "local", ",\"targets\":[\"ollama\"]");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t id = ac_ts_submit(cli, "%s", fields[i]), gen;
		r = ac_ts_fetch_reply(local_c, "local", 3000, true);
		cr_assert(ac_ts_has_task(r), "no task for %s", fields[i]);
		cr_assert_eq(ac_ts_u64(r, "task.id"), id);
		gen = ac_ts_u64(r, "task.generation");
		ac_ts_expect_str(r, "task.routing_decision.effective_tier", "standard");
		ac_ts_expect_str(r, "task.routing_decision.target_type", "ollama");
		ac_ts_expect_str(r, "task.routing_decision.selected_endpoint", ep);
		ac_ts_expect_str(r, "task.routing_decision.selected_model", "qwen2.5-coder:7b");
		ac_ts_expect_str(r, "task.routing_decision.estimated_cost_tier", "local");
		cr_assert(ac_reply_bool(r, "task.routing_decision.fallback_used", &b) && !b, "%s fell back",
		    fields[i]);
		cr_assert_eq(ac_ts_u64(r, "task.routing_decision.candidate_count"), 1);
		ac_reply_free(r);
		ac_ts_expect_ok(ac_ts_fenced(local_c, "task.complete", "local", id, gen, ""), "complete");
	}
	r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_eq(ac_ts_u64(r, "routing.by_tier.standard"), 2, "unknown is counted as standard");
	cr_assert_eq(ac_ts_u64(r, "routing.by_target.ollama"), 2);
	cr_assert_eq(ac_ts_u64(r, "routing.fallbacks"), 0);
	ac_reply_free(r);
	ac_client_close(local_c);
	fake_ollama_free(fo);
}

Test(agents, an_agent_gets_only_tasks_of_its_targets, .timeout = 30)
{
	uint64_t complex_id, trivial_id;

	boot(NULL);
	ac_ts_hello(cli, "side", ",\"targets\":[\"sidecar\"]");
	ac_ts_hello(cli, "cloud", ",\"targets\":[\"claude\"]");
	complex_id = ac_ts_submit(cli, "\"description\":\"redesign the billing system\"");
	cr_assert_eq(ac_ts_fetch(cli, "side", 300, false, NULL), 0, "a sidecar-only agent got a claude task");
	task_is(complex_id, "queued", NULL);
	trivial_id = ac_ts_submit(cli, "\"description\":\"bump version\"");
	cr_assert_eq(ac_ts_fetch(cli, "cloud", 2000, false, NULL), complex_id);
	cr_assert_eq(ac_ts_fetch(cli, "side", 2000, false, NULL), trivial_id);
}

/* scheduler_test 2-5, task_lifecycle_test 2: the capable agent gets the task. */
Test(agents, capability_matching_chooses_the_capable_agent, .timeout = 30)
{
	ac_client *code_c, *review_c;
	ac_ts_bg code_f, review_f;
	ac_reply *r;
	uint64_t id, any_id;

	boot(NULL);
	code_c = ac_ts_client(&srv);
	review_c = ac_ts_client(&srv);
	ac_ts_hello(cli, "cap-agent-code", ",\"capabilities\":[\"code\",\"test\"]");
	ac_ts_hello(cli, "cap-agent-review", ",\"capabilities\":[\"review\"]");
	/* nobody capable: it stays queued */
	id = ac_ts_submit(cli, "\"description\":\"needs code\",\"needed_capabilities\":[\"code\"]");
	cr_assert_eq(ac_ts_fetch(cli, "cap-agent-review", 300, false, NULL), 0);
	task_is(id, "queued", NULL);
	/* both wait: only the capable one gets it (a superset of the needed capabilities) */
	ac_ts_bg_start(&review_f, review_c,
	    "{\"op\":\"agent.fetch\",\"agent_id\":\"cap-agent-review\",\"wait_ms\":1500}");
	ac_ts_bg_start(&code_f, code_c,
	    "{\"op\":\"agent.fetch\",\"agent_id\":\"cap-agent-code\",\"wait_ms\":5000}");
	r = ac_ts_bg_join(&code_f);
	cr_assert(ac_ts_has_task(r), "the capable agent got nothing");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	ac_reply_free(r);
	r = ac_ts_bg_join(&review_f);
	cr_assert_not(ac_ts_has_task(r), "the agent without the capability got a task");
	ac_reply_free(r);
	task_is(id, "assigned", "cap-agent-code");
	/* no needed capabilities: any agent will do (scheduler_test 4) */
	any_id = ac_ts_submit(cli, "\"description\":\"anyone\"");
	cr_assert_eq(ac_ts_fetch(cli, "cap-agent-review", 2000, false, NULL), any_id);
	ac_client_close(code_c);
	ac_client_close(review_c);
}

/* scheduler_test 7-8: two idle agents, two tasks: one each. */
Test(agents, two_tasks_go_to_two_waiting_agents, .timeout = 30)
{
	ac_client *a_c, *b_c;
	ac_ts_bg a_f, b_f;
	ac_reply *ra, *rb;
	uint64_t t1, t2, ga, gb;

	boot(NULL);
	a_c = ac_ts_client(&srv);
	b_c = ac_ts_client(&srv);
	ac_ts_hello(cli, "a", "");
	ac_ts_hello(cli, "b", "");
	ac_ts_bg_start(&a_f, a_c, "{\"op\":\"agent.fetch\",\"agent_id\":\"a\",\"wait_ms\":5000}");
	ac_ts_bg_start(&b_f, b_c, "{\"op\":\"agent.fetch\",\"agent_id\":\"b\",\"wait_ms\":5000}");
	cr_assert(ac_ts_wait_held_fetches(cli, 2, 5000));
	t1 = ac_ts_submit(cli, "\"description\":\"one\"");
	t2 = ac_ts_submit(cli, "\"description\":\"two\"");
	ra = ac_ts_bg_join(&a_f);
	rb = ac_ts_bg_join(&b_f);
	cr_assert(ac_ts_has_task(ra) && ac_ts_has_task(rb), "an idle agent got nothing");
	ga = ac_ts_u64(ra, "task.id");
	gb = ac_ts_u64(rb, "task.id");
	cr_assert_neq(ga, gb);
	cr_assert((ga == t1 || ga == t2) && (gb == t1 || gb == t2));
	ac_reply_free(ra);
	ac_reply_free(rb);
	ac_client_close(a_c);
	ac_client_close(b_c);
}

/* DESIGN §3: one task at a time per agent. */
Test(agents, an_agent_with_a_task_is_not_given_a_second_one, .timeout = 30)
{
	ac_reply *r;
	const msgpack_object *tasks;
	uint64_t t1;

	boot(NULL);
	ac_ts_hello(cli, "solo", "");
	t1 = ac_ts_submit(cli, "\"description\":\"first\"");
	cr_assert_eq(ac_ts_fetch(cli, "solo", 1000, true, NULL), t1);
	ac_ts_submit(cli, "\"description\":\"second\"");
	/* one task at a time (DESIGN §3): the queue refuses a second one with conflict */
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.fetch\",\"agent_id\":\"solo\","
	                                 "\"wait_ms\":300,\"accept\":true}"),
	    AC_ECONFLICT, "agent_id", "second fetch of a busy agent");
	r = ac_ts_call(cli, "{\"op\":\"task.list\",\"assigned_to\":\"solo\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	tasks = ac_reply_get(r, "tasks");
	int in_flight = 0;
	for (uint32_t i = 0; i < tasks->via.array.size; i++) {
		char path[40], st[32];
		snprintf(path, sizeof(path), "tasks[%u].status", i);
		cr_assert(ac_reply_str(r, path, st, sizeof(st)));
		in_flight += strcmp(st, "assigned") == 0 || strcmp(st, "working") == 0;
	}
	ac_reply_free(r);
	cr_assert_leq(in_flight, 1, "agent 'solo' holds %d tasks at once", in_flight);
}

/* Each task's routing decision counts once (routing.by_tier, by_target, fallbacks): a
 * task proposed to a busy agent is given back by the queue (conflict) and goes to the
 * next agent with the decision it had, neither counted again nor falling back again. */
Test(agents, a_task_given_back_by_a_busy_agent_is_counted_once, .timeout = 30)
{
	uint64_t t1, t2;
	ac_reply *r;

	boot(NULL); /* fallback_wait_ms 0: a standard task falls back to claude at once */
	ac_ts_hello(cli, "solo", "");
	t1 = ac_ts_submit(cli, "\"description\":\"fix typo in readme\"");
	cr_assert_eq(ac_ts_fetch(cli, "solo", 1000, true, NULL), t1);
	t2 = ac_ts_submit(cli, "\"description\":\"add a settings page field for notifications\"");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"agent.fetch\",\"agent_id\":\"solo\","
	                                 "\"wait_ms\":300,\"accept\":true}"),
	    AC_ECONFLICT, "agent_id", "a busy agent's fetch");
	ac_ts_hello(cli, "next", "");
	r = ac_ts_fetch_reply(cli, "next", 1000, true);
	cr_assert(ac_ts_has_task(r), "the given-back task did not go to the next agent");
	cr_assert_eq(ac_ts_u64(r, "task.id"), t2);
	ac_ts_expect_str(r, "task.routing_decision.fallback_reason", "no_healthy_ollama_endpoints");
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_eq(ac_ts_u64(r, "routing.by_tier.trivial"), 1);
	cr_assert_eq(ac_ts_u64(r, "routing.by_tier.complex"), 1, "t2 counted %llu times",
	    ULL(ac_ts_u64(r, "routing.by_tier.complex")));
	cr_assert_eq(ac_ts_u64(r, "routing.by_target.claude"), 1);
	cr_assert_eq(ac_ts_u64(r, "routing.fallbacks"), 1, "t2 fell back %llu times",
	    ULL(ac_ts_u64(r, "routing.fallbacks")));
	ac_reply_free(r);
}

/* ---- order and delay ---- */

Test(agents, dispatch_order_is_priority_then_fifo, .timeout = 30)
{
	static const char *const prios[] = { "low", "normal", "urgent", "high", "urgent", "normal" };
	static const int want[] = { 2, 4, 3, 1, 5, 0 }; /* submission indexes in dispatch order */
	uint64_t ids[6], gen;

	boot(NULL);
	ac_ts_hello(cli, "w", "");
	for (int i = 0; i < 6; i++) {
		ids[i] = ac_ts_submit(cli, "\"description\":\"t%d\",\"priority\":\"%s\"", i, prios[i]);
	}
	for (int i = 0; i < 6; i++) {
		uint64_t got = ac_ts_fetch(cli, "w", 2000, true, &gen);
		cr_assert_eq(got, ids[want[i]], "dispatch %d: got task %llu, want %llu (%s)", i, ULL(got),
		    ULL(ids[want[i]]), prios[want[i]]);
		ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w", got, gen, ""), "complete");
	}
	cr_assert_eq(ac_ts_fetch(cli, "w", 0, true, NULL), 0);
}

Test(agents, delay_ms_defers_eligibility, .timeout = 30)
{
	ac_reply *r;
	int64_t not_before;
	uint64_t later, now_id, gen;

	boot(NULL);
	ac_ts_hello(cli, "w", "");
	r = ac_ts_call(cli, "{\"op\":\"task.submit\",\"description\":\"later\",\"priority\":\"urgent\","
	                    "\"delay_ms\":600}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	later = ac_ts_u64(r, "task.id");
	cr_assert(ac_reply_i64(r, "task.not_before_ms", &not_before));
	ac_reply_free(r);
	now_id = ac_ts_submit(cli, "\"description\":\"now\",\"priority\":\"low\"");
	/* the urgent one is not eligible yet: the low one goes first */
	cr_assert_eq(ac_ts_fetch(cli, "w", 2000, true, &gen), now_id);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w", now_id, gen, ""), "complete");
	if (ac_ts_wall_ms() < not_before - 100) {
		cr_assert_eq(ac_ts_fetch(cli, "w", 0, true, NULL), 0, "a delayed task came early");
	}
	cr_assert_eq(ac_ts_fetch(cli, "w", 5000, true, NULL), later);
	cr_assert_geq(ac_ts_wall_ms(), not_before, "delivered before not_before_ms");
}

/* ---- agent list, stats ---- */

Test(agents, agent_list_shows_profile_state_and_task, .timeout = 30)
{
	ac_reply *r;
	uint64_t id;

	boot(NULL);
	ac_ts_hello(cli, "builder-1", ",\"name\":\"Builder\",\"capabilities\":[\"code\",\"review\"],"
	                        "\"targets\":[\"ollama\",\"claude\"]");
	r = ac_ts_call(cli, "{\"op\":\"agent.list\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_eq(ac_reply_get(r, "agents")->via.array.size, 1);
	ac_ts_expect_str(r, "agents[0].agent_id", "builder-1");
	ac_ts_expect_str(r, "agents[0].name", "Builder");
	ac_ts_expect_str(r, "agents[0].state", "idle");
	ac_ts_expect_str(r, "agents[0].capabilities[1]", "review");
	ac_ts_expect_str(r, "agents[0].targets[1]", "claude");
	cr_assert(ac_reply_get(r, "agents[0].current_task") == NULL ||
	    ac_reply_get(r, "agents[0].current_task")->type == MSGPACK_OBJECT_NIL);
	ac_reply_free(r);
	id = ac_ts_submit(cli, "\"description\":\"Implement the new exporter\",\"complexity_tier\":\"complex\"");
	cr_assert_eq(ac_ts_fetch(cli, "builder-1", 2000, true, NULL), id);
	cr_assert(ac_ts_wait_agent_state(cli, "builder-1", "working", 3000));
	r = ac_ts_call(cli, "{\"op\":\"agent.list\"}");
	cr_assert_eq(ac_ts_u64(r, "agents[0].current_task"), id);
	ac_reply_free(r);
}

/* DESIGN §3: an agent's targets default to all three. */
Test(agents, agent_targets_default_to_all_three, .timeout = 30)
{
	ac_reply *r;
	const msgpack_object *t;

	boot(NULL);
	ac_ts_hello(cli, "plain", "");
	r = ac_ts_call(cli, "{\"op\":\"agent.list\"}");
	t = ac_reply_get(r, "agents[0].targets");
	cr_assert(t != NULL && t->type == MSGPACK_OBJECT_ARRAY && t->via.array.size == 3,
	    "agent.list shows no default targets for an agent that gave none");
	ac_reply_free(r);
}

Test(agents, stats_count_agents_by_state, .timeout = 30)
{
	ac_reply *r;
	uint64_t id;

	boot(NULL);
	ac_ts_hello(cli, "idle-1", "");
	ac_ts_hello(cli, "busy-1", "");
	ac_ts_hello(cli, "gone-1", "");
	id = ac_ts_submit(cli, "\"description\":\"keep busy\"");
	cr_assert_eq(ac_ts_fetch(cli, "busy-1", 2000, true, NULL), id);
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.bye\",\"agent_id\":\"gone-1\"}"), "bye");
	cr_assert(ac_ts_wait_agent_state(cli, "busy-1", "working", 3000));
	r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_eq(ac_ts_u64(r, "agents.by_state.idle"), 1);
	cr_assert_eq(ac_ts_u64(r, "agents.by_state.working"), 1);
	cr_assert_eq(ac_ts_u64(r, "agents.by_state.offline"), 1);
	cr_assert_eq(ac_ts_u64(r, "agents.by_state.assigned"), 0);
	ac_reply_free(r);
}

/* ---- tokens ---- */

static void mint(const char *body, char *out, size_t cap)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"token.create\",%s}", body);

	cr_assert(ac_reply_ok(r), "token.create %s: %s", body, ac_reply_message(r));
	cr_assert(ac_reply_str(r, "token", out, cap));
	ac_reply_free(r);
}

Test(agents, agent_tokens_act_only_for_their_agent, .timeout = 30)
{
	char agent_tok[128], client_tok[128];
	ac_client *agent, *client;
	uint64_t id, gen;

	boot(NULL);
	mint("\"role\":\"agent\",\"agent_id\":\"tok-agent\"", agent_tok, sizeof(agent_tok));
	mint("\"role\":\"client\"", client_tok, sizeof(client_tok));
	agent = ac_ts_client_with(&srv, agent_tok);
	client = ac_ts_client_with(&srv, client_tok);
	ac_ts_hello(agent, "tok-agent", "");
	ac_ts_hello(cli, "other", "");
	ac_ts_expect_err(ac_ts_call(agent, "{\"op\":\"agent.hello\",\"agent_id\":\"other\"}"), AC_EPERM, NULL,
	    "hello for another agent");
	ac_ts_expect_err(ac_ts_call(agent, "{\"op\":\"agent.fetch\",\"agent_id\":\"other\",\"wait_ms\":0}"),
	    AC_EPERM, NULL, "fetch for another agent");
	ac_ts_expect_err(ac_ts_call(agent, "{\"op\":\"agent.heartbeat\"}"), AC_EPERM, NULL,
	    "heartbeat without agent_id");
	ac_ts_expect_err(ac_ts_call(agent, "{\"op\":\"task.submit\",\"description\":\"x\"}"), AC_EPERM, NULL,
	    "an agent token submitting");
	id = ac_ts_submit(cli, "\"description\":\"for tok-agent\"");
	cr_assert_eq(ac_ts_fetch(agent, "tok-agent", 2000, true, &gen), id);
	ac_ts_expect_err(ac_ts_fenced(agent, "task.complete", "other", id, gen, ""), AC_EPERM, NULL,
	    "complete in another agent's name");
	/* a client token cannot call agent ops at all */
	ac_ts_expect_err(ac_ts_call(client, "{\"op\":\"agent.hello\",\"agent_id\":\"tok-agent\"}"), AC_EPERM,
	    NULL, "client hello");
	ac_ts_expect_err(ac_ts_call(client, "{\"op\":\"agent.fetch\",\"agent_id\":\"tok-agent\",\"wait_ms\":0}"),
	    AC_EPERM, NULL, "client fetch");
	ac_ts_expect_err(ac_ts_fenced(client, "task.complete", "tok-agent", id, gen, ""), AC_EPERM, NULL,
	    "client complete");
	ac_ts_expect_ok(ac_ts_fenced(agent, "task.complete", "tok-agent", id, gen, ""), "complete by its agent");
	ac_client_close(agent);
	ac_client_close(client);
}
