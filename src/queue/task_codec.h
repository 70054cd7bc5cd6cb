/* SPDX-License-Identifier: MIT
 * Conversion between the queue's task record (queue_state.h) and its msgpack forms:
 * the public map of replies and the stored record, both through the task schemas
 * of codec/task_wire.h (no field is spelled here).
 */
#ifndef AC_QUEUE_TASK_CODEC_H
#define AC_QUEUE_TASK_CODEC_H

#include "codec/arena.h"
#include "codec/mpw.h"
#include "queue/queue_state.h"
#include "store/store.h"

/* Writes t as one map: the public task (stored false) or the stored record (true).
 * arena holds scratch for the call. */
void ac_task_encode(const ac_task *t, bool stored, ac_arena *arena, ac_mpw *w);

/* Decodes a stored record into a new task (caller owns; ac_task_free). AC_EIO when
 * the record does not decode (logged by the caller), AC_ENOMEM. */
ac_err ac_task_decode(const uint8_t *p, size_t len, ac_arena *arena, ac_task **out);

/* Fills the store row of t around its encoded record rec[0..len) (borrowed). */
void ac_task_row_fill(const ac_task *t, const uint8_t *rec, size_t len, ac_task_row *row);

/* Builds a new queued task from a validated submit request: spec blob (with the
 * complexity c encoded in), priority, max_retries, ttl, delay, key. The caller sets
 * id and history. AC_ENOMEM. */
ac_err ac_task_from_submit(const ac_task_wire *req, const ac_complexity *c, int64_t now_ms,
    ac_arena *arena, ac_task **out);

#endif
