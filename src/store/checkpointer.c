/* SPDX-License-Identifier: MIT
 * See checkpointer.h. One thread, one connection, one loop: wait for a request, run
 * a PASSIVE checkpoint (it never blocks the writer: it copies the frames committed
 * before it started and leaves the rest), mark it done, wait again.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "rt/clock.h"
#include "rt/log.h"
#include "store/checkpointer.h"

struct ac_checkpointer {
	sqlite3 *db; /* the thread's own; touched by nobody else */
	pthread_t thread;
	pthread_mutex_t lock; /* guards the fields below */
	pthread_cond_t cv;
	bool requested, done, stopping;
	unsigned long passes;
};

static void run_pass(ac_checkpointer *c)
{
	int64_t started = ac_clock_mono_us();
	int log_frames = 0, copied = 0;
	int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
	    &copied);

	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		ac_log(AC_LOG_WARN, "store", "checkpoint_failed", "rc=%d error=\"%s\"", rc,
		    sqlite3_errmsg(c->db));
		return;
	}
	ac_log(AC_LOG_DEBUG, "store", "checkpointed", "wal_frames=%d copied=%d us=%lld",
	    log_frames, copied, (long long)(ac_clock_mono_us() - started));
}

static void *checkpointer_main(void *arg)
{
	ac_checkpointer *c = arg;

	pthread_setname_np(pthread_self(), "ac:checkpoint");
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->requested && !c->stopping) {
			pthread_cond_wait(&c->cv, &c->lock);
		}
		if (c->stopping) {
			break;
		}
		pthread_mutex_unlock(&c->lock);
		run_pass(c);
		pthread_mutex_lock(&c->lock);
		c->requested = false;
		c->done = true;
		c->passes++;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static ac_err open_connection(ac_checkpointer *c, const char *path, const char *sync_pragma)
{
	int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(c->db, sync_pragma, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		ac_log(AC_LOG_ERR, "store", "checkpointer_open_failed", "path=%s error=\"%s\"", path,
		    c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		return AC_EIO;
	}
	return AC_OK;
}

ac_err ac_checkpointer_start(const char *path, const char *sync_pragma, ac_checkpointer **out)
{
	ac_checkpointer *c = calloc(1, sizeof(*c));
	ac_err err;

	if (c == NULL) {
		return AC_ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cv, NULL);
	if ((err = open_connection(c, path, sync_pragma)) != AC_OK) {
		goto fail;
	}
	if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
		err = AC_ENOMEM;
		goto fail;
	}
	*out = c;
	return AC_OK;
fail:
	sqlite3_close(c->db);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return err;
}

void ac_checkpointer_request(ac_checkpointer *c)
{
	pthread_mutex_lock(&c->lock);
	if (!c->requested) {
		c->requested = true;
		c->done = false;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->lock);
}

bool ac_checkpointer_take_done(ac_checkpointer *c)
{
	bool done;

	pthread_mutex_lock(&c->lock);
	done = c->done;
	c->done = false;
	pthread_mutex_unlock(&c->lock);
	return done;
}

unsigned long ac_checkpointer_passes(ac_checkpointer *c)
{
	unsigned long n;

	pthread_mutex_lock(&c->lock);
	n = c->passes;
	pthread_mutex_unlock(&c->lock);
	return n;
}

void ac_checkpointer_stop(ac_checkpointer *c)
{
	if (c == NULL) {
		return;
	}
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	if (sqlite3_close(c->db) != SQLITE_OK) {
		ac_log(AC_LOG_WARN, "store", "checkpointer_close_failed", "error=\"%s\"",
		    sqlite3_errmsg(c->db));
	}
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
