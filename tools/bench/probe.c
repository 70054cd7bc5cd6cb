/* SPDX-License-Identifier: MIT
 * agentcom-bench probe: registers --endpoints fake Ollamas (probe_fake.c, 127.0.0.1)
 * with endpoint.register and, while the server probes them (run it with --set
 * health_interval_ms=1000), times the registry's replies from one client loop:
 * endpoint.list and agent.heartbeat back to back, agent.hello every HELLO_EVERY requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

#define AGENT_ID "bench-probe-agent"
#define HELLO_EVERY 100
#define HEALTHY_WAIT_S 15 /* for every endpoint to be healthy before the clock starts */

enum { OP_LIST, OP_HEARTBEAT, OP_HELLO, OP_COUNT };
static const char *const op_names[OP_COUNT] = { "endpoint.list", "agent.heartbeat",
	"agent.hello" };

typedef struct probe_run {
	const bench_opts *o;
	bench_fake *fake;
	ac_client *c;
	bench_pk req[OP_COUNT];
	bench_hist *all, *by_op[OP_COUNT];
	bench_errs errs;
	long long fewest_healthy; /* in any endpoint.list reply during the run */
	long long registered, healthy_before;
	double register_s, healthy_s; /* registering; then until all were healthy */
} probe_run;

static void
build_requests(probe_run *pr)
{
	const bench_opts *o = pr->o;
	char url[64];
	bench_pk *p;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)bench_fake_port(pr->fake, 0));
	bench_pk_begin(&pr->req[OP_LIST], o, "endpoint.list", 0);
	p = &pr->req[OP_HELLO];
	bench_pk_begin(p, o, "agent.hello", 2);
	bench_pk_kstr(p, "agent_id", AGENT_ID);
	bench_pk_kstr(p, "ollama_url", url); /* the first fake: resources land there */
	p = &pr->req[OP_HEARTBEAT];
	bench_pk_begin(p, o, "agent.heartbeat", 2);
	bench_pk_kstr(p, "agent_id", AGENT_ID);
	bench_pk_str(p, "resources");
	msgpack_pack_map(&p->pk, 4);
	bench_pk_str(p, "cpu_percent");
	msgpack_pack_double(&p->pk, 37.5);
	bench_pk_ku64(p, "ram_total_bytes", 32ull << 30);
	bench_pk_ku64(p, "vram_total_bytes", 24ull << 30);
	bench_pk_ku64(p, "vram_used_bytes", 5ull << 30);
}

/* Endpoints whose status is "healthy" in an endpoint.list reply; -1 without a list. */
static long long
count_healthy(const ac_reply *r)
{
	const msgpack_object *eps = ac_reply_get(r, "endpoints");
	long long n = 0;

	if (eps == NULL || eps->type != MSGPACK_OBJECT_ARRAY) {
		return -1;
	}
	for (uint32_t i = 0; i < eps->via.array.size; i++) {
		const msgpack_object *st = bench_map_get(&eps->via.array.ptr[i], "status");
		if (st != NULL && st->type == MSGPACK_OBJECT_STR && st->via.str.size == 7 &&
		    memcmp(st->via.str.ptr, "healthy", 7) == 0) {
			n++;
		}
	}
	return n;
}

static long long
list_healthy(probe_run *pr)
{
	ac_reply *r = NULL;
	long long n = -1;

	if (bench_call(pr->c, &pr->req[OP_LIST], 0, &pr->errs, "endpoint.list", &r) == AC_OK) {
		n = count_healthy(r);
		ac_reply_free(r);
	}
	return n;
}

static long long
register_all(probe_run *pr)
{
	bench_pk p;
	long long ok = 0;
	char name[32];

	bench_pk_init(&p);
	for (long long i = 0; i < pr->o->endpoints && !bench_expired(); i++) {
		ac_reply *r = NULL;
		snprintf(name, sizeof(name), "bench-fake-%lld", i);
		bench_pk_begin(&p, pr->o, "endpoint.register", 3);
		bench_pk_kstr(&p, "host", "127.0.0.1");
		bench_pk_ku64(&p, "port", bench_fake_port(pr->fake, (size_t)i));
		bench_pk_kstr(&p, "name", name);
		if (bench_call(pr->c, &p, 0, &pr->errs, "endpoint.register", &r) == AC_OK) {
			ok++;
			ac_reply_free(r);
		}
	}
	bench_pk_fini(&p);
	return ok;
}

/* Waits (bounded) until every endpoint is healthy; the last count seen. */
static long long
wait_healthy(probe_run *pr, long long want)
{
	uint64_t end = bench_now_ns() + (uint64_t)HEALTHY_WAIT_S * 1000000000u;
	long long n = -1;

	while (!bench_expired() && bench_now_ns() < end && (n = list_healthy(pr)) < want) {
		bench_sleep_until(bench_now_ns() + 50000000u);
	}
	return n;
}

/* The timed loop: list, heartbeat, list, heartbeat..., a hello every HELLO_EVERY. */
static void
measure(probe_run *pr, uint64_t end_ns)
{
	for (uint64_t i = 0; bench_now_ns() < end_ns && !bench_expired(); i++) {
		int op = i % HELLO_EVERY == 0 ? OP_HELLO : i % 2 == 0 ? OP_HEARTBEAT : OP_LIST;
		ac_reply *r = NULL;
		uint64_t t0 = bench_now_ns(), dt;

		if (bench_call(pr->c, &pr->req[op], 0, &pr->errs, op_names[op], &r) != AC_OK) {
			continue;
		}
		dt = bench_now_ns() - t0;
		bench_hist_add(pr->all, dt);
		bench_hist_add(pr->by_op[op], dt);
		if (op == OP_LIST) {
			long long h = count_healthy(r);
			if (h >= 0 && (pr->fewest_healthy < 0 || h < pr->fewest_healthy)) {
				pr->fewest_healthy = h;
			}
		}
		ac_reply_free(r);
	}
}

static void
print_results(probe_run *pr, double secs, long long healthy_end, const uint64_t hits[3])
{
	char lat[128], label[64];
	const bench_opts *o = pr->o;

	bench_hist_fmt_ms(pr->all, lat, sizeof(lat));
	printf("%s: %.0f requests/s (%llu in %.2f s), %s (target p99 < 5 ms)\n",
	    bench_label(o, label, sizeof(label), "probe %lld endpoints", o->endpoints),
	    (double)pr->all->count / secs, (unsigned long long)pr->all->count, secs, lat);
	for (int k = 0; k < OP_COUNT; k++) {
		bench_hist_fmt_ms(pr->by_op[k], lat, sizeof(lat));
		printf("  %s: %llu, %s\n", op_names[k], (unsigned long long)pr->by_op[k]->count,
		    lat);
	}
	printf("  registered %lld endpoints in %.3f s; %lld healthy %.2f s after the last"
	    " register (before the clock started)\n", pr->registered, pr->register_s,
	    pr->healthy_before, pr->healthy_s);
	printf("  endpoints healthy at the end: %lld of %lld (fewest in a list reply during"
	    " the run: %lld)\n", healthy_end, o->endpoints, pr->fewest_healthy);
	printf("  fake ollama during the run: %llu /api/tags + %llu /api/ps (+%llu other) ="
	    " %.2f probes per endpoint per second\n", (unsigned long long)hits[0],
	    (unsigned long long)hits[1], (unsigned long long)hits[2],
	    (double)hits[0] / secs / (double)o->endpoints);
}

/* 200 listeners plus their connections need more descriptors than some defaults. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
probe_setup(probe_run *pr)
{
	uint64_t t0 = bench_now_ns(), t1;

	if ((pr->registered = register_all(pr)) != pr->o->endpoints) {
		fprintf(stderr, "agentcom-bench: probe: registered %lld of %lld\n", pr->registered,
		    pr->o->endpoints);
		return -1;
	}
	t1 = bench_now_ns();
	pr->healthy_before = wait_healthy(pr, pr->registered);
	pr->register_s = (double)(t1 - t0) / 1e9;
	pr->healthy_s = (double)(bench_now_ns() - t1) / 1e9;
	return 0;
}

static int
probe_run_all(probe_run *pr)
{
	uint64_t h0[3], h1[3], hits[3], t0, t1;
	long long healthy_end;

	if (probe_setup(pr) != 0) {
		return 1;
	}
	bench_fake_hits(pr->fake, &h0[0], &h0[1], &h0[2]);
	t0 = bench_now_ns();
	measure(pr, t0 + (uint64_t)pr->o->seconds * 1000000000u);
	t1 = bench_now_ns();
	bench_fake_hits(pr->fake, &h1[0], &h1[1], &h1[2]);
	healthy_end = list_healthy(pr);
	for (int k = 0; k < 3; k++) {
		hits[k] = h1[k] - h0[k];
	}
	print_results(pr, (double)(t1 - t0) / 1e9, healthy_end, hits);
	bench_errs_print(&pr->errs);
	return bench_errs_total(&pr->errs) > 0 ? 1 : 0;
}

int
bench_probe(const bench_opts *o)
{
	probe_run *pr = calloc(1, sizeof(*pr));
	int rc = 1;

	raise_fd_limit();
	if (pr == NULL || (pr->all = calloc(OP_COUNT + 1, sizeof(bench_hist))) == NULL) {
		free(pr);
		return 1;
	}
	pr->o = o;
	pr->fewest_healthy = -1;
	for (int k = 0; k < OP_COUNT; k++) {
		pr->by_op[k] = &pr->all[k + 1];
		bench_pk_init(&pr->req[k]);
	}
	if ((pr->fake = bench_fake_start((size_t)o->endpoints)) != NULL &&
	    (pr->c = bench_open(o)) != NULL) {
		build_requests(pr);
		rc = probe_run_all(pr);
	}
	for (int k = 0; k < OP_COUNT; k++) {
		bench_pk_fini(&pr->req[k]);
	}
	ac_client_close(pr->c);
	bench_fake_free(pr->fake);
	free(pr->all);
	free(pr);
	return rc;
}
