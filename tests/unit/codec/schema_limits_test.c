/* SPDX-License-Identifier: MIT
 * Tests for src/codec/schema.c: the decoder's limits at max and max+1 over a schema
 * with every field type: string and id lengths, the id charset, integer ranges, list
 * item counts and lengths, UTF-8 validity, and the encoded size and nesting depth of
 * opaque values. The schema and helpers are in schema_fixture.h.
 */
#include <stdlib.h>

#include "schema_fixture.h"

static char *filled(size_t n, char c)
{
	char *p = malloc(n + 1);

	cr_assert_not_null(p);
	memset(p, c, n);
	p[n] = '\0';
	return p;
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
