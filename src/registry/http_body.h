/* SPDX-License-Identifier: MIT
 * HTTP/1.1 response bodies for the prober: a growable buffer capped at a maximum
 * (memory follows the bytes that really arrived, never a claimed length), the
 * Content-Length parser and an incremental decoder of Transfer-Encoding: chunked
 * (RFC 9112 §7.1). Pure: no I/O.
 */
#ifndef AC_REGISTRY_HTTP_BODY_H
#define AC_REGISTRY_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"

/* A body being received. Caller storage: set max, zero the rest; fini frees p. */
typedef struct ac_body {
	uint8_t *p;   /* len bytes, plus one spare byte (for a NUL) once anything is stored */
	size_t len, cap;
	size_t max;   /* bytes the body may hold */
} ac_body;

/* Appends data[0..n). AC_ETOOLARGE when len + n would exceed max (nothing is
 * appended); AC_ENOMEM. Any thread. */
ac_err ac_body_append(ac_body *b, const uint8_t *data, size_t n);

/* Frees the buffer and zeroes everything except max. A zeroed struct is a no-op. */
void ac_body_fini(ac_body *b);

/* Parses a Content-Length header value (digits, optional surrounding blanks) into
 * *len; false when malformed or above 10^19. Any thread. */
bool ac_http_content_length(const char *value, uint64_t *len);

/* Decoder state; caller storage, start with ac_chunked_init. */
typedef struct ac_chunked {
	uint8_t state;
	uint8_t digits;  /* hex digits of the current size line */
	uint64_t remain; /* chunk size being read, then data bytes still to come */
} ac_chunked;

void ac_chunked_init(ac_chunked *c);

/* Decodes in[0..len) and appends the chunk data to body. *used is set to the bytes
 * consumed, which is len unless the last chunk and its trailer section ended inside
 * in. A chunk that would take body past its max fails as soon as its size line is
 * read. Returns AC_OK, AC_EPROTO (malformed framing; the decoder stays failed),
 * AC_ETOOLARGE or AC_ENOMEM. Bare LF line ends are accepted. Any thread. */
ac_err ac_chunked_feed(ac_chunked *c, const uint8_t *in, size_t len, ac_body *body,
    size_t *used);

/* True once the zero-size chunk and the empty line after its trailers were read. */
bool ac_chunked_is_done(const ac_chunked *c);

#endif
