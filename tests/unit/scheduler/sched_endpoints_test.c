/* SPDX-License-Identifier: MIT
 * Tests for src/scheduler/sched_endpoints.c: the scheduler's copy of the endpoint table
 * kept from registry events, and its id index: a snapshot of thousands, registrations,
 * removals, a second snapshot replacing the first, in-flight counts found by id.
 * Events are encoded as the registry encodes them (ac_endpoint_encode).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "codec/mpw.h"
#include "registry/endpoints.h"
#include "scheduler/sched_endpoints.h"

static ac_endpoints *reg;      /* the registry's table the events describe */
static ac_sched_endpoints *es; /* the scheduler's copy under test */
static uint64_t seq;

static void setup(void)
{
	cr_assert_eq(ac_endpoints_alloc(&reg), AC_OK);
	cr_assert_eq(ac_sched_endpoints_alloc(&es), AC_OK);
	seq = 0;
}

static void teardown(void)
{
	ac_sched_endpoints_free(es);
	ac_endpoints_free(reg);
}

TestSuite(sched_endpoints, .init = setup, .fini = teardown);

static void id_of(unsigned i, char *id, size_t cap)
{
	snprintf(id, cap, "10.%u.%u.%u:11434", (i >> 16) & 255, (i >> 8) & 255, i & 255);
}

static ac_endpoint *reg_put(unsigned i)
{
	char host[32];
	ac_endpoint *e;
	bool is_new;

	snprintf(host, sizeof(host), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	cr_assert_eq(ac_endpoints_put(reg, host, strlen(host), 11434, NULL, false, i, &e, &is_new),
	    AC_OK);
	return e;
}

/* Applies {seq, event, endpoints: [the n given] | removed_id}; returns what it did. */
static ac_ep_apply apply(const char *event, ac_endpoint *const *eps, size_t n,
    const char *removed_id)
{
	bool is_snapshot = strcmp(event, "snapshot") == 0;
	bool unblocks;
	ac_ep_apply r;
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 3);
	ac_mpw_key(&w, "seq");
	ac_mpw_u64(&w, ++seq);
	ac_mpw_key(&w, "event");
	ac_mpw_cstr(&w, event);
	if (removed_id != NULL) {
		ac_mpw_key(&w, "removed_id");
		ac_mpw_cstr(&w, removed_id);
	} else {
		ac_mpw_key(&w, "endpoints");
		ac_mpw_array(&w, (uint32_t)n);
		for (size_t i = 0; i < n; i++) {
			ac_endpoint_encode(eps[i], &w);
		}
	}
	cr_assert_eq(w.err, AC_OK);
	r = ac_sched_endpoints_apply(es, ac_mpw_data(&w), ac_mpw_len(&w), is_snapshot, &unblocks);
	ac_mpw_fini(&w);
	return r;
}

/* The registry's whole table as one snapshot. */
static void apply_snapshot(void)
{
	size_t n = ac_endpoints_count(reg);
	ac_endpoint **all = calloc(n + 1, sizeof(*all));

	for (size_t i = 0; i < n; i++) {
		all[i] = ac_endpoints_at(reg, i);
	}
	cr_assert_eq(apply("snapshot", all, n, NULL), AC_EP_APPLIED);
	free(all);
}

static bool has(unsigned i)
{
	char id[64];
	uint32_t in_flight;

	id_of(i, id, sizeof(id));
	return ac_sched_endpoints_in_flight(es, id, &in_flight);
}

Test(sched_endpoints, snapshot_of_thousands_finds_each_by_id)
{
	enum { N = 4000 };
	char id[64];
	uint32_t in_flight = 99;

	for (unsigned i = 0; i < N; i++) {
		reg_put(i);
	}
	apply_snapshot();
	cr_assert(ac_sched_endpoints_synced(es));
	cr_assert_eq(ac_sched_endpoints_count(es), N);
	cr_assert(ac_sched_endpoints_check(es));
	for (unsigned i = 0; i < N; i++) {
		cr_assert(has(i), "endpoint %u", i);
	}
	cr_assert_not(has(N));
	id_of(N / 2, id, sizeof(id));
	ac_sched_endpoints_add_flight(es, id, 1, 4);
	ac_sched_endpoints_add_flight(es, id, 1, 4);
	cr_assert(ac_sched_endpoints_in_flight(es, id, &in_flight));
	cr_assert_eq(in_flight, 2);
	id_of(N / 2 + 1, id, sizeof(id));
	cr_assert(ac_sched_endpoints_in_flight(es, id, &in_flight));
	cr_assert_eq(in_flight, 0);
}

Test(sched_endpoints, registered_and_removed_events_update_the_index)
{
	ac_endpoint *e;
	char id[64];

	for (unsigned i = 0; i < 100; i++) {
		reg_put(i);
	}
	apply_snapshot();
	e = reg_put(100);
	cr_assert_eq(apply("endpoint.registered", &e, 1, NULL), AC_EP_APPLIED);
	cr_assert(has(100));
	for (unsigned i = 0; i <= 100; i += 5) {
		id_of(i, id, sizeof(id));
		cr_assert_eq(apply("endpoint.removed", NULL, 0, id), AC_EP_APPLIED);
		cr_assert_not(has(i), "removed %s", id);
	}
	cr_assert_eq(ac_sched_endpoints_count(es), 101 - 21);
	cr_assert(ac_sched_endpoints_check(es));
	for (unsigned i = 0; i <= 100; i++) {
		cr_assert_eq(has(i), i % 5 != 0, "endpoint %u", i);
	}
	/* an update of a known endpoint changes it in place: no second entry */
	e = ac_endpoints_at(reg, 1);
	cr_assert_eq(apply("endpoint.healthy", &e, 1, NULL), AC_EP_APPLIED);
	cr_assert_eq(ac_sched_endpoints_count(es), 101 - 21);
	cr_assert(ac_sched_endpoints_check(es));
}

Test(sched_endpoints, a_second_snapshot_replaces_the_first)
{
	for (unsigned i = 0; i < 50; i++) {
		reg_put(i);
	}
	apply_snapshot();
	for (unsigned i = 0; i < 50; i += 2) {
		char id[64];
		id_of(i, id, sizeof(id));
		cr_assert(ac_endpoints_remove(reg, id));
	}
	for (unsigned i = 50; i < 60; i++) {
		reg_put(i);
	}
	apply_snapshot();
	cr_assert_eq(ac_sched_endpoints_count(es), 35);
	cr_assert(ac_sched_endpoints_check(es));
	for (unsigned i = 0; i < 60; i++) {
		cr_assert_eq(has(i), i >= 50 || i % 2 == 1, "endpoint %u", i);
	}
}

/* The ids in the router's view, in order, joined by spaces. */
static void view_ids(char *buf, size_t cap)
{
	ac_route_endpoint out[16];
	size_t n = ac_sched_endpoints_view(es, NULL, out, 16), used = 0;

	cr_assert_eq(n, ac_sched_endpoints_view_size(es));
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? " " : "", out[i].id);
	}
}

/* The view holds the usable endpoints only (healthy, with a model), in registration
 * order, and follows health changes, removals and snapshots. */
Test(sched_endpoints, the_view_holds_the_usable_endpoints_in_order)
{
	static const char *const models[] = { "m" };
	ac_endpoint *e[5];
	char ids[256], id[64];

	for (unsigned i = 0; i < 5; i++) {
		e[i] = reg_put(i); /* status unknown, no models */
	}
	apply_snapshot();
	view_ids(ids, sizeof(ids));
	cr_assert_str_empty(ids, "unknown endpoints are in the view: %s", ids);
	for (unsigned i = 0; i < 5; i += 2) {
		ac_endpoint_probe_ok(e[i], models, 1, NULL, 0, 0, 1000);
		cr_assert_eq(apply("endpoint.healthy", &e[i], 1, NULL), AC_EP_APPLIED);
	}
	ac_endpoint_probe_ok(e[1], NULL, 0, NULL, 0, 0, 1000); /* healthy, no model */
	cr_assert_eq(apply("endpoint.healthy", &e[1], 1, NULL), AC_EP_APPLIED);
	view_ids(ids, sizeof(ids));
	cr_assert_str_eq(ids, "10.0.0.0:11434 10.0.0.2:11434 10.0.0.4:11434");
	for (int k = 0; k < 3; k++) {
		ac_endpoint_probe_failed(e[2], "refused", 1000);
	}
	cr_assert_eq(apply("endpoint.unhealthy", &e[2], 1, NULL), AC_EP_APPLIED);
	id_of(4, id, sizeof(id));
	cr_assert(ac_endpoints_remove(reg, id));
	cr_assert_eq(apply("endpoint.removed", NULL, 0, id), AC_EP_APPLIED);
	view_ids(ids, sizeof(ids));
	cr_assert_str_eq(ids, "10.0.0.0:11434");
	apply_snapshot(); /* the same four again: one usable */
	view_ids(ids, sizeof(ids));
	cr_assert_str_eq(ids, "10.0.0.0:11434");
}

Test(sched_endpoints, empty_view_finds_nothing)
{
	uint32_t in_flight;

	cr_assert_not(ac_sched_endpoints_in_flight(es, "x:1", &in_flight));
	cr_assert_eq(ac_sched_endpoints_add_flight(es, "x:1", 1, 4), 0);
	cr_assert(ac_sched_endpoints_check(es));
}
