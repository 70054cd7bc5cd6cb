/* SPDX-License-Identifier: MIT
 * Tests for src/routing/router.c against the reference: the TierResolver and TaskRouter
 * cases of the reference's task_router_test.exs (original-tests.md §2: 1-12, 24-35; the
 * scorer's 13-23 are in scorer_test.c) and the routing cases of scheduler_test.exs
 * (§3: 9, 10), with the DESIGN §12 changes asserted and explained. One Test per
 * reference case, numbered, so the port can be checked 1:1. Candidate rules, model
 * choice, saturation, allowed targets, fallback, reason text and the encoded decision
 * are in router_rules_test.c; the shared helpers in router_fixture.h.
 */
#include "routing/complexity.h"
#include "rt/clock.h"

#include "router_fixture.h"

/* --- TierResolver.resolve, reference cases 1-6 --- */

Test(router, ref01_trivial_resolves_to_trivial)
{
	ac_route_task t = task(AC_TIER_TRIVIAL);
	routed r = route(&t, NULL, 0);

	assert_sidecar(&r);
}

Test(router, ref02_standard_resolves_to_standard)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50) };
	routed r = route(&t, eps, 1);

	assert_ollama(&r, "host1:11434", 1);
}

Test(router, ref03_complex_resolves_to_complex)
{
	ac_route_task t = task(AC_TIER_COMPLEX);
	routed r = route(&t, NULL, 0);

	assert_claude(&r);
	assert_no_fallback(&r.d);
}

Test(router, ref04_unknown_defaults_to_standard)
{
	ac_route_task t = task(AC_TIER_UNKNOWN);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50) };
	routed r = route(&t, eps, 1);

	assert_ollama(&r, "host1:11434", 1);
}

/* Cases 5 (nil complexity) and 6 (complexity without effective_tier) do not apply:
 * the queue classifies every task at submit (DESIGN §5.1), so a routed task always
 * has a tier; ac_route_task.tier cannot be absent. */

/* --- TierResolver.fallback_up, reference cases 7-9 --- */

/* DESIGN §5.5 changes case 7: trivial (sidecar) has no health signal and never falls
 * back, so even with its fallback wait over it stays on the sidecar. */
Test(router, ref07_trivial_never_falls_back)
{
	ac_route_task t = task(AC_TIER_TRIVIAL);
	routed r = route_at(&t, NULL, 0, &opts, true, AC_PENDING_NO_ENDPOINTS);

	assert_sidecar(&r);
}

Test(router, ref08_standard_falls_back_up_to_complex)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	routed r = route_at(&t, NULL, 0, &opts, true, NULL);

	assert_claude(&r);
	cr_assert(r.d.fallback_used);
	cr_assert_eq(r.d.fallback_from_tier, AC_TIER_STANDARD);
	cr_assert_str_eq(r.d.fallback_reason, "no_healthy_ollama_endpoints");
}

Test(router, ref09_complex_has_no_further_escalation)
{
	ac_route_task t = task(AC_TIER_COMPLEX);
	routed r = route_at(&t, NULL, 0, &opts, true, "whatever");

	assert_claude(&r);
	assert_no_fallback(&r.d);
}

/* Cases 10-12 (fallback_down) do not apply: the reference's scheduler never used it,
 * and DESIGN §5.2 only ever falls back up. */

/* --- TaskRouter.route, reference cases 24-35 --- */

Test(router, ref24_trivial_routes_to_sidecar)
{
	ac_route_task t = task(AC_TIER_TRIVIAL);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50) };
	routed r = route(&t, eps, 1);

	assert_sidecar(&r);
}

Test(router, ref25_standard_routes_to_highest_scored_endpoint)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 80), endpoint("host2:11434", 20) };
	routed r = route(&t, eps, 2);

	assert_ollama(&r, "host2:11434", 2);
	cr_assert_str_eq(r.d.model, QWEN);
	assert_no_fallback(&r.d);
}

/* DESIGN §12.1: the reference returned fallback(standard, ...) and the scheduler then
 * assigned a tier-less ollama decision at once. Now the task waits with the reason; the
 * fallback happens only when its wait is over (ref08, sched10). */
Test(router, ref26_no_healthy_endpoints_waits_with_reason)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 10), endpoint("host2:11434", 10) };
	routed r;

	eps[0].is_healthy = false; /* unhealthy */
	eps[1].is_healthy = false; /* unknown: no health signal yet */
	r = route(&t, eps, 2);
	assert_pending(&r, "no_healthy_ollama_endpoints");
	cr_assert_str_eq(ac_router_pending_reason(&t, eps, 2, &opts), "no_healthy_ollama_endpoints");
}

Test(router, ref27_endpoints_without_models_are_excluded)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 10), endpoint("host2:11434", 50) };
	routed r;

	eps[0].model_count = 0;
	r = route(&t, eps, 2);
	assert_ollama(&r, "host2:11434", 1);
}

Test(router, ref28_only_healthy_endpoints_are_considered)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 10), endpoint("host2:11434", 90) };
	routed r;

	eps[0].is_healthy = false;
	r = route(&t, eps, 2);
	assert_ollama(&r, "host2:11434", 1);
}

Test(router, ref29_complex_routes_to_claude)
{
	ac_route_task t = task(AC_TIER_COMPLEX);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 10) };
	routed r = route(&t, eps, 1);

	assert_claude(&r);
	assert_no_fallback(&r.d);
}

/* The reason keeps the task's own tier ("unknown") while effective_tier is standard,
 * as the reference; our signals are always known, so "word_count=0" replaces "?". */
Test(router, ref30_unknown_routes_as_standard)
{
	ac_route_task t = task(AC_TIER_UNKNOWN);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 30) };
	routed r = route(&t, eps, 1);

	assert_ollama(&r, "host1:11434", 1);
	cr_assert_str_eq(r.d.classification_reason,
	    "inferred:unknown (confidence 0.80, word_count=0, files=0)");
}

Test(router, ref31_decision_has_all_required_fields)
{
	static const char *const keys[] = { "effective_tier", "target_type", "selected_endpoint",
		"selected_model", "fallback_used", "fallback_from_tier", "fallback_reason",
		"candidate_count", "classification_reason", "estimated_cost_tier", "decided_at_ms" };
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50) };
	routed r = route(&t, eps, 1);
	decoded u;

	cr_assert(r.is_decided);
	encode_decision(&r.d, &u);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		(void)get(u.map, keys[i]);
	}
	release(&u);
}

/* The router reads no clock: decided_at_ms is the now the caller passes in. */
Test(router, ref32_decided_at_is_a_recent_timestamp)
{
	ac_route_task t = task(AC_TIER_TRIVIAL);
	int64_t before = ac_clock_wall_ms();
	ac_route_opts o = { .now_ms = ac_clock_wall_ms() };
	routed r = route_at(&t, NULL, 0, &o, false, NULL);
	int64_t after = ac_clock_wall_ms();

	cr_assert(r.is_decided);
	cr_assert(before <= r.d.decided_at_ms && r.d.decided_at_ms <= after);
}

Test(router, ref33_classification_reason_has_source_and_tier)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50) };
	routed r = route(&t, eps, 1);

	cr_assert(r.is_decided);
	cr_assert_not_null(strstr(r.d.classification_reason, "standard"));
	cr_assert_str_eq(r.d.classification_reason,
	    "inferred:standard (confidence 0.80, word_count=0, files=0)");
}

Test(router, ref34_non_fallback_decision_has_fallback_used_false)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50) };
	routed r = route(&t, eps, 1);
	decoded u;

	assert_no_fallback(&r.d);
	encode_decision(&r.d, &u);
	cr_assert_eq(get(u.map, "fallback_used")->type, MSGPACK_OBJECT_BOOLEAN);
	cr_assert_eq(get(u.map, "fallback_used")->via.boolean, false);
	assert_str(u.map, "fallback_from_tier", NULL);
	assert_str(u.map, "fallback_reason", NULL);
	release(&u);
}

Test(router, ref35_candidate_count_counts_viable_endpoints)
{
	ac_route_task t = task(AC_TIER_STANDARD);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 30), endpoint("host2:11434", 40),
		endpoint("host3:11434", 10) };
	ac_candidate out[3];
	routed r;

	eps[2].is_healthy = false;
	r = route(&t, eps, 3);
	assert_ollama(&r, "host1:11434", 2);
	cr_assert_eq(ac_router_rank(&t, eps, 3, &opts, out, 3), 2);
	cr_assert_float_eq(out[0].score, 0.63, EPS);
	cr_assert_float_eq(out[1].score, 0.54, EPS);
}

/* --- scheduler_test.exs routing cases (original-tests.md §3) --- */

static ac_route_task classified(const char *desc, bool has_explicit, ac_tier explicit_tier)
{
	ac_complexity_input in = { .description = desc, .description_len = strlen(desc),
		.has_explicit = has_explicit, .explicit_tier = explicit_tier };
	ac_complexity c;

	ac_complexity_classify(&in, &c);
	return (ac_route_task){ .tier = c.effective_tier, .is_explicit = c.is_explicit_source,
		.confidence = c.confidence, .word_count = c.word_count, .file_count = c.file_count };
}

/* The reference classified "route me" trivial 1.0 by votes. DESIGN §5.1 (fix 2): votes
 * alone never make a task trivial, so it is standard at confidence 0.00 (no standard
 * vote), and with no endpoint registered it waits instead of going to the sidecar. */
Test(router, sched09_stored_decision_of_route_me)
{
	ac_route_task t = classified("route me", false, AC_TIER_UNKNOWN);
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50) };
	routed r = route(&t, NULL, 0);

	assert_pending(&r, "no_healthy_ollama_endpoints");
	r = route(&t, eps, 1);
	assert_ollama(&r, "host1:11434", 1);
	cr_assert_str_eq(r.d.classification_reason,
	    "inferred:standard (confidence 0.00, word_count=2, files=0)");
	assert_no_fallback(&r.d);
}

/* DESIGN §12.1: the reference assigned at once with a fallback-labelled ollama decision
 * (no endpoint). Now the task waits; after fallback_wait_ms it is routed one tier up,
 * to claude. Our reason carries the inferred confidence and signals (the explicit tier
 * has none of its own): 4 words, no standard vote -> 0.00. */
Test(router, sched10_standard_without_endpoints_falls_back_after_the_wait)
{
	ac_route_task t = classified("standard tier fallback test", true, AC_TIER_STANDARD);
	routed r = route(&t, NULL, 0);
	decoded u;

	assert_pending(&r, "no_healthy_ollama_endpoints");
	r = route_at(&t, NULL, 0, &opts, true, r.pending);
	assert_claude(&r);
	cr_assert(r.d.fallback_used);
	cr_assert_eq(r.d.fallback_from_tier, AC_TIER_STANDARD);
	cr_assert_str_eq(r.d.fallback_reason, "no_healthy_ollama_endpoints");
	cr_assert_str_eq(r.d.classification_reason,
	    "explicit:standard (confidence 0.00, word_count=4, files=0) "
	    "[fallback from standard: no_healthy_ollama_endpoints]");
	encode_decision(&r.d, &u);
	assert_str(u.map, "effective_tier", "complex");
	assert_str(u.map, "target_type", "claude");
	assert_str(u.map, "fallback_from_tier", "standard");
	assert_str(u.map, "estimated_cost_tier", "api");
	release(&u);
}
