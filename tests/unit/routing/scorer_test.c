/* SPDX-License-Identifier: MIT
 * Tests for src/routing/scorer.c: the LoadScorer cases 13-23 of the reference's
 * task_router_test.exs (original-tests.md §2) with their computed numbers, ranked
 * through ac_router_rank as score_and_rank did; then every factor of DESIGN §5.3 at its
 * default and at its clamps, stale resources, and the §12.3 departures (clamping, warm
 * from loaded models, affinity, in-flight). Over 500 lines: one Test per reference case.
 */
#include <math.h>

#include "router_fixture.h"
#include "routing/scorer.h"

static const char *const other_models[] = { "other-model:7b" };

/* An endpoint that reported no resources at all. */
static ac_route_endpoint bare_endpoint(const char *id)
{
	return (ac_route_endpoint){
		.id = id, .is_healthy = true, .models = qwen_models, .model_count = 1,
	};
}

static const ac_route_task standard_task = { .tier = AC_TIER_STANDARD, .confidence = 0.8 };

static ac_candidate score(const ac_route_endpoint *ep, const char *model)
{
	ac_candidate c = { .index = 7 };

	ac_scorer_score(ep, model, NOW, &c);
	cr_assert_eq(c.index, 7, "the scorer must leave index alone");
	return c;
}

static size_t rank(const ac_route_endpoint *eps, size_t n, const ac_route_opts *o,
    ac_candidate *out, size_t cap)
{
	return ac_router_rank(&standard_task, eps, n, o, out, cap);
}

static void assert_factors(const ac_candidate *c, double load, double capacity, double vram,
    double warm, double affinity, double queue)
{
	cr_assert_float_eq(c->load, load, EPS, "load %.17g, want %.17g", c->load, load);
	cr_assert_float_eq(c->capacity, capacity, EPS, "capacity %.17g, want %.17g", c->capacity,
	    capacity);
	cr_assert_float_eq(c->vram, vram, EPS, "vram %.17g, want %.17g", c->vram, vram);
	cr_assert_float_eq(c->warm, warm, EPS, "warm %.17g, want %.17g", c->warm, warm);
	cr_assert_float_eq(c->affinity, affinity, EPS, "affinity %.17g, want %.17g", c->affinity,
	    affinity);
	cr_assert_float_eq(c->queue, queue, EPS, "queue %.17g, want %.17g", c->queue, queue);
	cr_assert_float_eq(c->score, load * capacity * vram * warm * affinity * queue, EPS,
	    "score %.17g is not the product of the factors", c->score);
}

/* --- LoadScorer.score_and_rank, reference cases 13-23 --- */

Test(scorer, ref13_single_endpoint_with_low_load_scores_high)
{
	ac_route_endpoint eps[] = { endpoint("host1:11434", 20) };
	ac_candidate out[1];

	cr_assert_eq(rank(eps, 1, &opts, out, 1), 1);
	cr_assert_eq(out[0].index, 0);
	cr_assert_gt(out[0].score, 0.5);
	cr_assert_float_eq(out[0].score, 0.72, EPS, "score %.17g", out[0].score);
	assert_factors(&out[0], 0.8, 1.0, 0.9, 1.0, 1.0, 1.0);
}

Test(scorer, ref14_single_endpoint_with_high_load_scores_low)
{
	ac_route_endpoint eps[] = { endpoint("host1:11434", 90) };
	ac_candidate out[1];

	cr_assert_eq(rank(eps, 1, &opts, out, 1), 1);
	cr_assert_lt(out[0].score, 0.5);
	cr_assert_float_eq(out[0].score, 0.09, EPS, "score %.17g", out[0].score);
}

Test(scorer, ref15_less_loaded_endpoint_ranks_first)
{
	ac_route_endpoint eps[] = { endpoint("host1:11434", 80), endpoint("host2:11434", 20) };
	ac_candidate out[2];

	cr_assert_eq(rank(eps, 2, &opts, out, 2), 2);
	cr_assert_eq(out[0].index, 1, "host2 first");
	cr_assert_eq(out[1].index, 0);
	cr_assert_float_eq(out[0].score, 0.72, EPS);
	cr_assert_float_eq(out[1].score, 0.18, EPS);
}

/* DESIGN §12.3 changes the rule: the reference gave 1.15 to an endpoint that merely
 * *lists* the default model (and never passed a default, so it was dead). Now warm means
 * the chosen model is *loaded* (/api/ps). The port keeps the reference's setup and adds
 * host1's loaded model; the ratio is the same 1.15. Listing alone is checked below. */
Test(scorer, ref16_warm_model_gets_1_15x)
{
	static const char *const loaded[] = { QWEN };
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50), endpoint("host2:11434", 50) };
	ac_route_opts o = opts;
	ac_candidate out[2];

	o.default_model = QWEN;
	eps[0].loaded_models = loaded;
	eps[0].loaded_count = 1;
	eps[1].models = other_models;
	cr_assert_eq(rank(eps, 2, &o, out, 2), 2);
	cr_assert_eq(out[0].index, 0);
	cr_assert_float_eq(out[0].score, 0.5175, EPS, "score %.17g", out[0].score);
	cr_assert_float_eq(out[1].score, 0.45, EPS);
	cr_assert_float_eq(out[0].score / out[1].score, 1.15, 0.01);
	cr_assert_str_eq(out[0].model, QWEN);
	cr_assert_str_eq(out[1].model, "other-model:7b");
}

Test(scorer, listing_the_default_model_without_loading_it_is_not_warm)
{
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50), endpoint("host2:11434", 50) };
	ac_route_opts o = opts;
	ac_candidate out[2];

	o.default_model = QWEN;
	eps[1].models = other_models;
	cr_assert_eq(rank(eps, 2, &o, out, 2), 2);
	cr_assert_float_eq(out[0].warm, 1.0, EPS);
	cr_assert_float_eq(out[0].score, out[1].score, EPS);
	cr_assert_eq(out[0].index, 0, "a tie goes to the lower index");
}

/* DESIGN §12.3: the reference looked for r.repo in the resource entry, which no one
 * wrote (dead factor). The endpoint's last service of the task's repo now drives it. */
Test(scorer, ref17_repo_affinity_gives_5_percent)
{
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50), endpoint("host2:11434", 50) };
	ac_candidate out[2];

	eps[0].last_repo_at_ms = NOW - 60 * 1000;
	cr_assert_eq(rank(eps, 2, &opts, out, 2), 2);
	cr_assert_eq(out[0].index, 0);
	cr_assert_float_eq(out[0].score, 0.4725, EPS, "score %.17g", out[0].score);
	cr_assert_float_eq(out[1].score, 0.45, EPS);
	cr_assert_float_eq(out[0].score / out[1].score, 1.05, 0.01);
}

Test(scorer, ref18_host_with_more_ram_scores_higher)
{
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50), endpoint("host2:11434", 50) };
	ac_candidate out[2];

	eps[0].ram_total_bytes = 32 * GIB;
	eps[1].ram_total_bytes = 8 * GIB;
	cr_assert_eq(rank(eps, 2, &opts, out, 2), 2);
	cr_assert_eq(out[0].index, 0);
	cr_assert_float_eq(out[0].capacity, 1.5, EPS);
	cr_assert_float_eq(out[1].capacity, 0.5, EPS);
	cr_assert_float_eq(out[0].score, 0.675, EPS);
	cr_assert_float_eq(out[1].score, 0.225, EPS);
}

Test(scorer, ref19_capacity_capped_at_1_5)
{
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50), endpoint("host2:11434", 50) };
	ac_candidate out[2];

	eps[0].ram_total_bytes = 128 * GIB;
	eps[1].ram_total_bytes = 24 * GIB;
	cr_assert_eq(rank(eps, 2, &opts, out, 2), 2);
	cr_assert_float_eq(out[0].score, 0.675, EPS);
	cr_assert_float_eq(out[1].score, 0.675, EPS);
	cr_assert_eq(out[0].index, 0, "equal scores keep registration order");
}

Test(scorer, ref20_more_free_vram_scores_higher)
{
	ac_route_endpoint eps[] = { endpoint("host1:11434", 50), endpoint("host2:11434", 50) };
	ac_candidate out[2];

	for (int i = 0; i < 2; i++) {
		eps[i].has_vram_total = eps[i].has_vram_used = true;
		eps[i].vram_total_bytes = 8000000000u;
	}
	eps[0].vram_used_bytes = 1000000000u;
	eps[1].vram_used_bytes = 7000000000u;
	cr_assert_eq(rank(eps, 2, &opts, out, 2), 2);
	cr_assert_eq(out[0].index, 0);
	cr_assert_float_eq(out[0].vram, 0.975, EPS);
	cr_assert_float_eq(out[1].vram, 0.825, EPS);
	cr_assert_float_eq(out[0].score, 0.4875, EPS);
	cr_assert_float_eq(out[1].score, 0.4125, EPS);
}

Test(scorer, ref21_missing_resource_data_uses_neutral_defaults)
{
	ac_route_endpoint eps[] = { bare_endpoint("host1:11434") };
	ac_candidate out[1];

	cr_assert_eq(rank(eps, 1, &opts, out, 1), 1);
	cr_assert_gt(out[0].score, 0.1);
	assert_factors(&out[0], 0.5, 1.0, 0.9, 1.0, 1.0, 1.0);
	cr_assert_float_eq(out[0].score, 0.45, EPS);
}

Test(scorer, ref22_empty_candidates_return_nothing)
{
	ac_candidate out[1] = { { .index = 99 } };

	cr_assert_eq(rank(NULL, 0, &opts, out, 1), 0);
	cr_assert_eq(out[0].index, 99, "nothing written");
	cr_assert_eq(rank(NULL, 0, &opts, NULL, 0), 0);
}

/* "All five numeric fields nil": has_* false while the values hold garbage. */
Test(scorer, ref23_all_resource_values_nil_use_neutral_defaults)
{
	ac_route_endpoint ep = bare_endpoint("host1:11434");
	ac_candidate c;

	ep.cpu_percent = 99;
	ep.ram_total_bytes = 1;
	ep.vram_used_bytes = 7;
	ep.vram_total_bytes = 8;
	ep.reported_at_ms = NOW;
	c = score(&ep, QWEN);
	assert_factors(&c, 0.5, 1.0, 0.9, 1.0, 1.0, 1.0);
	cr_assert_float_eq(c.score, 0.45, EPS);
}

/* --- each factor: default and clamps (DESIGN §5.3, §12.3) --- */

Test(scorer, load_is_one_minus_cpu_share)
{
	ac_route_endpoint ep = endpoint("h:1", 25);

	cr_assert_float_eq(score(&ep, QWEN).load, 0.75, EPS);
	ep.cpu_percent = 0;
	cr_assert_float_eq(score(&ep, QWEN).load, 1.0, EPS);
	ep.cpu_percent = 100;
	cr_assert_float_eq(score(&ep, QWEN).load, 0.0, EPS);
}

/* The reference let cpu 150 give load -0.5 (a negative score ranks below zero). */
Test(scorer, load_clamps_cpu_to_0_100)
{
	ac_route_endpoint ep = endpoint("h:1", 150);

	cr_assert_float_eq(score(&ep, QWEN).load, 0.0, EPS);
	cr_assert_float_eq(score(&ep, QWEN).score, 0.0, EPS);
	ep.cpu_percent = -20;
	cr_assert_float_eq(score(&ep, QWEN).load, 1.0, EPS);
}

Test(scorer, load_unknown_or_nan_cpu_counts_as_50)
{
	ac_route_endpoint ep = endpoint("h:1", 10);

	ep.has_cpu = false;
	cr_assert_float_eq(score(&ep, QWEN).load, 0.5, EPS);
	ep.has_cpu = true;
	ep.cpu_percent = NAN;
	cr_assert_float_eq(score(&ep, QWEN).load, 0.5, EPS);
}

Test(scorer, capacity_is_ram_over_16_gib_capped_at_1_5)
{
	ac_route_endpoint ep = endpoint("h:1", 50);

	cr_assert_float_eq(score(&ep, QWEN).capacity, 1.0, EPS);
	ep.ram_total_bytes = 8 * GIB;
	cr_assert_float_eq(score(&ep, QWEN).capacity, 0.5, EPS);
	ep.ram_total_bytes = 24 * GIB;
	cr_assert_float_eq(score(&ep, QWEN).capacity, 1.5, EPS);
	ep.ram_total_bytes = UINT64_MAX;
	cr_assert_float_eq(score(&ep, QWEN).capacity, 1.5, EPS);
}

Test(scorer, capacity_unknown_or_zero_ram_is_1)
{
	ac_route_endpoint ep = endpoint("h:1", 50);

	ep.ram_total_bytes = 0;
	cr_assert_float_eq(score(&ep, QWEN).capacity, 1.0, EPS);
	ep.ram_total_bytes = 4 * GIB;
	ep.has_ram_total = false;
	cr_assert_float_eq(score(&ep, QWEN).capacity, 1.0, EPS);
}

Test(scorer, vram_is_0_8_plus_0_2_times_free_share)
{
	ac_route_endpoint ep = endpoint("h:1", 50);

	ep.has_vram_used = ep.has_vram_total = true;
	ep.vram_total_bytes = 8 * GIB;
	ep.vram_used_bytes = 2 * GIB;
	cr_assert_float_eq(score(&ep, QWEN).vram, 0.95, EPS);
	ep.vram_used_bytes = 0;
	cr_assert_float_eq(score(&ep, QWEN).vram, 1.0, EPS);
	ep.vram_used_bytes = 8 * GIB;
	cr_assert_float_eq(score(&ep, QWEN).vram, 0.8, EPS);
}

/* used > total (a stale total, a misreport) would give less than 0.8 unclamped. */
Test(scorer, vram_clamps_used_share_to_1)
{
	ac_route_endpoint ep = endpoint("h:1", 50);

	ep.has_vram_used = ep.has_vram_total = true;
	ep.vram_total_bytes = 4 * GIB;
	ep.vram_used_bytes = 12 * GIB;
	cr_assert_float_eq(score(&ep, QWEN).vram, 0.8, EPS);
}

/* Ollama's /api/ps gives the used sum only: without a total the share is unknown. */
Test(scorer, vram_without_total_or_zero_total_is_0_9)
{
	ac_route_endpoint ep = endpoint("h:1", 50);

	ep.has_vram_used = true;
	ep.vram_used_bytes = 3 * GIB;
	cr_assert_float_eq(score(&ep, QWEN).vram, 0.9, EPS);
	ep.has_vram_total = true;
	ep.vram_total_bytes = 0;
	cr_assert_float_eq(score(&ep, QWEN).vram, 0.9, EPS);
	ep.has_vram_used = false;
	ep.vram_total_bytes = 8 * GIB;
	cr_assert_float_eq(score(&ep, QWEN).vram, 0.9, EPS);
}

Test(scorer, warm_when_the_chosen_model_is_loaded)
{
	static const char *const loaded[] = { "llama3:8b", QWEN };
	ac_route_endpoint ep = endpoint("h:1", 50);

	cr_assert_float_eq(score(&ep, QWEN).warm, 1.0, EPS, "nothing loaded");
	ep.loaded_models = loaded;
	ep.loaded_count = 2;
	cr_assert_float_eq(score(&ep, QWEN).warm, 1.15, EPS);
	cr_assert_float_eq(score(&ep, "other").warm, 1.0, EPS);
	cr_assert_float_eq(score(&ep, NULL).warm, 1.0, EPS);
	cr_assert(ac_scorer_is_warm(&ep, "llama3:8b"));
	cr_assert_not(ac_scorer_is_warm(&ep, NULL));
}

Test(scorer, affinity_within_the_10_minute_window)
{
	ac_route_endpoint ep = endpoint("h:1", 50);

	cr_assert_float_eq(score(&ep, QWEN).affinity, 1.0, EPS, "0 = never");
	ep.last_repo_at_ms = NOW;
	cr_assert_float_eq(score(&ep, QWEN).affinity, 1.05, EPS);
	ep.last_repo_at_ms = NOW - AC_AFFINITY_WINDOW_MS;
	cr_assert_float_eq(score(&ep, QWEN).affinity, 1.05, EPS, "the window's edge counts");
	ep.last_repo_at_ms = NOW - AC_AFFINITY_WINDOW_MS - 1;
	cr_assert_float_eq(score(&ep, QWEN).affinity, 1.0, EPS);
}

/* DESIGN §12.3: in-flight assignments count, so a burst spreads across hosts. */
Test(scorer, queue_is_one_over_one_plus_in_flight)
{
	ac_route_endpoint ep = endpoint("h:1", 50);

	cr_assert_float_eq(score(&ep, QWEN).queue, 1.0, EPS);
	ep.in_flight = 1;
	cr_assert_float_eq(score(&ep, QWEN).queue, 0.5, EPS);
	ep.in_flight = 3;
	cr_assert_float_eq(score(&ep, QWEN).queue, 0.25, EPS);
	cr_assert_float_eq(score(&ep, QWEN).score, 0.45 * 0.25, EPS);
}

Test(scorer, all_factors_multiply)
{
	static const char *const loaded[] = { QWEN };
	ac_route_endpoint ep = endpoint("h:1", 40);
	ac_candidate c;

	ep.ram_total_bytes = 20 * GIB;
	ep.has_vram_used = ep.has_vram_total = true;
	ep.vram_total_bytes = 10 * GIB;
	ep.vram_used_bytes = 5 * GIB;
	ep.loaded_models = loaded;
	ep.loaded_count = 1;
	ep.last_repo_at_ms = NOW - 1000;
	ep.in_flight = 1;
	c = score(&ep, QWEN);
	assert_factors(&c, 0.6, 1.25, 0.9, 1.15, 1.05, 0.5);
	cr_assert_float_eq(c.score, 0.6 * 1.25 * 0.9 * 1.15 * 1.05 * 0.5, EPS);
	cr_assert_str_eq(c.model, QWEN);
}

/* --- stale resources --- */

Test(scorer, resources_older_than_90_s_count_as_unknown)
{
	static const char *const loaded[] = { QWEN };
	ac_route_endpoint ep = endpoint("h:1", 10);
	ac_candidate c;

	ep.ram_total_bytes = 32 * GIB;
	ep.has_vram_used = ep.has_vram_total = true;
	ep.vram_total_bytes = 8 * GIB;
	ep.loaded_models = loaded;
	ep.loaded_count = 1;
	ep.last_repo_at_ms = NOW;
	ep.in_flight = 1;
	ep.reported_at_ms = NOW - AC_RESOURCES_STALE_MS - 1;
	cr_assert_not(ac_scorer_resources_fresh(&ep, NOW));
	c = score(&ep, QWEN);
	/* Only the resource factors fall back; warm, affinity and queue do not come from
	 * the resource report. */
	assert_factors(&c, 0.5, 1.0, 0.9, 1.15, 1.05, 0.5);
}

Test(scorer, resources_exactly_90_s_old_are_fresh)
{
	ac_route_endpoint ep = endpoint("h:1", 10);

	ep.reported_at_ms = NOW - AC_RESOURCES_STALE_MS;
	cr_assert(ac_scorer_resources_fresh(&ep, NOW));
	cr_assert_float_eq(score(&ep, QWEN).load, 0.9, EPS);
}

/* Offline explain files may omit reported_at_ms: such resources are fresh. */
Test(scorer, resources_without_timestamp_are_fresh)
{
	ac_route_endpoint ep = endpoint("h:1", 10);

	ep.reported_at_ms = 0;
	cr_assert(ac_scorer_resources_fresh(&ep, NOW));
	cr_assert_float_eq(score(&ep, QWEN).load, 0.9, EPS);
}
