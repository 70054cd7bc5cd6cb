/* SPDX-License-Identifier: MIT
 * Tests for src/codec/schema.c: the generic decoder and encoder over a schema with
 * every field type: hostile bytes, wrong types, limits at max and max+1, error paths,
 * nil-as-absent, repeated and non-string keys, and an encode -> decode round trip.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "codec/schema.h"

typedef struct hint {
	ac_str path;
	ac_uint line;
} hint;

static const ac_field hint_fields[] = {
	AC_F(hint, path, "path", AC_FT_STR, true, .max_len = 256),
	AC_F(hint, line, "line", AC_FT_UINT, false),
};
static const ac_schema hint_schema = AC_SCHEMA("hint", hint, hint_fields);

static const char *const prio_names[] = { "urgent", "high", "normal", "low", NULL };

typedef struct req {
	ac_str description;
	ac_str id;
	ac_uint retries;
	ac_int offset;
	ac_int delta;
	ac_real weight;
	ac_flag urgent;
	ac_choice priority;
	ac_strs tags;
	ac_obj owner;
	ac_objs file_hints;
	ac_raw metadata;
	ac_raw result;
} req;

static const ac_field req_fields[] = {
	AC_F(req, description, "description", AC_FT_STR, true, .min_len = 1, .max_len = 10000),
	AC_F(req, id, "id", AC_FT_ID, false),
	AC_F(req, retries, "retries", AC_FT_UINT, false, .min = 0, .max = 20),
	AC_F(req, offset, "offset", AC_FT_INT, false, .min = -100, .max = 100),
	AC_F(req, delta, "delta", AC_FT_INT, false),
	AC_F(req, weight, "weight", AC_FT_REAL, false),
	AC_F(req, urgent, "urgent", AC_FT_FLAG, false),
	AC_F(req, priority, "priority", AC_FT_CHOICE, false, .names = prio_names),
	AC_F(req, tags, "tags", AC_FT_STRS, false),
	AC_F(req, owner, "owner", AC_FT_OBJ, false, .sub = &hint_schema),
	AC_F(req, file_hints, "file_hints", AC_FT_OBJS, false, .max_len = 4, .sub = &hint_schema),
	AC_F(req, metadata, "metadata", AC_FT_MAP, false),
	AC_F(req, result, "result", AC_FT_ANY, false),
};
static const ac_schema req_schema = AC_SCHEMA("req", req, req_fields);

#define S(lit) ((ac_str){ (lit), sizeof(lit) - 1, true })

static ac_mpw w;
static ac_arena arena;
static req r;
static ac_decode_err derr;

static void setup(void)
{
	ac_mpw_init(&w);
	ac_arena_init(&arena);
	memset(&derr, 0, sizeof(derr));
}

static void teardown(void)
{
	ac_mpw_fini(&w);
	ac_arena_fini(&arena);
}

TestSuite(schema, .init = setup, .fini = teardown);

static ac_err decode_raw(const void *p, size_t len)
{
	return ac_schema_decode_bytes(&req_schema, p, len, &r, &arena, &derr);
}

static ac_err decode(void)
{
	return decode_raw(ac_mpw_data(&w), ac_mpw_len(&w));
}

static void expect_err(const char *field, const char *message)
{
	cr_assert_eq(decode(), AC_EINVAL, "%s: %s", field, message);
	cr_assert_eq(derr.code, AC_EINVAL);
	cr_assert_str_eq(derr.field, field);
	cr_assert_str_eq(derr.message, message);
}

/* Starts a map of 1 + extra entries whose first entry is a valid description. */
static void begin(uint32_t extra)
{
	ac_mpw_reset(&w);
	ac_arena_reset(&arena);
	ac_mpw_map(&w, 1 + extra);
	ac_mpw_key(&w, "description");
	ac_mpw_cstr(&w, "d");
}

static char *filled(size_t n, char c)
{
	char *p = malloc(n + 1);

	cr_assert_not_null(p);
	memset(p, c, n);
	p[n] = '\0';
	return p;
}

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

/* ---- limits at max and max + 1 ---- */

static void put_key_str(const char *key, const char *value, size_t len)
{
	begin(1);
	ac_mpw_key(&w, key);
	ac_mpw_str(&w, value, len);
}

Test(schema, string_length_limits)
{
	char *big = filled(10001, 'a');

	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "description");
	ac_mpw_str(&w, big, 10000);
	cr_assert_eq(decode(), AC_OK);
	cr_assert_eq(r.description.len, 10000);
	ac_mpw_reset(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "description");
	ac_mpw_str(&w, big, 10001);
	expect_err("description", "must be at most 10000 bytes");
	ac_mpw_reset(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "description");
	ac_mpw_str(&w, "", 0);
	expect_err("description", "must not be empty");

	free(big);
}

Test(schema, nested_string_default_and_explicit_limits)
{
	char *big = filled(1025, 'p');

	begin(1);
	ac_mpw_key(&w, "owner");
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "path");
	ac_mpw_str(&w, big, 256);
	cr_assert_eq(decode(), AC_OK);
	cr_assert_eq(((hint *)r.owner.p)->path.len, 256);
	begin(1);
	ac_mpw_key(&w, "owner");
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "path");
	ac_mpw_str(&w, big, 257);
	expect_err("owner.path", "must be at most 256 bytes");
	free(big);
}

Test(schema, id_limits_and_charset)
{
	char *big = filled(129, 'i');

	put_key_str("id", big, 128);
	cr_assert_eq(decode(), AC_OK);
	put_key_str("id", big, 129);
	expect_err("id", "must be at most 128 bytes");
	put_key_str("id", "", 0);
	expect_err("id", "must not be empty");
	put_key_str("id", "Az09._:-", 8);
	cr_assert_eq(decode(), AC_OK);
	static const char *bad[] = { "a b", "a/b", "a\0b", "\xc3\xbc", "a@b", "a+b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_key_str("id", bad[i], i == 2 ? 3 : strlen(bad[i]));
		expect_err("id", "must contain only letters, digits and . _ : -");
	}
	free(big);
}

Test(schema, integer_range_limits)
{
	static const struct {
		const char *key;
		int64_t v;
		bool ok;
	} cases[] = {
		{ "retries", 0, true }, { "retries", 20, true }, { "retries", 21, false },
		{ "offset", -100, true }, { "offset", 100, true },
		{ "offset", -101, false }, { "offset", 101, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		begin(1);
		ac_mpw_key(&w, cases[i].key);
		ac_mpw_i64(&w, cases[i].v);
		if (cases[i].ok) {
			cr_assert_eq(decode(), AC_OK, "%s=%lld", cases[i].key,
			    (long long)cases[i].v);
		} else {
			bool is_retries = cases[i].key[0] == 'r';
			expect_err(cases[i].key, is_retries ? "must be between 0 and 20"
			                                    : "must be between -100 and 100");
		}
	}
}

Test(schema, uint_without_max_is_bounded_by_int64_max)
{
	begin(1);
	ac_mpw_key(&w, "owner");
	ac_mpw_map(&w, 2);
	ac_mpw_key(&w, "path");
	ac_mpw_cstr(&w, "p");
	ac_mpw_key(&w, "line");
	ac_mpw_u64(&w, (uint64_t)INT64_MAX);
	cr_assert_eq(decode(), AC_OK);
	begin(1);
	ac_mpw_key(&w, "owner");
	ac_mpw_map(&w, 2);
	ac_mpw_key(&w, "path");
	ac_mpw_cstr(&w, "p");
	ac_mpw_key(&w, "line");
	ac_mpw_u64(&w, (uint64_t)INT64_MAX + 1);
	expect_err("owner.line", "must be between 0 and 9223372036854775807");
}

Test(schema, list_item_count_and_item_length_limits)
{
	char *big = filled(1025, 't');

	for (uint32_t n = 256; n <= 257; n++) {
		begin(1);
		ac_mpw_key(&w, "tags");
		ac_mpw_array(&w, n);
		for (uint32_t i = 0; i < n; i++) {
			ac_mpw_cstr(&w, "t");
		}
		if (n == 256) {
			cr_assert_eq(decode(), AC_OK);
			cr_assert_eq(r.tags.count, 256);
		} else {
			expect_err("tags", "must have at most 256 items");
		}
	}
	begin(1);
	ac_mpw_key(&w, "tags");
	ac_mpw_array(&w, 4);
	ac_mpw_str(&w, big, 0);
	ac_mpw_str(&w, big, 1024);
	ac_mpw_cstr(&w, "x");
	ac_mpw_str(&w, big, 1025);
	expect_err("tags[3]", "must be at most 1024 bytes");
	free(big);
}

Test(schema, objs_count_limit_and_nested_error_path)
{
	for (uint32_t n = 4; n <= 5; n++) {
		begin(1);
		ac_mpw_key(&w, "file_hints");
		ac_mpw_array(&w, n);
		for (uint32_t i = 0; i < n; i++) {
			ac_mpw_map(&w, 1);
			ac_mpw_key(&w, "path");
			ac_mpw_cstr(&w, "f.c");
		}
		if (n == 4) {
			cr_assert_eq(decode(), AC_OK);
			cr_assert_eq(r.file_hints.count, 4);
		} else {
			expect_err("file_hints", "must have at most 4 items");
		}
	}
	begin(1);
	ac_mpw_key(&w, "file_hints");
	ac_mpw_array(&w, 3);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "path");
	ac_mpw_cstr(&w, "a.c");
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "path");
	ac_mpw_cstr(&w, "b.c");
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "path");
	ac_mpw_u64(&w, 9);
	expect_err("file_hints[2].path", "must be a string");
}

Test(schema, invalid_utf8_is_rejected_with_its_path)
{
	static const char *bad[] = { "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ac_mpw_reset(&w);
		ac_mpw_map(&w, 1);
		ac_mpw_key(&w, "description");
		ac_mpw_cstr(&w, bad[i]);
		expect_err("description", "must be valid UTF-8");
		begin(1);
		ac_mpw_key(&w, "tags");
		ac_mpw_array(&w, 2);
		ac_mpw_cstr(&w, "ok");
		ac_mpw_cstr(&w, bad[i]);
		expect_err("tags[1]", "must be valid UTF-8");
	}
	/* opaque values are not checked */
	begin(1);
	ac_mpw_key(&w, "metadata");
	ac_mpw_map(&w, 1);
	ac_mpw_cstr(&w, "\xff");
	ac_mpw_cstr(&w, "\xc0\xaf");
	cr_assert_eq(decode(), AC_OK);
}

/* Writes {"k": <str of n bytes>}, whose encoding is 6 + n bytes for 32 <= n < 65536
 * and 8 + n bytes above. */
static void put_sized_map(const char *s, size_t n)
{
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "k");
	ac_mpw_str(&w, s, n);
}

Test(schema, map_encoded_size_limit)
{
	char *big = filled(65536, 'm');

	begin(1);
	ac_mpw_key(&w, "metadata");
	put_sized_map(big, 65536 - 6);
	cr_assert_eq(decode(), AC_OK);
	cr_assert_eq(r.metadata.len, 65536);
	begin(1);
	ac_mpw_key(&w, "metadata");
	put_sized_map(big, 65536 - 5);
	expect_err("metadata", "must be at most 65536 bytes encoded");
	free(big);
}

Test(schema, any_encoded_size_limit)
{
	size_t max = 1024 * 1024;
	char *big = filled(max, 'r');

	begin(1);
	ac_mpw_key(&w, "result");
	ac_mpw_str(&w, big, max - 5); /* str 32 header: 5 bytes */
	cr_assert_eq(decode(), AC_OK);
	cr_assert_eq(r.result.len, max);
	begin(1);
	ac_mpw_key(&w, "result");
	ac_mpw_str(&w, big, max - 4);
	expect_err("result", "must be at most 1048576 bytes encoded");
	free(big);
}

static void put_nested_maps(unsigned depth)
{
	for (unsigned i = 0; i < depth; i++) {
		ac_mpw_map(&w, 1);
		ac_mpw_key(&w, "a");
	}
	ac_mpw_u64(&w, 1);
}

Test(schema, opaque_nesting_depth_limit)
{
	begin(1);
	ac_mpw_key(&w, "metadata");
	put_nested_maps(16);
	cr_assert_eq(decode(), AC_OK);
	begin(1);
	ac_mpw_key(&w, "metadata");
	put_nested_maps(17);
	expect_err("metadata", "must be nested at most 16 levels deep");

	begin(1);
	ac_mpw_key(&w, "result");
	for (int i = 0; i < 16; i++) {
		ac_mpw_array(&w, 1);
	}
	ac_mpw_array(&w, 0);
	expect_err("result", "must be nested at most 16 levels deep");
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
