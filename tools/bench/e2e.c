/* SPDX-License-Identifier: MIT
 * agentcom-bench e2e: S submitter and A agent threads against one server. Closed loop
 * by default; with --rate the submitters follow an absolute schedule (task k due at
 * start + k/R). --preload Q first fills the queue with Q tasks no bench agent can
 * take. Prints tasks/s from first submit to last complete and delivery latency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"

#define FAST_CHUNK 100
#define PRELOAD_CHUNK 1000
#define PRELOAD_THREADS 4

static void *
submitter_thread(void *arg)
{
	e2e_thread *t = arg;
	e2e_run *run = t->run;
	const bench_opts *o = run->o;
	bench_task_spec spec = { .with_t0 = true, .run_id = run->run_id };
	ac_client *c = bench_open(o);
	bench_pk p;

	if (c == NULL) {
		return NULL;
	}
	bench_pk_init(&p);
	while (!bench_expired()) {
		long long first = atomic_fetch_add(&run->next, run->chunk);
		long long count = first + run->chunk > o->tasks ? o->tasks - first : run->chunk;
		if (first >= o->tasks) {
			break;
		}
		if (o->rate > 0) {
			uint64_t due = run->start_ns + (uint64_t)((double)first * 1e9 / o->rate);
			bench_sleep_until(due);
			bench_atomic_max(&run->max_lag_ns, bench_now_ns() - due);
		}
		spec.t0 = bench_now_ns();
		bench_pk_submit(&p, o, first, count, run->chunk > 1, &spec);
		bench_atomic_min(&run->first_submit_ns, spec.t0);
		atomic_fetch_add(&run->submitted, bench_submit_call(c, &p, run->chunk > 1,
		    &run->errs));
		bench_hist_add(&t->lat, bench_now_ns() - spec.t0);
		bench_atomic_max(&run->last_submit_ns, bench_now_ns());
	}
	bench_pk_fini(&p);
	ac_client_close(c);
	return NULL;
}

/* --- preload --- */

typedef struct preload_ctx {
	const bench_opts *o;
	_Atomic long long next, ok;
	bench_errs errs;
} preload_ctx;

static void *
preload_thread(void *arg)
{
	preload_ctx *pc = arg;
	bench_task_spec spec = { .preload = true };
	ac_client *c = bench_open(pc->o);
	bench_pk p;

	if (c == NULL) {
		return NULL;
	}
	bench_pk_init(&p);
	while (!bench_expired()) {
		long long first = atomic_fetch_add(&pc->next, PRELOAD_CHUNK);
		long long count = first + PRELOAD_CHUNK > pc->o->preload ? pc->o->preload - first
		                                                         : PRELOAD_CHUNK;
		if (first >= pc->o->preload) {
			break;
		}
		bench_pk_submit(&p, pc->o, first, count, true, &spec);
		atomic_fetch_add(&pc->ok, bench_submit_call(c, &p, true, &pc->errs));
	}
	bench_pk_fini(&p);
	ac_client_close(c);
	return NULL;
}

/* Prints the server's count of queued tasks (stats). */
static void
print_queued(const bench_opts *o, bench_errs *errs)
{
	ac_client *c = bench_open(o);
	ac_reply *r = NULL;
	uint64_t queued = 0;
	bench_pk p;

	if (c == NULL) {
		return;
	}
	bench_pk_init(&p);
	bench_pk_begin(&p, o, "stats", 0);
	if (bench_call(c, &p, 0, errs, "stats", &r) == AC_OK) {
		ac_reply_u64(r, "queue.by_status.queued", &queued);
		printf("  server stats before the run: %llu tasks queued\n",
		    (unsigned long long)queued);
		ac_reply_free(r);
	}
	bench_pk_fini(&p);
	ac_client_close(c);
}

static int
preload(const bench_opts *o)
{
	preload_ctx *pc = calloc(1, sizeof(*pc));
	bench_threads g;
	uint64_t t0 = bench_now_ns();
	long long ok;
	double secs;

	if (pc == NULL) {
		return -1;
	}
	pc->o = o;
	/* stride 0: every thread shares pc and its claim counter */
	bench_threads_start(&g, PRELOAD_THREADS, preload_thread, pc, 0);
	bench_threads_join(&g);
	secs = (double)(bench_now_ns() - t0) / 1e9;
	ok = atomic_load(&pc->ok);
	printf("  preload: %lld of %lld tasks (priority low, needs \"never\") in %.2f s "
	       "(%.0f tasks/s, batches of %d)\n", ok, o->preload, secs, (double)ok / secs,
	    PRELOAD_CHUNK);
	if (bench_errs_total(&pc->errs) > 0) {
		bench_errs_print(&pc->errs);
	}
	print_queued(o, &pc->errs);
	free(pc);
	return ok == o->preload ? 0 : -1;
}

/* --- the run --- */

static void
print_result(const bench_opts *o, e2e_run *run, const bench_hist *dl, const bench_hist *rq)
{
	uint64_t t0 = atomic_load(&run->first_submit_ns), t1 = atomic_load(&run->last_complete_ns);
	long long done = atomic_load(&run->completed);
	double secs = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
	char label[128], d[128], r[128], extra[64] = "";

	if (o->rate > 0) {
		snprintf(extra, sizeof(extra), " paced %.0f/s", o->rate);
	}
	if (o->preload > 0) {
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " preload %lld",
		    o->preload);
	}
	bench_label(o, label, sizeof(label), "e2e %s %lld+%lld%s", o->e2e_mode, o->submitters,
	    o->agents, extra);
	bench_hist_fmt_ms(dl, d, sizeof(d));
	bench_hist_fmt_ms(rq, r, sizeof(r));
	printf("%s: %.0f tasks/s (%lld tasks in %.2f s), delivery %s\n", label,
	    secs > 0 ? (double)done / secs : 0.0, done, secs, d);
	printf("  submit requests of %lld task(s): %s; agents' empty fetches: %lld\n",
	    run->chunk, r, atomic_load(&run->empty_fetches));
	if (o->rate > 0) {
		uint64_t s1 = atomic_load(&run->last_submit_ns);
		printf("  paced: offered %.0f tasks/s, achieved %.0f submitted/s; submitters' worst "
		       "lag behind schedule %.2f ms\n", o->rate,
		    s1 > t0 ? (double)atomic_load(&run->submitted) / ((double)(s1 - t0) / 1e9) : 0.0,
		    (double)atomic_load(&run->max_lag_ns) / 1e6);
	}
	if (atomic_load(&run->foreign) > 0) {
		printf("  also completed %lld tasks of other runs (not counted; use a fresh server)\n",
		    atomic_load(&run->foreign));
	}
	if (done < o->tasks) {
		printf("  INCOMPLETE: %lld of %lld tasks completed before the %lld s timeout "
		       "(submitted %lld, delivered %lld)\n", done, o->tasks, o->timeout_s,
		    atomic_load(&run->submitted), atomic_load(&run->delivered));
	}
	bench_errs_print(&run->errs);
}

/* Waits until every agent has said hello, then lets their first fetches land. */
static void
wait_agents(e2e_run *run)
{
	uint64_t settle_ms = 100 + (uint64_t)run->o->agents;

	while (atomic_load(&run->ready_agents) < run->o->agents && !bench_expired()) {
		bench_sleep_until(bench_now_ns() + 1000000u);
	}
	bench_sleep_until(bench_now_ns() + (settle_ms > 2000 ? 2000 : settle_ms) * 1000000u);
}

static void
merge(e2e_thread *ts, long long n, bench_hist *into)
{
	for (long long i = 0; i < n; i++) {
		bench_hist_merge(into, &ts[i].lat);
	}
}

int
bench_e2e(const bench_opts *o)
{
	e2e_run *run = calloc(1, sizeof(*run));
	e2e_thread *ag = calloc((size_t)o->agents, sizeof(*ag));
	e2e_thread *sb = calloc((size_t)o->submitters, sizeof(*sb));
	bench_hist *dl = calloc(1, sizeof(*dl)), *rq = calloc(1, sizeof(*rq));
	bench_threads ga, gs;
	int rc = 1;

	if (run == NULL || ag == NULL || sb == NULL || dl == NULL || rq == NULL) {
		goto out;
	}
	run->o = o;
	run->fast = strcmp(o->e2e_mode, "fast") == 0;
	run->chunk = o->batch > 0 ? o->batch : run->fast ? FAST_CHUNK : 1;
	run->first_submit_ns = UINT64_MAX;
	run->run_id = bench_now_ns() ^ ((uint64_t)getpid() << 40);
	if (o->preload > 0 && preload(o) != 0) {
		fputs("agentcom-bench: preload incomplete\n", stderr);
	}
	for (long long i = 0; i < o->agents; i++) {
		ag[i].run = run;
		ag[i].index = i;
	}
	for (long long i = 0; i < o->submitters; i++) {
		sb[i].run = run;
		sb[i].index = i;
	}
	bench_threads_start(&ga, o->agents, e2e_agent_thread, ag, sizeof(*ag));
	wait_agents(run);
	run->start_ns = bench_now_ns() + 1000000u;
	bench_threads_start(&gs, o->submitters, submitter_thread, sb, sizeof(*sb));
	bench_threads_join(&gs);
	bench_threads_join(&ga);
	merge(ag, o->agents, dl);
	merge(sb, o->submitters, rq);
	print_result(o, run, dl, rq);
	rc = atomic_load(&run->completed) == o->tasks ? 0 : 1;
out:
	free(run);
	free(ag);
	free(sb);
	free(dl);
	free(rq);
	return rc;
}
