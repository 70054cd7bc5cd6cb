/* SPDX-License-Identifier: MIT
 * URL helpers for listeners: report the address a listener really bound.
 */
#ifndef AC_RT_URL_H
#define AC_RT_URL_H

#include <stddef.h>

/* Writes url into out (cap bytes) with the port of its authority replaced by port,
 * e.g. ("tcp://127.0.0.1:0", 40123) -> "tcp://127.0.0.1:40123", keeping any path.
 * A URL without a port (ipc://, inproc://) is copied unchanged. Returns out. */
char *ac_url_with_port(const char *url, int port, char *out, size_t cap);

#endif
