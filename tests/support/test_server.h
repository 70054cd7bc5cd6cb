/* SPDX-License-Identifier: MIT
 * Test support: run a real agentcomd (path in $AGENTCOMD) on tcp port 0 with a
 * temporary data directory, wait for its ready line, connect clients, stop or kill it.
 */
#ifndef AC_TEST_SERVER_H
#define AC_TEST_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
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
	bool fast_fallback; /* started by ac_ts_start_agents: restarts keep it */
} ac_test_server;

/* Starts agentcomd with a new temp data dir and extra args (NULL-terminated, may be
 * NULL); waits up to 10 s for the ready line. Returns false (and logs why) on failure. */
bool ac_ts_start(ac_test_server *s, const char *const *extra);
/* As ac_ts_start for tests about agents rather than routing: standard tasks fall back
 * to claude at once (--set fallback_wait_ms=0) instead of waiting for an Ollama
 * endpoint; extra comes after, so it may set the key again. */
bool ac_ts_start_agents(ac_test_server *s, const char *const *extra);
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

/* --- helpers for the agent and lease tests --- */

/* Monotonic and wall-clock time in ms (the server stamps tasks with wall time). */
long long ac_ts_now_ms(void);
long long ac_ts_wall_ms(void);
/* A client connected to the server's API with another token. */
ac_client *ac_ts_client_with(const ac_test_server *s, const char *token);
/* task.submit with the given fields (a JSON object body without braces); asserts ok and
 * returns the new id. */
uint64_t ac_ts_submit(ac_client *c, const char *fields_fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* task.get; asserts ok. */
ac_reply *ac_ts_get(ac_client *c, uint64_t id);
/* Whether the task.get reply r has a history entry event (whose detail contains
 * detail, unless NULL). */
bool ac_ts_history_has(ac_reply *r, const char *event, const char *detail);
/* Polls task.get every 10 ms until the task has status, or timeout_ms passes. */
bool ac_ts_wait_status(ac_client *c, uint64_t id, const char *status, int timeout_ms);
/* Polls agent.list every 10 ms until agent_id has state, or timeout_ms passes. */
bool ac_ts_wait_agent_state(ac_client *c, const char *agent_id, const char *state, int timeout_ms);
/* Polls stats until the scheduler holds at least n fetches (routing.waiting_agents);
 * when the server does not report that count, waits 200 ms instead and returns true. */
bool ac_ts_wait_held_fetches(ac_client *c, uint64_t n, int timeout_ms);

/* Reply checks: ok (then frees r); an error with code and, unless NULL, field (then frees
 * r); a string at path; a number at path. what names the call in failure messages. */
void ac_ts_expect_ok(ac_reply *r, const char *what);
void ac_ts_expect_err(ac_reply *r, ac_err code, const char *field, const char *what);
void ac_ts_expect_str(ac_reply *r, const char *path, const char *want);
uint64_t ac_ts_u64(ac_reply *r, const char *path);
/* Whether a fetch-like reply carries a task. */
bool ac_ts_has_task(ac_reply *r);
/* agent.hello for agent with extra fields (",\"capabilities\":[...]" or ""); asserts ok. */
void ac_ts_hello(ac_client *c, const char *agent, const char *extra);
/* agent.fetch (asserts ok); ac_ts_fetch returns the task id (0: none) and its generation. */
ac_reply *ac_ts_fetch_reply(ac_client *c, const char *agent, int wait_ms, bool accept);
uint64_t ac_ts_fetch(ac_client *c, const char *agent, int wait_ms, bool accept, uint64_t *gen);
/* A fenced task op (task.accept/progress/complete/fail) with extra fields. */
ac_reply *ac_ts_fenced(ac_client *c, const char *op, const char *agent, uint64_t id, uint64_t gen,
    const char *extra);

/* One request run on its own thread (a long-poll held while the test goes on). The
 * client must not be used by anyone else until ac_ts_bg_join. */
typedef struct ac_ts_bg {
	pthread_t thread;
	ac_client *client;
	char json[4096];
	ac_reply *reply;
	ac_err err;
	long long started_ms, finished_ms;
} ac_ts_bg;
void ac_ts_bg_start(ac_ts_bg *bg, ac_client *c, const char *json_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Waits for the request; asserts transport success and returns the reply. */
ac_reply *ac_ts_bg_join(ac_ts_bg *bg);

/* Reads up to cap - 1 bytes of the file at path into buf, NUL-terminated ("" when it
 * cannot be opened). */
void ac_ts_read_file(const char *path, char *buf, size_t cap);

#endif
