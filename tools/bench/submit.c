/* SPDX-License-Identifier: MIT
 * agentcom-bench submit: N client threads submit M tasks in total, one per task.submit
 * or B per task.submit_batch; prints durable tasks/s, requests/s and request latency.
 * With --fsync-dir it first times fdatasync there, to bound how many requests each
 * commit must have carried (group commit) at the measured request rate.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define FSYNC_PROBES 200
#define FSYNC_BLOCK 4096

typedef struct submit_run {
	const bench_opts *o;
	_Atomic long long next;
	_Atomic long long ok;
	_Atomic long long requests;
	bench_errs errs;
} submit_run;

typedef struct submit_client {
	submit_run *run;
	bench_hist lat;
} submit_client;

static void *
submit_thread(void *arg)
{
	submit_client *sc = arg;
	submit_run *run = sc->run;
	const bench_opts *o = run->o;
	long long per = o->batch > 0 ? o->batch : 1;
	bool batch = per > 1;
	bench_task_spec spec = { 0 };
	ac_client *c = bench_open(o);
	bench_pk p;

	if (c == NULL) {
		return NULL;
	}
	bench_pk_init(&p);
	while (!bench_expired()) {
		long long first = atomic_fetch_add(&run->next, per);
		long long count = first + per > o->tasks ? o->tasks - first : per;
		uint64_t t0;
		if (first >= o->tasks) {
			break;
		}
		bench_pk_submit(&p, o, first, count, batch, &spec);
		t0 = bench_now_ns();
		atomic_fetch_add(&run->ok, bench_submit_call(c, &p, batch, &run->errs));
		bench_hist_add(&sc->lat, bench_now_ns() - t0);
		atomic_fetch_add(&run->requests, 1);
	}
	bench_pk_fini(&p);
	ac_client_close(c);
	return NULL;
}

/* fdatasync latency of overwriting one 4 KiB block in a file in dir (as a WAL does
 * after a checkpoint); false when dir cannot be used. */
static bool
probe_fsync(const char *dir, bench_hist *h)
{
	char path[4096], block[FSYNC_BLOCK];
	int fd;
	bool ok = true;

	snprintf(path, sizeof(path), "%s/bench-fsync-probe.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0) {
		perror("agentcom-bench: fsync probe");
		return false;
	}
	memset(block, 'b', sizeof(block));
	for (int i = 0; i < FSYNC_PROBES && ok; i++) {
		ok = pwrite(fd, block, sizeof(block), (off_t)i * FSYNC_BLOCK) == FSYNC_BLOCK;
	}
	ok = ok && fsync(fd) == 0;
	for (int i = 0; i < FSYNC_PROBES && ok; i++) {
		uint64_t t0 = bench_now_ns();
		ok = pwrite(fd, block, sizeof(block), (off_t)i * FSYNC_BLOCK) == FSYNC_BLOCK &&
		    fdatasync(fd) == 0;
		bench_hist_add(h, bench_now_ns() - t0);
	}
	close(fd);
	unlink(path);
	return ok;
}

static void
print_group_commit(const bench_opts *o, double req_per_s, const bench_hist *fs)
{
	double sync_s = (double)bench_hist_pct(fs, 0.5) / 1e9;
	char lat[128];

	bench_hist_fmt_ms(fs, lat, sizeof(lat));
	printf("  fdatasync on %s (4 KiB overwrite, %d probes): %s\n", o->fsync_dir,
	    FSYNC_PROBES, lat);
	if (sync_s <= 0) {
		return;
	}
	printf("  group commit: one fsync per request would cap at %.0f requests/s; "
	       "measured %.0f requests/s => >= %.1f requests per commit%s\n",
	    1.0 / sync_s, req_per_s, req_per_s * sync_s,
	    req_per_s * sync_s > 1.0 ? " (group commit at work)" : " (no sharing needed)");
}

static void
print_result(const bench_opts *o, submit_run *run, const bench_hist *lat, double secs)
{
	long long ok = atomic_load(&run->ok), reqs = atomic_load(&run->requests);
	char l[128], label[96];

	bench_hist_fmt_ms(lat, l, sizeof(l));
	if (o->batch > 1) {
		bench_label(o, label, sizeof(label), "submit %lld clients batch %lld",
		    o->clients, o->batch);
	} else {
		bench_label(o, label, sizeof(label), "submit %lld clients", o->clients);
	}
	printf("%s: %.0f tasks/s (%lld tasks in %.2f s), per request %s; %.0f requests/s, "
	       "%.1f tasks per request\n",
	    label, (double)ok / secs, ok, secs, l, (double)reqs / secs,
	    reqs > 0 ? (double)ok / (double)reqs : 0.0);
	if (ok < o->tasks) {
		printf("  INCOMPLETE: the server took %lld of %lld tasks\n", ok, o->tasks);
	}
	bench_errs_print(&run->errs);
}

int
bench_submit(const bench_opts *o)
{
	submit_run *run = calloc(1, sizeof(*run));
	submit_client *scs = calloc((size_t)o->clients, sizeof(*scs));
	bench_hist *all = calloc(1, sizeof(*all)), *fs = calloc(1, sizeof(*fs));
	bool has_fs = false;
	bench_threads g;
	uint64_t t0;
	double secs;
	int rc;

	if (run == NULL || scs == NULL || all == NULL || fs == NULL) {
		return 1;
	}
	run->o = o;
	has_fs = o->fsync_dir != NULL && probe_fsync(o->fsync_dir, fs);
	for (long long i = 0; i < o->clients; i++) {
		scs[i].run = run;
	}
	t0 = bench_now_ns();
	bench_threads_start(&g, o->clients, submit_thread, scs, sizeof(*scs));
	bench_threads_join(&g);
	secs = (double)(bench_now_ns() - t0) / 1e9;
	for (long long i = 0; i < o->clients; i++) {
		bench_hist_merge(all, &scs[i].lat);
	}
	print_result(o, run, all, secs);
	if (has_fs) {
		print_group_commit(o, (double)atomic_load(&run->requests) / secs, fs);
	}
	rc = atomic_load(&run->ok) == o->tasks ? 0 : 1;
	free(run);
	free(scs);
	free(all);
	free(fs);
	return rc;
}
