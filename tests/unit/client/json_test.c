/* SPDX-License-Identifier: MIT
 * Tests for src/client/json.c, json_str.c and json_print.c: JSON -> msgpack bytes are
 * exact and minimal, msgpack -> JSON text is exact (compact and pretty), every type
 * round-trips, and malformed input in either direction is an error, never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "agentcom/json.h"

/* Parses json (NUL-terminated) and checks the msgpack bytes exactly. */
static void assert_msgpack(const char *json, const uint8_t *want, size_t want_len)
{
	uint8_t *mp = NULL;
	size_t mp_len = 0;
	char err[128] = "";

	cr_assert_eq(ac_json_to_msgpack(json, strlen(json), &mp, &mp_len, err, sizeof err),
	    AC_OK, "%s: %s", json, err);
	cr_assert_eq(mp_len, want_len, "%s: %zu bytes, want %zu", json, mp_len, want_len);
	cr_assert_eq(memcmp(mp, want, want_len), 0, "%s: bytes differ", json);
	free(mp);
}

/* Prints msgpack bytes and checks the text exactly. */
static void assert_json(const uint8_t *mp, size_t len, int flags, const char *want)
{
	char *text = NULL;

	cr_assert_eq(ac_msgpack_to_json(mp, len, flags, &text), AC_OK);
	cr_assert_str_eq(text, want);
	free(text);
}

/* JSON -> msgpack -> JSON. */
static void assert_round_trip(const char *json, int flags, const char *want)
{
	uint8_t *mp = NULL;
	size_t mp_len = 0;
	char err[128] = "";

	cr_assert_eq(ac_json_to_msgpack(json, strlen(json), &mp, &mp_len, err, sizeof err),
	    AC_OK, "%s: %s", json, err);
	assert_json(mp, mp_len, flags, want);
	free(mp);
}

/* json[0..len) must be rejected with exactly want_err. */
static void assert_invalid_n(const char *json, size_t len, const char *want_err)
{
	uint8_t *mp = (uint8_t *)"untouched";
	size_t mp_len = 42;
	char err[128] = "";

	cr_assert_eq(ac_json_to_msgpack(json, len, &mp, &mp_len, err, sizeof err), AC_EINVAL,
	    "accepted: %s", json);
	cr_assert_str_eq(err, want_err, "input: %s", json);
	cr_assert_eq(mp_len, 42);
}

static void assert_invalid(const char *json, const char *want_err)
{
	assert_invalid_n(json, strlen(json), want_err);
}

static void assert_bad_msgpack(const uint8_t *mp, size_t len)
{
	char *text = (char *)"untouched";

	cr_assert_eq(ac_msgpack_to_json(mp, len, 0, &text), AC_EBADREQ);
	cr_assert_str_eq(text, "untouched");
}

Test(json, round_trips_every_type)
{
	const char *doc = "{\"nil\":null,\"t\":true,\"f\":false,\"u\":42,\"i\":-7,\"d\":1.5,"
	                  "\"s\":\"text\",\"a\":[1,[2,[]],{}],\"m\":{\"k\":\"v\"}}";

	assert_round_trip(doc, 0, doc);
	assert_round_trip("\"just a string\"", 0, "\"just a string\"");
	assert_round_trip("0", 0, "0");
	assert_round_trip("null", 0, "null");
}

Test(json, whitespace_around_tokens_is_ignored)
{
	assert_round_trip(" \t\r\n{ \"a\" : [ 1 , 2 ] ,\n\"b\":{ } } \n", 0,
	    "{\"a\":[1,2],\"b\":{}}");
}

Test(json, integers_use_the_smallest_encoding)
{
	static const uint8_t want[] = {
		0x9d, 0x00, 0x7f, 0xcc, 0x80, 0xcc, 0xff, 0xcd, 0x01, 0x00, 0xcd, 0xff, 0xff,
		0xce, 0x00, 0x01, 0x00, 0x00, 0xcf, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xe0, 0xd0, 0xdf, 0xd0, 0x80, 0xd1, 0xff, 0x7f,
	};

	assert_msgpack("[0,127,128,255,256,65535,65536,4294967296,-1,-32,-33,-128,-129]",
	    want, sizeof want);
}

Test(json, minus_zero_integer_is_zero)
{
	static const uint8_t want[] = { 0x00 };

	assert_msgpack("-0", want, sizeof want);
}

Test(json, literals_map_to_nil_and_bool)
{
	static const uint8_t want[] = { 0x93, 0xc3, 0xc2, 0xc0 };

	assert_msgpack("[true,false,null]", want, sizeof want);
}

Test(json, long_strings_and_containers_get_wider_headers)
{
	char json[400];
	uint8_t *mp = NULL;
	size_t mp_len = 0;

	json[0] = '"';
	memset(json + 1, 'x', 300);
	strcpy(json + 301, "\"");
	cr_assert_eq(ac_json_to_msgpack(json, strlen(json), &mp, &mp_len, NULL, 0), AC_OK);
	cr_assert_eq(mp_len, 303);
	cr_assert(mp[0] == 0xda && mp[1] == 0x01 && mp[2] == 0x2c);
	free(mp);
	json[41] = '"';
	cr_assert_eq(ac_json_to_msgpack(json, 42, &mp, &mp_len, NULL, 0), AC_OK);
	cr_assert(mp_len == 42 && mp[0] == 0xd9 && mp[1] == 40);
	free(mp);
	assert_round_trip("[0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9]", 0,
	    "[0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9]");
	strcpy(json, "{\"a\":0,\"b\":1,\"c\":2,\"d\":3,\"e\":4,\"f\":5,\"g\":6,\"h\":7,"
	             "\"i\":8,\"j\":9,\"k\":0,\"l\":1,\"m\":2,\"n\":3,\"o\":4,\"p\":5}");
	cr_assert_eq(ac_json_to_msgpack(json, strlen(json), &mp, &mp_len, NULL, 0), AC_OK);
	cr_assert(mp[0] == 0xde && mp[1] == 0x00 && mp[2] == 16);
	free(mp);
	assert_round_trip(json, 0, json);
}

Test(json, decodes_escapes_and_unicode_escapes)
{
	static const uint8_t want[] = {
		0xb1, '"', '\\', '/', '\b', '\f', '\n', '\r', '\t',
		'A', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0x00, 0xc3, 0xa9,
	};

	assert_msgpack("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\u0000\xc3\xa9\"", want,
	    sizeof want);
}

Test(json, decodes_surrogate_pairs)
{
	static const uint8_t want[] = { 0xa5, 'a', 0xf0, 0x9f, 0x98, 0x80 };

	assert_msgpack("\"a\\ud83d\\ude00\"", want, sizeof want);
	assert_round_trip("\"\\uDBFF\\uDFFF\"", 0, "\"\xf4\x8f\xbf\xbf\"");
}

Test(json, rejects_unterminated_string)
{
	assert_invalid("[\"abc", "line 1 col 2: unterminated string");
	assert_invalid("\"abc\\", "line 1 col 1: unterminated string");
}

Test(json, rejects_trailing_comma)
{
	assert_invalid("[1,2,]", "line 1 col 6: trailing comma");
	assert_invalid("{\"a\":1, }", "line 1 col 9: trailing comma");
}

Test(json, rejects_bad_escape)
{
	assert_invalid("\"a\\x\"", "line 1 col 3: invalid escape");
	assert_invalid("\"\\u12G4\"", "line 1 col 2: invalid \\u escape");
	assert_invalid("\"\\u12\"", "line 1 col 2: invalid \\u escape");
}

Test(json, rejects_lone_surrogate)
{
	assert_invalid("\"\\ud800\"", "line 1 col 2: lone surrogate");
	assert_invalid("\"\\udc00\\ud800\"", "line 1 col 2: lone surrogate");
	assert_invalid("\"\\ud800\\u0041\"", "line 1 col 2: lone surrogate");
	assert_invalid("\"\\ud800x\"", "line 1 col 2: lone surrogate");
}

Test(json, rejects_leading_zeros)
{
	assert_invalid("01", "line 1 col 1: leading zero in number");
	assert_invalid("[-00]", "line 1 col 3: leading zero in number");
	assert_round_trip("[0,-0,0.5,0e1]", 0, "[0,0,0.5,0.0]");
}

Test(json, rejects_malformed_numbers)
{
	assert_invalid("-", "line 1 col 2: unexpected end of input");
	assert_invalid("[1.]", "line 1 col 4: invalid number");
	assert_invalid("[1e]", "line 1 col 4: invalid number");
	assert_invalid("[.5]", "line 1 col 2: expected a value");
	assert_invalid("[+1]", "line 1 col 2: expected a value");
	assert_invalid("1e400", "line 1 col 1: number out of range");
}

Test(json, rejects_depth_65_and_accepts_depth_64)
{
	char json[200];

	memset(json, '[', 64);
	memset(json + 64, ']', 64);
	json[128] = '\0';
	assert_round_trip(json, 0, json);
	memset(json, '[', 65);
	memset(json + 65, ']', 65);
	json[130] = '\0';
	assert_invalid(json, "line 1 col 65: nesting deeper than 64");
}

Test(json, rejects_trailing_characters)
{
	assert_invalid("{} x", "line 1 col 4: trailing characters after the value");
	assert_invalid("1 2", "line 1 col 3: trailing characters after the value");
	assert_invalid("truex", "line 1 col 5: trailing characters after the value");
}

Test(json, rejects_other_syntax_errors)
{
	assert_invalid("", "line 1 col 1: unexpected end of input");
	assert_invalid("  \n ", "line 2 col 2: unexpected end of input");
	assert_invalid("[1 2]", "line 1 col 4: expected ',' or ']'");
	assert_invalid("{\"a\" 1}", "line 1 col 6: expected ':'");
	assert_invalid("{\"a\":1 \"b\":2}", "line 1 col 8: expected ',' or '}'");
	assert_invalid("{1:2}", "line 1 col 2: expected a string key");
	assert_invalid("[nul]", "line 1 col 2: invalid literal");
	assert_invalid("[1,", "line 1 col 4: unexpected end of input");
	assert_invalid("\"a\tb\"", "line 1 col 3: control character in string");
	assert_invalid_n("[\0]", 3, "line 1 col 2: expected a value");
}

Test(json, rejects_invalid_utf8_in_strings)
{
	assert_invalid("\"ab\xff\"", "line 1 col 4: invalid UTF-8");
	assert_invalid("\"\xc0\x80\"", "line 1 col 2: invalid UTF-8");
	assert_invalid("\"\xed\xa0\x80\"", "line 1 col 2: invalid UTF-8");
	assert_invalid("\"\xe2\x82\"", "line 1 col 2: invalid UTF-8");
}

Test(json, error_position_counts_lines_and_characters)
{
	assert_invalid("{\n  \"a\": tru\n}", "line 2 col 8: invalid literal");
	assert_invalid("[\"\xc3\xa9\xe2\x82\xac\", x]", "line 1 col 8: expected a value");
}

Test(json, error_text_is_truncated_to_errcap)
{
	char err[8];
	uint8_t *mp;
	size_t mp_len;

	cr_assert_eq(ac_json_to_msgpack("[", 1, &mp, &mp_len, err, sizeof err), AC_EINVAL);
	cr_assert_str_eq(err, "line 1 ");
	cr_assert_eq(ac_json_to_msgpack("[", 1, &mp, &mp_len, NULL, 0), AC_EINVAL);
}

Test(json, big_integers_keep_full_precision)
{
	static const uint8_t u64_max[] = { 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t i64_min[] = { 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0 };

	assert_msgpack("18446744073709551615", u64_max, sizeof u64_max);
	assert_msgpack("-9223372036854775808", i64_min, sizeof i64_min);
	assert_round_trip("[18446744073709551615,-9223372036854775808,9223372036854775807]", 0,
	    "[18446744073709551615,-9223372036854775808,9223372036854775807]");
}

Test(json, integers_beyond_64_bits_become_floats)
{
	assert_round_trip("18446744073709551616", 0, "1.8446744073709552e+19");
	assert_round_trip("-9223372036854775809", 0, "-9.223372036854776e+18");
	assert_round_trip("123456789012345678901234567890", 0, "1.2345678901234568e+29");
}

Test(json, floats_print_shortest_text_that_round_trips)
{
	assert_round_trip("[0.1,1.0,-2.5,1e300,1E-7,3.141592653589793,0.30000000000000004]", 0,
	    "[0.1,1.0,-2.5,1e+300,1e-07,3.141592653589793,"
	    "0.30000000000000004]");
	assert_round_trip("[-0.0,100.0,1e15,123456789012345680000.0]", 0,
	    "[-0.0,100.0,1e+15,1.2345678901234568e+20]");
}

Test(json, float32_prints_as_float32)
{
	static const uint8_t f32[] = { 0x92, 0xca, 0x3f, 0x8c, 0xcc, 0xcd, 0xca, 0x40, 0x00, 0, 0 };

	assert_json(f32, sizeof f32, 0, "[1.1,2.0]");
}

Test(json, nan_and_inf_print_as_null)
{
	static const uint8_t mp[] = {
		0x93, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0,
		0xca, 0xff, 0x80, 0, 0,
	};

	assert_json(mp, sizeof mp, 0, "[null,null,null]");
}

Test(json, pretty_output_indents_two_spaces)
{
	assert_round_trip("{\"a\":[1,{\"b\":null}],\"c\":{},\"d\":[],\"e\":\"x\"}", AC_JSON_PRETTY,
	    "{\n"
	    "  \"a\": [\n"
	    "    1,\n"
	    "    {\n"
	    "      \"b\": null\n"
	    "    }\n"
	    "  ],\n"
	    "  \"c\": {},\n"
	    "  \"d\": [],\n"
	    "  \"e\": \"x\"\n"
	    "}");
	assert_round_trip("7", AC_JSON_PRETTY, "7");
}

Test(json, bin_prints_as_base64)
{
	static const uint8_t mp[] = {
		0x95, 0xc4, 0x00, 0xc4, 0x01, 'f', 0xc4, 0x02, 'f', 'o', 0xc4, 0x03, 'f', 'o', 'o',
		0xc4, 0x06, 0xfb, 0xff, 0xbf, 'f', 'o', 'o',
	};

	assert_json(mp, sizeof mp, 0, "[\"\",\"Zg==\",\"Zm8=\",\"Zm9v\",\"+/+/Zm9v\"]");
}

Test(json, ext_prints_as_null)
{
	static const uint8_t mp[] = { 0x92, 0xd4, 0x01, 0x00, 0xc7, 0x02, 0x05, 0xaa, 0xbb };

	assert_json(mp, sizeof mp, 0, "[null,null]");
}

Test(json, control_characters_are_escaped)
{
	static const uint8_t mp[] = { 0xa8, 0x01, 0x1f, '\n', '"', '\\', '/', 0x7f, 0x00 };

	assert_json(mp, sizeof mp, 0, "\"\\u0001\\u001f\\n\\\"\\\\/\x7f\\u0000\"");
}

Test(json, invalid_utf8_is_replaced_with_u_fffd)
{
	/* "a", FF, "b", E2 82 (truncated), C0 80 (overlong), ED A0 80 (surrogate), "é" */
	static const uint8_t mp[] = {
		0xad, 'a', 0xff, 'b', 0xe2, 0x82, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xc3, 0xa9, 0xe2,
	};
	const char *fffd = "\xef\xbf\xbd";
	char want[128];

	snprintf(want, sizeof want, "\"a%sb%s%s%s%s%s%s\xc3\xa9%s\"", fffd, fffd, fffd, fffd,
	    fffd, fffd, fffd, fffd);
	assert_json(mp, sizeof mp, 0, want);
}

Test(json, non_string_keys_are_quoted_json_text)
{
	static const uint8_t mp[] = {
		0x87, 0x01, 0xa1, 'a', 0xc3, 0x02, 0xc0, 0x03, 0x92, 0x01, 0xa1, 'x', 0x04,
		0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x05, 0xc4, 0x01, 0x01, 0x06, 0xff, 0x07,
	};

	assert_json(mp, sizeof mp, 0,
	    "{\"1\":\"a\",\"true\":2,\"null\":3,\"[1,\\\"x\\\"]\":4,\"1.5\":5,\"AQ==\":6,"
	    "\"-1\":7}");
}

Test(json, malformed_msgpack_is_bad_request)
{
	static const uint8_t truncated[] = { 0x92, 0x01 };
	static const uint8_t trailing[] = { 0x01, 0x02 };
	static const uint8_t reserved[] = { 0xc1 };
	static const uint8_t huge_count[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t short_str[] = { 0xa5, 'a', 'b' };

	assert_bad_msgpack(truncated, sizeof truncated);
	assert_bad_msgpack(trailing, sizeof trailing);
	assert_bad_msgpack(reserved, sizeof reserved);
	assert_bad_msgpack(huge_count, sizeof huge_count);
	assert_bad_msgpack(short_str, sizeof short_str);
	assert_bad_msgpack(NULL, 0);
}

Test(json, msgpack_deeper_than_64_is_bad_request)
{
	uint8_t mp[65];
	char want[129];

	memset(mp, 0x91, 64);
	mp[64] = 0x90;
	assert_bad_msgpack(mp, 65);
	memset(want, '[', 64);
	memset(want + 64, ']', 64);
	want[128] = '\0';
	assert_json(mp + 1, 64, 0, want);
}

Test(json, parses_input_without_nul_terminator)
{
	static const uint8_t want[] = { 0x91, 0x01 };
	char json[3] = { '[', '1', ']' };
	uint8_t *mp = NULL;
	size_t mp_len = 0;

	cr_assert_eq(ac_json_to_msgpack(json, sizeof json, &mp, &mp_len, NULL, 0), AC_OK);
	cr_assert(mp_len == sizeof want && memcmp(mp, want, sizeof want) == 0);
	free(mp);
}
