/* SPDX-License-Identifier: MIT
 * Test support: what a test thread and the actor threads it watches share, a mutex,
 * a condition variable (monotonic clock) and the first failed check seen on an actor
 * thread (Criterion asserts belong to the test thread, so actors record and the test
 * asserts). Used by the actor tests' probes.
 */
#ifndef AC_TEST_SYNC_H
#define AC_TEST_SYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ac_tsync {
	pthread_mutex_t mu; /* error-checking: a teardown may release what an assert left held */
	pthread_cond_t cv;
	char bad[160];      /* first failed check on an actor thread, "" none */
} ac_tsync;

void ac_tsync_init(ac_tsync *s);
/* Releases the lock if the caller still holds it (an assertion failed while waiting),
 * then destroys. */
void ac_tsync_fini(ac_tsync *s);
void ac_tsync_lock(ac_tsync *s);
void ac_tsync_unlock(ac_tsync *s);
/* Wakes the waiters, then unlocks. */
void ac_tsync_unlock_signal(ac_tsync *s);
/* On an actor thread: records "line L: what" as the first failure unless ok. */
void ac_tsync_check(ac_tsync *s, bool ok, const char *what, int line);
/* Waits until pred(arg) holds (true) or timeout_ms passes (false); returns holding
 * the lock either way: call ac_tsync_unlock afterwards. */
bool ac_tsync_wait(ac_tsync *s, bool (*pred)(const void *arg), const void *arg,
    int64_t timeout_ms);

#endif
