/* SPDX-License-Identifier: MIT
 * agentcom-bench route: the pure routing decision of DESIGN §5.3 (ac_router_route plus
 * ac_router_rank for a standard task) timed over 1, 10 and 200 endpoints of varied cpu,
 * ram, vram, models, loaded models and in_flight, and the re-evaluation of 10 000 waiting
 * tasks when one endpoint recovers. No server, no I/O: what the scheduler pays in-process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "routing/router.h"

#define MAX_EPS 200
/* Candidates ranked per decision in this benchmark. */
#define RANK_CAP 128
#define ROUNDS 5
#define WAITING_TASKS 10000
#define NOW_MS 1700000000000LL
#define GIB (1024ull * 1024 * 1024)

static const char *const model_names[] = { "qwen2.5-coder:7b", "llama3.1:8b",
	"deepseek-coder-v2:16b", "codellama:13b" };

typedef struct route_bench {
	ac_route_endpoint eps[MAX_EPS];
	char ids[MAX_EPS][32];
	ac_candidate cands[RANK_CAP];
	ac_route_task task;
	ac_route_opts opts;
	uint64_t sink; /* results folded in, so nothing is optimised away */
} route_bench;

/* One timed series: mean and best round in wall time, mean in thread cpu time. */
typedef struct route_time {
	double mean_us, best_us, cpu_us; /* per decision (or per task) */
	double mean_total_ms;            /* per round */
	long long per_round;
} route_time;

static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t
next_rand(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* Endpoint i: models from the list (some without the default), cpu 0-100, 8-64 GiB,
 * vram 8-24 GiB, about 1 in 10 unhealthy, 1 in 5 saturated (in_flight 4), some
 * resources unknown or stale, some with repo affinity. Endpoint 0 is always free. */
static void
make_endpoint(route_bench *b, size_t i, uint32_t *seed)
{
	ac_route_endpoint *e = &b->eps[i];
	uint32_t k = (uint32_t)(i % 4), r = next_rand(seed);

	snprintf(b->ids[i], sizeof(b->ids[i]), "10.0.%zu.%zu:11434", i / 250, i % 250 + 1);
	memset(e, 0, sizeof(*e));
	e->id = b->ids[i];
	e->is_healthy = i == 0 || r % 10 != 0;
	e->models = &model_names[k];
	e->model_count = 4 - k;
	e->loaded_models = &model_names[(k + r % 2) % 4];
	e->loaded_count = (r >> 4) % 3 == 0 ? 0 : 1;
	e->in_flight = i == 0 ? 0 : (r >> 6) % 5;
	e->last_repo_at_ms = (r >> 9) % 5 == 0 ? NOW_MS - 60000 : 0;
	e->has_cpu = (r >> 12) % 7 != 0;
	e->cpu_percent = (double)(next_rand(seed) % 1000) / 10.0;
	e->has_ram_total = (r >> 15) % 6 != 0;
	e->ram_total_bytes = (8ull << ((r >> 18) % 4)) * GIB;
	e->has_vram_total = e->has_vram_used = (r >> 20) % 4 != 0;
	e->vram_total_bytes = (8ull + 4 * ((r >> 22) % 5)) * GIB;
	e->vram_used_bytes = e->vram_total_bytes / 100 * (next_rand(seed) % 100);
	e->reported_at_ms = NOW_MS - ((r >> 3) % 11 == 0 ? 120000 : (int64_t)(r % 60000));
}

static void
setup(route_bench *b)
{
	uint32_t seed = 42;

	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < MAX_EPS; i++) {
		make_endpoint(b, i, &seed);
	}
	/* a standard task as the classifier leaves it: no model, every target allowed */
	b->task = (ac_route_task){ .tier = AC_TIER_STANDARD, .confidence = 0.7,
		.word_count = 42, .file_count = 2 };
	b->opts = (ac_route_opts){ .default_model = model_names[0], .now_ms = NOW_MS };
}

/* One decision as the scheduler makes it: route, then rank for the agent's endpoint. */
static void
decide_once(route_bench *b, size_t n)
{
	ac_decision d;
	const char *pending = NULL;

	if (ac_router_route(&b->task, b->eps, n, &b->opts, false, NULL, &d, &pending)) {
		b->sink += d.candidate_count;
	}
	b->sink += ac_router_rank(&b->task, b->eps, n, &b->opts, b->cands, RANK_CAP);
}

static route_time
time_decisions(route_bench *b, size_t n, long long iters)
{
	route_time t = { .best_us = 1e300 };
	long long per = iters / ROUNDS > 0 ? iters / ROUNDS : 1, done = 0;
	uint64_t w0, c0, wall = 0;

	for (long long i = 0; i < per / 10 + 1; i++) {
		decide_once(b, n); /* warm caches and branch predictors */
	}
	c0 = cpu_ns();
	for (int r = 0; r < ROUNDS && !bench_expired(); r++) {
		w0 = bench_now_ns();
		for (long long i = 0; i < per; i++) {
			decide_once(b, n);
		}
		uint64_t dt = bench_now_ns() - w0;
		wall += dt;
		done += per;
		if ((double)dt / 1e3 / (double)per < t.best_us) {
			t.best_us = (double)dt / 1e3 / (double)per;
		}
	}
	t.per_round = per;
	t.mean_us = done > 0 ? (double)wall / 1e3 / (double)done : 0;
	t.cpu_us = done > 0 ? (double)(cpu_ns() - c0) / 1e3 / (double)done : 0;
	return t;
}

/* Every endpoint of the view down (hence the waiting tasks), then endpoint n / 2 back
 * with nothing in flight. */
static void
set_recovered(route_bench *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		b->eps[i].is_healthy = i == n / 2;
		if (i == n / 2) {
			b->eps[i].in_flight = 0;
		}
	}
}

/* Routes every waiting task against the view; a placed task counts in its endpoint's
 * in_flight, so the recovered endpoint fills to its slot limit and the rest stay
 * pending (endpoints_saturated). Returns how many were placed. */
static unsigned
reevaluate(route_bench *b, size_t n)
{
	unsigned placed = 0;

	for (long long k = 0; k < WAITING_TASKS; k++) {
		ac_decision d;
		const char *pending = NULL;

		if (!ac_router_route(&b->task, b->eps, n, &b->opts, false, NULL, &d, &pending)) {
			b->sink += pending != NULL;
			continue;
		}
		placed++;
		for (size_t i = 0; i < n; i++) {
			if (b->eps[i].id == d.endpoint) {
				b->eps[i].in_flight++;
			}
		}
	}
	return placed;
}

static route_time
time_recovery(route_bench *b, size_t n, unsigned *placed)
{
	route_time t = { .best_us = 1e300, .per_round = WAITING_TASKS };
	uint64_t c0, wall = 0;
	int rounds = 0;

	set_recovered(b, n);
	reevaluate(b, n); /* warm-up */
	c0 = cpu_ns();
	for (; rounds < ROUNDS && !bench_expired(); rounds++) {
		set_recovered(b, n);
		uint64_t w0 = bench_now_ns();
		*placed = reevaluate(b, n);
		uint64_t dt = bench_now_ns() - w0;
		wall += dt;
		if ((double)dt / 1e3 / WAITING_TASKS < t.best_us) {
			t.best_us = (double)dt / 1e3 / WAITING_TASKS;
		}
	}
	if (rounds > 0) {
		t.mean_total_ms = (double)wall / 1e6 / rounds;
		t.mean_us = (double)wall / 1e3 / ((double)rounds * WAITING_TASKS);
		t.cpu_us = (double)(cpu_ns() - c0) / 1e3 / ((double)rounds * WAITING_TASKS);
	}
	return t;
}

/* The figures behind the summary line, with what the decision picks (a sanity check). */
static void
print_detail(route_bench *b, size_t n, const route_time *t)
{
	ac_decision d;
	const char *pending = NULL;
	bool is_routed = ac_router_route(&b->task, b->eps, n, &b->opts, false, NULL, &d, &pending);
	size_t count = ac_router_rank(&b->task, b->eps, n, &b->opts, b->cands, RANK_CAP);

	printf("  %zu endpoint%s: mean %.3f us, best round %.3f us, thread cpu %.3f us per"
	    " decision (%d rounds of %lld); %zu candidates, picks %s (%s)\n", n,
	    n > 1 ? "s" : "", t->mean_us, t->best_us, t->cpu_us, ROUNDS, t->per_round, count,
	    is_routed ? d.endpoint : pending, is_routed && d.model != NULL ? d.model : "-");
}

int
bench_route(const bench_opts *o)
{
	static const size_t sizes[] = { 1, 10, MAX_EPS };
	route_bench *b = calloc(1, sizeof(*b));
	route_time t[3], rec;
	unsigned placed = 0;
	uint64_t sink;
	char label[64];

	if (b == NULL) {
		fputs("agentcom-bench: route: out of memory\n", stderr);
		return 1;
	}
	setup(b);
	for (size_t i = 0; i < 3; i++) {
		t[i] = time_decisions(b, sizes[i], o->iterations);
	}
	rec = time_recovery(b, MAX_EPS, &placed);
	printf("%s: 1 endpoint %.2f us/decision; 10 endpoints %.2f us; %d endpoints %.2f us;"
	    " re-evaluate %d waiting tasks after a recovery: %.2f ms (%.2f us/task)\n",
	    bench_label(o, label, sizeof(label), "route"), t[0].mean_us, t[1].mean_us, MAX_EPS,
	    t[2].mean_us, WAITING_TASKS, rec.mean_total_ms, rec.mean_us);
	sink = b->sink;
	setup(b); /* the view before the recovery, for the detail lines */
	for (size_t i = 0; i < 3; i++) {
		print_detail(b, sizes[i], &t[i]);
	}
	printf("  re-evaluate (%d endpoints, all down but the recovered one; %u placed, the"
	    " rest saturated): best round %.3f us/task, thread cpu %.3f us/task\n",
	    MAX_EPS, placed, rec.best_us, rec.cpu_us);
	printf("  (a decision = ac_router_route + ac_router_rank into %d candidates;"
	    " checksum %llu)\n", RANK_CAP, (unsigned long long)sink);
	free(b);
	return 0;
}
