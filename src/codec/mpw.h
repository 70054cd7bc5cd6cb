/* SPDX-License-Identifier: MIT
 * msgpack writer with a sticky error (MPack style): write a whole message, check once.
 * Wraps msgpack-c's packer over a growable buffer that the writer owns.
 */
#ifndef AC_CODEC_MPW_H
#define AC_CODEC_MPW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "agentcom/errors.h"

typedef struct ac_mpw {
	msgpack_sbuffer sb;  /* the bytes written so far */
	msgpack_packer pk;
	ac_err err;          /* first error; later writes are no-ops */
} ac_mpw;

/* Initialises an empty writer; fini frees its buffer. fini on a zeroed struct is a no-op. */
void ac_mpw_init(ac_mpw *w);
void ac_mpw_fini(ac_mpw *w);
/* Empties the buffer (keeps capacity) and clears the error. */
void ac_mpw_reset(ac_mpw *w);

void ac_mpw_map(ac_mpw *w, uint32_t count);
void ac_mpw_array(ac_mpw *w, uint32_t count);
void ac_mpw_str(ac_mpw *w, const char *p, size_t len);
void ac_mpw_cstr(ac_mpw *w, const char *s);          /* NUL-terminated; NULL writes nil */
void ac_mpw_u64(ac_mpw *w, uint64_t v);
void ac_mpw_i64(ac_mpw *w, int64_t v);
void ac_mpw_f64(ac_mpw *w, double v);
void ac_mpw_bool(ac_mpw *w, bool v);
void ac_mpw_nil(ac_mpw *w);
/* Appends bytes that already are one or more complete msgpack values. */
void ac_mpw_bin(ac_mpw *w, const void *p, size_t len); /* a msgpack bin value */
void ac_mpw_raw(ac_mpw *w, const void *p, size_t len);
/* Reads the map header at the start of p[0..len): its entry count and the header's size
 * in bytes. False when p does not start with a map header. */
bool ac_mp_map_header(const uint8_t *p, size_t len, uint32_t *count, size_t *hdr);
/* Writes the map p[0..len) grown by `more` entries that the caller writes next: a header
 * for count + more, then p's own entries. False, with nothing written, when p does not
 * start with a map header. */
bool ac_mpw_map_extend(ac_mpw *w, const uint8_t *p, size_t len, uint32_t more);
/* Writes a decoded msgpack-c object (deep). */
void ac_mpw_object(ac_mpw *w, const msgpack_object *o);
/* Key helper: ac_mpw_cstr for a key. */
static inline void ac_mpw_key(ac_mpw *w, const char *k) { ac_mpw_cstr(w, k); }

/* Bytes written; borrowed, valid until the next write, reset or fini. */
static inline const uint8_t *ac_mpw_data(const ac_mpw *w) { return (const uint8_t *)w->sb.data; }
static inline size_t ac_mpw_len(const ac_mpw *w) { return w->sb.size; }

#endif
