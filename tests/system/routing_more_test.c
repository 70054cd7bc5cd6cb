/* SPDX-License-Identifier: MIT
 * System tests of routing, continued (DESIGN §5.3-5.5, topics alert.*): the tier alert,
 * live route.explain, model choice, agent targets and the agent next to the selected
 * endpoint. The fixture is tests/support/routing_fixture.h.
 */
#include "routing_fixture.h"

/* ---- the tier alert ---- */

/* DESIGN §5.5: alert.tier_down once endpoints are registered and none has been healthy
 * for tier_down_alert_ms (counted from the first registration); alert.tier_recovered on
 * the first healthy one. */
Test(routing, tier_down_alert_then_tier_recovered, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"tier_down_alert_ms=300", NULL };
	fake_ollama *fo;
	char ep[64], tier[32];
	long long before, after;
	int64_t since = 0, since2 = 0, ts = 0;
	uint64_t n = 0;
	ac_tevent *ev;

	boot(args);
	fo = add_fake(one_model, 1, ep, sizeof(ep));
	fake_ollama_set_mode(fo, FAKE_500);
	before = ac_ts_wall_ms();
	ac_ep_register(cli, fo);
	after = ac_ts_wall_ms();
	ev = ac_tsub_wait(sub, "alert.tier_down", NULL, NULL, 3000);
	cr_assert_not_null(ev, "no alert.tier_down within 3 s (tier_down_alert_ms 300)");
	cr_assert(ac_tevent_str(ev, "tier", tier, sizeof(tier)));
	cr_assert_str_eq(tier, "standard");
	cr_assert(ac_tevent_u64(ev, "endpoints", &n) && n == 1, "endpoints %llu", ULL(n));
	cr_assert(ac_tevent_u64(ev, "healthy", &n) && n == 0, "healthy %llu", ULL(n));
	cr_assert(ac_tevent_i64(ev, "down_since_ms", &since));
	cr_assert(since >= before - 5 && since <= after + 1000, "down_since_ms %lld, registered at %lld",
	    (long long)since, before);
	cr_assert(ac_tevent_i64(ev, "ts_ms", &ts));
	cr_log_info("alert.tier_down %lld ms after the condition began", (long long)(ts - since));
	cr_assert_geq(ts - since, 295, "alert.tier_down after %lld ms, before tier_down_alert_ms",
	    (long long)(ts - since));
	ac_tevent_free(ev);

	fake_ollama_set_mode(fo, FAKE_OK);
	ev = ac_tsub_wait(sub, "alert.tier_recovered", NULL, NULL, 3000);
	cr_assert_not_null(ev, "no alert.tier_recovered after the endpoint became healthy");
	cr_assert(ac_tevent_str(ev, "tier", tier, sizeof(tier)));
	cr_assert_str_eq(tier, "standard");
	cr_assert(ac_tevent_u64(ev, "healthy", &n) && n == 1, "healthy %llu", ULL(n));
	cr_assert(ac_tevent_u64(ev, "endpoints", &n) && n == 1);
	cr_assert(ac_tevent_i64(ev, "down_since_ms", &since2) && since2 == since);
	ac_tevent_free(ev);
	cr_assert(ac_ep_wait_status(cli, ep, "healthy", 1000));
}

/* ---- route.explain against the live registry ---- */

Test(routing, route_explain_ranks_the_live_endpoints_and_stores_nothing, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", NULL };
	static const char *const models[] = { "llama3.2:3b", DEFAULT_MODEL };
	static const char *const loaded[] = { DEFAULT_MODEL };
	fake_ollama *fo;
	char ep[64];
	double load = 0, f;
	long long deadline;
	bool b = true;
	ac_reply *r;

	boot(args);
	r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" STD_TASK "\"}");
	cr_assert(ac_reply_ok(r), "route.explain: %s", ac_reply_message(r));
	ac_ts_expect_str(r, "complexity.effective_tier", "standard");
	ac_ts_expect_str(r, "pending_reason", "no_healthy_ollama_endpoints");
	cr_assert_null(ac_reply_get(r, "decision"));
	cr_assert_eq(ac_reply_get(r, "candidates")->via.array.size, 0);
	ac_reply_free(r);

	fo = add_fake(models, 2, ep, sizeof(ep));
	fake_ollama_set_loaded(fo, loaded, NULL, 1);
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"box\",\"ollama_url\":"
	                                "\"http://127.0.0.1:%u\",\"targets\":[\"sidecar\"]}",
	                    (unsigned)fake_ollama_port(fo)),
	    "hello");
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"box\",\"resources\":{"
	                                "\"cpu_percent\":25.0,\"ram_total_bytes\":34359738368,"
	                                "\"vram_total_bytes\":25769803776,\"vram_used_bytes\":6442450944}}"),
	    "heartbeat");
	cr_assert(ac_ep_wait_status(cli, ep, "healthy", 3000));
	deadline = ac_ts_now_ms() + 3000;
	for (;;) {
		r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" STD_TASK "\"}");
		cr_assert(ac_reply_ok(r), "route.explain: %s", ac_reply_message(r));
		if (ac_reply_f64(r, "candidates[0].factors.load", &load) && fabs(load - 0.75) < 1e-9) {
			break;
		}
		ac_reply_free(r);
		cr_assert_lt(ac_ts_now_ms(), deadline, "route.explain never reflected cpu 25 (load %g)", load);
		usleep(10000);
	}
	expect_ollama(r, "decision", ep, DEFAULT_MODEL);
	cr_assert_eq(ac_ts_u64(r, "decision.candidate_count"), 1);
	cr_assert_null(ac_reply_get(r, "pending_reason"));
	cr_assert_eq(ac_reply_get(r, "candidates")->via.array.size, 1);
	ac_ts_expect_str(r, "candidates[0].endpoint", ep);
	/* DESIGN §5.3 factors: 32 GiB -> capacity 1.5; vram 6/24 used -> 0.95; model loaded -> warm */
	static const struct { const char *path; double want; } factors[] = {
		{ "candidates[0].factors.load", 0.75 }, { "candidates[0].factors.capacity", 1.5 },
		{ "candidates[0].factors.vram", 0.95 }, { "candidates[0].factors.warm", 1.15 },
		{ "candidates[0].factors.affinity", 1.0 }, { "candidates[0].factors.queue", 1.0 },
		{ "candidates[0].score", 0.75 * 1.5 * 0.95 * 1.15 },
	};
	for (size_t i = 0; i < sizeof(factors) / sizeof(factors[0]); i++) {
		cr_assert(ac_reply_f64(r, factors[i].path, &f), "missing %s", factors[i].path);
		cr_assert(fabs(f - factors[i].want) < 1e-6, "%s is %g, want %g", factors[i].path, f, factors[i].want);
	}
	ac_reply_free(r);

	/* the task's model wins (not loaded: warm 1.0); a model nobody has waits */
	r = ac_ts_call(cli,
	    "{\"op\":\"route.explain\",\"description\":\"" STD_TASK "\",\"model\":\"llama3.2:3b\"}");
	ac_ts_expect_str(r, "decision.selected_model", "llama3.2:3b");
	cr_assert(ac_reply_f64(r, "candidates[0].factors.warm", &f) && fabs(f - 1.0) < 1e-9, "warm %g", f);
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" STD_TASK "\",\"model\":\"nope:1b\"}");
	ac_ts_expect_str(r, "pending_reason", "no_healthy_ollama_endpoints");
	cr_assert_eq(ac_reply_get(r, "candidates")->via.array.size, 0);
	ac_reply_free(r);
	/* other tiers: no candidates */
	r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" TRIVIAL_TASK "\"}");
	ac_ts_expect_str(r, "decision.target_type", "sidecar");
	cr_assert(ac_reply_bool(r, "decision.fallback_used", &b) && !b);
	cr_assert_eq(ac_reply_get(r, "candidates")->via.array.size, 0);
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" COMPLEX_TASK "\"}");
	ac_ts_expect_str(r, "decision.target_type", "claude");
	ac_ts_expect_str(r, "decision.selected_endpoint", "claude_api");
	ac_reply_free(r);
	/* validated as task.submit */
	ac_ts_expect_err(
	    ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"x\",\"priority\":\"soon\"}"),
	    AC_EINVAL, "priority", "route.explain with a bad priority");
	/* nothing stored */
	r = ac_ts_call(cli, "{\"op\":\"task.list\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_eq(ac_reply_get(r, "tasks")->via.array.size, 0, "route.explain stored a task");
	ac_reply_free(r);
}

/* ---- model choice and agent targets ---- */

/* DESIGN §5.3: model = the task's model, else default_model when the endpoint has it,
 * else the endpoint's first model; only endpoints with the task's model are candidates. */
Test(routing, the_selected_model_is_the_tasks_else_the_default_else_the_first, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"fallback_wait_ms=30000", NULL };
	static const char *const a_models[] = { "llama3.2:3b", DEFAULT_MODEL };
	static const char *const b_models[] = { "mistral:7b", "phi3:mini" };
	static const struct { const char *extra; int ep; const char *model; } cases[] = {
		{ "", 0, DEFAULT_MODEL },                         /* tie -> a (registered first), default */
		{ ",\"model\":\"mistral:7b\"", 1, "mistral:7b" },  /* only b has it */
		{ ",\"model\":\"llama3.2:3b\"", 0, "llama3.2:3b" },
	};
	fake_ollama *a, *b;
	char eps[2][64];
	uint64_t id, gen;
	ac_reply *r;

	boot(args);
	a = add_fake(a_models, 2, eps[0], sizeof(eps[0]));
	b = add_fake(b_models, 2, eps[1], sizeof(eps[1]));
	ac_ep_register(cli, a);
	ac_ep_register(cli, b);
	cr_assert(ac_ep_wait_status(cli, eps[0], "healthy", 3000));
	cr_assert(ac_ep_wait_status(cli, eps[1], "healthy", 3000));
	ac_ts_hello(cli, "w", ",\"targets\":[\"ollama\"]");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		id = ac_ts_submit(cli, "\"description\":\"" STD_TASK "\"%s", cases[i].extra);
		r = ac_ts_fetch_reply(cli, "w", 2000, true);
		cr_assert(ac_ts_has_task(r), "no task for case %zu", i);
		cr_assert_eq(ac_ts_u64(r, "task.id"), id);
		expect_ollama(r, "task.routing_decision", eps[cases[i].ep], cases[i].model);
		gen = ac_ts_u64(r, "task.generation");
		ac_reply_free(r);
		ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w", id, gen, ""), "complete");
	}
	/* without a: b has no default model, so its first one */
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"endpoint.remove\",\"id\":\"%s\"}", eps[0]), "remove a");
	id = submit_std();
	r = ac_ts_fetch_reply(cli, "w", 2000, true);
	cr_assert(ac_ts_has_task(r), "no task after a was removed");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	expect_ollama(r, "task.routing_decision", eps[1], "mistral:7b");
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w", id, gen, ""), "complete");
	/* a model no endpoint has: it waits */
	id = ac_ts_submit(cli, "\"description\":\"" STD_TASK "\",\"model\":\"nope:1b\"");
	wait_pending(id, "no_healthy_ollama_endpoints", 2000);
	cr_assert_eq(ac_ts_fetch(cli, "w", 200, true, NULL), 0);
}

/* DESIGN §5.5, §12.2: an agent whose targets are ["ollama"] gets only tasks routed to
 * ollama; one with ["claude"] gets no standard task while an endpoint is healthy. */
Test(routing, an_agent_with_targets_ollama_gets_only_ollama_tasks, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"fallback_wait_ms=30000", NULL };
	char ep[64];
	uint64_t cx, triv, std, gen, got;
	ac_reply *r;

	boot(args);
	healthy_fake(ep, sizeof(ep));
	ac_ts_hello(cli, "loc", ",\"targets\":[\"ollama\"]");
	ac_ts_hello(cli, "cloud", ",\"targets\":[\"claude\"]");
	cx = ac_ts_submit(cli, "\"description\":\"" COMPLEX_TASK "\"");
	triv = ac_ts_submit(cli, "\"description\":\"" TRIVIAL_TASK "\"");
	std = submit_std();
	/* older tasks of other targets are skipped */
	r = ac_ts_fetch_reply(cli, "loc", 2000, true);
	cr_assert(ac_ts_has_task(r), "the ollama agent got nothing");
	cr_assert_eq(ac_ts_u64(r, "task.id"), std, "the ollama agent got task %llu",
	    ULL(ac_ts_u64(r, "task.id")));
	expect_ollama(r, "task.routing_decision", ep, DEFAULT_MODEL);
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "loc", std, gen, ""), "complete");
	cr_assert_eq(ac_ts_fetch(cli, "loc", 300, true, NULL), 0, "the ollama agent got a non-ollama task");
	/* a standard task while the endpoint is healthy is no claude task */
	std = submit_std();
	got = ac_ts_fetch(cli, "cloud", 2000, true, NULL);
	cr_assert_eq(got, cx, "the claude agent got %llu, want the complex task %llu", ULL(got), ULL(cx));
	expect_status(std, "queued");
	expect_status(triv, "queued");
}

/* DESIGN §5.5 agent choice: "For ollama, prefer the agent whose ollama_url host and port
 * equal the selected endpoint". Both agents wait (the one next to the worse endpoint
 * longer); the task goes to the better endpoint and to the agent next to it. */
Test(routing, the_agent_next_to_the_selected_endpoint_is_preferred, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"fallback_wait_ms=30000", NULL };
	char a_ep[64], b_ep[64], who[32] = "", ep[64] = "";
	double sa, sb;
	ac_client *a_c, *b_c;
	ac_ts_bg a_f, b_f;
	ac_reply *ra, *rb;
	uint64_t id;

	boot(args);
	two_endpoints(a_ep, b_ep, sizeof(a_ep), "[\"ollama\"]", &sa, &sb);
	a_c = ac_ts_client(&srv);
	b_c = ac_ts_client(&srv);
	/* each agent's connection is the one of its last hello or fetch */
	ac_ts_bg_start(&b_f, b_c,
	    "{\"op\":\"agent.fetch\",\"agent_id\":\"near-b\",\"wait_ms\":1500,\"accept\":true}");
	cr_assert(ac_ts_wait_held_fetches(cli, 1, 2000));
	ac_ts_bg_start(&a_f, a_c,
	    "{\"op\":\"agent.fetch\",\"agent_id\":\"near-a\",\"wait_ms\":1500,\"accept\":true}");
	cr_assert(ac_ts_wait_held_fetches(cli, 2, 2000));
	id = submit_std();
	ra = ac_ts_bg_join(&a_f);
	rb = ac_ts_bg_join(&b_f);
	if (ac_ts_has_task(ra)) {
		snprintf(who, sizeof(who), "near-a");
		ac_reply_str(ra, "task.routing_decision.selected_endpoint", ep, sizeof(ep));
	} else if (ac_ts_has_task(rb)) {
		snprintf(who, sizeof(who), "near-b");
		ac_reply_str(rb, "task.routing_decision.selected_endpoint", ep, sizeof(ep));
	}
	ac_reply_free(ra);
	ac_reply_free(rb);
	ac_client_close(a_c);
	ac_client_close(b_c);
	cr_log_info("task %llu went to %s on %s (scores: a %.4f, b %.4f)", ULL(id), who, ep, sa, sb);
	cr_assert_str_eq(ep, a_ep, "the task went to %s (agent %s), not to the best endpoint %s", ep, who, a_ep);
	cr_assert_str_eq(who, "near-a", "the task went to %s, not to the agent next to %s", who, a_ep);
}

/* Polls endpoint id's in_flight (every 10 ms, up to 3 s) until it is want: the registry
 * shows the scheduler's count as of its last batch. */
static bool in_flight_becomes(const char *id, uint64_t want)
{
	uint64_t n = UINT64_MAX;

	for (int i = 0; i < 300; i++) {
		if (ac_ep_u64(cli, id, "in_flight", &n) && n == want) {
			return true;
		}
		usleep(10 * 1000);
	}
	cr_log_error("in_flight of %s is %llu, not %llu", id, ULL(n), ULL(want));
	return false;
}

/* DESIGN §3: an endpoint record shows in_flight, the tasks placed on it and not
 * finished, as the scheduler counts them for its slots and scores. */
Test(routing, endpoint_records_show_their_tasks_in_flight, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", NULL };
	char ep[64], got[64];
	uint64_t first, gen;
	ac_reply *r;

	boot(args);
	healthy_fake(ep, sizeof(ep));
	cr_assert(in_flight_becomes(ep, 0));
	submit_std();
	submit_std();
	first = worker_takes(0, got, sizeof(got));
	cr_assert_str_eq(got, ep);
	worker_takes(1, got, sizeof(got));
	cr_assert(in_flight_becomes(ep, 2));
	r = ac_ts_get(cli, first);
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w00", first, gen, ""), "complete");
	cr_assert(in_flight_becomes(ep, 1), "a finished task still counts");
}

/* The next task handed out with a completion (task.complete + fetch_wait_ms) is in
 * flight like any other: the endpoint counts it, one out and one in. */
Test(routing, a_task_delivered_with_a_completion_counts_in_flight, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", NULL };
	char ep[64], got[64];
	uint64_t first, second, gen;
	ac_reply *r;

	boot(args);
	healthy_fake(ep, sizeof(ep));
	submit_std();
	first = worker_takes(0, got, sizeof(got));
	cr_assert(in_flight_becomes(ep, 1));
	second = submit_std();
	r = ac_ts_get(cli, first);
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	r = ac_ts_fenced(cli, "task.complete", "w00", first, gen,
	    ",\"fetch_wait_ms\":2000,\"accept\":true");
	cr_assert(ac_reply_ok(r), "complete: %s", ac_reply_message(r));
	cr_assert(ac_ts_has_task(r), "the completion brought no next task");
	cr_assert_eq(ac_ts_u64(r, "task.id"), second);
	ac_reply_free(r);
	cr_assert(in_flight_becomes(ep, 1), "the task delivered with the completion is not counted");
	r = ac_ts_get(cli, second);
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w00", second, gen, ""), "complete");
	cr_assert(in_flight_becomes(ep, 0));
}

/* As above, with the next task submitted while the completion's fetch is held. */
Test(routing, a_task_delivered_to_a_held_completion_fetch_counts_in_flight, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", NULL };
	char ep[64], got[64];
	uint64_t first, second, gen;
	ac_client *agent_c;
	ac_ts_bg bg;
	ac_reply *r;

	boot(args);
	healthy_fake(ep, sizeof(ep));
	submit_std();
	first = worker_takes(0, got, sizeof(got));
	r = ac_ts_get(cli, first);
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	agent_c = ac_ts_client(&srv);
	ac_ts_bg_start(&bg, agent_c, "{\"op\":\"task.complete\",\"agent_id\":\"w00\",\"id\":%llu,"
	    "\"generation\":%llu,\"fetch_wait_ms\":5000}", ULL(first), ULL(gen));
	cr_assert(ac_ts_wait_held_fetches(cli, 1, 3000));
	second = submit_std();
	r = ac_ts_bg_join(&bg);
	cr_assert(ac_reply_ok(r), "complete: %s", ac_reply_message(r));
	cr_assert(ac_ts_has_task(r), "the completion brought no next task");
	cr_assert_eq(ac_ts_u64(r, "task.id"), second);
	ac_reply_free(r);
	cr_assert(in_flight_becomes(ep, 1), "the task delivered with the completion is not counted");
	ac_client_close(agent_c);
}
