/* SPDX-License-Identifier: MIT
 * Shared fixture of the schema's unit tests (schema_test.c, schema_limits_test.c): a
 * schema with every field type, a writer, an arena and a decode target reset per test,
 * and the decode / expect-error helpers. Included by exactly one test file per
 * executable; functions are static inline so that a file which does not use one still
 * compiles without warnings.
 */
#ifndef AC_TESTS_SCHEMA_FIXTURE_H
#define AC_TESTS_SCHEMA_FIXTURE_H

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

static ac_mpw w;
static ac_arena arena;
static req r;
static ac_decode_err derr;

static inline void setup(void)
{
	ac_mpw_init(&w);
	ac_arena_init(&arena);
	memset(&derr, 0, sizeof(derr));
}

static inline void teardown(void)
{
	ac_mpw_fini(&w);
	ac_arena_fini(&arena);
}

TestSuite(schema, .init = setup, .fini = teardown);

static inline ac_err decode_raw(const void *p, size_t len)
{
	return ac_schema_decode_bytes(&req_schema, p, len, &r, &arena, &derr);
}

static inline ac_err decode(void)
{
	return decode_raw(ac_mpw_data(&w), ac_mpw_len(&w));
}

static inline void expect_err(const char *field, const char *message)
{
	cr_assert_eq(decode(), AC_EINVAL, "%s: %s", field, message);
	cr_assert_eq(derr.code, AC_EINVAL);
	cr_assert_str_eq(derr.field, field);
	cr_assert_str_eq(derr.message, message);
}

/* Starts a map of 1 + extra entries whose first entry is a valid description. */
static inline void begin(uint32_t extra)
{
	ac_mpw_reset(&w);
	ac_arena_reset(&arena);
	ac_mpw_map(&w, 1 + extra);
	ac_mpw_key(&w, "description");
	ac_mpw_cstr(&w, "d");
}

#endif
