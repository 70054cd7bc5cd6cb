/* SPDX-License-Identifier: MIT
 * See test_sync.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "test_sync.h"

void ac_tsync_init(ac_tsync *s)
{
	pthread_condattr_t ca;
	pthread_mutexattr_t ma;

	memset(s, 0, sizeof(*s));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&s->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
}

void ac_tsync_fini(ac_tsync *s)
{
	pthread_mutex_unlock(&s->mu); /* EPERM when not held: fine */
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

void ac_tsync_lock(ac_tsync *s)
{
	pthread_mutex_lock(&s->mu);
}

void ac_tsync_unlock(ac_tsync *s)
{
	pthread_mutex_unlock(&s->mu);
}

void ac_tsync_unlock_signal(ac_tsync *s)
{
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void ac_tsync_check(ac_tsync *s, bool ok, const char *what, int line)
{
	if (ok) {
		return;
	}
	ac_tsync_lock(s);
	if (s->bad[0] == '\0') {
		snprintf(s->bad, sizeof(s->bad), "line %d: %s", line, what);
	}
	ac_tsync_unlock_signal(s);
}

bool ac_tsync_wait(ac_tsync *s, bool (*pred)(const void *arg), const void *arg,
    int64_t timeout_ms)
{
	struct timespec dl;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	ac_tsync_lock(s);
	while (!(ok = pred(arg))) {
		if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) != 0 && !(ok = pred(arg))) {
			break;
		}
	}
	return ok;
}
