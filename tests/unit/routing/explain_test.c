/* SPDX-License-Identifier: MIT
 * Tests for src/routing/explain.c: classification of a submit map as task.submit does,
 * the route task built from it, and the three entries of a dry run (complexity,
 * decision or pending_reason, candidates best first with their factors).
 */
#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "agentcom/json.h"
#include "codec/schema.h"
#include "routing/explain.h"

#define EPS 1e-9
#define NOW INT64_C(1700000000000)
#define GIB ((uint64_t)1 << 30)

static const char *const qwen_models[] = { "qwen2.5-coder:7b" };

/* A submit map decoded from JSON; everything freed by fini. */
typedef struct submit {
	uint8_t *mp;
	size_t len;
	ac_arena arena;
	ac_task_wire req;
	ac_complexity c;
	ac_route_task t;
	char model[AC_EXPLAIN_MODEL_CAP];
} submit;

static void load(submit *s, const char *json)
{
	ac_decode_err e;

	memset(s, 0, sizeof(*s));
	cr_assert_eq(ac_json_to_msgpack(json, strlen(json), &s->mp, &s->len, NULL, 0), AC_OK);
	cr_assert_eq(ac_schema_decode_bytes(&ac_task_submit_schema, s->mp, s->len, &s->req,
	                 &s->arena, &e),
	    AC_OK, "%s: %s", e.field, e.message);
	ac_explain_classify(&s->req, &s->c);
	ac_explain_route_task(&s->req, &s->c, s->model, &s->t);
}

static void fini(submit *s)
{
	ac_arena_fini(&s->arena);
	free(s->mp);
}

static ac_route_endpoint endpoint(const char *id, double cpu)
{
	return (ac_route_endpoint){ .id = id, .is_healthy = true, .models = qwen_models,
		.model_count = 1, .has_cpu = true, .cpu_percent = cpu, .has_ram_total = true,
		.ram_total_bytes = 16 * GIB };
}

/* The entries written by ac_explain_encode_fields, wrapped in a 3-entry map. */
typedef struct out {
	ac_mpw w;
	msgpack_unpacked u;
} out;

static const msgpack_object *explain(out *o, const submit *s, const ac_route_endpoint *eps,
    size_t n, bool fallback_due)
{
	ac_route_opts opts = { .endpoint_slots = 4, .default_model = "qwen2.5-coder:7b",
		.now_ms = NOW };

	ac_mpw_init(&o->w);
	ac_mpw_map(&o->w, 3);
	cr_assert_eq(ac_explain_encode_fields(&s->c, &s->t, eps, n, &opts, fallback_due, &o->w),
	    AC_OK);
	msgpack_unpacked_init(&o->u);
	cr_assert_eq(msgpack_unpack_next(&o->u, (const char *)ac_mpw_data(&o->w), ac_mpw_len(&o->w),
	                 NULL),
	    MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(o->u.data.type, MSGPACK_OBJECT_MAP);
	cr_assert_eq(o->u.data.via.map.size, 3);
	return &o->u.data;
}

static void out_fini(out *o)
{
	msgpack_unpacked_destroy(&o->u);
	ac_mpw_fini(&o->w);
}

static const msgpack_object *get(const msgpack_object *m, const char *key)
{
	for (uint32_t i = 0; m->type == MSGPACK_OBJECT_MAP && i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		if (k->via.str.size == strlen(key) && memcmp(k->via.str.ptr, key, k->via.str.size) == 0) {
			return &m->via.map.ptr[i].val;
		}
	}
	return NULL;
}

static bool str_is(const msgpack_object *o, const char *want)
{
	return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(want) &&
	    memcmp(o->via.str.ptr, want, o->via.str.size) == 0;
}

Test(explain, explicit_tier_needs_the_exact_spelling)
{
	submit s;

	load(&s, "{\"description\": \"add a parser\", \"complexity_tier\": \"complex\"}");
	cr_assert(s.c.is_explicit_source);
	cr_assert_eq(s.t.tier, AC_TIER_COMPLEX);
	cr_assert(s.t.is_explicit);
	fini(&s);
	load(&s, "{\"description\": \"add a parser\", \"complexity_tier\": \"Complex\"}");
	cr_assert_not(s.c.is_explicit_source);
	cr_assert_eq(s.t.tier, AC_TIER_STANDARD);
	fini(&s);
}

Test(explain, route_task_takes_model_targets_and_signals)
{
	submit s;

	load(&s, "{\"description\": \"add a parser to the config module\", \"model\": \"llama3:8b\","
	         " \"targets\": [\"ollama\", \"claude\"], \"file_hints\": [{\"path\": \"a.c\"}]}");
	cr_assert_str_eq(s.t.model, "llama3:8b");
	cr_assert_eq(s.t.allowed_targets, (1u << AC_TARGET_OLLAMA) | (1u << AC_TARGET_CLAUDE));
	cr_assert_eq(s.t.word_count, 7);
	cr_assert_eq(s.t.file_count, 1);
	cr_assert_float_eq(s.t.confidence, s.c.confidence, EPS);
	fini(&s);
	load(&s, "{\"description\": \"x\"}");
	cr_assert_null(s.t.model);
	cr_assert_eq(s.t.allowed_targets, 0);
	fini(&s);
}

Test(explain, standard_task_shows_decision_and_ranked_candidates)
{
	ac_route_endpoint eps[] = { endpoint("busy:11434", 80), endpoint("idle:11434", 20) };
	submit s;
	out o;
	const msgpack_object *m, *c, *f;

	load(&s, "{\"description\": \"add a parser\", \"complexity_tier\": \"standard\"}");
	m = explain(&o, &s, eps, 2, false);
	cr_assert(str_is(get(get(m, "complexity"), "effective_tier"), "standard"));
	cr_assert(str_is(get(get(m, "decision"), "selected_endpoint"), "idle:11434"));
	cr_assert_null(get(m, "pending_reason"));
	c = get(m, "candidates");
	cr_assert_eq(c->type, MSGPACK_OBJECT_ARRAY);
	cr_assert_eq(c->via.array.size, 2);
	cr_assert(str_is(get(&c->via.array.ptr[0], "endpoint"), "idle:11434"));
	cr_assert(str_is(get(&c->via.array.ptr[1], "endpoint"), "busy:11434"));
	cr_assert_float_eq(get(&c->via.array.ptr[0], "score")->via.f64, 0.72, EPS);
	f = get(&c->via.array.ptr[1], "factors");
	cr_assert_eq(f->via.map.size, 6);
	cr_assert_float_eq(get(f, "load")->via.f64, 0.2, EPS);
	cr_assert_float_eq(get(f, "capacity")->via.f64, 1.0, EPS);
	cr_assert_float_eq(get(f, "vram")->via.f64, 0.9, EPS);
	cr_assert_float_eq(get(f, "warm")->via.f64, 1.0, EPS);
	cr_assert_float_eq(get(f, "affinity")->via.f64, 1.0, EPS);
	cr_assert_float_eq(get(f, "queue")->via.f64, 1.0, EPS);
	out_fini(&o);
	fini(&s);
}

Test(explain, no_candidate_shows_pending_reason_or_fallback)
{
	ac_route_endpoint eps[] = { endpoint("down:11434", 20) };
	submit s;
	out o;
	const msgpack_object *m;

	eps[0].is_healthy = false;
	load(&s, "{\"description\": \"add a parser\", \"complexity_tier\": \"standard\"}");
	m = explain(&o, &s, eps, 1, false);
	cr_assert_null(get(m, "decision"));
	cr_assert(str_is(get(m, "pending_reason"), "no_healthy_ollama_endpoints"));
	cr_assert_eq(get(m, "candidates")->via.array.size, 0);
	out_fini(&o);
	m = explain(&o, &s, eps, 1, true);
	cr_assert(str_is(get(get(m, "decision"), "target_type"), "claude"));
	cr_assert(str_is(get(get(m, "decision"), "fallback_reason"), "no_healthy_ollama_endpoints"));
	out_fini(&o);
	fini(&s);
}

/* The router weighs no endpoint for a sidecar or claude task. */
Test(explain, trivial_and_complex_list_no_candidates)
{
	ac_route_endpoint eps[] = { endpoint("a:11434", 20) };
	submit s;
	out o;
	const msgpack_object *m;

	load(&s, "{\"description\": \"fix typo\"}");
	m = explain(&o, &s, eps, 1, false);
	cr_assert(str_is(get(get(m, "decision"), "target_type"), "sidecar"));
	cr_assert_eq(get(m, "candidates")->via.array.size, 0);
	out_fini(&o);
	fini(&s);
	load(&s, "{\"description\": \"refactor auth\"}");
	m = explain(&o, &s, eps, 1, false);
	cr_assert(str_is(get(get(m, "decision"), "selected_endpoint"), "claude_api"));
	cr_assert_eq(get(m, "candidates")->via.array.size, 0);
	out_fini(&o);
	fini(&s);
}
