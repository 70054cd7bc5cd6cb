/* SPDX-License-Identifier: MIT
 * agentcom-bench ping: N client threads, each with its own ac_client, send `ping` back
 * to back for --seconds; prints round trips/s and the round-trip latency percentiles.
 * Measures the gateway path alone (no store, no actors beyond telemetry). The same
 * clients measure the bare transport in `echo` (echo.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

typedef struct ping_run {
	const bench_opts *o;
	uint64_t end_ns;
	bench_errs errs;
} ping_run;

typedef struct ping_client {
	ping_run *run;
	bench_hist lat;
} ping_client;

static void *
ping_thread(void *arg)
{
	ping_client *pc = arg;
	ping_run *run = pc->run;
	ac_client *c = bench_open(run->o);
	bench_pk p;

	if (c == NULL) {
		return NULL;
	}
	bench_pk_init(&p);
	bench_pk_begin(&p, run->o, "ping", 0);
	while (bench_now_ns() < run->end_ns && !bench_expired()) {
		ac_reply *r;
		uint64_t t0 = bench_now_ns();
		if (bench_call(c, &p, 0, &run->errs, "ping", &r) == AC_OK) {
			bench_hist_add(&pc->lat, bench_now_ns() - t0);
			ac_reply_free(r);
		}
	}
	bench_pk_fini(&p);
	ac_client_close(c);
	return NULL;
}

/* One ping before the clock starts, so connection set-up is not measured. */
static int
ping_once(const bench_opts *o, bench_errs *errs)
{
	ac_client *c = bench_open(o);
	ac_reply *r = NULL;
	bench_pk p;
	ac_err err = AC_ECLOSED;

	if (c != NULL) {
		bench_pk_init(&p);
		bench_pk_begin(&p, o, "ping", 0);
		err = bench_call(c, &p, 0, errs, "ping", &r);
		ac_reply_free(r);
		bench_pk_fini(&p);
		ac_client_close(c);
	}
	return err == AC_OK ? 0 : -1;
}

/* o->clients ping threads against o->url for o->seconds; the run is named "WHAT N clients". */
int
bench_ping_clients(const bench_opts *o, const char *what)
{
	ping_run run = { .o = o };
	ping_client *pcs = calloc((size_t)o->clients, sizeof(*pcs));
	bench_hist *all = calloc(1, sizeof(*all));
	bench_threads g;
	uint64_t t0, t1;
	char lat[128], label[64];

	if (pcs == NULL || all == NULL || ping_once(o, &run.errs) != 0) {
		fprintf(stderr, "agentcom-bench: ping: server not answering at %s\n", o->url);
		free(pcs);
		free(all);
		return 1;
	}
	for (long long i = 0; i < o->clients; i++) {
		pcs[i].run = &run;
	}
	t0 = bench_now_ns();
	run.end_ns = t0 + (uint64_t)o->seconds * 1000000000u;
	bench_threads_start(&g, o->clients, ping_thread, pcs, sizeof(*pcs));
	bench_threads_join(&g);
	t1 = bench_now_ns();
	for (long long i = 0; i < o->clients; i++) {
		bench_hist_merge(all, &pcs[i].lat);
	}
	bench_hist_fmt_us(all, lat, sizeof(lat));
	printf("%s: %.0f round trips/s (%llu in %.2f s), %s\n",
	    bench_label(o, label, sizeof(label), "%s %lld clients", what, o->clients),
	    (double)all->count / ((double)(t1 - t0) / 1e9), (unsigned long long)all->count,
	    (double)(t1 - t0) / 1e9, lat);
	bench_errs_print(&run.errs);
	free(pcs);
	free(all);
	return bench_errs_total(&run.errs) > 0 ? 1 : 0;
}

int
bench_ping(const bench_opts *o)
{
	return bench_ping_clients(o, "ping");
}
