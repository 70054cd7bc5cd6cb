/* SPDX-License-Identifier: MIT
 * Actor runtime: one thread per actor, an inbox (inproc PULL), non-blocking sends with
 * an outbox per peer, a deadline heap, and a const handler table indexed by message id.
 * The only place where actor messaging touches nng and pthreads. See actor.c's DESIGN.
 */
#ifndef AC_RT_ACTOR_H
#define AC_RT_ACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "agentcom/errors.h"
#include "codec/arena.h"
#include "codec/msg.h"
#include "codec/mpw.h"
#include "codec/schema.h"
#include "rt/timers.h"

typedef struct ac_rt ac_rt;       /* one server instance: inbox names, shared senders */
typedef struct ac_actor ac_actor; /* one running actor */

/* What a handler gets. Everything is borrowed for the duration of the call. */
typedef struct ac_call {
	ac_actor *actor;
	ac_env env;
	const uint8_t *body; /* raw msgpack body */
	size_t body_len;
	const void *req;     /* decoded body (handler's schema), NULL without schema */
	ac_arena *arena;     /* scratch for the handler; reset after each message */
} ac_call;

typedef void (*ac_handler_fn)(void *state, ac_call *call);

/* One entry of an actor's handler table. With a schema, the runtime decodes the body
 * into a struct before the call, and answers a failed decode itself (invalid_argument
 * with the field path) when the message expects a reply. */
typedef struct ac_handler {
	ac_handler_fn fn;
	const ac_schema *schema;
} ac_handler;

/* Called for a message from a watched socket (ac_actor_watch); owns nothing. */
typedef void (*ac_watch_fn)(void *state, ac_actor *a, const uint8_t *data, size_t len);

typedef struct ac_actor_def {
	const char *name;
	ac_actor_id id;
	const ac_handler *handlers; /* AC_MSG_COUNT entries; fn NULL = not handled here */
	/* On the actor thread before it reports ready; an error fails ac_actor_start. */
	ac_err (*start)(void *state, ac_actor *a);
	/* On the actor thread after the loop ends, before the thread exits. */
	void (*stop)(void *state, ac_actor *a);
	/* A timer set with ac_actor_timer_add fired. */
	void (*on_timer)(void *state, ac_actor *a, const ac_timer_entry *t);
	/* After each batch of messages (group commit point). May be NULL. */
	void (*on_drained)(void *state, ac_actor *a);
	unsigned max_batch; /* messages per batch; 0 means 256 */
	/* Group commit: while two or more client requests sent to this actor have not
	 * reached it yet (ac_rt_request_sent), keep the batch open for them, up to this
	 * many microseconds. 0: a batch is what is waiting. */
	unsigned gather_us;
	/* Also keeps a batch open (within gather_us) while it returns true: the actor
	 * expects answers from a peer that should share the batch's commit. May be NULL. */
	bool (*gather_more)(void *state);
} ac_actor_def;

/* Creates the instance: one inproc inbox per actor, listening, with names unique to
 * this instance (several servers may live in one process, as in tests). Caller owns;
 * free with ac_rt_free after every actor stopped. */
ac_err ac_rt_alloc(ac_rt **out);
void ac_rt_free(ac_rt *rt);

/* Inproc URL "inproc://ac-<instance>-<suffix>" for extra sockets (pub/sub between
 * actors) into buf; returns buf. */
const char *ac_rt_url(const ac_rt *rt, const char *suffix, char *buf, size_t cap);

/* Replies to gateway requests (AC_MSG_GW_REPLY) can be handed straight to the
 * gateway's worker pool instead of through its inbox, saving a thread wake-up per
 * request. fn is called on the replying actor's thread with the reply handle and the
 * reply bytes (borrowed for the call); it must be thread-safe and never block. Set it
 * before traffic starts and clear it (NULL) before the gateway frees its workers,
 * with every other actor stopped. */
typedef void (*ac_reply_sink_fn)(void *ctx, uint64_t corr_id, const uint8_t *body, size_t len);
void ac_rt_set_reply_sink(ac_rt *rt, ac_reply_sink_fn fn, void *ctx);

/* For the gateway, before it sends a client request to `to`: counts it as on its way
 * until `to` takes it from its inbox, and returns how many are (this one included,
 * saturated) for ac_env.inflight, which must then be non-zero. When the send fails,
 * ac_rt_request_lost takes the count back. Any thread. */
uint8_t ac_rt_request_sent(ac_rt *rt, ac_actor_id to);
void ac_rt_request_lost(ac_rt *rt, ac_actor_id to);

/* Sends m to actor to from any thread (the gateway's nng callbacks, main). Never
 * blocks: AC_EFULL when the inbox is full. Takes ownership of *m on success and sets
 * *m to NULL; on failure the caller still owns it. */
ac_err ac_rt_send(ac_rt *rt, ac_actor_id to, nng_msg **m);

/* Starts the actor thread with state (borrowed; must outlive the actor). Returns when
 * def->start succeeded (AC_OK) or failed (its error, thread joined, *out NULL). *out
 * is set before the thread starts, so it may live in state for the thread to read. */
ac_err ac_actor_start(ac_rt *rt, const ac_actor_def *def, void *state, ac_actor **out);

/* Stops the actor: sends AC_MSG_STOP, joins the thread, frees the actor. Pending
 * outbox messages are dropped (the peers are stopping too). NULL is a no-op. Not from
 * the actor's own thread. */
void ac_actor_stop(ac_actor *a);

/* --- The calls below are for the actor's own thread only. --- */

ac_rt *ac_actor_rt(ac_actor *a);
const char *ac_actor_name(const ac_actor *a);

/* Sends env + body to actor to. Never blocks and never loses the message: what does
 * not fit now waits in this actor's outbox and is flushed when the peer drains.
 * AC_ENOMEM only when the message cannot even be allocated. */
ac_err ac_actor_send(ac_actor *a, ac_actor_id to, const ac_env *env, const void *body,
    size_t len);

/* Shorthand: type and body only (no reply handle). */
ac_err ac_actor_tell(ac_actor *a, ac_actor_id to, ac_msg_type type, const ac_mpw *body);

/* Most items in one list message: the peers' schemas accept up to 100 000. */
#define AC_TELL_LIST_MAX 4096

/* Tells to {key: [the n items already written in items]} (nothing when n is 0), then
 * empties items and zeroes n: how actors send a batch's notes. More than
 * AC_TELL_LIST_MAX items leave as several messages, in order. */
void ac_actor_tell_list(ac_actor *a, ac_actor_id to, ac_msg_type type, const char *key,
    ac_mpw *items, uint32_t *n);

/* Passes a request on to another actor with the same reply handle, role and pipe,
 * as message type (its body replaced by body). */
ac_err ac_actor_forward(ac_actor *a, ac_actor_id to, const ac_env *req, ac_msg_type type,
    const ac_mpw *body);

/* Replies to a gateway request: body must be the complete reply map ({ok: true, ...}).
 * A no-op when req->corr_id is 0. */
void ac_actor_reply(ac_actor *a, const ac_env *req, const ac_mpw *body);

/* Replies {ok: true} with no fields. */
void ac_actor_reply_ok(ac_actor *a, const ac_env *req);

/* Writes {ok: false, error: {code, message, field?}}: field NULL or "" omits it, a
 * NULL message says ac_strerror(code). Any thread. */
void ac_write_error(ac_mpw *w, ac_err code, const char *message, const char *field);

/* Replies {ok: false, error: {code, message, field?}}; field NULL or "" omits it. */
void ac_actor_reply_err(ac_actor *a, const ac_env *req, ac_err code, const char *message,
    const char *field);

/* Publishes a telemetry event: data must be one msgpack map (the telemetry actor adds
 * ts_ms and seq). Events leave together, in order, in one message at the end of the
 * actor's batch (see ac_event_next). */
void ac_actor_publish(ac_actor *a, const char *topic, const ac_mpw *data);

/* Publishes an event already encoded as its topic string followed by its data map. */
void ac_actor_publish_encoded(ac_actor *a, const uint8_t *ev, size_t len);

/* An AC_MSG_TEL_EVENT body is one or more events, each a msgpack bin whose bytes are
 * the topic string followed by the data map. Steps to the next one from *off: true
 * with *ev and *ev_len set; false at the end of the body or at a malformed entry. */
bool ac_event_next(const uint8_t *body, size_t len, size_t *off, const uint8_t **ev,
    size_t *ev_len);

/* Deadline heap of this actor (monotonic ms). */
ac_err ac_actor_timer_add(ac_actor *a, int64_t deadline_ms, uint32_t kind, uint64_t tag,
    ac_timer_id *id_out);
bool ac_actor_timer_cancel(ac_actor *a, ac_timer_id id);

/* Polls sock (an nng socket this actor opened and owns) for messages in the same loop;
 * fn is called once per message. At most 4 watched sockets. */
ac_err ac_actor_watch(ac_actor *a, nng_socket sock, ac_watch_fn fn);

/* Scratch writer owned by the actor, reset on each call; valid until the next call. */
ac_mpw *ac_actor_scratch(ac_actor *a);

#endif
