/* SPDX-License-Identifier: MIT
 * Tests for src/registry/endpoints.c: the endpoint table's id and tag indexes (put,
 * find, remove, growth to thousands, re-registration, renumbering after a load) and
 * the table invariant ac_endpoints_check.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "registry/endpoints.h"

static ac_endpoints *es;

static void setup(void)
{
	cr_assert_eq(ac_endpoints_alloc(&es), AC_OK);
}

static void teardown(void)
{
	ac_endpoints_free(es);
}

TestSuite(endpoints, .init = setup, .fini = teardown);

/* Host of endpoint i: 10.x.y.z, distinct for i < 2^24. */
static const char *host_of(unsigned i, char *buf, size_t cap)
{
	snprintf(buf, cap, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	return buf;
}

static ac_endpoint *put_at(const char *host, uint16_t port, int64_t now_ms, bool expect_new)
{
	ac_endpoint *e = NULL;
	bool is_new = !expect_new;

	cr_assert_eq(ac_endpoints_put(es, host, strlen(host), port, NULL, false, now_ms, &e, &is_new),
	    AC_OK);
	cr_assert_not_null(e);
	cr_assert_eq(is_new, expect_new, "%s:%u", host, (unsigned)port);
	return e;
}

static void put_many(unsigned n)
{
	char host[32];

	for (unsigned i = 0; i < n; i++) {
		put_at(host_of(i, host, sizeof(host)), 11434, 1000 + i, true);
	}
}

/* Endpoint i is found by its id and by its tag, and both give the same record. */
static void expect_found(unsigned i, bool expect)
{
	char host[32], id[AC_ENDPOINT_ID_MAX];
	ac_endpoint *e;

	host_of(i, host, sizeof(host));
	ac_endpoint_make_id(host, strlen(host), 11434, id, sizeof(id));
	e = ac_endpoints_find(es, id);
	cr_assert_eq(e != NULL, expect, "endpoint %u (%s)", i, id);
	if (e != NULL) {
		cr_assert_str_eq(e->id, id);
		cr_assert_eq(ac_endpoints_find_tag(es, e->tag), e, "tag of %s", id);
	}
}

Test(endpoints, put_then_find_by_id_and_tag)
{
	ac_endpoint *a = put_at("Gpu-Box", 11434, 5, true);
	ac_endpoint *b = put_at("gpu-box", 11500, 6, true);

	cr_assert_str_eq(a->id, "gpu-box:11434");
	cr_assert_eq(ac_endpoints_find(es, "gpu-box:11434"), a);
	cr_assert_eq(ac_endpoints_find(es, "gpu-box:11500"), b);
	cr_assert_null(ac_endpoints_find(es, "Gpu-Box:11434"), "ids are canonical, lower case");
	cr_assert_null(ac_endpoints_find(es, "gpu-box:1143"));
	cr_assert_eq(ac_endpoints_find_tag(es, a->tag), a);
	cr_assert_eq(ac_endpoints_find_tag(es, b->tag), b);
	cr_assert_neq(a->tag, b->tag);
	cr_assert_null(ac_endpoints_find_tag(es, b->tag + 1));
	cr_assert_null(ac_endpoints_find_tag(es, 0));
	cr_assert(ac_endpoints_check(es));
}

Test(endpoints, put_of_a_known_endpoint_returns_the_same_record)
{
	ac_endpoint *a = put_at("10.0.0.1", 11434, 5, true);

	cr_assert_eq(put_at("10.0.0.1", 11434, 9, false), a);
	cr_assert_eq(a->registered_at_ms, 5);
	cr_assert_eq(ac_endpoints_count(es), 1);
	cr_assert(ac_endpoints_check(es));
}

Test(endpoints, thousands_grow_the_indexes_in_registration_order)
{
	enum { N = 5000 };

	put_many(N);
	cr_assert_eq(ac_endpoints_count(es), N);
	cr_assert(ac_endpoints_check(es));
	for (unsigned i = 0; i < N; i++) {
		expect_found(i, true);
		cr_assert_eq(ac_endpoints_at(es, i)->registered_at_ms, 1000 + i);
	}
	expect_found(N, false);
}

Test(endpoints, remove_drops_from_both_indexes_and_keeps_the_order)
{
	enum { N = 1000 };
	char host[32], id[AC_ENDPOINT_ID_MAX];
	uint64_t tag;

	put_many(N);
	for (unsigned i = 0; i < N; i += 7) {
		host_of(i, host, sizeof(host));
		ac_endpoint_make_id(host, strlen(host), 11434, id, sizeof(id));
		tag = ac_endpoints_find(es, id)->tag;
		cr_assert(ac_endpoints_remove(es, id), "%s", id);
		cr_assert_not(ac_endpoints_remove(es, id), "%s twice", id);
		cr_assert_null(ac_endpoints_find_tag(es, tag), "tag of removed %s", id);
	}
	cr_assert(ac_endpoints_check(es));
	cr_assert_eq(ac_endpoints_count(es), N - (N + 6) / 7);
	for (unsigned i = 0; i < N; i++) {
		expect_found(i, i % 7 != 0);
	}
	for (size_t i = 1; i < ac_endpoints_count(es); i++) {
		cr_assert_lt(ac_endpoints_at(es, i - 1)->registered_at_ms,
		    ac_endpoints_at(es, i)->registered_at_ms);
	}
}

Test(endpoints, registered_again_after_removal_gets_a_new_tag)
{
	ac_endpoint *a = put_at("10.0.0.1", 11434, 5, true);
	uint64_t old = a->tag;

	cr_assert(ac_endpoints_remove(es, "10.0.0.1:11434"));
	a = put_at("10.0.0.1", 11434, 6, true);
	cr_assert_neq(a->tag, old);
	cr_assert_null(ac_endpoints_find_tag(es, old));
	cr_assert_eq(ac_endpoints_find_tag(es, a->tag), a);
	cr_assert(ac_endpoints_check(es));
}

Test(endpoints, sort_by_registration_renumbers_tags_and_reindexes_them)
{
	char host[32];

	/* loaded by id from the store: registration times out of order */
	for (unsigned i = 0; i < 300; i++) {
		put_at(host_of(i, host, sizeof(host)), 11434, 10000 - (int64_t)i, true);
	}
	ac_endpoints_sort_by_registration(es);
	cr_assert(ac_endpoints_check(es));
	for (unsigned i = 0; i < 300; i++) {
		ac_endpoint *e = ac_endpoints_at(es, i);
		cr_assert_eq(e->tag, i + 1);
		cr_assert_eq(e->registered_at_ms, 10000 - 299 + (int64_t)i);
		cr_assert_eq(ac_endpoints_find_tag(es, i + 1), e);
	}
	cr_assert_eq(put_at("10.9.9.9", 1, 20000, true)->tag, 301);
	cr_assert(ac_endpoints_check(es));
}

Test(endpoints, empty_table_finds_nothing_and_is_sane)
{
	cr_assert_null(ac_endpoints_find(es, "x:1"));
	cr_assert_null(ac_endpoints_find_tag(es, 1));
	cr_assert_not(ac_endpoints_remove(es, "x:1"));
	ac_endpoints_sort_by_registration(es);
	cr_assert(ac_endpoints_check(es));
}
