/* SPDX-License-Identifier: MIT
 * Sticky-error msgpack writer over msgpack-c's packer and sbuffer. The first failed
 * write records the error and every later write is a no-op, so callers write a whole
 * message and check w->err once. Owns its buffer; never logs.
 */
#include <string.h>

#include "codec/mpw.h"

void ac_mpw_init(ac_mpw *w)
{
	memset(w, 0, sizeof(*w));
	msgpack_sbuffer_init(&w->sb);
	msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
	w->err = AC_OK;
}

void ac_mpw_fini(ac_mpw *w)
{
	msgpack_sbuffer_destroy(&w->sb); /* free(NULL) on a zeroed struct */
	memset(w, 0, sizeof(*w));
}

void ac_mpw_reset(ac_mpw *w)
{
	msgpack_sbuffer_clear(&w->sb);
	w->err = AC_OK;
}

/* True when the writer may write. The packer's back pointer is rebound on every
 * write, so a writer that was copied or moved after init still writes into its own
 * buffer rather than the old location's. */
static bool is_ok(ac_mpw *w)
{
	w->pk.data = &w->sb;
	w->pk.callback = msgpack_sbuffer_write;
	return w->err == AC_OK;
}

/* msgpack-c returns 0 or the sbuffer's -1, and the sbuffer fails only in realloc. */
static void check(ac_mpw *w, int rc)
{
	if (rc != 0) {
		w->err = AC_ENOMEM;
	}
}

void ac_mpw_map(ac_mpw *w, uint32_t count)
{
	if (is_ok(w)) {
		check(w, msgpack_pack_map(&w->pk, count));
	}
}

void ac_mpw_array(ac_mpw *w, uint32_t count)
{
	if (is_ok(w)) {
		check(w, msgpack_pack_array(&w->pk, count));
	}
}

void ac_mpw_str(ac_mpw *w, const char *p, size_t len)
{
	if (!is_ok(w)) {
		return;
	}
	if (len > UINT32_MAX) {
		w->err = AC_ETOOLARGE; /* msgpack cannot express it */
		return;
	}
	check(w, msgpack_pack_str_with_body(&w->pk, p, len));
}

void ac_mpw_cstr(ac_mpw *w, const char *s)
{
	if (s == NULL) {
		ac_mpw_nil(w);
	} else {
		ac_mpw_str(w, s, strlen(s));
	}
}

void ac_mpw_u64(ac_mpw *w, uint64_t v)
{
	if (is_ok(w)) {
		check(w, msgpack_pack_uint64(&w->pk, v));
	}
}

void ac_mpw_i64(ac_mpw *w, int64_t v)
{
	if (is_ok(w)) {
		check(w, msgpack_pack_int64(&w->pk, v));
	}
}

void ac_mpw_f64(ac_mpw *w, double v)
{
	if (is_ok(w)) {
		check(w, msgpack_pack_double(&w->pk, v));
	}
}

void ac_mpw_bool(ac_mpw *w, bool v)
{
	if (is_ok(w)) {
		check(w, v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
	}
}

void ac_mpw_nil(ac_mpw *w)
{
	if (is_ok(w)) {
		check(w, msgpack_pack_nil(&w->pk));
	}
}

void ac_mpw_bin(ac_mpw *w, const void *p, size_t len)
{
	if (!is_ok(w)) {
		return;
	}
	if (len > UINT32_MAX) {
		w->err = AC_ETOOLARGE;
		return;
	}
	check(w, msgpack_pack_bin_with_body(&w->pk, p, len));
}

void ac_mpw_raw(ac_mpw *w, const void *p, size_t len)
{
	if (is_ok(w) && len > 0) {
		check(w, msgpack_sbuffer_write(&w->sb, p, len));
	}
}

bool ac_mp_map_header(const uint8_t *p, size_t len, uint32_t *count, size_t *hdr)
{
	if (len >= 1 && (p[0] & 0xf0) == 0x80) { /* fixmap */
		*count = p[0] & 0x0f;
		*hdr = 1;
	} else if (len >= 3 && p[0] == 0xde) { /* map 16 */
		*count = (uint32_t)p[1] << 8 | p[2];
		*hdr = 3;
	} else if (len >= 5 && p[0] == 0xdf) { /* map 32 */
		*count = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
		*hdr = 5;
	} else {
		return false;
	}
	return true;
}

bool ac_mpw_map_extend(ac_mpw *w, const uint8_t *p, size_t len, uint32_t more)
{
	uint32_t count;
	size_t hdr;

	if (!ac_mp_map_header(p, len, &count, &hdr) || count > UINT32_MAX - more) {
		return false;
	}
	ac_mpw_map(w, count + more);
	ac_mpw_raw(w, p + hdr, len - hdr);
	return true;
}

void ac_mpw_object(ac_mpw *w, const msgpack_object *o)
{
	if (is_ok(w)) {
		check(w, msgpack_pack_object(&w->pk, *o));
	}
}
