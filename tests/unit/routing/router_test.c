/* SPDX-License-Identifier: MIT
 * Tests for src/routing/router.c: the TierResolver and TaskRouter cases of the
 * reference's task_router_test.exs (original-tests.md §2: 1-12, 24-35; the scorer's
 * 13-23 are in scorer_test.c) and the routing cases of scheduler_test.exs (§3: 9, 10),
 * with the DESIGN §12 changes asserted and explained; then candidate rules, model
 * choice, saturation, allowed targets, fallback, reason text and the encoded decision.
 * Over 500 lines: one Test per reference case, numbered, so the port can be checked 1:1.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "codec/mpw.h"
#include "routing/complexity.h"
#include "routing/router.h"
#include "rt/clock.h"

#define EPS 1e-9
#define GIB ((uint64_t)1 << 30)
#define NOW INT64_C(1700000000000)
#define QWEN "qwen2.5-coder:7b"
#define TARGET_BIT(t) (1u << (t))

static const char *const qwen_models[] = { QWEN };

/* The reference helper's endpoint: healthy, models [qwen], cpu C, 16 GiB RAM. */
static ac_route_endpoint endpoint(const char *id, double cpu)
{
	return (ac_route_endpoint){
		.id = id,
		.is_healthy = true,
		.models = qwen_models,
		.model_count = 1,
		.has_cpu = true,
		.cpu_percent = cpu,
		.has_ram_total = true,
		.ram_total_bytes = 16 * GIB,
		.reported_at_ms = NOW,
	};
}

/* The reference helper's task: inferred tier T at confidence 0.8. Its signals map was
 * empty ("word_count=?"); ours always has them, here 0. */
static ac_route_task task(ac_tier tier)
{
	return (ac_route_task){ .tier = tier, .confidence = 0.8 };
}

static const ac_route_opts opts = { .endpoint_slots = 4, .now_ms = NOW };

typedef struct routed {
	bool is_decided;
	ac_decision d;
	const char *pending;
} routed;

static routed route_at(const ac_route_task *t, const ac_route_endpoint *eps, size_t n,
    const ac_route_opts *o, bool fallback_due, const char *fallback_reason)
{
	routed r;

	memset(&r, 0xa5, sizeof(r)); /* garbage: route must set what it promises */
	r.is_decided = ac_router_route(t, eps, n, o, fallback_due, fallback_reason, &r.d, &r.pending);
	if (r.is_decided) {
		cr_assert_null(r.pending);
		cr_assert_eq(r.d.decided_at_ms, o->now_ms);
	} else {
		cr_assert_not_null(r.pending);
	}
	return r;
}

static routed route(const ac_route_task *t, const ac_route_endpoint *eps, size_t n)
{
	return route_at(t, eps, n, &opts, false, NULL);
}

static void assert_no_fallback(const ac_decision *d)
{
	cr_assert_eq(d->fallback_used, false);
	cr_assert_eq(d->fallback_from_tier, AC_TIER_COUNT);
	cr_assert_null(d->fallback_reason);
}

static void assert_sidecar(const routed *r)
{
	cr_assert(r->is_decided);
	cr_assert_eq(r->d.effective_tier, AC_TIER_TRIVIAL);
	cr_assert_eq(r->d.target, AC_TARGET_SIDECAR);
	cr_assert_null(r->d.endpoint);
	cr_assert_null(r->d.model);
	cr_assert_eq(r->d.candidate_count, 0);
	cr_assert_str_eq(ac_target_cost(r->d.target), "free");
	assert_no_fallback(&r->d);
}

static void assert_claude(const routed *r)
{
	cr_assert(r->is_decided);
	cr_assert_eq(r->d.effective_tier, AC_TIER_COMPLEX);
	cr_assert_eq(r->d.target, AC_TARGET_CLAUDE);
	cr_assert_str_eq(r->d.endpoint, "claude_api");
	cr_assert_str_eq(r->d.model, "claude");
	cr_assert_eq(r->d.candidate_count, 0);
	cr_assert_str_eq(ac_target_cost(r->d.target), "api");
}

static void assert_ollama(const routed *r, const char *endpoint_id, uint32_t count)
{
	cr_assert(r->is_decided, "waits: %s", r->is_decided ? "" : r->pending);
	cr_assert_eq(r->d.effective_tier, AC_TIER_STANDARD);
	cr_assert_eq(r->d.target, AC_TARGET_OLLAMA);
	cr_assert_str_eq(r->d.endpoint, endpoint_id);
	cr_assert_eq(r->d.candidate_count, count);
	cr_assert_str_eq(ac_target_cost(r->d.target), "local");
}

static void assert_pending(const routed *r, const char *reason)
{
	cr_assert_not(r->is_decided);
	cr_assert_str_eq(r->pending, reason);
}

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

/* An encoded decision and its decoded view (which borrows the writer's bytes). */
typedef struct decoded {
	ac_mpw w;
	msgpack_unpacked u;
	const msgpack_object *map;
} decoded;

/* Encodes d into x and decodes it, checking it is exactly one 11-key map. Release x
 * with release(). */
static void encode_decision(const ac_decision *d, decoded *x)
{
	size_t off = 0;

	ac_mpw_init(&x->w);
	ac_decision_encode(d, &x->w);
	cr_assert_eq(x->w.err, AC_OK);
	msgpack_unpacked_init(&x->u);
	cr_assert_eq(msgpack_unpack_next(&x->u, (const char *)ac_mpw_data(&x->w), ac_mpw_len(&x->w),
	                 &off),
	    MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(off, ac_mpw_len(&x->w), "one value, nothing after it");
	cr_assert_eq(x->u.data.type, MSGPACK_OBJECT_MAP);
	cr_assert_eq(x->u.data.via.map.size, 11);
	x->map = &x->u.data;
}

static void release(decoded *x)
{
	msgpack_unpacked_destroy(&x->u);
	ac_mpw_fini(&x->w);
}

/* The value of key in map m, failing the test when absent. */
static const msgpack_object *get(const msgpack_object *m, const char *key)
{
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
		    memcmp(k->via.str.ptr, key, k->via.str.size) == 0) {
			return &m->via.map.ptr[i].val;
		}
	}
	cr_assert_fail("no key %s", key);
	return NULL;
}

static void assert_str(const msgpack_object *m, const char *key, const char *want)
{
	const msgpack_object *v = get(m, key);

	if (want == NULL) {
		cr_assert_eq(v->type, MSGPACK_OBJECT_NIL, "%s should be nil", key);
		return;
	}
	cr_assert_eq(v->type, MSGPACK_OBJECT_STR, "%s should be a string", key);
	cr_assert_eq(v->via.str.size, strlen(want), "%s: %.*s, want %s", key,
	    (int)v->via.str.size, v->via.str.ptr, want);
	cr_assert_eq(memcmp(v->via.str.ptr, want, strlen(want)), 0, "%s: %.*s, want %s", key,
	    (int)v->via.str.size, v->via.str.ptr, want);
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
