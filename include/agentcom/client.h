/* SPDX-License-Identifier: MIT
 * libagentcom: the C client of agentcom's protocol v1 (proto/README.md). Connect,
 * call any op with a msgpack (or JSON) request, read the reply. A client is one nng
 * REQ socket; use one client per thread (it is not safe to call concurrently).
 */
#ifndef AGENTCOM_CLIENT_H
#define AGENTCOM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "agentcom/errors.h"

#define AC_DEFAULT_URL "tcp://127.0.0.1:7450"
#define AC_DEFAULT_PUB_URL "tcp://127.0.0.1:7451"

typedef struct ac_client ac_client;
typedef struct ac_reply ac_reply;

/* Connects to url (tcp://, ws://, tls+tcp://, ipc://) and remembers token (NULL or ""
 * for a server started with --insecure). REQ resends are disabled, so a long-poll is
 * never duplicated. The connection is made in the background and re-made after a
 * server restart; AC_EADDRINVAL for a malformed URL. Caller owns *out; close with
 * ac_client_close. */
ac_err ac_client_open(ac_client **out, const char *url, const char *token);

/* Closes the socket and frees c; NULL is a no-op. */
void ac_client_close(ac_client *c);

/* Timeout for one call in ms (default 10 000). ac_client_call_wait adds its wait. */
void ac_client_set_timeout(ac_client *c, int timeout_ms);

/* Sends req[0..len) — one msgpack map with at least "op" — adding "token" when the
 * map has none, and waits for the reply. AC_OK means a reply arrived: check
 * ac_reply_ok, it may be an error reply. Otherwise: AC_ETIMEDOUT (no reply in time),
 * AC_ECLOSED, AC_EUNAVAIL (connection lost mid-call: the request may or may not have
 * been applied), AC_EINVAL (req is not a map), AC_ENOMEM. On AC_OK *reply is the
 * caller's; free with ac_reply_free. */
ac_err ac_client_call(ac_client *c, const uint8_t *req, size_t len, ac_reply **reply);

/* As ac_client_call with a timeout of the default plus extra_ms (for long-polls). */
ac_err ac_client_call_wait(ac_client *c, const uint8_t *req, size_t len, int extra_ms,
    ac_reply **reply);

/* As ac_client_call with the request written as JSON text (NUL-terminated).
 * AC_EINVAL when json does not parse. */
ac_err ac_client_call_json(ac_client *c, const char *json, ac_reply **reply);

/* ping: *reply carries version, proto, uptime_ms. */
ac_err ac_ping(ac_client *c, ac_reply **reply);

/* --- replies (all borrowed pointers live until ac_reply_free) --- */

/* True for {ok: true}. */
bool ac_reply_ok(const ac_reply *r);
/* The error code of an error reply (AC_OK for a success). */
ac_err ac_reply_error(const ac_reply *r);
/* error.message / error.field of an error reply, "" when absent. */
const char *ac_reply_message(const ac_reply *r);
const char *ac_reply_field(const ac_reply *r);
/* The whole reply map. */
const msgpack_object *ac_reply_root(const ac_reply *r);
/* The value at path: keys separated by '.', array items as [i], e.g. "task.id",
 * "tasks[0].status", "error.code". NULL when absent. */
const msgpack_object *ac_reply_get(const ac_reply *r, const char *path);
/* Typed helpers: false when absent or of another type. */
bool ac_reply_u64(const ac_reply *r, const char *path, uint64_t *out);
bool ac_reply_i64(const ac_reply *r, const char *path, int64_t *out);
bool ac_reply_f64(const ac_reply *r, const char *path, double *out);
bool ac_reply_bool(const ac_reply *r, const char *path, bool *out);
/* Copies a string value into buf (NUL-terminated, truncated to cap); false when
 * absent or not a string. */
bool ac_reply_str(const ac_reply *r, const char *path, char *buf, size_t cap);
/* The raw reply bytes. */
const uint8_t *ac_reply_data(const ac_reply *r, size_t *len);
/* The reply as JSON text (flags as ac_msgpack_to_json); caller frees with free().
 * NULL when out of memory. */
char *ac_reply_json(const ac_reply *r, int flags);
void ac_reply_free(ac_reply *r);

#endif
