/* SPDX-License-Identifier: MIT
 * agentcom-bench: load generator for agentcomd (DESIGN §10) and a beanstalkd peer.
 * Shared pieces: options, clock and pacing, thread groups, latency histograms, error
 * counts, msgpack request building with msgpack_packer, and the per-mode entry points
 * (ping, echo, inproc, submit, e2e, beanstalk, route, probe, tables).
 */
#ifndef AGENTCOM_BENCH_H
#define AGENTCOM_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>
#include <pthread.h>

#include "agentcom/client.h"

typedef struct bench_opts {
	const char *url;       /* agentcomd API URL */
	const char *token;     /* admin/client token (an admin token may act for any agent) */
	const char *addr;      /* beanstalkd 127.0.0.1:PORT */
	const char *e2e_mode;  /* "plain" or "fast" */
	const char *label;     /* prefix of the result line; NULL: built from the mode */
	const char *fsync_dir; /* submit: probe fdatasync here to infer group commit */
	long long clients, seconds, submitters, agents, workers, batch, wait_ms, timeout_s;
	long long tasks, preload, payload;
	long long iterations; /* route: decisions timed per endpoint count */
	long long endpoints;  /* probe: fake Ollama responders registered */
	long long entries;    /* tables: tokens and endpoints in the tables timed */
	double rate; /* tasks/s for paced e2e; 0: closed loop */
} bench_opts;

/* --- clock, pacing, deadline (bench.c) --- */
uint64_t bench_now_ns(void);
void bench_sleep_until(uint64_t mono_ns);
/* True once the run's --timeout has passed (every loop checks it). */
bool bench_expired(void);
void bench_atomic_min(_Atomic uint64_t *v, uint64_t x);
void bench_atomic_max(_Atomic uint64_t *v, uint64_t x);
/* The result line's label into buf (returned): --label when given, else fmt. */
const char *bench_label(const bench_opts *o, char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* --- thread groups (bench.c): n threads running fn(base + i * stride) --- */
typedef struct bench_threads {
	pthread_t *ids;
	long long count;
} bench_threads;
int bench_threads_start(bench_threads *g, long long n, void *(*fn)(void *), void *base,
    size_t stride);
void bench_threads_join(bench_threads *g);

/* --- latency histogram, log-linear, about 3 % resolution (bench_hist.c) --- */
#define BENCH_HIST_BUCKETS (64 + 58 * 32)
typedef struct bench_hist {
	uint64_t count, max;
	uint64_t b[BENCH_HIST_BUCKETS];
} bench_hist;
void bench_hist_add(bench_hist *h, uint64_t ns);
void bench_hist_merge(bench_hist *into, const bench_hist *from);
/* The value at quantile q (0..1), as the middle of its bucket; 0 when empty. */
uint64_t bench_hist_pct(const bench_hist *h, double q);
/* "p50 0.41 ms p99 1.9 ms max 5.2 ms" (or "no samples") into buf. */
void bench_hist_fmt_ms(const bench_hist *h, char *buf, size_t cap);
/* The same in microseconds. */
void bench_hist_fmt_us(const bench_hist *h, char *buf, size_t cap);

/* --- error counts (bench_hist.c) --- */
typedef struct bench_errs {
	_Atomic uint64_t transport[AC_ERR_COUNT]; /* call failed: no reply (by ac_err) */
	_Atomic uint64_t reply[AC_ERR_COUNT];    /* error reply (by ac_err) */
	_Atomic int logged;             /* first few are printed to stderr */
} bench_errs;
void bench_errs_transport(bench_errs *e, ac_err err, const char *what);
void bench_errs_reply(bench_errs *e, const ac_reply *r, const char *what);
/* Prints "errors: none" or the counts by kind. */
void bench_errs_print(bench_errs *e);
uint64_t bench_errs_total(bench_errs *e);

/* --- requests (bench_pk.c) --- */
typedef struct bench_pk {
	msgpack_sbuffer sb;
	msgpack_packer pk;
} bench_pk;
void bench_pk_init(bench_pk *p);
void bench_pk_fini(bench_pk *p);
/* Clears the buffer and starts a map of pairs + 2 entries: op and token (when set). */
void bench_pk_begin(bench_pk *p, const bench_opts *o, const char *op, uint32_t pairs);
void bench_pk_str(bench_pk *p, const char *s);
void bench_pk_kstr(bench_pk *p, const char *key, const char *val);
void bench_pk_ku64(bench_pk *p, const char *key, uint64_t v);
void bench_pk_ktrue(bench_pk *p, const char *key);
/* Opens a client (token is sent in each map by bench_pk_begin). */
ac_client *bench_open(const bench_opts *o);
/* Sends p; AC_OK with *out (caller frees) only for an ok reply; AC_EPROTO for an
 * error reply; else the client's error (no reply). Every failure is counted in e
 * under `what`. extra_ms lengthens the timeout (long-polls). */
ac_err bench_call(ac_client *c, const bench_pk *p, int extra_ms, bench_errs *e,
    const char *what, ac_reply **out);
/* The value of key in map m, NULL when absent or m is not a map. */
const msgpack_object *bench_map_get(const msgpack_object *m, const char *key);

/* --- task submission (bench_pk.c) --- */
typedef struct bench_task_spec {
	bool with_t0;  /* metadata {t0: submit time (CLOCK_MONOTONIC ns), run: run_id} */
	uint64_t t0;
	uint64_t run_id; /* tells this run's tasks from others on the same server */
	bool preload;  /* priority low, needed_capabilities ["never"]: no bench agent takes it */
} bench_task_spec;
/* One task map: description "bench task <n>" (or "bench preload <n>") and the spec. */
void bench_pk_task(bench_pk *p, long long n, const bench_task_spec *s);
/* Tasks first..first+count-1: task.submit (batch false, count 1) or task.submit_batch. */
void bench_pk_submit(bench_pk *p, const bench_opts *o, long long first, long long count,
    bool batch, const bench_task_spec *s);
/* Sends a request built by bench_pk_submit; the number of tasks the server took. */
long long bench_submit_call(ac_client *c, const bench_pk *p, bool batch, bench_errs *e);

/* --- fake Ollama responders for probe (probe_fake.c) --- */
typedef struct bench_fake bench_fake;
/* n listeners on 127.0.0.1 with kernel-chosen ports, all served by one thread with
 * poll(): GET /api/tags and /api/ps answer a small JSON body, anything else 404, then
 * the connection closes. NULL (and a line on stderr) on failure. */
bench_fake *bench_fake_start(size_t n);
uint16_t bench_fake_port(const bench_fake *f, size_t i);
/* Requests answered so far: /api/tags, /api/ps, anything else. */
void bench_fake_hits(bench_fake *f, uint64_t *tags, uint64_t *ps, uint64_t *other);
/* Stops the thread, closes every socket, frees f. NULL is a no-op. */
void bench_fake_free(bench_fake *f);

/* --- modes --- */
int bench_ping(const bench_opts *o);
/* ping's clients against o->url; the run is named "WHAT N clients" (or --label). */
int bench_ping_clients(const bench_opts *o, const char *what);
int bench_echo(const bench_opts *o);
int bench_inproc(const bench_opts *o);
int bench_submit(const bench_opts *o);
int bench_e2e(const bench_opts *o);
int bench_beanstalk(const bench_opts *o);
int bench_route(const bench_opts *o);
int bench_probe(const bench_opts *o);
int bench_tables(const bench_opts *o);

#endif
