/* SPDX-License-Identifier: MIT
 * Tests for src/registry/ollama_json.c on real Ollama /api/tags and /api/ps bodies:
 * names in order, the size_vram sum, escapes and surrogates, nesting that must not
 * match, elements that are skipped, and a table of bodies that are not JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "registry/ollama_json.h"

static ac_ollama_models m;

static void teardown(void)
{
	ac_ollama_models_fini(&m);
}

TestSuite(ollama_json, .fini = teardown);

static ac_err parse(const char *json)
{
	ac_ollama_models_fini(&m);
	return ac_ollama_models_parse(&m, json, strlen(json));
}

/* Captured from Ollama 0.4 (GET /api/tags), two models. */
static const char tags_body[] =
    "{\"models\":[{\"name\":\"qwen2.5-coder:7b\",\"model\":\"qwen2.5-coder:7b\","
    "\"modified_at\":\"2024-11-12T09:44:35.155385627+01:00\",\"size\":4683087332,"
    "\"digest\":\"2b0496514337a3d5901f1d253d01726c890b721e891335a56d6e08cedf3e2cb0\","
    "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"qwen2\","
    "\"families\":[\"qwen2\"],\"parameter_size\":\"7.6B\",\"quantization_level\":\"Q4_K_M\"}},"
    "{\"name\":\"llama3.1:8b\",\"model\":\"llama3.1:8b\",\"modified_at\":"
    "\"2024-10-01T18:02:11.3+02:00\",\"size\":4920753328,\"digest\":\"46e0c10c039e\","
    "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"llama\","
    "\"families\":null,\"parameter_size\":\"8.0B\",\"quantization_level\":\"Q4_0\"}}]}\n";

/* GET /api/ps with two loaded models, pretty-printed as `curl | jq` shows it. */
static const char ps_body[] =
    "{\n  \"models\": [\n    {\n      \"name\": \"qwen2.5-coder:7b\",\n"
    "      \"model\": \"qwen2.5-coder:7b\",\n      \"size\": 5137025024,\n"
    "      \"digest\": \"2b0496514337a3d5\",\n      \"details\": {\n"
    "        \"parent_model\": \"\",\n        \"format\": \"gguf\",\n"
    "        \"families\": [\"qwen2\"]\n      },\n"
    "      \"expires_at\": \"2024-11-12T10:49:35.155385627+01:00\",\n"
    "      \"size_vram\": 5137025024\n    },\n    {\n      \"name\": \"nomic-embed-text:latest\",\n"
    "      \"size\": 312000000,\n      \"size_vram\": 0\n    },\n"
    "    {\"name\": \"llama3.1:8b\", \"size_vram\": 1000}\n  ]\n}\n";

Test(ollama_json, tags_body_lists_names_in_order)
{
	cr_assert_eq(parse(tags_body), AC_OK);
	cr_assert_eq(m.count, 2);
	cr_assert_str_eq(ac_ollama_models_name(&m, 0), "qwen2.5-coder:7b");
	cr_assert_str_eq(ac_ollama_models_name(&m, 1), "llama3.1:8b");
	cr_assert_eq(m.names[1].len, strlen("llama3.1:8b"));
	cr_assert_eq(m.vram_bytes, 0);
}

Test(ollama_json, ps_body_sums_size_vram)
{
	cr_assert_eq(parse(ps_body), AC_OK);
	cr_assert_eq(m.count, 3);
	cr_assert_str_eq(ac_ollama_models_name(&m, 1), "nomic-embed-text:latest");
	cr_assert_eq(m.vram_bytes, 5137025024ull + 1000);
}

Test(ollama_json, empty_list_is_ok)
{
	cr_assert_eq(parse("{\"models\":[]}"), AC_OK);
	cr_assert_eq(m.count, 0);
	cr_assert_eq(parse(" \t\r\n{ \"models\" : [ ] } \n"), AC_OK);
}

Test(ollama_json, escapes_are_decoded)
{
	cr_assert_eq(parse("{\"models\":[{\"name\":\"a\\\"b\\\\c\\/d\\u00e9\\ud83d\\ude00\\n\\t\"}]}"),
	    AC_OK);
	cr_assert_eq(m.count, 1);
	cr_assert_str_eq(ac_ollama_models_name(&m, 0), "a\"b\\c/d\xc3\xa9\xf0\x9f\x98\x80\n\t");
}

Test(ollama_json, lone_surrogates_become_replacement_characters)
{
	cr_assert_eq(parse("{\"models\":[{\"name\":\"x\\ud800y\\udc00\\ud800\\u0041\"}]}"), AC_OK);
	cr_assert_str_eq(ac_ollama_models_name(&m, 0),
	    "x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd" "A");
}

Test(ollama_json, raw_utf8_names_are_kept)
{
	cr_assert_eq(parse("{\"models\":[{\"name\":\"mod\xc3\xa8le:\xe4\xb8\xad\"}]}"), AC_OK);
	cr_assert_str_eq(ac_ollama_models_name(&m, 0), "mod\xc3\xa8le:\xe4\xb8\xad");
}

Test(ollama_json, escaped_keys_match)
{
	cr_assert_eq(parse("{\"\\u006dodels\":[{\"n\\u0061me\":\"x\",\"size_vra\\u006d\":5}]}"), AC_OK);
	cr_assert_eq(m.count, 1);
	cr_assert_eq(m.vram_bytes, 5);
}

Test(ollama_json, nested_names_and_models_do_not_match)
{
	cr_assert_eq(parse("{\"name\":\"top\",\"models\":[{\"details\":{\"name\":\"inner\","
	    "\"models\":[{\"name\":\"deeper\"}],\"size_vram\":7},\"name\":\"outer\"}]}"), AC_OK);
	cr_assert_eq(m.count, 1);
	cr_assert_str_eq(ac_ollama_models_name(&m, 0), "outer");
	cr_assert_eq(m.vram_bytes, 0);
	cr_assert_eq(parse("{\"data\":{\"models\":[{\"name\":\"x\"}]}}"), AC_ENOTFOUND);
}

Test(ollama_json, odd_elements_are_skipped)
{
	cr_assert_eq(parse("{\"models\":[1,\"s\",null,[{\"name\":\"in array\"}],{},"
	    "{\"name\":5},{\"name\":null},{\"name\":\"a\",\"name\":\"b\"},{\"model\":\"m\"},"
	    "{\"name\":\"\"}]}"), AC_OK);
	cr_assert_eq(m.count, 2);
	cr_assert_str_eq(ac_ollama_models_name(&m, 0), "a");
	cr_assert_str_eq(ac_ollama_models_name(&m, 1), "");
}

Test(ollama_json, only_the_first_models_key_counts)
{
	cr_assert_eq(parse("{\"models\":[{\"name\":\"a\"}],\"models\":[{\"name\":\"b\"}]}"), AC_OK);
	cr_assert_eq(m.count, 1);
	cr_assert_str_eq(ac_ollama_models_name(&m, 0), "a");
	cr_assert_eq(parse("{\"models\":null,\"models\":[{\"name\":\"b\"}]}"), AC_OK);
	cr_assert_eq(m.count, 1);
}

Test(ollama_json, size_vram_other_than_uint_is_ignored)
{
	cr_assert_eq(parse("{\"models\":[{\"size_vram\":1.5},{\"size_vram\":-3},{\"size_vram\":1e3},"
	    "{\"size_vram\":\"9\"},{\"size_vram\":null},{\"size_vram\":99999999999999999999},"
	    "{\"size_vram\":0},{\"size_vram\":12}]}"), AC_OK);
	cr_assert_eq(m.count, 0);
	cr_assert_eq(m.vram_bytes, 12);
}

Test(ollama_json, size_vram_sum_saturates)
{
	cr_assert_eq(parse("{\"models\":[{\"size_vram\":18446744073709551615},{\"size_vram\":2}]}"),
	    AC_OK);
	cr_assert_eq(m.vram_bytes, UINT64_MAX);
}

Test(ollama_json, missing_models_array)
{
	static const char *const bodies[] = {
		"{}", "[]", "\"models\"", "42", "null", "{\"models\":null}", "{\"models\":{}}",
		"{\"models\":\"[]\"}", "{\"error\":\"unauthorized\"}", "[{\"models\":[]}]",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		cr_expect_eq(parse(bodies[i]), AC_ENOTFOUND, "%s", bodies[i]);
	}
}

Test(ollama_json, bodies_that_are_not_json)
{
	static const char *const bodies[] = {
		"", " ", "{", "}", "{\"models\":[}", "{\"models\":[]", "{\"models\":[]} x", "{} {}",
		"{'models':[]}", "{models:[]}", "{\"models\":[],}", "{\"models\":[1,]}",
		"{\"a\" 1}", "{\"a\":}", "{,}", "{\"a\":1,,\"b\":2}",
		"{\"a\":\"tab\there\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}",
		"{\"a\":\"unterminated}", "{\"a\":\"\\\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\xff\"}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":1e}",
		"{\"a\":+1}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":True}", "{\"a\":NaN}",
		"<html>not json</html>", "\xef\xbb\xbf{\"models\":[]}",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		cr_expect_eq(parse(bodies[i]), AC_EPROTO, "%s", bodies[i]);
	}
}

Test(ollama_json, valid_numbers_and_literals_are_accepted)
{
	cr_assert_eq(parse("{\"a\":[0,-0,1.25,-7e+3,2E-2,1e9,true,false,null,\"\",{},[]],"
	    "\"models\":[]}"), AC_OK);
}

Test(ollama_json, an_embedded_nul_ends_nothing)
{
	static const char body[] = "{\"models\":[{\"name\":\"a\"}]}\0junk";
	ac_ollama_models_fini(&m);
	cr_assert_eq(ac_ollama_models_parse(&m, body, sizeof(body) - 1), AC_EPROTO);
	cr_assert_eq(parse("{\"models\":[{\"name\":\"a\\u0000b\"}]}"), AC_OK);
	cr_assert_eq(m.names[0].len, 3);
}

/* Builds depth levels of arrays around a value inside "models"' sibling. */
static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 32);
	size_t n = (size_t)sprintf(s, "{\"x\":");
	for (int i = 0; i < depth; i++) {
		s[n++] = '[';
	}
	for (int i = 0; i < depth; i++) {
		s[n++] = ']';
	}
	strcpy(s + n, ",\"models\":[]}");
	return s;
}

Test(ollama_json, nesting_is_limited)
{
	char *ok = nested(AC_OLLAMA_JSON_MAX_DEPTH - 1); /* plus the top-level object */
	char *deep = nested(AC_OLLAMA_JSON_MAX_DEPTH);
	char *very = nested(100000);
	cr_expect_eq(parse(ok), AC_OK);
	cr_expect_eq(parse(deep), AC_EPROTO);
	cr_expect_eq(parse(very), AC_EPROTO);
	free(ok);
	free(deep);
	free(very);
}

Test(ollama_json, many_models_grow_the_lists)
{
	size_t n = 10000, cap = n * 32 + 32, len = 0;
	char *s = malloc(cap);
	len += (size_t)sprintf(s, "{\"models\":[");
	for (size_t i = 0; i < n; i++) {
		len += (size_t)sprintf(s + len, "%s{\"name\":\"m%zu\",\"size_vram\":2}", i ? "," : "", i);
	}
	strcpy(s + len, "]}");
	cr_assert_eq(parse(s), AC_OK);
	cr_assert_eq(m.count, n);
	cr_assert_str_eq(ac_ollama_models_name(&m, 9999), "m9999");
	cr_assert_eq(m.vram_bytes, 2 * n);
	free(s);
}

Test(ollama_json, fini_of_a_zeroed_struct_is_a_noop)
{
	ac_ollama_models z = { 0 };
	ac_ollama_models_fini(&z);
	ac_ollama_models_fini(&z);
}
