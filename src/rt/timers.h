/* SPDX-License-Identifier: MIT
 * Deadline heap: the only timer mechanism of the actors (nng timers cost ~1 ms of CPU
 * each in nng 1.5.2). Min-heap on (deadline, insertion order) with O(log n) insert,
 * cancel and pop. Pure data structure: no threads, no clock reads; one owner.
 */
#ifndef AC_RT_TIMERS_H
#define AC_RT_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"

/* Handle of a pending timer; 0 is never a valid handle. A handle stays unique
 * for the life of the heap, so cancelling a fired handle is a harmless no-op. */
typedef uint64_t ac_timer_id;

typedef struct ac_timer_entry {
	int64_t deadline_ms; /* monotonic */
	ac_timer_id id;
	uint32_t kind;       /* caller-defined: what fired */
	uint64_t tag;        /* caller-defined: which thing (task id, agent slot...) */
} ac_timer_entry;

typedef struct ac_timers ac_timers; /* opaque */

/* Allocates an empty heap. Caller owns; free with ac_timers_free. */
ac_err ac_timers_alloc(ac_timers **out);
/* Frees the heap; NULL is a no-op. */
void ac_timers_free(ac_timers *t);

/* Adds a timer; *id_out gets its handle. AC_ENOMEM on allocation failure. */
ac_err ac_timers_add(ac_timers *t, int64_t deadline_ms, uint32_t kind, uint64_t tag,
    ac_timer_id *id_out);

/* Removes a pending timer; returns true if it was pending. O(log n). */
bool ac_timers_cancel(ac_timers *t, ac_timer_id id);

/* Earliest pending deadline, or INT64_MAX when empty. */
int64_t ac_timers_next_deadline(const ac_timers *t);

/* Pops the earliest timer if its deadline_ms <= now_ms; returns false otherwise. */
bool ac_timers_pop_due(ac_timers *t, int64_t now_ms, ac_timer_entry *out);

/* Number of pending timers. */
size_t ac_timers_count(const ac_timers *t);

/* Heap invariant check for asserts and tests. */
bool ac_timers_check(const ac_timers *t);

#endif
