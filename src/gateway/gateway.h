/* SPDX-License-Identifier: MIT
 * The gateway: the external REP sockets, a growing pool of nng_ctx workers, envelope
 * decoding, authentication and dispatch to the owning actor, and delivery of replies
 * that may come much later (long-polls). Holds no domain state; tokens are its own.
 */
#ifndef AC_GATEWAY_GATEWAY_H
#define AC_GATEWAY_GATEWAY_H

#include <stddef.h>

#include "agentcom/errors.h"
#include "config.h"
#include "rt/actor.h"

typedef struct ac_gateway ac_gateway;

/* Opens the token table, binds every cfg->listen URL and starts the gateway actor.
 * bound gets the listen URLs with ephemeral ports resolved, comma-separated.
 * Errors: AC_EADDRINVAL / AC_EIO (bind failed, logged with the URL), AC_ENOMEM.
 * cfg is borrowed and must outlive the gateway. Main thread only. */
ac_err ac_gateway_start(ac_rt *rt, const ac_config *cfg, ac_gateway **out, char *bound,
    size_t cap);

/* Makes the registry receive AC_MSG_PIPE_CLOSED for every client connection that
 * closes (call before traffic starts). */
void ac_gateway_forward_pipe_events(ac_gateway *gw);

/* From now on new requests are answered `unavailable`; replies to requests already
 * forwarded are still delivered. Main thread, before the actors stop. */
void ac_gateway_quiesce(ac_gateway *gw);

/* Stops the actor (delivering the replies it already has), then stops every worker
 * and closes the sockets. NULL is a no-op. Main thread. */
void ac_gateway_stop(ac_gateway *gw);

#endif
