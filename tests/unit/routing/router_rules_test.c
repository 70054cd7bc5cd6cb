/* SPDX-License-Identifier: MIT
 * Tests for src/routing/router.c beyond the reference cases (those are in
 * router_test.c): candidate rules and ranking, model choice, slots and saturation,
 * allowed targets, fallback, the classification reason text and the encoded decision.
 * The shared helpers are in router_fixture.h.
 */
#include "router_fixture.h"

/* --- candidates, ranking and model choice --- */

Test(router, equal_scores_go_to_the_lower_index)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("a:1", 90), endpoint("b:1", 30), endpoint("c:1", 30),
		endpoint("d:1", 30) };
	ac_candidate out[4];

	cr_assert_eq(ac_router_rank(&t, eps, 4, &opts, out, 4), 4);
	cr_assert_eq(out[0].index, 1);
	cr_assert_eq(out[1].index, 2);
	cr_assert_eq(out[2].index, 3);
	cr_assert_eq(out[3].index, 0);
}

Test(router, rank_writes_at_most_cap_and_counts_all)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("a:1", 70), endpoint("b:1", 10), endpoint("c:1", 40),
		endpoint("d:1", 10) };
	ac_candidate out[3] = { [2] = { .index = 99 } };

	cr_assert_eq(ac_router_rank(&t, eps, 4, &opts, out, 2), 4);
	cr_assert_eq(out[0].index, 1);
	cr_assert_eq(out[1].index, 3);
	cr_assert_eq(out[2].index, 99, "nothing past cap");
	cr_assert_eq(ac_router_rank(&t, eps, 4, &opts, NULL, 0), 4);
}

static const char *const three_models[] = { "llama3:8b", QWEN, "mistral:7b" };

static ac_route_endpoint three_model_endpoint(void)
{
	ac_route_endpoint ep = endpoint("h:1", 50);

	ep.models = three_models;
	ep.model_count = 3;
	return ep;
}

Test(router, model_is_the_tasks_model_first)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint ep = three_model_endpoint();
	ac_route_opts o = opts;
	routed r;

	t.model = "mistral:7b";
	o.default_model = QWEN;
	r = route_at(&t, &ep, 1, &o, false, NULL);
	assert_ollama(&r, "h:1", 1);
	cr_assert_str_eq(r.d.model, "mistral:7b");
}

Test(router, model_is_the_default_when_the_endpoint_has_it)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint ep = three_model_endpoint();
	ac_route_opts o = opts;
	routed r;

	o.default_model = QWEN;
	r = route_at(&t, &ep, 1, &o, false, NULL);
	cr_assert_str_eq(r.d.model, QWEN);
}

Test(router, model_is_the_first_model_otherwise)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint ep = three_model_endpoint();
	ac_route_opts o = opts;
	routed r = route_at(&t, &ep, 1, &o, false, NULL);

	cr_assert_str_eq(r.d.model, "llama3:8b", "no default model");
	o.default_model = "phi3:mini";
	r = route_at(&t, &ep, 1, &o, false, NULL);
	cr_assert_str_eq(r.d.model, "llama3:8b", "the endpoint lacks the default");
}

/* An endpoint that lacks the task's model is no candidate, however idle. */
Test(router, tasks_model_must_be_on_the_endpoint)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("idle:1", 0), three_model_endpoint() };
	routed r;

	t.model = "mistral:7b";
	r = route(&t, eps, 2);
	assert_ollama(&r, "h:1", 1);
	t.model = "phi3:mini";
	r = route(&t, eps, 2);
	assert_pending(&r, "no_healthy_ollama_endpoints");
}

/* Warm is judged on the model the task would run there, not on any loaded model. */
Test(router, warm_follows_the_chosen_model)
{
	static const char *const loaded[] = { "llama3:8b" };
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("cold:1", 50), three_model_endpoint() };
	ac_candidate out[2];

	eps[1].loaded_models = loaded;
	eps[1].loaded_count = 1;
	t.model = QWEN;
	cr_assert_eq(ac_router_rank(&t, eps, 2, &opts, out, 2), 2);
	cr_assert_float_eq(out[0].warm, 1.0, EPS);
	cr_assert_float_eq(out[1].warm, 1.0, EPS);
	t.model = "llama3:8b";
	cr_assert_eq(ac_router_rank(&t, eps, 2, &opts, out, 2), 1);
	cr_assert_eq(out[0].index, 1);
	cr_assert_float_eq(out[0].warm, 1.15, EPS);
}

/* --- slots and saturation (DESIGN §5.3, §12.3) --- */

Test(router, full_endpoints_are_saturated)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("a:1", 10), endpoint("b:1", 10) };
	routed r;

	eps[0].in_flight = 4;
	eps[1].in_flight = 5;
	eps[1].is_healthy = true;
	r = route(&t, eps, 2);
	assert_pending(&r, "endpoints_saturated");
	cr_assert_str_eq(ac_router_pending_reason(&t, eps, 2, &opts), "endpoints_saturated");
	eps[1].in_flight = 3;
	r = route(&t, eps, 2);
	assert_ollama(&r, "b:1", 1);
	cr_assert_null(ac_router_pending_reason(&t, eps, 2, &opts));
}

/* A full endpoint that is also unhealthy does not make the tier "saturated". */
Test(router, saturated_needs_a_usable_endpoint)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("a:1", 10) };

	eps[0].in_flight = 4;
	eps[0].is_healthy = false;
	cr_assert_str_eq(ac_router_pending_reason(&t, eps, 1, &opts), "no_healthy_ollama_endpoints");
}

Test(router, zero_slots_means_the_default_of_4)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint ep = endpoint("a:1", 10);
	ac_route_opts o = { .now_ms = NOW };
	routed r;

	ep.in_flight = 3;
	r = route_at(&t, &ep, 1, &o, false, NULL);
	assert_ollama(&r, "a:1", 1);
	ep.in_flight = AC_ROUTER_DEFAULT_SLOTS;
	r = route_at(&t, &ep, 1, &o, false, NULL);
	assert_pending(&r, "endpoints_saturated");
	o.endpoint_slots = 1;
	ep.in_flight = 1;
	r = route_at(&t, &ep, 1, &o, false, NULL);
	assert_pending(&r, "endpoints_saturated");
}

/* DESIGN §12.3: the reference ignored in-flight work, so a burst piled onto one host. */
Test(router, in_flight_work_spreads_a_burst)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("a:1", 20), endpoint("b:1", 40) };
	routed r = route(&t, eps, 2);

	assert_ollama(&r, "a:1", 2);
	eps[0].in_flight = 1; /* 0.72 / 2 = 0.36 < 0.54 */
	r = route(&t, eps, 2);
	assert_ollama(&r, "b:1", 2);
}

/* --- allowed targets --- */

Test(router, standard_excluding_ollama_waits_until_its_fallback)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("a:1", 10) };
	routed r;

	t.allowed_targets = TARGET_BIT(AC_TARGET_SIDECAR) | TARGET_BIT(AC_TARGET_CLAUDE);
	r = route(&t, eps, 1);
	assert_pending(&r, "target_not_allowed");
	r = route_at(&t, eps, 1, &opts, true, NULL);
	assert_claude(&r);
	cr_assert_str_eq(r.d.fallback_reason, "target_not_allowed");
}

/* DESIGN §5.5: fallback never goes to a target the task excludes; it keeps waiting. */
Test(router, fallback_never_goes_to_an_excluded_target)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("a:1", 10) };
	routed r;

	t.allowed_targets = TARGET_BIT(AC_TARGET_OLLAMA);
	eps[0].is_healthy = false;
	r = route_at(&t, eps, 1, &opts, true, AC_PENDING_NO_ENDPOINTS);
	assert_pending(&r, "no_healthy_ollama_endpoints");
	eps[0].is_healthy = true;
	eps[0].in_flight = 4;
	r = route_at(&t, eps, 1, &opts, true, AC_PENDING_NO_ENDPOINTS);
	assert_pending(&r, "endpoints_saturated");
	eps[0].in_flight = 0;
	r = route_at(&t, eps, 1, &opts, true, NULL);
	assert_ollama(&r, "a:1", 1);
}

Test(router, trivial_excluding_sidecar_waits)
{
	ac_route_task t = task(AC_TIER_TRIVIAL);
	ac_route_endpoint eps[] = { endpoint("a:1", 10) };
	routed r;

	t.allowed_targets = TARGET_BIT(AC_TARGET_OLLAMA) | TARGET_BIT(AC_TARGET_CLAUDE);
	r = route(&t, eps, 1);
	assert_pending(&r, "target_not_allowed");
	r = route_at(&t, eps, 1, &opts, true, NULL);
	assert_pending(&r, "target_not_allowed");
}

Test(router, complex_excluding_claude_waits)
{
	ac_route_task t = task(AC_TIER_COMPLEX);
	routed r;

	t.allowed_targets = TARGET_BIT(AC_TARGET_OLLAMA);
	r = route_at(&t, NULL, 0, &opts, true, NULL);
	assert_pending(&r, "target_not_allowed");
	t.allowed_targets = TARGET_BIT(AC_TARGET_CLAUDE);
	r = route(&t, NULL, 0);
	assert_claude(&r);
}

/* --- fallback --- */

Test(router, trivial_never_falls_back_even_with_no_endpoints)
{
	ac_route_task t = task(AC_TIER_TRIVIAL);
	ac_route_endpoint eps[] = { endpoint("a:1", 10) };
	routed r;

	eps[0].is_healthy = false;
	r = route_at(&t, eps, 1, &opts, true, AC_PENDING_NO_ENDPOINTS);
	assert_sidecar(&r);
	cr_assert_str_eq(r.d.classification_reason,
	    "inferred:trivial (confidence 0.80, word_count=0, files=0)");
}

Test(router, unknown_falls_back_as_standard)
{
	ac_route_task t = task(AC_TIER_UNKNOWN);
	routed r = route(&t, NULL, 0);

	assert_pending(&r, "no_healthy_ollama_endpoints");
	r = route_at(&t, NULL, 0, &opts, true, NULL);
	assert_claude(&r);
	cr_assert_eq(r.d.fallback_from_tier, AC_TIER_STANDARD);
	cr_assert_str_eq(r.d.classification_reason,
	    "inferred:unknown (confidence 0.80, word_count=0, files=0) "
	    "[fallback from standard: no_healthy_ollama_endpoints]");
}

/* A due fallback does not beat an endpoint that is back: the own tier comes first. */
Test(router, due_fallback_still_prefers_a_candidate)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("a:1", 10) };
	routed r = route_at(&t, eps, 1, &opts, true, AC_PENDING_NO_ENDPOINTS);

	assert_ollama(&r, "a:1", 1);
	assert_no_fallback(&r.d);
}

Test(router, fallback_reason_given_by_the_caller_wins)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	routed r = route_at(&t, NULL, 0, &opts, true, AC_PENDING_SATURATED);

	assert_claude(&r);
	cr_assert_str_eq(r.d.fallback_reason, "endpoints_saturated");
	cr_assert_str_eq(r.d.classification_reason,
	    "inferred:standard (confidence 0.80, word_count=0, files=0) "
	    "[fallback from standard: endpoints_saturated]");
}

/* --- classification reason --- */

Test(router, classification_reason_format)
{
	ac_route_task t = { .tier = AC_TIER_COMPLEX, .is_explicit = true, .confidence = 0.9,
		.word_count = 4, .file_count = 0 };
	routed r = route(&t, NULL, 0);

	cr_assert_str_eq(r.d.classification_reason,
	    "explicit:complex (confidence 0.90, word_count=4, files=0)");
	t = (ac_route_task){ .tier = AC_TIER_TRIVIAL, .confidence = 0.7999999999999999,
		.word_count = 123, .file_count = 17 };
	r = route(&t, NULL, 0);
	cr_assert_str_eq(r.d.classification_reason,
	    "inferred:trivial (confidence 0.80, word_count=123, files=17)");
}

/* --- encoded decision --- */

Test(router, encode_round_trip_of_an_ollama_decision)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 80), endpoint("host2:11434", 20) };
	routed r = route(&t, eps, 2);
	decoded u;
	const msgpack_object *v;

	encode_decision(&r.d, &u);
	assert_str(u.map, "effective_tier", "standard");
	assert_str(u.map, "target_type", "ollama");
	assert_str(u.map, "selected_endpoint", "host2:11434");
	assert_str(u.map, "selected_model", QWEN);
	cr_assert_eq(get(u.map, "fallback_used")->via.boolean, false);
	assert_str(u.map, "fallback_from_tier", NULL);
	assert_str(u.map, "fallback_reason", NULL);
	v = get(u.map, "candidate_count");
	cr_assert_eq(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	cr_assert_eq(v->via.u64, 2);
	assert_str(u.map, "classification_reason",
	    "inferred:standard (confidence 0.80, word_count=0, files=0)");
	assert_str(u.map, "estimated_cost_tier", "local");
	v = get(u.map, "decided_at_ms");
	cr_assert_eq(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	cr_assert_eq(v->via.u64, (uint64_t)NOW);
	release(&u);
}

Test(router, encode_round_trip_of_sidecar_and_fallback_decisions)
{
	ac_route_task t = task(AC_TIER_TRIVIAL);
	routed r = route(&t, NULL, 0);
	decoded u;

	encode_decision(&r.d, &u);
	assert_str(u.map, "target_type", "sidecar");
	assert_str(u.map, "selected_endpoint", NULL);
	assert_str(u.map, "selected_model", NULL);
	assert_str(u.map, "estimated_cost_tier", "free");
	cr_assert_eq(get(u.map, "candidate_count")->via.u64, 0);
	release(&u);

	t = task(AC_TIER_STANDARD);
	r = route_at(&t, NULL, 0, &opts, true, NULL);
	encode_decision(&r.d, &u);
	assert_str(u.map, "effective_tier", "complex");
	assert_str(u.map, "selected_endpoint", "claude_api");
	assert_str(u.map, "selected_model", "claude");
	cr_assert_eq(get(u.map, "fallback_used")->via.boolean, true);
	assert_str(u.map, "fallback_from_tier", "standard");
	assert_str(u.map, "fallback_reason", "no_healthy_ollama_endpoints");
	release(&u);
}

Test(router, target_costs)
{
	cr_assert_str_eq(ac_target_cost(AC_TARGET_SIDECAR), "free");
	cr_assert_str_eq(ac_target_cost(AC_TARGET_OLLAMA), "local");
	cr_assert_str_eq(ac_target_cost(AC_TARGET_CLAUDE), "api");
}

/* A fallback already taken is decided again the same way: the tier above, with the
 * reason it had, whatever the endpoints say now; a tier with nothing above waits. */
Test(router, a_fallback_taken_routes_one_tier_up_again)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	routed r;

	r.is_decided = ac_router_route_fallen_back(&t, &opts, AC_PENDING_SATURATED, &r.d, &r.pending);
	cr_assert(r.is_decided);
	cr_assert_null(r.pending);
	assert_claude(&r);
	cr_assert(r.d.fallback_used);
	cr_assert_str_eq(r.d.fallback_reason, "endpoints_saturated");
	t = task(AC_TIER_TRIVIAL);
	cr_assert_not(ac_router_route_fallen_back(&t, &opts, AC_PENDING_NO_ENDPOINTS, &r.d, &r.pending));
	cr_assert_str_eq(r.pending, "target_not_allowed");
	t = task(AC_TIER_STANDARD);
	t.allowed_targets = TARGET_BIT(AC_TARGET_OLLAMA);
	cr_assert_not(ac_router_route_fallen_back(&t, &opts, AC_PENDING_NO_ENDPOINTS, &r.d, &r.pending));
	cr_assert_str_eq(r.pending, "target_not_allowed");
}
