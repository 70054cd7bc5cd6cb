/* SPDX-License-Identifier: MIT
 * libagentcom: telemetry subscription (proto/topics.md). Every state change agentcomd
 * makes is published on its PUB socket as `topic NUL msgpack-map`, the map carrying
 * ts_ms and a gapless per-server seq. A subscriber receives the topics it asked for
 * by prefix; PUB/SUB drops what a slow reader does not take, which the seq shows.
 * A subscriber is one nng SUB socket; use it from one thread at a time.
 */
#ifndef AGENTCOM_SUB_H
#define AGENTCOM_SUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"

typedef struct ac_sub ac_sub;

/* One event, borrowed from its subscriber until the next ac_sub_recv or ac_sub_close. */
typedef struct ac_event {
	const char *topic;   /* NUL-terminated, e.g. "task.completed" */
	const uint8_t *data; /* the msgpack map, len bytes (ac_msgpack_to_json prints it) */
	size_t len;
	uint64_t seq;        /* per server, gapless as published */
	int64_t ts_ms;       /* wall clock of the server when it was published */
} ac_event;

/* Opens a subscriber to url (NULL: AC_DEFAULT_PUB_URL of agentcom/client.h) for the
 * topics starting with any of the NULL-terminated prefixes (NULL or none: every
 * topic). Connects in the background and again after a server restart, so it may be
 * opened before the server is up; events published before the connection are not
 * seen. AC_EADDRINVAL for a malformed URL, AC_ENOMEM. Close with ac_sub_close. */
ac_err ac_sub_open(ac_sub **out, const char *url, const char *const *prefixes);

/* True while the subscriber has a connection to the server (events published while
 * it has none are not seen). Any thread. */
bool ac_sub_is_connected(const ac_sub *s);

/* Closes the socket and frees s; NULL is a no-op. With Debian's nng 1.5.2 this now
 * and then never returns while the server is still up (nng #1543: seen in about 3 %
 * of closes in this project's tests, never once the server had stopped). A program
 * about to exit can simply exit instead. */
void ac_sub_close(ac_sub *s);

/* Waits up to timeout_ms (< 0: without end) for the next event. AC_OK fills *ev;
 * AC_ETIMEDOUT; AC_ECLOSED. Frames that are not `topic NUL map` with ts_ms and seq
 * are skipped and counted (ac_sub_bad_frames). */
ac_err ac_sub_recv(ac_sub *s, int timeout_ms, ac_event *ev);

/* Events missed so far: the gaps in seq between consecutive events received (a
 * restart of the server, whose seq starts over, counts as none). */
uint64_t ac_sub_missed(const ac_sub *s);

/* Frames skipped because they were not events. */
uint64_t ac_sub_bad_frames(const ac_sub *s);

#endif
