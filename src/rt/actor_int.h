/* SPDX-License-Identifier: MIT
 * The actor runtime's internals, shared by actor.c (threads, loop, sending) and
 * actor_msg.c (replies and published events). Nothing outside src/rt includes this.
 */
#ifndef AC_RT_ACTOR_INT_H
#define AC_RT_ACTOR_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "rt/actor.h"

#define MAX_WATCH 4
#define PUBLISH_FLUSH_BYTES (256 * 1024) /* buffered events leave at once past this */
/* Events wait this long for company: under load many batches share one message to the
 * telemetry actor (one wake-up); a lone event is late by at most this much. */
#define PUBLISH_LINGER_MS 2

struct ac_rt {
	char prefix[64];
	nng_socket inbox[AC_ACTOR_COUNT];       /* PULL, listening; read by the owner only */
	nng_socket shared_push[AC_ACTOR_COUNT]; /* PUSH, for ac_rt_send from any thread */
	/* A stopped actor's PUSH sockets stay open until ac_rt_free: closing a socket drops
	 * what it still buffers, and an actor's last messages (answers to held requests)
	 * must reach peers that run on. Written by the exiting actor thread, read after
	 * every actor was joined. */
	nng_socket retired[AC_ACTOR_COUNT][AC_ACTOR_COUNT];
	bool has_retired[AC_ACTOR_COUNT];
	/* Set while actors may already reply (the gateway binds first), so atomic: ctx is
	 * written before fn is published, and read after fn is seen (see actor.h). */
	_Atomic(ac_reply_sink_fn) reply_sink;
	_Atomic(void *) reply_ctx;
	/* Client requests sent to each actor (ac_rt_request_sent) that it has not taken
	 * from its inbox yet: what a gathering batch waits for. */
	atomic_uint in_transit[AC_ACTOR_COUNT];
};

typedef struct outbox {
	nng_msg **ring;
	size_t head, count, cap;
} outbox;

typedef struct watch {
	nng_socket sock;
	int fd;
	ac_watch_fn fn;
} watch;

struct ac_actor {
	ac_rt *rt;
	const ac_actor_def *def;
	void *state;
	pthread_t thread;
	nng_socket out[AC_ACTOR_COUNT]; /* PUSH to each peer's inbox; actor thread only */
	outbox pending[AC_ACTOR_COUNT];
	watch watches[MAX_WATCH];
	unsigned watch_count;
	ac_timers *timers;
	ac_arena arena;
	ac_mpw scratch;
	ac_mpw pubw;   /* events published in this batch, sent at its end */
	ac_mpw pubtmp; /* one event being encoded (callers may publish the scratch) */
	int64_t pub_due_ms; /* when the events in pubw must leave (monotonic) */
	bool stopping;
	/* start handshake, guarded by lock */
	pthread_mutex_t lock;
	pthread_cond_t cv;
	bool started;
	ac_err start_err;
};

/* Sends the events published so far (ac_actor_publish) as one message. */
void ac_actor_publish_flush(ac_actor *a);

#endif
