/* SPDX-License-Identifier: MIT
 * Table-driven msgpack codec: a schema is a const table of field descriptors (name,
 * type, offset, required, limits); one generic decoder validates a msgpack map against
 * it into a C struct, one generic encoder writes the struct back. No message has a
 * hand-written codec. Limits and error paths follow DESIGN §8 and proto/README.md.
 */
#ifndef AC_CODEC_SCHEMA_H
#define AC_CODEC_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "agentcom/errors.h"
#include "codec/arena.h"
#include "codec/mpw.h"

/* Field value holders. `set` is true when the key was present and not nil.
 * Strings and raw values borrow from the decoded message (or the arena): they are
 * valid while both live. Strings are NOT NUL-terminated. */
typedef struct ac_str { const char *p; uint32_t len; bool set; } ac_str;
typedef struct ac_uint { uint64_t v; bool set; } ac_uint;
typedef struct ac_int { int64_t v; bool set; } ac_int;
typedef struct ac_real { double v; bool set; } ac_real;
typedef struct ac_flag { bool v; bool set; } ac_flag;
typedef struct ac_choice { int v; bool set; } ac_choice;           /* index into names */
typedef struct ac_strs { ac_str *items; uint32_t count; bool set; } ac_strs;
typedef struct ac_obj { void *p; bool set; } ac_obj;                /* sub-schema struct */
typedef struct ac_objs { void *items; uint32_t count; bool set; } ac_objs; /* array of them */
typedef struct ac_raw { const uint8_t *p; uint32_t len; bool set; } ac_raw; /* encoded msgpack */

typedef enum ac_ftype {
	AC_FT_STR,      /* ac_str: valid UTF-8, min_len..max_len bytes */
	AC_FT_ID,       /* ac_str: 1..max_len bytes of [A-Za-z0-9._:-] */
	AC_FT_UINT,     /* ac_uint: non-negative integer in [min, max] */
	AC_FT_INT,      /* ac_int: integer in [min, max] */
	AC_FT_REAL,     /* ac_real: float or integer */
	AC_FT_FLAG,     /* ac_flag: boolean */
	AC_FT_CHOICE,   /* ac_choice: a string equal to one of names[] (exact spelling) */
	AC_FT_STRS,     /* ac_strs: array of min_len..max_len strings, each <= item_max_len
	                 * and, when names is set, each one of names[] */
	AC_FT_OBJ,      /* ac_obj: a map decoded with sub */
	AC_FT_OBJS,     /* ac_objs: array of min_len..max_len maps decoded with sub */
	AC_FT_MAP,      /* ac_raw: any map, its bytes; <= max_len encoded bytes, depth <= 16 */
	AC_FT_ANY,      /* ac_raw: any value, its bytes; <= max_len encoded bytes, depth <= 16 */
} ac_ftype;

typedef struct ac_schema ac_schema;

typedef struct ac_field {
	const char *name;
	ac_ftype type;
	uint16_t offset;          /* offsetof the holder in the schema's struct */
	bool required;
	uint32_t min_len;         /* STR: bytes; STRS/OBJS: items */
	uint32_t max_len;         /* STR/ID: bytes; STRS/OBJS: items; MAP/ANY: encoded bytes */
	uint32_t item_max_len;    /* STRS: bytes per item */
	int64_t min, max;         /* UINT/INT: inclusive range */
	const char *const *names; /* CHOICE: NULL-terminated */
	const ac_schema *sub;     /* OBJ/OBJS */
} ac_field;

struct ac_schema {
	const char *name;
	const ac_field *fields;
	uint16_t count;
	uint16_t size; /* sizeof the struct the fields live in */
};

/* Where a decode failed. field is a path such as "file_hints[2].path" ("" for the
 * message itself); message is a short English reason. Both NUL-terminated. */
typedef struct ac_decode_err {
	ac_err code;
	char field[128];
	char message[160];
} ac_decode_err;

/* Decodes map (which must be a MAP object) into out (s->size bytes, zeroed first).
 * Unknown keys are ignored; nil counts as absent; a repeated key, a wrong type, a
 * violated limit or a missing required field fails with AC_EINVAL and err filled.
 * Lists and re-encoded values go into arena; strings borrow from map's buffer.
 * AC_ENOMEM when the arena cannot grow. Any thread (no shared state). */
ac_err ac_schema_decode(const ac_schema *s, const msgpack_object *map, void *out,
    ac_arena *arena, ac_decode_err *err);

/* Pre-validates p[0..len) (ac_prevalidate, AC_MAX_WIRE_DEPTH), unpacks it with
 * msgpack-c and decodes it as above. Not msgpack / not a map -> AC_EBADREQ. MAP and
 * ANY fields of the top-level map are copied from p as they are (their max_len counts
 * those bytes); ac_schema_decode and nested ones re-encode the value minimally. */
ac_err ac_schema_decode_bytes(const ac_schema *s, const uint8_t *p, size_t len, void *out,
    ac_arena *arena, ac_decode_err *err);

/* Number of fields of in that are set. */
uint32_t ac_schema_count_set(const ac_schema *s, const void *in);

/* Writes the set fields of in as map entries (key, value) with no map header, so a
 * caller can merge them into a larger map whose count includes ac_schema_count_set. */
void ac_schema_encode_fields(const ac_schema *s, const void *in, ac_mpw *w);

/* Writes in as one map of its set fields. */
void ac_schema_encode(const ac_schema *s, const void *in, ac_mpw *w);

/* Looks key up in a MAP object; NULL when absent. Borrowed from map. */
const msgpack_object *ac_mp_get(const msgpack_object *map, const char *key);

/* Field descriptor helpers (STRUCT is the holder struct type). */
/* AC_F(STRUCT, MEMBER, KEY, TYPE, REQUIRED[, .limit = value...]) */
#define AC_F(STRUCT, MEMBER, KEY, TYPE, ...) \
	{ .name = (KEY), .type = (TYPE), .offset = (uint16_t)offsetof(STRUCT, MEMBER), \
	  .required = __VA_ARGS__ }
#define AC_SCHEMA(NAME, STRUCT, FIELDS) \
	{ .name = (NAME), .fields = (FIELDS), .count = (uint16_t)(sizeof(FIELDS) / sizeof((FIELDS)[0])), \
	  .size = (uint16_t)sizeof(STRUCT) }

/* Copies s into a NUL-terminated buffer of cap bytes (truncating); returns buf. */
char *ac_str_cpy(char *buf, size_t cap, ac_str s);
/* True when s equals the NUL-terminated lit. */
bool ac_str_eq(ac_str s, const char *lit);

#endif
