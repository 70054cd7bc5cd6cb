/* SPDX-License-Identifier: MIT
 * The telemetry actor: owns the external PUB socket (--pub), stamps every event with
 * ts_ms and a gapless seq, keeps the event counters, and answers ping and stats.
 */
#ifndef AC_TELEMETRY_TELEMETRY_H
#define AC_TELEMETRY_TELEMETRY_H

#include <stddef.h>

#include "agentcom/errors.h"
#include "config.h"
#include "rt/actor.h"

typedef struct ac_telemetry ac_telemetry;

/* Binds cfg->pub_url and starts the actor; bound gets the URL with an ephemeral port
 * resolved. AC_EADDRINVAL / AC_EIO when the bind fails (logged). Main thread. */
ac_err ac_telemetry_start(ac_rt *rt, const ac_config *cfg, ac_telemetry **out, char *bound,
    size_t cap);

/* Stops the actor (publishing what it already received) and closes the socket.
 * NULL is a no-op. Main thread. */
void ac_telemetry_stop(ac_telemetry *t);

#endif
