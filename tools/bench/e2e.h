/* SPDX-License-Identifier: MIT
 * State shared by the e2e mode's submitter and agent threads (e2e.c, e2e_agent.c):
 * claim counters, completion counts, the pacing schedule and the first-submit and
 * last-complete instants that bound the measured interval.
 */
#ifndef AGENTCOM_BENCH_E2E_H
#define AGENTCOM_BENCH_E2E_H

#include "bench.h"

typedef struct e2e_run {
	const bench_opts *o;
	bool fast;                /* submit_batch + complete-with-fetch + accept:true */
	long long chunk;          /* tasks per submit request */
	_Atomic long long next;   /* next task number a submitter claims */
	uint64_t run_id;          /* metadata.run of this run's tasks */
	_Atomic long long submitted, delivered, completed, empty_fetches;
	_Atomic long long foreign; /* tasks of earlier runs or others, completed, not counted */
	_Atomic long long ready_agents; /* agents past agent.hello (or given up) */
	_Atomic uint64_t first_submit_ns, last_submit_ns, last_complete_ns;
	_Atomic uint64_t max_lag_ns; /* paced: how far a send fell behind its schedule */
	uint64_t start_ns;           /* paced: task k is due at start_ns + k / rate */
	bench_errs errs;
} e2e_run;

/* One submitter or agent: lat is submit->delivery (agents) or per request
 * (submitters). */
typedef struct e2e_thread {
	e2e_run *run;
	long long index;
	bench_hist lat;
} e2e_thread;

/* True once every task is completed or the run's deadline has passed. */
bool e2e_done(e2e_run *run);
void *e2e_agent_thread(void *arg);

#endif
