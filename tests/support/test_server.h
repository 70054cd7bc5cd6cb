/* SPDX-License-Identifier: MIT
 * Test support: run a real agentcomd (path in $AGENTCOMD) on tcp port 0 with a
 * temporary data directory, wait for its ready line, connect clients, stop or kill it.
 */
#ifndef AC_TEST_SERVER_H
#define AC_TEST_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "agentcom/client.h"

typedef struct ac_test_server {
	pid_t pid;
	char dir[256];      /* data directory (kept across restarts) */
	char api[256];      /* first listen URL from the ready line */
	char pub[256];
	char token[128];    /* admin token ("" with --insecure) */
	char ready[1024];   /* the whole ready line */
	char log_path[300]; /* stderr of the server */
} ac_test_server;

/* Starts agentcomd with a new temp data dir and extra args (NULL-terminated, may be
 * NULL); waits up to 10 s for the ready line. Returns false (and logs why) on failure. */
bool ac_ts_start(ac_test_server *s, const char *const *extra);
/* Starts again on the same data dir (after stop or kill). */
bool ac_ts_restart(ac_test_server *s, const char *const *extra);
/* SIGTERM, then waits (up to 10 s); returns the exit status, or -1 if it had to be killed. */
int ac_ts_stop(ac_test_server *s);
/* SIGKILL and reap. */
void ac_ts_kill(ac_test_server *s);
/* Stops if running and removes the data dir. */
void ac_ts_cleanup(ac_test_server *s);
/* A client connected to the server's API with the admin token. */
ac_client *ac_ts_client(const ac_test_server *s);
/* Sends a JSON request and returns the reply (asserting transport success). */
ac_reply *ac_ts_call(ac_client *c, const char *json_fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
