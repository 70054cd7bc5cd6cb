/* SPDX-License-Identifier: MIT
 * Test support: a telemetry subscriber (DESIGN §4 Telemetry): libagentcom's ac_sub dialled
 * to the server's PUB URL, subscribed to topic prefixes; each frame `topic NUL msgpack-map`
 * is checked (the map must carry ts_ms and seq) and kept until a test takes it, so a test
 * can wait for one event without losing the others. No Criterion here: callers assert.
 */
#ifndef AC_TEST_TELEMETRY_SUB_H
#define AC_TEST_TELEMETRY_SUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

typedef struct ac_tsub ac_tsub;
typedef struct ac_tevent ac_tevent;

/* Opens a SUB socket, subscribes to every prefix of the NULL-terminated list (NULL or
 * empty: everything) and dials url, returning once connected. NULL (and a line on
 * stderr) on failure. Close with ac_tsub_close. */
ac_tsub *ac_tsub_open(const char *url, const char *const *prefixes);
void ac_tsub_close(ac_tsub *s);

/* The next event not taken yet (kept ones first, then the socket), waiting up to
 * timeout_ms; NULL on timeout. Caller owns; free with ac_tevent_free. */
ac_tevent *ac_tsub_recv(ac_tsub *s, int timeout_ms);

/* The first event with exactly this topic and, unless key is NULL, a string value
 * equal to value at key (ac_tsub_wait) or an unsigned integer equal to value
 * (ac_tsub_wait_u64); waits up to timeout_ms. Events that do not match are kept for
 * later calls (the oldest dropped past a few thousand). NULL on timeout. */
ac_tevent *ac_tsub_wait(ac_tsub *s, const char *topic, const char *key, const char *value,
    int timeout_ms);
ac_tevent *ac_tsub_wait_u64(ac_tsub *s, const char *topic, const char *key, uint64_t value,
    int timeout_ms);

/* Frames that were not `topic NUL map-with-ts_ms-and-seq` (they are dropped). */
unsigned ac_tsub_bad_frames(const ac_tsub *s);

/* --- one event --- */

const char *ac_tevent_topic(const ac_tevent *e);
/* The value at path (keys joined by '.', array items as [i]); NULL when absent. */
const msgpack_object *ac_tevent_get(const ac_tevent *e, const char *path);
/* Typed reads: false when absent or of another type (ints read as f64 too). */
bool ac_tevent_str(const ac_tevent *e, const char *path, char *buf, size_t cap);
bool ac_tevent_u64(const ac_tevent *e, const char *path, uint64_t *out);
bool ac_tevent_i64(const ac_tevent *e, const char *path, int64_t *out);
bool ac_tevent_f64(const ac_tevent *e, const char *path, double *out);
bool ac_tevent_bool(const ac_tevent *e, const char *path, bool *out);
/* True when path is absent or nil. */
bool ac_tevent_is_nil(const ac_tevent *e, const char *path);
/* "topic {json}" for messages; caller frees with free(). */
char *ac_tevent_text(const ac_tevent *e);
void ac_tevent_free(ac_tevent *e);

#endif
