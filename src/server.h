/* SPDX-License-Identifier: MIT
 * One agentcomd instance: starts the actors in dependency order and stops them in
 * reverse. main.c and the in-process tests use it; it owns nothing else.
 */
#ifndef AC_SERVER_H
#define AC_SERVER_H

#include "agentcom/errors.h"
#include "config.h"

typedef struct ac_server ac_server;

/* Starts every actor and binds every socket (cfg is borrowed and must outlive the
 * server; its data_dir must exist). On success the server serves requests.
 * Errors are logged and returned; nothing is left running. Main thread. */
ac_err ac_server_start(const ac_config *cfg, ac_server **out);

/* Listen URLs (comma-separated) and the telemetry URL, ports resolved. Borrowed. */
const char *ac_server_api_urls(const ac_server *s);
const char *ac_server_pub_url(const ac_server *s);

/* Stops accepting work, answers held requests `unavailable`, stops every actor and
 * frees the server. NULL is a no-op. Main thread. */
void ac_server_stop(ac_server *s);

#endif
