/* SPDX-License-Identifier: MIT
 * The generic table-driven codec: one decoder that validates a msgpack map against a
 * schema into a C struct, one encoder that writes the struct back. Every type and limit
 * rule of DESIGN §8 lives here once. Owns nothing beyond one call; no shared state.
 * Over the 500-line soft limit: twelve field types each need a decoder and an encoder,
 * and the one ftypes table that binds them (and the holders' layout) keeps them here.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/prevalidate.h"
#include "codec/schema.h"
#include "codec/utf8.h"
#include "rt/assert.h"

/* Defaults when a field leaves a limit at 0 (DESIGN §8). */
#define DEF_STR_MAX 1024u           /* bytes of a protocol string */
#define DEF_ID_MAX 128u             /* bytes of an id or name */
#define DEF_ITEMS_MAX 256u          /* items of a list */
#define DEF_MAP_MAX (64u * 1024u)   /* encoded bytes of an opaque map (metadata) */
#define DEF_ANY_MAX (1024u * 1024u) /* encoded bytes of an opaque value (result) */
#define OPAQUE_DEPTH_MAX 16u        /* nesting inside an opaque value; a flat map is 1 */

#define FIELDS_MAX 256u /* fields per schema: the size of the repeated-key bitmap */
#define SEGS_MAX 32u    /* path segments: bounds recursion through self-nesting schemas */

/* One step of an error path: a field name, or an index when name is NULL. */
typedef struct seg {
	const char *name;
	uint32_t idx;
} seg;

/* Where one value of the top-level map lies in the bytes it was decoded from. */
typedef struct span {
	const uint8_t *p;
	size_t len;
} span;

/* State of one decode call. */
typedef struct dctx {
	ac_arena *arena;
	ac_decode_err *err;
	ac_mpw scratch;   /* re-encodes MAP/ANY values; its buffer exists after first use */
	bool has_scratch;
	unsigned nsegs;
	seg segs[SEGS_MAX];
	/* From bytes: the top-level map, its values' spans (NULL: none), and the value
	 * being decoded with its span, so that an opaque top-level value is copied as it
	 * came instead of re-encoded. */
	const msgpack_object *top;
	const span *spans;
	const msgpack_object *cur_val;
	const span *cur_span;
} dctx;

typedef ac_err (*decode_fn)(dctx *c, const ac_field *f, const msgpack_object *o, void *h);
typedef void (*encode_fn)(const ac_field *f, const void *h, ac_mpw *w);

/* Per field type: how to decode and encode it and where its holder keeps `set`.
 * Defined after the functions it names. */
typedef struct ftype_ops {
	decode_fn decode;
	encode_fn encode;
	uint8_t set_offset;
} ftype_ops;
static const ftype_ops ftypes[AC_FT_ANY + 1];

static bool is_set(const ac_field *f, const void *in)
{
	return *((const bool *)((const char *)in + f->offset + ftypes[f->type].set_offset));
}

/* True when the NUL-terminated name equals p[0..len); never reads past name's NUL,
 * and a key with an embedded NUL never matches. */
static bool name_eq(const char *name, const char *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		if (name[i] == '\0' || name[i] != p[i]) {
			return false;
		}
	}
	return name[len] == '\0';
}

/* ---- errors ---- */

static void format_path(const dctx *c, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < c->nsegs; i++) {
		const seg *s = &c->segs[i];
		int w = s->name != NULL
		    ? snprintf(buf + n, cap - n, "%s%s", i > 0 ? "." : "", s->name)
		    : snprintf(buf + n, cap - n, "[%" PRIu32 "]", s->idx);
		if (w < 0 || (size_t)w >= cap - n) {
			return; /* truncated; snprintf left it NUL-terminated */
		}
		n += (size_t)w;
	}
}

__attribute__((format(printf, 2, 3))) static ac_err fail(dctx *c, const char *fmt, ...)
{
	va_list ap;

	c->err->code = AC_EINVAL;
	format_path(c, c->err->field, sizeof(c->err->field));
	va_start(ap, fmt);
	vsnprintf(c->err->message, sizeof(c->err->message), fmt, ap);
	va_end(ap);
	return AC_EINVAL;
}

static ac_err set_err(ac_decode_err *err, ac_err code, const char *message)
{
	err->code = code;
	err->field[0] = '\0';
	snprintf(err->message, sizeof(err->message), "%s", message);
	return code;
}

static ac_err oom(dctx *c)
{
	return set_err(c->err, AC_ENOMEM, "out of memory");
}

static ac_err fail_range(dctx *c, int64_t lo, int64_t hi)
{
	return fail(c, "must be between %" PRId64 " and %" PRId64, lo, hi);
}

/* Appends a path step: a field name, or index idx when name is NULL. */
static ac_err push(dctx *c, const char *name, uint32_t idx)
{
	if (c->nsegs == SEGS_MAX) {
		return fail(c, "is nested too deeply");
	}
	c->segs[c->nsegs++] = (seg){ name, idx };
	return AC_OK;
}

/* ---- scalar decoders ---- */

/* A valid UTF-8 string of min..max bytes into *out (shared by STR and STRS items). */
static ac_err take_text(dctx *c, const msgpack_object *o, uint32_t min, uint32_t max, ac_str *out)
{
	uint32_t len;

	if (o->type != MSGPACK_OBJECT_STR) {
		return fail(c, "must be a string");
	}
	len = o->via.str.size;
	if (len < min) {
		return min == 1 ? fail(c, "must not be empty")
		                : fail(c, "must be at least %" PRIu32 " bytes", min);
	}
	if (len > max) {
		return fail(c, "must be at most %" PRIu32 " bytes", max);
	}
	if (!ac_utf8_valid(o->via.str.ptr, len)) {
		return fail(c, "must be valid UTF-8");
	}
	*out = (ac_str){ o->via.str.ptr, len, true };
	return AC_OK;
}

static ac_err dec_str(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	return take_text(c, o, f->min_len, f->max_len ? f->max_len : DEF_STR_MAX, h);
}

static bool is_id_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	    ch == '.' || ch == '_' || ch == ':' || ch == '-';
}

static ac_err dec_id(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	uint32_t max = f->max_len ? f->max_len : DEF_ID_MAX;

	if (o->type != MSGPACK_OBJECT_STR) {
		return fail(c, "must be a string");
	}
	if (o->via.str.size == 0) {
		return fail(c, "must not be empty");
	}
	if (o->via.str.size > max) {
		return fail(c, "must be at most %" PRIu32 " bytes", max);
	}
	/* ASCII only, so no UTF-8 check is needed. */
	for (uint32_t i = 0; i < o->via.str.size; i++) {
		if (!is_id_char(o->via.str.ptr[i])) {
			return fail(c, "must contain only letters, digits and . _ : -");
		}
	}
	*(ac_str *)h = (ac_str){ o->via.str.ptr, o->via.str.size, true };
	return AC_OK;
}

static ac_err dec_uint(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	int64_t lo = f->min > 0 ? f->min : 0;
	int64_t hi = f->max != 0 ? f->max : INT64_MAX;

	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		return fail_range(c, lo, hi);
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		return fail(c, "must be a non-negative integer");
	}
	if (o->via.u64 < (uint64_t)lo || o->via.u64 > (uint64_t)hi) {
		return fail_range(c, lo, hi);
	}
	*(ac_uint *)h = (ac_uint){ o->via.u64, true };
	return AC_OK;
}

static ac_err dec_int(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	bool ranged = f->min < f->max;
	int64_t v;

	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > (uint64_t)INT64_MAX) {
			return ranged ? fail_range(c, f->min, f->max) : fail(c, "is out of range");
		}
		v = (int64_t)o->via.u64;
	} else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		v = o->via.i64;
	} else {
		return fail(c, "must be an integer");
	}
	if (ranged && (v < f->min || v > f->max)) {
		return fail_range(c, f->min, f->max);
	}
	*(ac_int *)h = (ac_int){ v, true };
	return AC_OK;
}

static ac_err dec_real(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	double v;

	(void)f;
	if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64) {
		v = o->via.f64;
	} else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		v = (double)o->via.u64;
	} else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		v = (double)o->via.i64;
	} else {
		return fail(c, "must be a number");
	}
	/* NaN and infinities have no JSON form and poison every comparison downstream. */
	if (!isfinite(v)) {
		return fail(c, "must be a finite number");
	}
	*(ac_real *)h = (ac_real){ v, true };
	return AC_OK;
}

static ac_err dec_flag(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	(void)f;
	if (o->type != MSGPACK_OBJECT_BOOLEAN) {
		return fail(c, "must be a boolean");
	}
	*(ac_flag *)h = (ac_flag){ o->via.boolean, true };
	return AC_OK;
}

static ac_err dec_choice(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	char list[sizeof(c->err->message)] = "";
	size_t n = 0;

	AC_ASSERT(f->names != NULL);
	for (int i = 0; o->type == MSGPACK_OBJECT_STR && f->names[i] != NULL; i++) {
		if (name_eq(f->names[i], o->via.str.ptr, o->via.str.size)) {
			*(ac_choice *)h = (ac_choice){ i, true };
			return AC_OK;
		}
	}
	for (int i = 0; f->names[i] != NULL && n < sizeof(list); i++) {
		const char *sep = i > 0 ? ", " : "";
		int w = snprintf(list + n, sizeof(list) - n, "%s%s", sep, f->names[i]);
		n += w > 0 ? (size_t)w : 0;
	}
	return fail(c, "must be one of: %s", list);
}

/* ---- list and nested decoders ---- */

static ac_err decode_map(dctx *c, const ac_schema *s, const msgpack_object *map, void *out);

/* Checks an array's item count against the field's limits and allocates count items
 * of size bytes in the arena (*items). */
static ac_err take_list(dctx *c, const ac_field *f, const msgpack_object *o, size_t size,
    void **items)
{
	uint32_t n = o->via.array.size;
	uint32_t max = f->max_len ? f->max_len : DEF_ITEMS_MAX;

	if (n > max) {
		return fail(c, "must have at most %" PRIu32 " items", max);
	}
	if (n < f->min_len) {
		return f->min_len == 1
		    ? fail(c, "must not be empty")
		    : fail(c, "must have at least %" PRIu32 " items", f->min_len);
	}
	if (n > SIZE_MAX / size || (*items = ac_arena_alloc(c->arena, n * size)) == NULL) {
		return oom(c);
	}
	return AC_OK;
}

static ac_err dec_strs(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	uint32_t imax = f->item_max_len ? f->item_max_len : DEF_STR_MAX;
	ac_str *items;
	void *mem;
	ac_err rc;

	if (o->type != MSGPACK_OBJECT_ARRAY) {
		return fail(c, "must be an array of strings");
	}
	if ((rc = take_list(c, f, o, sizeof(ac_str), &mem)) != AC_OK) {
		return rc;
	}
	items = mem;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		ac_choice known;
		if ((rc = push(c, NULL, i)) != AC_OK ||
		    (rc = take_text(c, &o->via.array.ptr[i], 0, imax, &items[i])) != AC_OK ||
		    (f->names != NULL &&
		        (rc = dec_choice(c, f, &o->via.array.ptr[i], &known)) != AC_OK)) {
			return rc;
		}
		c->nsegs--;
	}
	*(ac_strs *)h = (ac_strs){ items, o->via.array.size, true };
	return AC_OK;
}

static ac_err dec_obj(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	void *p;
	ac_err rc;

	AC_ASSERT(f->sub != NULL);
	if (o->type != MSGPACK_OBJECT_MAP) {
		return fail(c, "must be a map");
	}
	if ((p = ac_arena_alloc(c->arena, f->sub->size)) == NULL) {
		return oom(c);
	}
	if ((rc = decode_map(c, f->sub, o, p)) != AC_OK) {
		return rc;
	}
	*(ac_obj *)h = (ac_obj){ p, true };
	return AC_OK;
}

static ac_err dec_objs(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	char *items;
	void *mem;
	ac_err rc;

	AC_ASSERT(f->sub != NULL);
	if (o->type != MSGPACK_OBJECT_ARRAY) {
		return fail(c, "must be an array of maps");
	}
	if ((rc = take_list(c, f, o, f->sub->size, &mem)) != AC_OK) {
		return rc;
	}
	items = mem;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *item = &o->via.array.ptr[i];
		if ((rc = push(c, NULL, i)) != AC_OK) {
			return rc;
		}
		if (item->type != MSGPACK_OBJECT_MAP) {
			return fail(c, "must be a map");
		}
		if ((rc = decode_map(c, f->sub, item, items + (size_t)i * f->sub->size)) != AC_OK) {
			return rc;
		}
		c->nsegs--;
	}
	*(ac_objs *)h = (ac_objs){ items, o->via.array.size, true };
	return AC_OK;
}

/* ---- opaque values (metadata, result) ---- */

/* True when o nests deeper than budget containers (a scalar is 0, a flat map 1).
 * Recursion stops at budget + 1 levels whatever the input. */
static bool is_too_deep(const msgpack_object *o, unsigned budget)
{
	bool is_map = o->type == MSGPACK_OBJECT_MAP;
	uint32_t n = is_map ? o->via.map.size : o->via.array.size;

	if (!is_map && o->type != MSGPACK_OBJECT_ARRAY) {
		return false;
	}
	if (budget == 0) {
		return true;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (is_map ? is_too_deep(&o->via.map.ptr[i].key, budget - 1) ||
		            is_too_deep(&o->via.map.ptr[i].val, budget - 1)
		           : is_too_deep(&o->via.array.ptr[i], budget - 1)) {
			return true;
		}
	}
	return false;
}

/* Copies o into the arena as one msgpack value of at most max bytes: its bytes as they
 * came when it is the top-level value whose span is known, else re-encoded. Strings
 * inside are opaque: not UTF-8 checked. */
static ac_err take_opaque(dctx *c, const msgpack_object *o, uint32_t max, ac_raw *out)
{
	size_t len;
	const void *p;

	if (is_too_deep(o, OPAQUE_DEPTH_MAX)) {
		return fail(c, "must be nested at most %u levels deep", OPAQUE_DEPTH_MAX);
	}
	if (o == c->cur_val && c->cur_span != NULL) {
		p = c->cur_span->p;
		len = c->cur_span->len;
	} else {
		if (!c->has_scratch) {
			ac_mpw_init(&c->scratch);
			c->has_scratch = true;
		}
		ac_mpw_reset(&c->scratch);
		ac_mpw_object(&c->scratch, o);
		if (c->scratch.err != AC_OK) {
			return oom(c);
		}
		p = ac_mpw_data(&c->scratch);
		len = ac_mpw_len(&c->scratch);
	}
	if (len > max) {
		return fail(c, "must be at most %" PRIu32 " bytes encoded", max);
	}
	if ((p = ac_arena_dup(c->arena, p, len)) == NULL) {
		return oom(c);
	}
	*out = (ac_raw){ p, (uint32_t)len, true };
	return AC_OK;
}

/* MAP (metadata) and ANY (result): only size and depth are limited. */
static ac_err dec_opaque(dctx *c, const ac_field *f, const msgpack_object *o, void *h)
{
	bool is_map = f->type == AC_FT_MAP;

	if (is_map && o->type != MSGPACK_OBJECT_MAP) {
		return fail(c, "must be a map");
	}
	return take_opaque(c, o, f->max_len ? f->max_len : is_map ? DEF_MAP_MAX : DEF_ANY_MAX, h);
}

/* ---- maps ---- */

static const ac_field *find_field(const ac_schema *s, const msgpack_object *key)
{
	for (uint16_t i = 0; i < s->count; i++) {
		if (name_eq(s->fields[i].name, key->via.str.ptr, key->via.str.size)) {
			return &s->fields[i];
		}
	}
	return NULL;
}

/* Decodes map into out (already zeroed) with the current path as its prefix. */
static ac_err decode_map(dctx *c, const ac_schema *s, const msgpack_object *map, void *out)
{
	uint64_t seen[FIELDS_MAX / 64] = { 0 };
	ac_err rc;

	AC_ASSERT(s->count <= FIELDS_MAX);
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *key = &map->via.map.ptr[i].key;
		const msgpack_object *val = &map->via.map.ptr[i].val;
		const ac_field *f;

		if (key->type != MSGPACK_OBJECT_STR) {
			return fail(c, "keys must be strings");
		}
		if ((f = find_field(s, key)) == NULL) {
			continue; /* unknown keys are ignored for forward compatibility */
		}
		size_t bit = (size_t)(f - s->fields);
		if ((rc = push(c, f->name, 0)) != AC_OK) {
			return rc;
		}
		if (seen[bit / 64] & (UINT64_C(1) << (bit % 64))) {
			return fail(c, "must not be repeated");
		}
		seen[bit / 64] |= UINT64_C(1) << (bit % 64);
		c->cur_val = val;
		c->cur_span = map == c->top && c->spans != NULL ? &c->spans[i] : NULL;
		if (val->type != MSGPACK_OBJECT_NIL &&
		    (rc = ftypes[f->type].decode(c, f, val, (char *)out + f->offset)) != AC_OK) {
			return rc;
		}
		c->nsegs--;
	}
	for (uint16_t i = 0; i < s->count; i++) {
		const ac_field *f = &s->fields[i];
		if (f->required && !is_set(f, out)) {
			return push(c, f->name, 0) != AC_OK ? AC_EINVAL : fail(c, "required");
		}
	}
	return AC_OK;
}

static ac_err decode_top(const ac_schema *s, const msgpack_object *map, const span *spans,
    void *out, ac_arena *arena, ac_decode_err *err)
{
	ac_decode_err ignored;
	dctx c = { .arena = arena, .err = err != NULL ? err : &ignored, .top = map,
		.spans = spans };
	ac_err rc;

	memset(out, 0, s->size);
	set_err(c.err, AC_OK, "");
	if (map->type != MSGPACK_OBJECT_MAP) {
		return set_err(c.err, AC_EBADREQ, "the message must be a map");
	}
	rc = decode_map(&c, s, map, out);
	if (c.has_scratch) {
		ac_mpw_fini(&c.scratch);
	}
	if (rc != AC_OK) {
		memset(out, 0, s->size); /* no half-decoded fields */
	}
	return rc;
}

ac_err ac_schema_decode(const ac_schema *s, const msgpack_object *map, void *out, ac_arena *arena,
    ac_decode_err *err)
{
	return decode_top(s, map, NULL, out, arena, err);
}

static bool has_opaque_field(const ac_schema *s)
{
	for (uint16_t i = 0; i < s->count; i++) {
		if (s->fields[i].type == AC_FT_MAP || s->fields[i].type == AC_FT_ANY) {
			return true;
		}
	}
	return false;
}

/* The spans of the values of the map that p holds (prevalidated), in order, when s has
 * an opaque field to copy; NULL when it has none, p is no map, has more than max
 * entries, or the arena is out of memory (opaque values are then re-encoded). */
static const span *value_spans(const ac_schema *s, const uint8_t *p, size_t len, uint32_t max,
    ac_arena *arena)
{
	uint32_t count;
	size_t off, n;
	span *spans;

	if (!has_opaque_field(s) || !ac_mp_map_header(p, len, &count, &off) || count > max ||
	    (spans = ac_arena_alloc(arena, (count ? count : 1) * sizeof(*spans))) == NULL) {
		return NULL;
	}
	for (uint32_t i = 0; i < count; i++) {
		if (ac_mp_value_len(p + off, len - off, AC_MAX_WIRE_DEPTH, &n) != AC_OK) {
			return NULL; /* the key */
		}
		off += n;
		if (ac_mp_value_len(p + off, len - off, AC_MAX_WIRE_DEPTH, &n) != AC_OK) {
			return NULL;
		}
		spans[i] = (span){ p + off, n };
		off += n;
	}
	return spans;
}

ac_err ac_schema_decode_bytes(const ac_schema *s, const uint8_t *p, size_t len, void *out,
    ac_arena *arena, ac_decode_err *err)
{
	ac_decode_err ignored;
	msgpack_unpack_return ret;
	msgpack_unpacked u;
	size_t off = 0;
	ac_err rc;

	err = err != NULL ? err : &ignored;
	memset(out, 0, s->size);
	if (ac_prevalidate(p, len, AC_MAX_WIRE_DEPTH) != AC_OK) {
		return set_err(err, AC_EBADREQ, "malformed msgpack");
	}
	/* msgpack-c 4.0 points STR/BIN/EXT objects into p (template_callback_str in
	 * unpack.c), so decoded strings stay valid after the zone is freed below. */
	msgpack_unpacked_init(&u);
	ret = msgpack_unpack_next(&u, (const char *)p, len, &off);
	if (ret == MSGPACK_UNPACK_SUCCESS && off == len) {
		rc = decode_top(s, &u.data, value_spans(s, p, len, FIELDS_MAX * 4, arena), out,
		    arena, err);
	} else if (ret == MSGPACK_UNPACK_NOMEM_ERROR) {
		rc = set_err(err, AC_ENOMEM, "out of memory");
	} else {
		rc = set_err(err, AC_EBADREQ, "malformed msgpack"); /* cannot pass prevalidation */
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* ---- encoder ---- */

static void enc_str(const ac_field *f, const void *h, ac_mpw *w)
{
	(void)f;
	ac_mpw_str(w, ((const ac_str *)h)->p, ((const ac_str *)h)->len);
}

static void enc_uint(const ac_field *f, const void *h, ac_mpw *w)
{
	(void)f;
	ac_mpw_u64(w, ((const ac_uint *)h)->v);
}

static void enc_int(const ac_field *f, const void *h, ac_mpw *w)
{
	(void)f;
	ac_mpw_i64(w, ((const ac_int *)h)->v);
}

static void enc_real(const ac_field *f, const void *h, ac_mpw *w)
{
	(void)f;
	ac_mpw_f64(w, ((const ac_real *)h)->v);
}

static void enc_flag(const ac_field *f, const void *h, ac_mpw *w)
{
	(void)f;
	ac_mpw_bool(w, ((const ac_flag *)h)->v);
}

static void enc_choice(const ac_field *f, const void *h, ac_mpw *w)
{
	int v = ((const ac_choice *)h)->v;
	int n = 0;

	while (f->names[n] != NULL) {
		n++;
	}
	AC_ASSERT(v >= 0 && v < n); /* a handler set an index the table does not have */
	ac_mpw_cstr(w, f->names[v]);
}

static void enc_strs(const ac_field *f, const void *h, ac_mpw *w)
{
	const ac_strs *l = h;

	(void)f;
	ac_mpw_array(w, l->count);
	for (uint32_t i = 0; i < l->count; i++) {
		ac_mpw_str(w, l->items[i].p, l->items[i].len);
	}
}

static void enc_obj(const ac_field *f, const void *h, ac_mpw *w)
{
	ac_schema_encode(f->sub, ((const ac_obj *)h)->p, w);
}

static void enc_objs(const ac_field *f, const void *h, ac_mpw *w)
{
	const ac_objs *l = h;

	ac_mpw_array(w, l->count);
	for (uint32_t i = 0; i < l->count; i++) {
		ac_schema_encode(f->sub, (const char *)l->items + (size_t)i * f->sub->size, w);
	}
}

static void enc_raw(const ac_field *f, const void *h, ac_mpw *w)
{
	const ac_raw *r = h;

	(void)f;
	/* An empty raw value would leave the key without a value: write nil instead. */
	if (r->len == 0) {
		ac_mpw_nil(w);
	} else {
		ac_mpw_raw(w, r->p, r->len);
	}
}

static const ftype_ops ftypes[AC_FT_ANY + 1] = {
	[AC_FT_STR] = { dec_str, enc_str, offsetof(ac_str, set) },
	[AC_FT_ID] = { dec_id, enc_str, offsetof(ac_str, set) },
	[AC_FT_UINT] = { dec_uint, enc_uint, offsetof(ac_uint, set) },
	[AC_FT_INT] = { dec_int, enc_int, offsetof(ac_int, set) },
	[AC_FT_REAL] = { dec_real, enc_real, offsetof(ac_real, set) },
	[AC_FT_FLAG] = { dec_flag, enc_flag, offsetof(ac_flag, set) },
	[AC_FT_CHOICE] = { dec_choice, enc_choice, offsetof(ac_choice, set) },
	[AC_FT_STRS] = { dec_strs, enc_strs, offsetof(ac_strs, set) },
	[AC_FT_OBJ] = { dec_obj, enc_obj, offsetof(ac_obj, set) },
	[AC_FT_OBJS] = { dec_objs, enc_objs, offsetof(ac_objs, set) },
	[AC_FT_MAP] = { dec_opaque, enc_raw, offsetof(ac_raw, set) },
	[AC_FT_ANY] = { dec_opaque, enc_raw, offsetof(ac_raw, set) },
};

uint32_t ac_schema_count_set(const ac_schema *s, const void *in)
{
	uint32_t n = 0;

	for (uint16_t i = 0; i < s->count; i++) {
		n += is_set(&s->fields[i], in);
	}
	return n;
}

void ac_schema_encode_fields(const ac_schema *s, const void *in, ac_mpw *w)
{
	for (uint16_t i = 0; i < s->count; i++) {
		const ac_field *f = &s->fields[i];
		if (is_set(f, in)) {
			ac_mpw_key(w, f->name);
			ftypes[f->type].encode(f, (const char *)in + f->offset, w);
		}
	}
}

void ac_schema_encode(const ac_schema *s, const void *in, ac_mpw *w)
{
	ac_mpw_map(w, ac_schema_count_set(s, in));
	ac_schema_encode_fields(s, in, w);
}

/* ---- helpers ---- */

const msgpack_object *ac_mp_get(const msgpack_object *map, const char *key)
{
	if (map == NULL || map->type != MSGPACK_OBJECT_MAP) {
		return NULL;
	}
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR &&
		    name_eq(key, k->via.str.ptr, k->via.str.size)) {
			return &map->via.map.ptr[i].val;
		}
	}
	return NULL;
}

char *ac_str_cpy(char *buf, size_t cap, ac_str s)
{
	size_t n;

	if (cap == 0) {
		return buf;
	}
	n = s.len < cap - 1 ? s.len : cap - 1;
	if (n > 0) {
		memcpy(buf, s.p, n);
	}
	buf[n] = '\0';
	return buf;
}

bool ac_str_eq(ac_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}
