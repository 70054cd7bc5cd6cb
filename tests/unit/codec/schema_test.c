/* SPDX-License-Identifier: MIT
 * Tests for src/codec/schema.c: the generic decoder and encoder over a schema with
 * every field type: hostile bytes, wrong types, error paths, nil-as-absent, repeated
 * and non-string keys, and an encode -> decode round trip. Limits at max and max+1
 * are in schema_limits_test.c; the schema and helpers in schema_fixture.h.
 */
#include <math.h>
#include <stdlib.h>

#include "schema_fixture.h"

#define S(lit) ((ac_str){ (lit), sizeof(lit) - 1, true })

/* ---- happy paths ---- */

Test(schema, decodes_minimal_request_and_leaves_the_rest_unset)
{
	begin(0);
	cr_assert_eq(decode(), AC_OK);
	cr_assert_eq(derr.code, AC_OK);
	cr_assert(ac_str_eq(r.description, "d"));
	cr_assert_not(r.id.set);
	cr_assert_not(r.tags.set);
	cr_assert_not(r.metadata.set);
	cr_assert_eq(ac_schema_count_set(&req_schema, &r), 1);
}

Test(schema, strings_borrow_from_the_input_bytes)
{
	begin(2);
	ac_mpw_key(&w, "tags");
	ac_mpw_array(&w, 1);
	ac_mpw_cstr(&w, "t");
	ac_mpw_key(&w, "id");
	ac_mpw_cstr(&w, "x-1");
	const char *lo = (const char *)ac_mpw_data(&w), *hi = lo + ac_mpw_len(&w);
	cr_assert_eq(decode(), AC_OK);
	cr_assert(r.description.p >= lo && r.description.p < hi);
	cr_assert(r.id.p >= lo && r.id.p < hi);
	cr_assert(r.tags.items[0].p >= lo && r.tags.items[0].p < hi);
	cr_assert(!((const char *)r.tags.items >= lo && (const char *)r.tags.items < hi),
	    "the item array lives in the arena");
}

Test(schema, unknown_keys_are_ignored)
{
	begin(2);
	ac_mpw_key(&w, "future_field");
	ac_mpw_array(&w, 2);
	ac_mpw_map(&w, 0);
	ac_mpw_bool(&w, true);
	ac_mpw_key(&w, "descriptio");
	ac_mpw_u64(&w, 5);
	cr_assert_eq(decode(), AC_OK);
}

Test(schema, nil_counts_as_absent)
{
	begin(3);
	ac_mpw_key(&w, "id");
	ac_mpw_nil(&w);
	ac_mpw_key(&w, "metadata");
	ac_mpw_nil(&w);
	ac_mpw_key(&w, "tags");
	ac_mpw_nil(&w);
	cr_assert_eq(decode(), AC_OK);
	cr_assert_not(r.id.set);
	cr_assert_not(r.metadata.set);
	cr_assert_not(r.tags.set);

	ac_mpw_reset(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "description");
	ac_mpw_nil(&w);
	expect_err("description", "required");
}

Test(schema, any_accepts_every_kind_of_value)
{
	static const char *kinds[] = { "\xa1x", "\x05", "\xd0\x80", "\x90", "\xc3",
		"\xcb\x3f\xf0\0\0\0\0\0\0", "\xc4\x01\xff", "\xd4\x01\x02" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		begin(1);
		ac_mpw_key(&w, "result");
		size_t n = i == 5 ? 9 : strlen(kinds[i]);
		ac_mpw_raw(&w, kinds[i], n);
		cr_assert_eq(decode(), AC_OK, "kind %zu", i);
		cr_assert(r.result.set);
		cr_assert_eq(r.result.len, n);
		cr_assert_eq(memcmp(r.result.p, kinds[i], n), 0);
	}
}

/* A top-level opaque value is copied from the input as it came (a restart decodes a
 * million stored records: re-encoding each one's maps was 14% of it); decoded from an
 * object, with no bytes to copy from, it is encoded afresh, minimally. */
Test(schema, opaque_values_are_copied_as_they_came)
{
	/* {k: 5} with a map16 header, a str8 key and a uint64 value: 13 bytes, not 4 */
	static const uint8_t loose[] = { 0xde, 0x00, 0x01, 0xd9, 0x01, 'k', 0xcf, 0, 0, 0, 0, 0,
		0, 0, 5 };
	static const uint8_t tight[] = { 0x81, 0xa1, 'k', 0x05 };
	msgpack_unpacked u;
	size_t off = 0;

	begin(2);
	ac_mpw_key(&w, "metadata");
	ac_mpw_raw(&w, loose, sizeof(loose));
	ac_mpw_key(&w, "result");
	ac_mpw_raw(&w, loose, sizeof(loose));
	cr_assert_eq(decode(), AC_OK);
	cr_assert_eq(r.metadata.len, sizeof(loose));
	cr_assert_eq(memcmp(r.metadata.p, loose, sizeof(loose)), 0);
	cr_assert_eq(r.result.len, sizeof(loose));
	cr_assert_eq(memcmp(r.result.p, loose, sizeof(loose)), 0);

	msgpack_unpacked_init(&u);
	cr_assert_eq(msgpack_unpack_next(&u, (const char *)ac_mpw_data(&w), ac_mpw_len(&w), &off),
	    MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(ac_schema_decode(&req_schema, &u.data, &r, &arena, &derr), AC_OK);
	msgpack_unpacked_destroy(&u);
	cr_assert_eq(r.metadata.len, sizeof(tight));
	cr_assert_eq(memcmp(r.metadata.p, tight, sizeof(tight)), 0);
}

Test(schema, real_accepts_float32_float64_and_integers)
{
	static const struct {
		const char *bytes;
		size_t len;
		double want;
	} cases[] = {
		{ "\xca\x3f\xc0\x00\x00", 5, 1.5 },
		{ "\xcb\xbf\xe0\x00\x00\x00\x00\x00\x00", 9, -0.5 },
		{ "\x07", 1, 7.0 },
		{ "\xd0\xf9", 2, -7.0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		begin(1);
		ac_mpw_key(&w, "weight");
		ac_mpw_raw(&w, cases[i].bytes, cases[i].len);
		cr_assert_eq(decode(), AC_OK);
		cr_assert_eq(r.weight.v, cases[i].want);
	}
}

Test(schema, int_without_range_accepts_the_full_signed_range)
{
	begin(1);
	ac_mpw_key(&w, "delta");
	ac_mpw_i64(&w, INT64_MIN);
	cr_assert_eq(decode(), AC_OK);
	cr_assert_eq(r.delta.v, INT64_MIN);
	begin(1);
	ac_mpw_key(&w, "delta");
	ac_mpw_u64(&w, (uint64_t)INT64_MAX);
	cr_assert_eq(decode(), AC_OK);
	cr_assert_eq(r.delta.v, INT64_MAX);
	begin(1);
	ac_mpw_key(&w, "delta");
	ac_mpw_u64(&w, (uint64_t)INT64_MAX + 1);
	expect_err("delta", "is out of range");
}

Test(schema, choice_decodes_to_index)
{
	begin(1);
	ac_mpw_key(&w, "priority");
	ac_mpw_cstr(&w, "low");
	cr_assert_eq(decode(), AC_OK);
	cr_assert(r.priority.set);
	cr_assert_eq(r.priority.v, 3);
}

/* ---- hostile bytes ---- */

Test(schema, malformed_bytes_are_bad_request)
{
	static const struct {
		const char *bytes;
		size_t len;
	} cases[] = {
		{ "", 0 },
		{ "\x81\xab" "descrip", 9 },                /* truncated */
		{ "\x80\x00", 2 },                           /* trailing byte */
		{ "\x81\xa1" "a" "\xc1", 4 },                /* reserved byte */
		{ "\xc1", 1 },
		{ "\xdd\xff\xff\xff\xff", 5 },               /* array of 4 G */
		{ "\xdd\x05\xf5\xe1\x00", 5 },               /* array of 100 M */
		{ "\xdf\xff\xff\xff\xff", 5 },               /* map of 4 G */
		{ "\x81\xa1" "a" "\xdb\xff\xff\xff\xff", 8 }, /* str of 4 GiB */
		{ "\x92\x01", 2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(decode_raw(cases[i].bytes, cases[i].len), AC_EBADREQ, "case %zu", i);
		cr_assert_eq(derr.code, AC_EBADREQ);
		cr_assert_str_eq(derr.field, "");
	}
}

Test(schema, depth_1000_nesting_is_bad_request)
{
	size_t n = 1000 + 14 + 1;
	uint8_t *buf = malloc(n);

	cr_assert_not_null(buf);
	memcpy(buf, "\x81\xa6result", 8);
	memset(buf + 8, 0x91, n - 9);
	buf[n - 1] = 0x01;
	cr_assert_eq(decode_raw(buf, n), AC_EBADREQ);
	free(buf);
}

Test(schema, top_level_must_be_a_map)
{
	cr_assert_eq(decode_raw("\x91\xa1x", 3), AC_EBADREQ);
	cr_assert_str_eq(derr.message, "the message must be a map");
	cr_assert_eq(decode_raw("\xa1x", 2), AC_EBADREQ);
	cr_assert_eq(decode_raw("\xc0", 1), AC_EBADREQ);
}

Test(schema, decode_of_a_non_map_object_is_bad_request)
{
	msgpack_object o = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 1 };

	cr_assert_eq(ac_schema_decode(&req_schema, &o, &r, &arena, &derr), AC_EBADREQ);
}

Test(schema, non_string_keys_are_invalid)
{
	ac_mpw_map(&w, 2);
	ac_mpw_key(&w, "description");
	ac_mpw_cstr(&w, "d");
	ac_mpw_u64(&w, 7);
	ac_mpw_cstr(&w, "x");
	expect_err("", "keys must be strings");

	begin(1);
	ac_mpw_key(&w, "owner");
	ac_mpw_map(&w, 1);
	ac_mpw_nil(&w);
	ac_mpw_nil(&w);
	expect_err("owner", "keys must be strings");
}

Test(schema, key_with_embedded_nul_does_not_match)
{
	ac_mpw_map(&w, 1);
	ac_mpw_str(&w, "description\0x", 13);
	ac_mpw_cstr(&w, "d");
	expect_err("description", "required");
}

Test(schema, repeated_key_is_invalid)
{
	begin(1);
	ac_mpw_key(&w, "description");
	ac_mpw_cstr(&w, "again");
	expect_err("description", "must not be repeated");

	begin(2);
	ac_mpw_key(&w, "id");
	ac_mpw_nil(&w);
	ac_mpw_key(&w, "id");
	ac_mpw_cstr(&w, "x");
	expect_err("id", "must not be repeated");
}

Test(schema, missing_required_field_is_named)
{
	ac_mpw_map(&w, 0);
	expect_err("description", "required");

	begin(1);
	ac_mpw_key(&w, "file_hints");
	ac_mpw_array(&w, 2);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "path");
	ac_mpw_cstr(&w, "a.c");
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "line");
	ac_mpw_u64(&w, 3);
	expect_err("file_hints[1].path", "required");
}

Test(schema, failed_decode_leaves_out_zeroed)
{
	begin(2);
	ac_mpw_key(&w, "id");
	ac_mpw_cstr(&w, "ok-id");
	ac_mpw_key(&w, "retries");
	ac_mpw_cstr(&w, "x");
	cr_assert_eq(decode(), AC_EINVAL);
	cr_assert_not(r.description.set);
	cr_assert_not(r.id.set);
}

/* ---- wrong types for every field type ---- */

static void put_int(ac_mpw *o) { ac_mpw_u64(o, 1); }
static void put_neg(ac_mpw *o) { ac_mpw_i64(o, -1); }
static void put_str(ac_mpw *o) { ac_mpw_cstr(o, "x"); }
static void put_float(ac_mpw *o) { ac_mpw_f64(o, 1.5); }
static void put_bool(ac_mpw *o) { ac_mpw_bool(o, true); }
static void put_array(ac_mpw *o) { ac_mpw_array(o, 0); }
static void put_map(ac_mpw *o) { ac_mpw_map(o, 0); }
static void put_int_array(ac_mpw *o) { ac_mpw_array(o, 1); ac_mpw_u64(o, 1); }
static void put_nan(ac_mpw *o) { ac_mpw_f64(o, NAN); }
static void put_inf(ac_mpw *o) { ac_mpw_f64(o, -INFINITY); }
static void put_bin(ac_mpw *o) { ac_mpw_raw(o, "\xc4\x01x", 3); }
static void put_upper(ac_mpw *o) { ac_mpw_cstr(o, "URGENT"); }
static void put_hints_bad_item(ac_mpw *o)
{
	ac_mpw_array(o, 2);
	ac_mpw_map(o, 1);
	ac_mpw_key(o, "path");
	ac_mpw_cstr(o, "a");
	ac_mpw_u64(o, 3);
}

Test(schema, wrong_types_are_rejected_for_every_field_type)
{
	static const struct {
		const char *key;
		void (*put)(ac_mpw *);
		const char *field, *message;
	} cases[] = {
		{ "description", put_int, "description", "must be a string" },
		{ "description", put_bin, "description", "must be a string" },
		{ "id", put_int, "id", "must be a string" },
		{ "id", put_array, "id", "must be a string" },
		{ "retries", put_str, "retries", "must be a non-negative integer" },
		{ "retries", put_float, "retries", "must be a non-negative integer" },
		{ "retries", put_neg, "retries", "must be between 0 and 20" },
		{ "offset", put_str, "offset", "must be an integer" },
		{ "offset", put_float, "offset", "must be an integer" },
		{ "weight", put_str, "weight", "must be a number" },
		{ "weight", put_bool, "weight", "must be a number" },
		{ "weight", put_nan, "weight", "must be a finite number" },
		{ "weight", put_inf, "weight", "must be a finite number" },
		{ "urgent", put_int, "urgent", "must be a boolean" },
		{ "urgent", put_str, "urgent", "must be a boolean" },
		{ "priority", put_int, "priority", "must be one of: urgent, high, normal, low" },
		{ "priority", put_upper, "priority", "must be one of: urgent, high, normal, low" },
		{ "tags", put_str, "tags", "must be an array of strings" },
		{ "tags", put_map, "tags", "must be an array of strings" },
		{ "tags", put_int_array, "tags[0]", "must be a string" },
		{ "owner", put_array, "owner", "must be a map" },
		{ "owner", put_str, "owner", "must be a map" },
		{ "file_hints", put_map, "file_hints", "must be an array of maps" },
		{ "file_hints", put_int_array, "file_hints[0]", "must be a map" },
		{ "file_hints", put_hints_bad_item, "file_hints[1]", "must be a map" },
		{ "metadata", put_array, "metadata", "must be a map" },
		{ "metadata", put_str, "metadata", "must be a map" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(cases[i].key, "description") == 0) {
			ac_mpw_reset(&w);
			ac_mpw_map(&w, 1);
		} else {
			begin(1);
		}
		ac_mpw_key(&w, cases[i].key);
		cases[i].put(&w);
		expect_err(cases[i].field, cases[i].message);
	}
}

/* ---- encoder ---- */

Test(schema, round_trip_of_every_field_type)
{
	ac_mpw meta, again;
	ac_str tags[2] = { S("alpha"), S("") };
	hint owner = { .path = S("src/main.c"), .line = { 42, true } };
	hint hints[3] = { { .path = S("a.c") }, { .path = S("b.c"), .line = { 7, true } },
		{ .path = S("c.c") } };

	ac_mpw_init(&meta);
	ac_mpw_map(&meta, 2);
	ac_mpw_key(&meta, "k");
	ac_mpw_array(&meta, 2);
	ac_mpw_i64(&meta, -1);
	ac_mpw_cstr(&meta, "v");
	ac_mpw_key(&meta, "bin");
	ac_mpw_raw(&meta, "\xc4\x02\x00\xff", 4);
	req in = {
		.description = S("describe \xe2\x9c\x93"),
		.id = S("task-00:1"),
		.retries = { 3, true },
		.offset = { -7, true },
		.delta = { INT64_MIN, true },
		.weight = { 0.125, true },
		.urgent = { false, true },
		.priority = { 2, true },
		.tags = { tags, 2, true },
		.owner = { &owner, true },
		.file_hints = { hints, 3, true },
		.metadata = { ac_mpw_data(&meta), (uint32_t)ac_mpw_len(&meta), true },
		.result = { (const uint8_t *)"\xa4" "done", 5, true },
	};
	ac_schema_encode(&req_schema, &in, &w);
	cr_assert_eq(w.err, AC_OK);
	cr_assert_eq(decode(), AC_OK, "%s: %s", derr.field, derr.message);

	cr_assert(ac_str_eq(r.description, "describe \xe2\x9c\x93"));
	cr_assert(ac_str_eq(r.id, "task-00:1"));
	cr_assert_eq(r.retries.v, 3);
	cr_assert_eq(r.offset.v, -7);
	cr_assert_eq(r.delta.v, INT64_MIN);
	cr_assert_eq(r.weight.v, 0.125);
	cr_assert(r.urgent.set);
	cr_assert_not(r.urgent.v);
	cr_assert_eq(r.priority.v, 2);
	cr_assert_eq(r.tags.count, 2);
	cr_assert(ac_str_eq(r.tags.items[0], "alpha"));
	cr_assert(r.tags.items[1].set);
	cr_assert_eq(r.tags.items[1].len, 0);
	const hint *o = r.owner.p;
	cr_assert(ac_str_eq(o->path, "src/main.c"));
	cr_assert_eq(o->line.v, 42);
	cr_assert_eq(r.file_hints.count, 3);
	const hint *h = r.file_hints.items;
	cr_assert(ac_str_eq(h[1].path, "b.c"));
	cr_assert_eq(h[1].line.v, 7);
	cr_assert_not(h[2].line.set);
	cr_assert_eq(r.metadata.len, ac_mpw_len(&meta));
	cr_assert_eq(memcmp(r.metadata.p, ac_mpw_data(&meta), r.metadata.len), 0);
	cr_assert_eq(r.result.len, 5);
	cr_assert_eq(memcmp(r.result.p, "\xa4" "done", 5), 0);
	cr_assert_eq(ac_schema_count_set(&req_schema, &r), 13);

	ac_mpw_init(&again);
	ac_schema_encode(&req_schema, &r, &again);
	cr_assert_eq(ac_mpw_len(&again), ac_mpw_len(&w));
	cr_assert_eq(memcmp(ac_mpw_data(&again), ac_mpw_data(&w), ac_mpw_len(&w)), 0,
	    "decode then encode gives the same bytes");
	ac_mpw_fini(&again);
	ac_mpw_fini(&meta);
}

Test(schema, encode_writes_only_set_fields_in_table_order)
{
	req in = { .urgent = { true, true }, .description = S("d"), .priority = { 0, true } };
	static const char want[] = "\x83\xab" "description" "\xa1" "d"
	                           "\xa6" "urgent" "\xc3" "\xa8" "priority" "\xa6" "urgent";

	ac_schema_encode(&req_schema, &in, &w);
	cr_assert_eq(ac_mpw_len(&w), sizeof(want) - 1);
	cr_assert_eq(memcmp(ac_mpw_data(&w), want, sizeof(want) - 1), 0);
}

Test(schema, encode_fields_merges_into_a_larger_map)
{
	req in = { .description = S("d"), .retries = { 1, true } };
	msgpack_unpacked u;
	size_t off = 0;

	ac_mpw_map(&w, 1 + ac_schema_count_set(&req_schema, &in));
	ac_mpw_key(&w, "ok");
	ac_mpw_bool(&w, true);
	ac_schema_encode_fields(&req_schema, &in, &w);
	msgpack_unpacked_init(&u);
	cr_assert_eq(msgpack_unpack_next(&u, (const char *)ac_mpw_data(&w), ac_mpw_len(&w), &off),
	    MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(off, ac_mpw_len(&w));
	cr_assert_eq(u.data.via.map.size, 3);
	const msgpack_object *v = ac_mp_get(&u.data, "retries");
	cr_assert_not_null(v);
	cr_assert_eq(v->via.u64, 1);
	cr_assert_null(ac_mp_get(&u.data, "retrie"));
	cr_assert_null(ac_mp_get(&u.data, "retriess"));
	cr_assert_null(ac_mp_get(&u.data.via.map.ptr[0].val, "ok"), "not a map");
	cr_assert_null(ac_mp_get(NULL, "ok"));
	msgpack_unpacked_destroy(&u);
}

Test(schema, str_helpers)
{
	char buf[4];
	ac_str s = S("hello");

	cr_assert_str_eq(ac_str_cpy(buf, sizeof(buf), s), "hel");
	cr_assert_str_eq(ac_str_cpy(buf, sizeof(buf), (ac_str){ 0 }), "");
	cr_assert_eq(ac_str_cpy(buf, 0, s), buf);
	cr_assert(ac_str_eq(s, "hello"));
	cr_assert_not(ac_str_eq(s, "hell"));
	cr_assert_not(ac_str_eq(s, "hello!"));
	cr_assert(ac_str_eq((ac_str){ 0 }, ""));
	cr_assert_not(ac_str_eq((ac_str){ "a\0b", 3, true }, "a"));
}
