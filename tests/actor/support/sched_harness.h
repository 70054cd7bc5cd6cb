/* SPDX-License-Identifier: MIT
 * The scheduler actor alone (src/scheduler/) with fake queue, gateway and telemetry
 * actors over inproc, for the actor suites of the scheduler: what the fakes saw (the
 * probe), body builders for task events, fetches and endpoint snapshots, waits on
 * conditions with a deadline, and barriers that prove absence without sleeping.
 * The probe is guarded by pr.sync: read it between lock() and unlock().
 */
#ifndef AC_TEST_SCHED_HARNESS_H
#define AC_TEST_SCHED_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "test_sync.h"
#include "codec/mpw.h"
#include "codec/msg.h"
#include "codec/task_wire.h"
#include "config.h"
#include "routing/complexity.h"
#include "rt/actor.h"
#include "scheduler/scheduler.h"

#define WAIT_MS 20000 /* deadline for conditions that must come true */
#define MAX_SEEN 64

/* ---- what the fakes saw ---- */

typedef struct assign_rec {
	uint64_t corr_id;
	uint32_t pipe_id;
	uint64_t task_id, generation;
	char agent[129];
	char tier[16], target[16], endpoint[32], model[64], cost[16], reason[160];
	char from_tier[16], fallback_reason[64];
	bool endpoint_set, model_set, fallback_used, decision_ok;
	uint64_t candidate_count;
	int64_t at_wall_ms;
} assign_rec;

typedef struct reply_rec {
	uint64_t corr_id;
	bool ok, has_task;
	char code[32];
	int64_t at_mono_ms;
} reply_rec;

typedef struct probe {
	ac_tsync sync;             /* guards the rest; sync.bad: first failed check on an actor thread */
	assign_rec assigns[MAX_SEEN];
	size_t assign_count;
	reply_rec replies[MAX_SEEN];
	size_t reply_count;
	unsigned reject_left;      /* the fake queue refuses this many proposals */
	ac_env last_env;           /* the last ASSIGN as received, to refuse it later */
	uint8_t last_body[4096];
	size_t last_len;
	uint64_t matches;          /* scheduler.match events seen by the fake telemetry */
	uint64_t unavailable;      /* replies with error code "unavailable" */
	uint8_t stats[8192];       /* the last stats sections the scheduler passed on */
	size_t stats_len;
	uint64_t stats_seen;       /* how many stats requests reached the fake gateway */
} probe;

extern probe pr;
extern ac_rt *rt;
extern ac_config cfg;         /* the scheduler's; change it between stop and start */
extern ac_scheduler *sched;

void lock(void);
void unlock(void);
/* Waits until pred(arg) holds (true, lock held) or the deadline passes (false, lock
 * held). Call unlock() afterwards. */
bool wait_until(bool (*pred)(const void *arg), const void *arg, int64_t timeout_ms);

/* Criterion .init/.fini: the fakes and a scheduler with default config. */
void sched_setup(void);
void sched_teardown(void);
/* Fails the test when a fake saw something wrong (Criterion ignores .fini failures). */
void expect_no_bad(void);

/* ---- sending to the scheduler ---- */

void send_to_sched(uint16_t type, uint64_t corr_id, uint32_t pipe_id, const ac_mpw *w);

typedef struct fetch {
	const char *agent;
	uint64_t corr_id;
	uint32_t pipe_id;
	uint64_t wait_ms;
	const char *const *caps;    /* NULL-terminated, NULL = none */
	const char *const *targets; /* NULL = all */
	const char *endpoint;       /* the endpoint its ollama_url names, NULL = none */
} fetch;
void send_fetch(fetch f);

typedef struct task_ev {
	uint64_t id;
	uint64_t generation;
	ac_priority priority;
	int64_t enqueued_at_ms;
	int64_t not_before_ms;
	ac_tier tier;
	const char *const *caps;
	const char *const *targets;
	const char *model;
	const char *avoid;
	bool removed;
} task_ev;
/* One AC_MSG_TASK_EVENTS message with evs[0..n). */
void send_tasks(const task_ev *evs, size_t n);
void send_task(task_ev e);
void send_agent_gone(const char *agent);

/* An endpoint of a snapshot: healthy with models (NULL-terminated), or not. */
typedef struct endpoint_spec {
	const char *id;                   /* "host:port" */
	bool is_healthy;
	const char *const *models;
	double cpu_percent;               /* < 0: unknown */
} endpoint_spec;
/* A registry snapshot with eps[0..n) in registration order, as the registry answers
 * AC_MSG_ENDPOINT_SNAPSHOT_REQ; waits until the scheduler applied it. */
void send_snapshot(const endpoint_spec *eps, size_t n);

/* ---- waiting ---- */

bool assigns_at_least(const void *arg);
bool has_reply(const void *arg);
bool has_assign_of(const void *arg);
bool matches_at_least(const void *arg);
bool unavailable_at_least(const void *arg);
/* Waits for n assignments in all; returns a copy of the n-th. */
assign_rec wait_assign(size_t n);
reply_rec wait_reply(uint64_t corr_id);
size_t assign_count(void);
bool replied(uint64_t corr_id);
/* Barrier on the scheduler -> queue channel: once it returns, every earlier proposal
 * has reached the fake queue. */
void barrier_queue(void);
/* Barrier on the scheduler -> gateway channel. */
void barrier_gateway(void);
/* How many assignments are not barrier ones. */
size_t real_assigns(void);

/* The scheduler's routing stats now: routing.<key>, or routing.<key>.<sub> when sub is
 * not NULL (e.g. "by_tier", "trivial"). Asks through AC_MSG_STATS_COLLECT, which also
 * orders after every message sent to the scheduler before. Barrier proposals count. */
uint64_t routing_stat(const char *key, const char *sub);

#endif
