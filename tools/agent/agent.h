/* SPDX-License-Identifier: MIT
 * agentcom-agent, the reference agent (DESIGN §1, §4 agent ops), shared between its
 * files: args.c (command line), rpc.c (the agent ops on the wire), child.c (one command
 * per task), spawn.c (how processes start), report.c (event log, result and error
 * text), agent.c (loop and signals), and resources.c (the host's CPU, RAM and VRAM
 * for heartbeats; declared in resources.h).
 * Everything runs on main's thread except agent.c's signal watcher, which shares only
 * the stop flag and the write end of the wake pipe.
 */
#ifndef AC_TOOLS_AGENT_H
#define AC_TOOLS_AGENT_H

#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/client.h"
#include "codec/mpw.h"
#include "resources.h"

#define AC_AGENT_MAX_CAPS 64
#define AC_AGENT_MAX_TARGETS 3
#define AC_AGENT_OUT_CAP ((size_t)1024 * 1024) /* stdout kept per task */
#define AC_AGENT_ERR_TAIL 4096                 /* stderr bytes kept (the last ones) */
#define AC_AGENT_ERROR_MAX 4096                /* task.fail error, as last_error allows */

/* Exit statuses of the process. */
enum {
	AC_AGENT_EXIT_OK = 0,    /* stopped by a signal, or --once done */
	AC_AGENT_EXIT_FATAL = 1, /* the server refused us (auth, unknown op, bad hello) */
	AC_AGENT_EXIT_USAGE = 2,
};

/* The command line; strings borrow argv. */
typedef struct ac_agent_cfg {
	const char *url, *token, *id, *name, *ollama_url, *exec;
	const char *caps[AC_AGENT_MAX_CAPS];
	size_t cap_count;
	const char *targets[AC_AGENT_MAX_TARGETS];
	size_t target_count;
	int wait_ms;
	bool is_once, is_json_log, is_help;
} ac_agent_cfg;

typedef struct ac_agent {
	ac_agent_cfg cfg;
	ac_client *client;   /* owned */
	int wake_fd;         /* read end of the wake pipe: readable once a stop signal came */
	int heartbeat_ms;    /* from agent.hello */
	int lease_ms;
	bool is_reporting;   /* --ollama-url: heartbeats report the host's resources */
	ac_agent_sampler sampler;  /* started when is_reporting */
	int64_t resources_due_ms;  /* monotonic: the next heartbeat to report them */
	ac_mpw unsent;       /* the plain task.complete/fail not yet answered (len 0: none) */
	char why[256];       /* what the last failed call said (error reply or transport) */
	char why_field[64];  /* error.field of the last error reply, "" when none */
} ac_agent;

/* One task to run, copied out of a reply. */
typedef struct ac_job {
	uint64_t id, generation;
	char *status;      /* owned; "assigned", "working", ... */
	char *description; /* owned */
	char *target;      /* owned; routing_decision.target_type, "" when absent */
	char *model;       /* owned; routing_decision.selected_model, "" when absent */
	char *json;        /* owned; the whole task map as compact JSON */
} ac_job;

/* What running the command produced. */
typedef struct ac_run {
	char *out;         /* owned; stdout, at most AC_AGENT_OUT_CAP bytes */
	size_t out_len;
	bool is_out_truncated;
	char err[AC_AGENT_ERR_TAIL]; /* the last err_len bytes of stderr */
	size_t err_len;
	int wait_status;   /* as waitpid */
	int64_t elapsed_ms;
	bool is_aborted;   /* the server told us to stop: not reported */
	bool is_stopped;   /* a stop signal: not reported */
} ac_run;

/* --- agent.c --- */

/* True once SIGTERM or SIGINT arrived. Any thread. */
bool ac_agent_is_stopping(void);

/* Waits ms, or less when a stop signal arrives. */
void ac_agent_pause(const ac_agent *ag, int ms);

/* --- spawn.c --- */

/* Fills at (destroy with posix_spawnattr_destroy) so the new process gets an empty
 * signal mask, default SIGPIPE, SIGTERM and SIGINT, and a process group of its own. */
void ac_agent_spawnattr_init(posix_spawnattr_t *at);

/* --- args.c --- */

/* Parses argv into cfg (zeroed by the caller), with defaults from the environment.
 * Returns AC_AGENT_EXIT_OK or AC_AGENT_EXIT_USAGE after saying why on stderr; with
 * --help prints the usage on stdout and sets cfg->is_help. Borrows argv. */
int ac_agent_parse_args(ac_agent_cfg *cfg, int argc, char **argv);

/* --- rpc.c: each returns AC_OK for an ok reply; an error reply's code (message in
 * ag->why); or a transport error (AC_ETIMEDOUT, AC_EUNAVAIL, AC_ECLOSED once a stop
 * signal closed the socket). On AC_OK a *reply given is the caller's (ac_reply_free). */

ac_err ac_agent_hello(ac_agent *ag, ac_reply **reply);
/* Long-polls with accept: true; *has_job tells whether a task came (then *job is set). */
ac_err ac_agent_fetch(ac_agent *ag, ac_job *job, bool *has_job);
/* *is_aborted: the server named job (may be NULL: none) in its abort list. With
 * ag->is_reporting and ag->resources_due_ms passed, samples the host first (blocking up to
 * the sampler's GPU timeout), reports it and sets the next due time a heartbeat later. */
ac_err ac_agent_heartbeat(ac_agent *ag, const ac_job *job, bool *is_aborted);
ac_err ac_agent_progress(ac_agent *ag, const ac_job *job, const char *msg, bool *is_aborted);
ac_err ac_agent_accept(ac_agent *ag, const ac_job *job);
ac_err ac_agent_bye(ac_agent *ag);
/* Puts the plain task.complete (result: one msgpack value) or task.fail into
 * ag->unsent, to be sent by ac_agent_send_unsent. */
void ac_agent_build_complete(ac_agent *ag, const ac_job *job, const ac_mpw *result);
void ac_agent_build_fail(ac_agent *ag, const ac_job *job, const char *error);
/* Sends ag->unsent (kept: the caller resets it once it is answered). With want_next
 * (a complete only) it asks for the next task in the same call; *has_next then tells
 * whether one came. */
ac_err ac_agent_send_unsent(ac_agent *ag, bool want_next, ac_job *next, bool *has_next);
/* Copies the task map at path ("task", "tasks[0]") of r into *job. AC_ENOTFOUND when
 * there is none, AC_EPROTO when it has no id/generation, AC_ENOMEM. */
ac_err ac_agent_job_from(const ac_reply *r, const char *path, ac_job *job);
void ac_agent_job_fini(ac_job *job);
/* Whether err is a transport error or "unavailable": worth retrying after a pause. */
bool ac_agent_is_transient(ac_err err);
/* Whether the last call failed because the server does not know us (any more): a
 * conflict on agent_id, answered by saying agent.hello again. */
bool ac_agent_is_unknown(const ac_agent *ag, ac_err err);

/* --- child.c --- */

/* Runs ag->cfg.exec for job under /bin/sh -c, heartbeating while it runs. Fills *run
 * (free with ac_agent_run_fini). AC_OK once the child is reaped; AC_EIO when it could
 * not be started (ag->why says why); AC_ENOMEM. */
ac_err ac_agent_run(ac_agent *ag, const ac_job *job, ac_run *run);
void ac_agent_run_fini(ac_run *run);

/* --- report.c --- */

/* Logs one event line on stderr: "agent=ID [task=N gen=G ]<text>", or a JSON object
 * with --json-log. job may be NULL. */
void ac_agent_log(const ac_agent *ag, const ac_job *job, const char *event, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* Writes the task result for stdout out[0..len) into w: the parsed object when out is a
 * JSON object (unless is_text), else {"output": text} (invalid UTF-8 replaced, cut to
 * fit the 1 MiB result limit, with "truncated": true when cut or is_truncated). */
void ac_agent_build_result(const char *out, size_t len, bool is_truncated, bool is_text,
    ac_mpw *w);

/* The task.fail error for run: "exit N: <stderr tail>" or "signal N: <tail>", valid
 * UTF-8, at most AC_AGENT_ERROR_MAX bytes. Writes into buf (cap > 0). */
void ac_agent_format_error(const ac_run *run, char *buf, size_t cap);

/* Copies in[0..len) into out (cap > len), replacing each byte that does not start a
 * valid UTF-8 sequence with '?'; NUL-terminates. Returns the bytes written. */
size_t ac_agent_utf8_clean(const char *in, size_t len, char *out);

#endif
