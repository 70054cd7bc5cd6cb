/* SPDX-License-Identifier: MIT
 * Internal actor messages: the message ids and the fixed envelope that precedes every
 * msgpack body on the inproc sockets. Defined once here; the runtime reads and writes
 * the envelope, handlers see only typed bodies.
 */
#ifndef AC_CODEC_MSG_H
#define AC_CODEC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "agentcom/errors.h"

/* Actors of one server instance. */
typedef enum ac_actor_id {
	AC_ACTOR_GATEWAY,
	AC_ACTOR_QUEUE,
	AC_ACTOR_REGISTRY,
	AC_ACTOR_SCHEDULER,
	AC_ACTOR_TELEMETRY,
	AC_ACTOR_COUNT
} ac_actor_id;

/* Every message id. External ops (AC_MSG_OP_*) are listed in the op table of
 * codec/ops.c, which maps their wire names to these ids. */
typedef enum ac_msg_type {
	AC_MSG_NONE = 0,
	AC_MSG_STOP,               /* runtime: leave the loop */

	/* external ops (proto/ops.md), in the order of DESIGN §4 */
	AC_MSG_OP_PING,
	AC_MSG_OP_STATS,
	AC_MSG_OP_TOKEN_CREATE,
	AC_MSG_OP_TOKEN_LIST,
	AC_MSG_OP_TOKEN_REVOKE,
	AC_MSG_OP_TASK_SUBMIT,
	AC_MSG_OP_TASK_SUBMIT_BATCH,
	AC_MSG_OP_TASK_GET,
	AC_MSG_OP_TASK_LIST,
	AC_MSG_OP_TASK_CANCEL,
	AC_MSG_OP_TASK_RETRY,
	AC_MSG_OP_ROUTE_EXPLAIN,
	AC_MSG_OP_AGENT_LIST,
	AC_MSG_OP_ENDPOINT_REGISTER,
	AC_MSG_OP_ENDPOINT_REMOVE,
	AC_MSG_OP_ENDPOINT_LIST,
	AC_MSG_OP_AGENT_HELLO,
	AC_MSG_OP_AGENT_HEARTBEAT,
	AC_MSG_OP_AGENT_FETCH,
	AC_MSG_OP_TASK_ACCEPT,
	AC_MSG_OP_TASK_PROGRESS,
	AC_MSG_OP_TASK_COMPLETE,
	AC_MSG_OP_TASK_FAIL,
	AC_MSG_OP_AGENT_BYE,

	/* to the gateway */
	AC_MSG_GW_REPLY,           /* body: the complete external reply map */

	/* to the telemetry actor */
	AC_MSG_TEL_EVENT,          /* body: events, each a bin of topic + data (ac_event_next) */
	AC_MSG_TEL_COUNT,          /* body: {name, delta} counter increment */
	AC_MSG_STATS_COLLECT,      /* stats request on its way: body {section: map, ...} */

	/* from the gateway to the registry, and on to the scheduler */
	AC_MSG_PIPE_CLOSED,        /* env.pipe_id names the connection that closed */

	/* agents and assignment (codec/agent_wire.h has the bodies) */
	AC_MSG_FETCH,              /* registry -> scheduler: a fetch with the agent's profile */
	AC_MSG_ASSIGN,             /* scheduler -> queue: proposal, env = the fetch's */
	AC_MSG_ASSIGN_REJECTED,    /* queue -> scheduler: proposal refused, env = the fetch's */
	AC_MSG_TASK_EVENTS,        /* queue -> scheduler: tasks queued / removed */
	AC_MSG_AGENT_NOTES,        /* queue -> registry: agents seen, their task state */
	AC_MSG_AGENT_GONE,         /* registry -> queue, scheduler: offline or bye; with a
				    * reply handle (bye) the scheduler answers it */
	AC_MSG_AGENT_CHANGED,      /* registry -> scheduler: hello changed the profile: drop
				    * the cached fetch, pass the hello on to the queue */
	AC_MSG_HELLO_FWD,          /* registry -> queue: answer hello with its tasks */
	AC_MSG_HEARTBEAT_FWD,      /* registry -> queue: extend leases, answer aborts */
	AC_MSG_TASK_PENDING,       /* scheduler -> queue: why a queued task waits ({id, reason}) */
	AC_MSG_FETCH_HELD,         /* scheduler -> queue: an early fetch waits for a task */
	AC_MSG_EARLY_ANSWER,       /* any actor -> queue: the reply to an early fetch (body:
				    * the reply map), env = the fetch's (rt/actor_msg.c) */

	/* endpoints (codec/endpoint_wire.h) */
	AC_MSG_PROBE_RESULT,       /* prober (nng callback) -> registry */
	AC_MSG_ENDPOINT_SNAPSHOT_REQ, /* scheduler -> registry: send me every endpoint */
	AC_MSG_ENDPOINT_SNAPSHOT,  /* registry -> scheduler (lossless): ac_endpoint_event */
	AC_MSG_ENDPOINT_LOAD,      /* scheduler -> registry: in-flight counts that changed */

	AC_MSG_COUNT
} ac_msg_type;

#define AC_MSG_OP_FIRST AC_MSG_OP_PING
#define AC_MSG_OP_LAST AC_MSG_OP_AGENT_BYE

/* Roles a token can have (bit values, so an op can allow several). */
typedef enum ac_role {
	AC_ROLE_NONE = 0,
	AC_ROLE_ADMIN = 1,
	AC_ROLE_CLIENT = 2,
	AC_ROLE_AGENT = 4,
} ac_role;

/* The fixed envelope in front of every internal message body. Native byte order:
 * internal messages never leave the process. */
typedef struct ac_env {
	uint8_t type;     /* ac_msg_type */
	uint8_t flags;    /* AC_ENV_* */
	uint8_t role;     /* requester's role for AC_MSG_OP_* (ac_role) */
	uint8_t inflight; /* client requests on their way to this actor when it was sent,
			   * this one included (ac_rt_request_sent); 0 for actor messages */
	uint32_t pipe_id; /* requester's nng pipe, 0 when none */
	uint64_t corr_id; /* gateway reply handle; 0 when no reply is expected */
} ac_env;

_Static_assert(AC_MSG_COUNT <= 256, "ac_env.type is one byte");
_Static_assert(sizeof(ac_env) == 16, "ac_env stays 16 bytes");

/* A fetch the queue sent on for a task.complete whose commit is still pending (an
 * "early fetch"): whatever answers it must not reach the agent before that commit, so
 * the runtime sends any other actor's reply to it through the queue
 * (AC_MSG_EARLY_ANSWER) and the queue holds a delivery for it until the commit. Kept
 * by every hop. */
#define AC_ENV_AFTER_COMMIT 1u

/* Allocates an nng_msg holding env followed by body[0..len). Caller owns the message;
 * AC_ENOMEM on failure. Any thread. */
ac_err ac_msg_alloc(nng_msg **out, const ac_env *env, const void *body, size_t len);

/* Reads the envelope of m into env and points body at the rest (borrowed from m).
 * AC_EPROTO when m is shorter than an envelope. */
ac_err ac_msg_parse(nng_msg *m, ac_env *env, const uint8_t **body, size_t *len);

#endif
