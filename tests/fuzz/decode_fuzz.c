/* SPDX-License-Identifier: MIT
 * libFuzzer target for the untrusted-input path: ac_schema_decode_bytes over a schema
 * with every field type (nested objects, lists, opaque map and value). A decoded
 * request is re-encoded and decoded again, which must succeed and give the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_hint {
	ac_str path;
	ac_uint line;
	ac_strs notes;
} fz_hint;

static const ac_field hint_fields[] = {
	AC_F(fz_hint, path, "path", AC_FT_STR, true, .min_len = 1, .max_len = 256),
	AC_F(fz_hint, line, "line", AC_FT_UINT, false, .min = 1, .max = 1000000),
	AC_F(fz_hint, notes, "notes", AC_FT_STRS, false, .max_len = 4, .item_max_len = 16),
};
static const ac_schema hint_schema = AC_SCHEMA("hint", fz_hint, hint_fields);

static const char *const prio_names[] = { "urgent", "high", "normal", "low", NULL };

typedef struct fz_req {
	ac_str op;
	ac_str description;
	ac_str id;
	ac_strs ids;
	ac_uint limit;
	ac_int offset;
	ac_real weight;
	ac_flag urgent;
	ac_choice priority;
	ac_strs tags;
	ac_obj owner;
	ac_objs file_hints;
	ac_raw metadata;
	ac_raw result;
} fz_req;

static const ac_field req_fields[] = {
	AC_F(fz_req, op, "op", AC_FT_STR, true, .min_len = 1, .max_len = 64),
	AC_F(fz_req, description, "description", AC_FT_STR, false, .max_len = 10000),
	AC_F(fz_req, id, "id", AC_FT_ID, false),
	AC_F(fz_req, ids, "ids", AC_FT_STRS, false, .min_len = 1, .max_len = 8),
	AC_F(fz_req, limit, "limit", AC_FT_UINT, false, .max = 1000),
	AC_F(fz_req, offset, "offset", AC_FT_INT, false, .min = -50, .max = 50),
	AC_F(fz_req, weight, "weight", AC_FT_REAL, false),
	AC_F(fz_req, urgent, "urgent", AC_FT_FLAG, false),
	AC_F(fz_req, priority, "priority", AC_FT_CHOICE, false, .names = prio_names),
	AC_F(fz_req, tags, "tags", AC_FT_STRS, false),
	AC_F(fz_req, owner, "owner", AC_FT_OBJ, false, .sub = &hint_schema),
	AC_F(fz_req, file_hints, "file_hints", AC_FT_OBJS, false, .max_len = 16,
	    .sub = &hint_schema),
	AC_F(fz_req, metadata, "metadata", AC_FT_MAP, false, .max_len = 4096),
	AC_F(fz_req, result, "result", AC_FT_ANY, false),
};
static const ac_schema req_schema = AC_SCHEMA("fuzz", fz_req, req_fields);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ac_arena arena;
	ac_decode_err err;
	ac_mpw w1, w2;
	fz_req r1, r2;

	ac_arena_init(&arena);
	ac_mpw_init(&w1);
	ac_mpw_init(&w2);
	if (ac_schema_decode_bytes(&req_schema, data, size, &r1, &arena, &err) == AC_OK) {
		/* Whatever was accepted must encode to something that decodes the same. */
		ac_schema_encode(&req_schema, &r1, &w1);
		if (w1.err != AC_OK || ac_schema_decode_bytes(&req_schema, ac_mpw_data(&w1),
		                           ac_mpw_len(&w1), &r2, &arena, &err) != AC_OK) {
			abort();
		}
		ac_schema_encode(&req_schema, &r2, &w2);
		if (ac_mpw_len(&w1) != ac_mpw_len(&w2) ||
		    memcmp(ac_mpw_data(&w1), ac_mpw_data(&w2), ac_mpw_len(&w1)) != 0) {
			abort();
		}
	} else if (err.code == AC_OK || memchr(err.field, '\0', sizeof(err.field)) == NULL ||
	    memchr(err.message, '\0', sizeof(err.message)) == NULL) {
		abort(); /* a failure must say why, in NUL-terminated text */
	}
	ac_mpw_fini(&w2);
	ac_mpw_fini(&w1);
	ac_arena_fini(&arena);
	return 0;
}
