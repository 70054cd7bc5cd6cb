/* SPDX-License-Identifier: MIT
 * The e2e mode's agent threads: each its own ac_client, agent.hello as "bench-<i>",
 * then plain (fetch -> accept -> complete) or fast (complete + fetch_wait_ms +
 * accept:true, one round trip per task). Records submit -> delivery latency from the
 * task's metadata.t0 (CLOCK_MONOTONIC ns of the submitter, same machine).
 */
#include <stdio.h>

#include "e2e.h"

#define RETRIES 3

typedef struct agent_ctx {
	e2e_thread *t;
	e2e_run *run;
	const bench_opts *o;
	ac_client *c;
	bench_pk p;
	char id[32];
	uint64_t last_done; /* id of the task this agent completed last, 0 none */
} agent_ctx;

#define MAX_REFUSALS_LOGGED 5
static _Atomic int refusals_logged;

typedef struct job {
	bool has;
	bool is_mine; /* carries this run's metadata.run */
	uint64_t id, generation;
} job;

bool
e2e_done(e2e_run *run)
{
	return atomic_load(&run->completed) >= run->o->tasks || bench_expired();
}

/* Starts an agent op: op, token, agent_id, then `more` pairs. */
static void
begin(agent_ctx *a, const char *op, uint32_t more)
{
	bench_pk_begin(&a->p, a->o, op, 1 + more);
	bench_pk_kstr(&a->p, "agent_id", a->id);
}

static void
put_ref(agent_ctx *a, const job *j)
{
	bench_pk_ku64(&a->p, "id", j->id);
	bench_pk_ku64(&a->p, "generation", j->generation);
}

/* Takes r's task (if any) into *j and records its delivery latency. A task of
 * another run is done like ours but not counted. */
static void
take(agent_ctx *a, const ac_reply *r, job *j)
{
	uint64_t now = bench_now_ns(), t0, run_id = 0;

	j->has = ac_reply_u64(r, "task.id", &j->id) &&
	    ac_reply_u64(r, "task.generation", &j->generation);
	if (!j->has) {
		atomic_fetch_add(&a->run->empty_fetches, 1);
		return;
	}
	j->is_mine = ac_reply_u64(r, "task.metadata.run", &run_id) && run_id == a->run->run_id;
	if (!j->is_mine) {
		atomic_fetch_add(&a->run->foreign, 1);
		return;
	}
	atomic_fetch_add(&a->run->delivered, 1);
	if (ac_reply_u64(r, "task.metadata.t0", &t0) && now >= t0) {
		bench_hist_add(&a->t->lat, now - t0);
	}
}

/* A fenced op repeated on a lost reply (the server makes repeats safe). */
static ac_err
call_retry(agent_ctx *a, int extra_ms, const char *what, ac_reply **r)
{
	ac_err err = AC_ETIMEDOUT;

	for (int i = 0; i < RETRIES && !bench_expired(); i++) {
		err = bench_call(a->c, &a->p, extra_ms, &a->run->errs, what, r);
		if (err == AC_OK || err == AC_EPROTO) { /* a reply, ok or not: no retry */
			break;
		}
	}
	return err;
}

static void
mark_complete(agent_ctx *a, const job *j, uint64_t at_ns)
{
	a->last_done = j->id;
	if (j->is_mine) {
		atomic_fetch_add(&a->run->completed, 1);
		bench_atomic_max(&a->run->last_complete_ns, at_ns);
	}
}

static void
fetch(agent_ctx *a, bool accept, job *j)
{
	ac_reply *r;

	begin(a, "agent.fetch", accept ? 2 : 1);
	bench_pk_ku64(&a->p, "wait_ms", (uint64_t)a->o->wait_ms);
	if (accept) {
		bench_pk_ktrue(&a->p, "accept");
	}
	j->has = false;
	switch (bench_call(a->c, &a->p, (int)a->o->wait_ms, &a->run->errs, "agent.fetch", &r)) {
	case AC_OK:
		take(a, r, j);
		ac_reply_free(r);
		break;
	case AC_EPROTO: /* refused: say what the agent last did, to tell races apart */
		if (atomic_fetch_add(&refusals_logged, 1) < MAX_REFUSALS_LOGGED) {
			fprintf(stderr, "agentcom-bench: %s: agent.fetch refused; the last task it "
			    "completed (ok reply received) was %llu\n", a->id,
			    (unsigned long long)a->last_done);
		}
		break;
	default:
		break;
	}
}

static void
plain_step(agent_ctx *a)
{
	job j;
	ac_reply *r;

	fetch(a, false, &j);
	if (!j.has) {
		return;
	}
	begin(a, "task.accept", 2);
	put_ref(a, &j);
	if (call_retry(a, 0, "task.accept", &r) == AC_OK) {
		ac_reply_free(r);
	}
	begin(a, "task.complete", 2);
	put_ref(a, &j);
	if (call_retry(a, 0, "task.complete", &r) == AC_OK) {
		mark_complete(a, &j, bench_now_ns());
		ac_reply_free(r);
	}
}

/* Completes *j and, while tasks remain undelivered, asks for the next in the same
 * round trip (accepted at once); *j becomes that next task or none. The server
 * replies to such a complete only when a task comes or fetch_wait_ms ends, so an
 * empty reply counts the completion at the send time (the commit came before). */
static void
fast_step(agent_ctx *a, job *j)
{
	bool is_last = atomic_load(&a->run->delivered) >= a->o->tasks;
	job done = *j;
	uint64_t sent;
	ac_reply *r;

	if (!j->has) {
		fetch(a, true, j);
		return;
	}
	begin(a, "task.complete", is_last ? 2 : 4);
	put_ref(a, j);
	if (!is_last) {
		bench_pk_ku64(&a->p, "fetch_wait_ms", (uint64_t)a->o->wait_ms);
		bench_pk_ktrue(&a->p, "accept");
	}
	j->has = false;
	sent = bench_now_ns();
	if (call_retry(a, is_last ? 0 : (int)a->o->wait_ms, "task.complete", &r) == AC_OK) {
		if (!is_last) {
			take(a, r, j);
		}
		mark_complete(a, &done, is_last || j->has ? bench_now_ns() : sent);
		ac_reply_free(r);
	}
}

static bool
hello(agent_ctx *a)
{
	ac_reply *r = NULL;

	begin(a, "agent.hello", 0);
	while (!bench_expired()) {
		ac_err err = bench_call(a->c, &a->p, 0, &a->run->errs, "agent.hello", &r);
		if (err == AC_OK) {
			ac_reply_free(r);
			return true;
		}
		if (err == AC_EPROTO) {
			return false; /* refused: retrying will not help */
		}
	}
	return false;
}

void *
e2e_agent_thread(void *arg)
{
	agent_ctx a = { .t = arg };
	job j = { .has = false };
	ac_reply *r;

	a.run = a.t->run;
	a.o = a.run->o;
	snprintf(a.id, sizeof(a.id), "bench-%lld", a.t->index);
	bench_pk_init(&a.p);
	a.c = bench_open(a.o);
	if (a.c == NULL || !hello(&a)) {
		atomic_fetch_add(&a.run->ready_agents, 1);
		goto out;
	}
	atomic_fetch_add(&a.run->ready_agents, 1);
	while (!e2e_done(a.run)) {
		if (a.run->fast) {
			fast_step(&a, &j);
		} else {
			plain_step(&a);
		}
	}
	begin(&a, "agent.bye", 0);
	if (bench_call(a.c, &a.p, 0, &a.run->errs, "agent.bye", &r) == AC_OK) {
		ac_reply_free(r);
	}
out:
	ac_client_close(a.c);
	bench_pk_fini(&a.p);
	return NULL;
}
