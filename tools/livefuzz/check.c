/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's reply checker: whatever the request was, the reply must be one
 * msgpack map (no trailing bytes, string keys, none twice) with a bool `ok`, and an
 * error reply must carry `error` {code, message, field?} whose code is one of the wire
 * codes of include/agentcom/errors.h (DESIGN §4). Also the small msgpack-c readers
 * harvest.c and worker.c use. Pure: no I/O, no shared state.
 */
#include <stdio.h>
#include <string.h>

#include "codec/schema.h"
#include "livefuzz.h"

bool lf_mp_u64(const msgpack_object *m, const char *key, uint64_t *out)
{
	const msgpack_object *v = ac_mp_get(m, key);

	if (v == NULL || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		return false;
	}
	*out = v->via.u64;
	return true;
}

static bool copy_str(const msgpack_object *v, char *out, size_t cap)
{
	if (v == NULL || v->type != MSGPACK_OBJECT_STR || v->via.str.size >= cap) {
		return false;
	}
	memcpy(out, v->via.str.ptr, v->via.str.size);
	out[v->via.str.size] = '\0';
	return true;
}

bool lf_mp_str(const msgpack_object *m, const char *key, char *out, size_t cap)
{
	return copy_str(ac_mp_get(m, key), out, cap);
}

/* A string of any length: copies what fits (for messages shown to a person). */
static bool copy_str_cut(const msgpack_object *v, char *out, size_t cap)
{
	size_t n;

	if (v == NULL || v->type != MSGPACK_OBJECT_STR) {
		return false;
	}
	n = v->via.str.size < cap - 1 ? v->via.str.size : cap - 1;
	memcpy(out, v->via.str.ptr, n);
	out[n] = '\0';
	return true;
}

static lf_verdict malformed(lf_reply *r, const char *why)
{
	snprintf(r->why, sizeof(r->why), "%s", why);
	return LF_REPLY_MALFORMED;
}

/* The keys of map m are strings, none twice. */
static bool has_unique_str_keys(const msgpack_object *m)
{
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *a = &m->via.map.ptr[i].key;

		if (a->type != MSGPACK_OBJECT_STR) {
			return false;
		}
		for (uint32_t j = i + 1; j < m->via.map.size; j++) {
			const msgpack_object *b = &m->via.map.ptr[j].key;

			if (b->type == MSGPACK_OBJECT_STR && a->via.str.size == b->via.str.size &&
			    memcmp(a->via.str.ptr, b->via.str.ptr, a->via.str.size) == 0) {
				return false;
			}
		}
	}
	return true;
}

/* Whether name is the wire name of one of the wire codes in errors.h: it maps to a
 * code whose wire name is name again (ac_err_from_wire_name answers AC_EINTERNAL for
 * every unknown name, so the round trip is what tells "internal" from those). */
static bool is_wire_code(const char *name, ac_err *code)
{
	*code = ac_err_from_wire_name(name, strlen(name));
	return strcmp(ac_err_wire_name(*code), name) == 0;
}

static lf_verdict check_error(lf_reply *r)
{
	const msgpack_object *e = ac_mp_get(r->root, "error");
	const msgpack_object *field = ac_mp_get(e, "field");

	if (e == NULL || e->type != MSGPACK_OBJECT_MAP || !has_unique_str_keys(e)) {
		return malformed(r, "ok is false but error is not a map with string keys");
	}
	if (!copy_str(ac_mp_get(e, "code"), r->code_name, sizeof(r->code_name))) {
		return malformed(r, "error.code is not a string (of under 64 bytes)");
	}
	if (!copy_str_cut(ac_mp_get(e, "message"), r->message, sizeof(r->message))) {
		return malformed(r, "error.message is not a string");
	}
	if (field != NULL && !copy_str_cut(field, r->field, sizeof(r->field))) {
		return malformed(r, "error.field is not a string");
	}
	if (!is_wire_code(r->code_name, &r->code)) {
		snprintf(r->why, sizeof(r->why), "unknown error code %s", r->code_name);
		return LF_REPLY_UNKNOWN_CODE;
	}
	return LF_REPLY_ERROR;
}

lf_verdict lf_check_reply(lf_reply *r, const uint8_t *p, size_t len)
{
	size_t off = 0;
	msgpack_unpack_return ur;
	const msgpack_object *ok;

	memset(r, 0, sizeof(*r));
	msgpack_unpacked_init(&r->u);
	ur = msgpack_unpack_next(&r->u, (const char *)p, len, &off);
	if (ur != MSGPACK_UNPACK_SUCCESS) {
		return malformed(r, "not one complete msgpack value");
	}
	if (off != len) {
		return malformed(r, "trailing bytes after the reply map");
	}
	if (r->u.data.type != MSGPACK_OBJECT_MAP) {
		return malformed(r, "the reply is not a map");
	}
	if (!has_unique_str_keys(&r->u.data)) {
		return malformed(r, "a reply key is not a string, or appears twice");
	}
	r->root = &r->u.data;
	ok = ac_mp_get(r->root, "ok");
	if (ok == NULL || ok->type != MSGPACK_OBJECT_BOOLEAN) {
		return malformed(r, "no bool ok");
	}
	return ok->via.boolean ? LF_REPLY_OK : check_error(r);
}

void lf_reply_fini(lf_reply *r)
{
	msgpack_unpacked_destroy(&r->u);
}
