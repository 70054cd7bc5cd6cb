/* SPDX-License-Identifier: MIT
 * libagentcom's replies (include/agentcom/client.h): decoding a reply message, the
 * error summary, path lookup and typed getters. A reply owns its bytes and its decoded
 * tree; every pointer handed out borrows from them. No I/O.
 */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "agentcom/client.h"
#include "agentcom/json.h"
#include "client/client_int.h"
#include "codec/prevalidate.h"
#include "rt/assert.h"

struct ac_reply {
	nng_msg *msg;        /* the reply bytes; every STR/BIN object points into them */
	msgpack_unpacked up; /* the decoded tree */
	bool is_ok;
	ac_err err;    /* AC_OK for a success reply */
	char *message; /* NUL-terminated copies of error.message / error.field, or "" */
	char *field;
};

/* With duplicate keys the first one wins. */
const msgpack_object *
ac_client_map_find(const msgpack_object *o, const char *key, size_t len)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_MAP) {
		return NULL;
	}
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == len &&
		    memcmp(kv->key.via.str.ptr, key, len) == 0) {
			return &kv->val;
		}
	}
	return NULL;
}

/* A NUL-terminated copy of a STR object; "" for anything else. NULL when out of memory. */
static char *
dup_str(const msgpack_object *o)
{
	size_t n = o != NULL && o->type == MSGPACK_OBJECT_STR ? o->via.str.size : 0;
	char *s = malloc(n + 1);

	if (s != NULL) {
		if (n > 0) {
			memcpy(s, o->via.str.ptr, n);
		}
		s[n] = '\0';
	}
	return s;
}

static ac_err
read_status(ac_reply *r)
{
	const msgpack_object *ok = ac_client_map_find(&r->up.data, "ok", 2);
	const msgpack_object *error = ac_client_map_find(&r->up.data, "error", 5);
	const msgpack_object *code = ac_client_map_find(error, "code", 4);

	if (ok == NULL || ok->type != MSGPACK_OBJECT_BOOLEAN) {
		return AC_EPROTO;
	}
	r->is_ok = ok->via.boolean;
	r->err = AC_OK;
	if (!r->is_ok) {
		r->err = code != NULL && code->type == MSGPACK_OBJECT_STR
		    ? ac_err_from_wire_name(code->via.str.ptr, code->via.str.size)
		    : AC_EINTERNAL;
	}
	r->message = dup_str(r->is_ok ? NULL : ac_client_map_find(error, "message", 7));
	r->field = dup_str(r->is_ok ? NULL : ac_client_map_find(error, "field", 5));
	return r->message != NULL && r->field != NULL ? AC_OK : AC_ENOMEM;
}

ac_err
ac_client_decode_reply(nng_msg **msg, ac_reply **out)
{
	const uint8_t *p;
	size_t len, off = 0;
	ac_reply *r;
	ac_err err = AC_EPROTO;
	int ret;

	AC_ASSERT(msg != NULL && *msg != NULL && out != NULL);
	p = nng_msg_body(*msg);
	len = nng_msg_len(*msg);
	if (ac_prevalidate(p, len, AC_CLIENT_MAX_DEPTH) != AC_OK) {
		return AC_EPROTO;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		return AC_ENOMEM;
	}
	msgpack_unpacked_init(&r->up);
	ret = msgpack_unpack_next(&r->up, (const char *)p, len, &off);
	if (ret == MSGPACK_UNPACK_NOMEM_ERROR) {
		err = AC_ENOMEM;
	} else if (ret == MSGPACK_UNPACK_SUCCESS && off == len &&
	    r->up.data.type == MSGPACK_OBJECT_MAP) {
		err = read_status(r);
	}
	if (err != AC_OK) {
		ac_reply_free(r);
		return err;
	}
	r->msg = *msg;
	*msg = NULL;
	*out = r;
	return AC_OK;
}

void
ac_reply_free(ac_reply *r)
{
	if (r == NULL) {
		return;
	}
	msgpack_unpacked_destroy(&r->up);
	if (r->msg != NULL) {
		nng_msg_free(r->msg);
	}
	free(r->message);
	free(r->field);
	free(r);
}

bool
ac_reply_ok(const ac_reply *r)
{
	return r->is_ok;
}

ac_err
ac_reply_error(const ac_reply *r)
{
	return r->err;
}

const char *
ac_reply_message(const ac_reply *r)
{
	return r->message;
}

const char *
ac_reply_field(const ac_reply *r)
{
	return r->field;
}

const msgpack_object *
ac_reply_root(const ac_reply *r)
{
	return &r->up.data;
}

/* Path steps: each takes p just past its '.' or '[' and returns where the next step
 * starts, setting *o to NULL when the step does not resolve. */
static const char *
step_key(const msgpack_object **o, const char *p)
{
	size_t n = strcspn(p, ".[");

	*o = n > 0 ? ac_client_map_find(*o, p, n) : NULL;
	return p + n;
}

static const char *
step_index(const msgpack_object **o, const char *p)
{
	unsigned long long i = 0;

	if (*p < '0' || *p > '9') {
		*o = NULL;
		return p;
	}
	for (; *p >= '0' && *p <= '9' && i <= UINT32_MAX; p++) {
		i = i * 10 + (unsigned)(*p - '0');
	}
	if (*p != ']' || (*o)->type != MSGPACK_OBJECT_ARRAY || i >= (*o)->via.array.size) {
		*o = NULL;
		return p;
	}
	*o = &(*o)->via.array.ptr[i];
	return p + 1;
}

/* "" is the root; a key must start the path or follow '.'; "[i]" may follow anything. */
const msgpack_object *
ac_reply_get(const ac_reply *r, const char *path)
{
	const msgpack_object *o = &r->up.data;
	const char *p = path;

	AC_ASSERT(path != NULL);
	while (o != NULL && *p != '\0') {
		if (*p == '[') {
			p = step_index(&o, p + 1);
		} else if (p == path || *p == '.') {
			p = step_key(&o, p == path ? p : p + 1);
		} else {
			o = NULL;
		}
	}
	return o;
}

bool
ac_reply_u64(const ac_reply *r, const char *path, uint64_t *out)
{
	const msgpack_object *o = ac_reply_get(r, path);

	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		return false;
	}
	*out = o->via.u64;
	return true;
}

bool
ac_reply_i64(const ac_reply *r, const char *path, int64_t *out)
{
	const msgpack_object *o = ac_reply_get(r, path);

	if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return true;
	}
	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > INT64_MAX) {
		return false;
	}
	*out = (int64_t)o->via.u64;
	return true;
}

/* Integers count as numbers too: the server may send uptime_ms or a score as either. */
bool
ac_reply_f64(const ac_reply *r, const char *path, double *out)
{
	const msgpack_object *o = ac_reply_get(r, path);

	if (o == NULL) {
		return false;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*out = o->via.f64;
		return true;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*out = (double)o->via.u64;
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = (double)o->via.i64;
		return true;
	default:
		return false;
	}
}

bool
ac_reply_bool(const ac_reply *r, const char *path, bool *out)
{
	const msgpack_object *o = ac_reply_get(r, path);

	if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN) {
		return false;
	}
	*out = o->via.boolean;
	return true;
}

bool
ac_reply_str(const ac_reply *r, const char *path, char *buf, size_t cap)
{
	const msgpack_object *o = ac_reply_get(r, path);
	size_t n;

	AC_ASSERT(buf != NULL && cap > 0);
	if (o == NULL || o->type != MSGPACK_OBJECT_STR) {
		return false;
	}
	n = o->via.str.size < cap - 1 ? o->via.str.size : cap - 1;
	if (n > 0) {
		memcpy(buf, o->via.str.ptr, n);
	}
	buf[n] = '\0';
	return true;
}

const uint8_t *
ac_reply_data(const ac_reply *r, size_t *len)
{
	if (len != NULL) {
		*len = nng_msg_len(r->msg);
	}
	return nng_msg_body(r->msg);
}

char *
ac_reply_json(const ac_reply *r, int flags)
{
	size_t len;
	const uint8_t *p = ac_reply_data(r, &len);
	char *json = NULL;

	if (ac_msgpack_to_json(p, len, flags, &json) != AC_OK) {
		return NULL;
	}
	return json;
}
