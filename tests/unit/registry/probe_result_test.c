/* SPDX-License-Identifier: MIT
 * Tests for src/registry/probe_result.c: the message decodes with the registry's
 * schema (envelope type, ok and failure shapes, loaded models unknown vs empty), and
 * names or lists past the schema's limits are left out instead of failing the decode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "codec/endpoint_wire.h"
#include "codec/msg.h"
#include "registry/probe_result.h"

static ac_ollama_models models, loaded;
static nng_msg *msg;
static ac_arena arena;
static ac_probe_result r;

static void setup(void)
{
	ac_arena_init(&arena);
	msg = NULL;
}

static void teardown(void)
{
	ac_ollama_models_fini(&models);
	ac_ollama_models_fini(&loaded);
	if (msg != NULL) {
		nng_msg_free(msg);
	}
	ac_arena_fini(&arena);
}

TestSuite(probe_result, .init = setup, .fini = teardown);

static void list(ac_ollama_models *m, const char *json)
{
	cr_assert_eq(ac_ollama_models_parse(m, json, strlen(json)), AC_OK);
}

/* Parses msg back the way the registry's runtime does. */
static void decode(void)
{
	ac_env env;
	const uint8_t *body;
	size_t len;
	ac_decode_err de;
	cr_assert_eq(ac_msg_parse(msg, &env, &body, &len), AC_OK);
	cr_assert_eq(env.type, AC_MSG_PROBE_RESULT);
	cr_assert_eq(env.corr_id, 0);
	cr_assert_eq(ac_schema_decode_bytes(&ac_probe_result_schema, body, len, &r, &arena, &de),
	    AC_OK, "%s: %s", de.field, de.message);
}

Test(probe_result, ok_with_models_loaded_and_vram)
{
	list(&models, "{\"models\":[{\"name\":\"a:1\"},{\"name\":\"b:2\"}]}");
	list(&loaded, "{\"models\":[{\"name\":\"a:1\",\"size_vram\":5137025024}]}");
	cr_assert_eq(ac_probe_result_msg(42, NULL, &models, &loaded, 17, &msg), AC_OK);
	decode();
	cr_assert_eq(r.tag.v, 42);
	cr_assert(r.ok.set && r.ok.v);
	cr_assert(!r.error.set);
	cr_assert_eq(r.models.count, 2);
	cr_assert(ac_str_eq(r.models.items[1], "b:2"));
	cr_assert(r.loaded_models.set);
	cr_assert_eq(r.loaded_models.count, 1);
	cr_assert(ac_str_eq(r.loaded_models.items[0], "a:1"));
	cr_assert_eq(r.vram_used_bytes.v, 5137025024ull);
	cr_assert_eq(r.duration_ms.v, 17);
}

Test(probe_result, unknown_loaded_models_are_left_out)
{
	list(&models, "{\"models\":[]}");
	cr_assert_eq(ac_probe_result_msg(1, NULL, &models, NULL, 0, &msg), AC_OK);
	decode();
	cr_assert(r.ok.v);
	cr_assert(r.models.set);
	cr_assert_eq(r.models.count, 0);
	cr_assert(!r.loaded_models.set);
	cr_assert(!r.vram_used_bytes.set);
}

Test(probe_result, failure_carries_only_the_error)
{
	list(&models, "{\"models\":[{\"name\":\"a\"}]}");
	cr_assert_eq(ac_probe_result_msg(7, "connect: Connection refused", &models, NULL, 3, &msg),
	    AC_OK);
	decode();
	cr_assert(!r.ok.v);
	cr_assert(ac_str_eq(r.error, "connect: Connection refused"));
	cr_assert(!r.models.set);
	cr_assert(!r.loaded_models.set);
}

Test(probe_result, names_and_lists_past_the_limits_are_left_out)
{
	size_t n = AC_PROBE_RESULT_LIST_MAX + 10, cap = n * 24 + 2048, len = 0;
	char *s = malloc(cap);
	len += (size_t)sprintf(s, "{\"models\":[{\"name\":\"%0*d\"}", AC_PROBE_RESULT_NAME_MAX + 1, 0);
	for (size_t i = 0; i < n; i++) {
		len += (size_t)sprintf(s + len, ",{\"name\":\"m%zu\"}", i);
	}
	strcpy(s + len, "]}");
	list(&models, s);
	list(&loaded, "{\"models\":[{\"size_vram\":18446744073709551615}]}");
	cr_assert_eq(ac_probe_result_msg(1, NULL, &models, &loaded, 0, &msg), AC_OK);
	decode();
	cr_assert_eq(r.models.count, AC_PROBE_RESULT_LIST_MAX);
	cr_assert(ac_str_eq(r.models.items[0], "m0"), "the overlong name is skipped");
	cr_assert_eq(r.vram_used_bytes.v, INT64_MAX);
	free(s);
}
