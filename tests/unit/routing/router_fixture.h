/* SPDX-License-Identifier: MIT
 * Shared fixture of the router's and scorer's unit tests (router_test.c,
 * router_rules_test.c, scorer_test.c): the reference's endpoint and task helpers,
 * routing with its result checked for what the router promises, asserts per target,
 * and an encoded decision decoded for its keys.
 * Included by exactly one test file per executable; functions are static inline so
 * that a file which does not use one still compiles without warnings.
 */
#ifndef AC_TESTS_ROUTER_FIXTURE_H
#define AC_TESTS_ROUTER_FIXTURE_H

#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "codec/mpw.h"
#include "routing/router.h"

#define EPS 1e-9
#define GIB ((uint64_t)1 << 30)
#define NOW INT64_C(1700000000000)
#define QWEN "qwen2.5-coder:7b"
#define TARGET_BIT(t) (1u << (t))

static const char *const qwen_models[] = { QWEN };

/* The reference helper's endpoint: healthy, models [qwen], cpu C, 16 GiB RAM. */
static inline ac_route_endpoint endpoint(const char *id, double cpu)
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
static inline ac_route_task task(ac_tier tier)
{
	return (ac_route_task){ .tier = tier, .confidence = 0.8 };
}

static const ac_route_opts opts = { .endpoint_slots = 4, .now_ms = NOW };

typedef struct routed {
	bool is_decided;
	ac_decision d;
	const char *pending;
} routed;

static inline routed route_at(const ac_route_task *t, const ac_route_endpoint *eps, size_t n,
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

static inline routed route(const ac_route_task *t, const ac_route_endpoint *eps, size_t n)
{
	return route_at(t, eps, n, &opts, false, NULL);
}

static inline void assert_no_fallback(const ac_decision *d)
{
	cr_assert_eq(d->fallback_used, false);
	cr_assert_eq(d->fallback_from_tier, AC_TIER_COUNT);
	cr_assert_null(d->fallback_reason);
}

static inline void assert_sidecar(const routed *r)
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

static inline void assert_claude(const routed *r)
{
	cr_assert(r->is_decided);
	cr_assert_eq(r->d.effective_tier, AC_TIER_COMPLEX);
	cr_assert_eq(r->d.target, AC_TARGET_CLAUDE);
	cr_assert_str_eq(r->d.endpoint, "claude_api");
	cr_assert_str_eq(r->d.model, "claude");
	cr_assert_eq(r->d.candidate_count, 0);
	cr_assert_str_eq(ac_target_cost(r->d.target), "api");
}

static inline void assert_ollama(const routed *r, const char *endpoint_id, uint32_t count)
{
	cr_assert(r->is_decided, "waits: %s", r->is_decided ? "" : r->pending);
	cr_assert_eq(r->d.effective_tier, AC_TIER_STANDARD);
	cr_assert_eq(r->d.target, AC_TARGET_OLLAMA);
	cr_assert_str_eq(r->d.endpoint, endpoint_id);
	cr_assert_eq(r->d.candidate_count, count);
	cr_assert_str_eq(ac_target_cost(r->d.target), "local");
}

static inline void assert_pending(const routed *r, const char *reason)
{
	cr_assert_not(r->is_decided);
	cr_assert_str_eq(r->pending, reason);
}

/* An encoded decision and its decoded view (which borrows the writer's bytes). */
typedef struct decoded {
	ac_mpw w;
	msgpack_unpacked u;
	const msgpack_object *map;
} decoded;

/* Encodes d into x and decodes it, checking it is exactly one 11-key map. Release x
 * with release(). */
static inline void encode_decision(const ac_decision *d, decoded *x)
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

static inline void release(decoded *x)
{
	msgpack_unpacked_destroy(&x->u);
	ac_mpw_fini(&x->w);
}

/* The value of key in map m, failing the test when absent. */
static inline const msgpack_object *get(const msgpack_object *m, const char *key)
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

static inline void assert_str(const msgpack_object *m, const char *key, const char *want)
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

#endif
