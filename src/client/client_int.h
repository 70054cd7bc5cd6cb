/* SPDX-License-Identifier: MIT
 * libagentcom internals shared by client.c, reply.c and their unit tests: building the
 * request message (token insertion), decoding a reply, map lookup. Not part of the
 * public API; never installed, never included outside src/client and tests/unit/client.
 */
#ifndef AC_CLIENT_INT_H
#define AC_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "agentcom/client.h"

/* Deepest nesting of a request or reply the client accepts. It is msgpack-c's own
 * limit (MSGPACK_EMBED_STACK_SIZE): pre-validating to the same depth means a later
 * MSGPACK_UNPACK_NOMEM_ERROR really is a failed allocation. */
#define AC_CLIENT_MAX_DEPTH 32

/* Copies req[0..len) (one msgpack map) into a new message. When token is neither
 * NULL nor "" and the map has no "token" key, the map header is rewritten with
 * count + 1 (fixmap, map16 or map32, whichever fits) and "token": token is appended
 * after the last pair. Errors: AC_EINVAL (req is not exactly one well-formed map),
 * AC_ENOMEM. On AC_OK the caller owns *out (free with nng_msg_free, or send it).
 * Any thread; no I/O. */
ac_err ac_client_add_token(const uint8_t *req, size_t len, const char *token, nng_msg **out);

/* Decodes the reply in *msg: pre-validates it, unpacks it, requires a map with a
 * boolean "ok", and extracts error.code/message/field of an error reply. Takes
 * ownership of *msg on AC_OK (sets *msg = NULL); on failure the caller still owns it.
 * Errors: AC_EPROTO (not one well-formed map with a boolean "ok"), AC_ENOMEM.
 * On AC_OK the caller owns *out; free with ac_reply_free. Any thread; no I/O. */
ac_err ac_client_decode_reply(nng_msg **msg, ac_reply **out);

/* The ac_err for an nng error code of a socket operation (connection errors become
 * AC_EUNAVAIL). */
ac_err ac_client_from_nng(int rv);

/* Dials url on s without blocking, so a socket may be opened before the server is up:
 * nng keeps re-dialling in the background (100 ms .. 2 s apart). Uses the CA file in
 * AGENTCOM_TLS_CA for tls+tcp:// and wss://. Returns an nng error code. */
int ac_client_dial(nng_socket s, const char *url);

/* The value of key[0..len) in the map o; NULL when o is NULL, not a map, or has no
 * such string key. Borrowed from o. Any thread. */
const msgpack_object *ac_client_map_find(const msgpack_object *o, const char *key, size_t len);

#endif
