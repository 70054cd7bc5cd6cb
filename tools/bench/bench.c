/* SPDX-License-Identifier: MIT
 * agentcom-bench's main: option parsing, the run deadline and its watchdog, the clock
 * and pacing helpers and thread groups shared by every mode (ping, echo, inproc, submit,
 * e2e, beanstalk, route, probe, tables). Each run is bounded by counts and by --timeout, so it
 * always ends.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define THREAD_STACK_BYTES (256 * 1024)
/* The watchdog ends the process this long after --timeout if threads are still stuck. */
#define WATCHDOG_GRACE_S 20

static uint64_t deadline_ns;

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
bench_sleep_until(uint64_t mono_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(mono_ns / 1000000000u),
		.tv_nsec = (long)(mono_ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
	}
}

bool
bench_expired(void)
{
	return bench_now_ns() >= deadline_ns;
}

void
bench_atomic_min(_Atomic uint64_t *v, uint64_t x)
{
	uint64_t cur = atomic_load(v);

	while (x < cur && !atomic_compare_exchange_weak(v, &cur, x)) {
	}
}

void
bench_atomic_max(_Atomic uint64_t *v, uint64_t x)
{
	uint64_t cur = atomic_load(v);

	while (x > cur && !atomic_compare_exchange_weak(v, &cur, x)) {
	}
}

const char *
bench_label(const bench_opts *o, char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (o->label != NULL && o->label[0] != '\0') {
		snprintf(buf, cap, "%s", o->label);
		return buf;
	}
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return buf;
}

int
bench_threads_start(bench_threads *g, long long n, void *(*fn)(void *), void *base,
    size_t stride)
{
	pthread_attr_t attr;
	int rv = 0;

	g->count = 0;
	if ((g->ids = calloc((size_t)(n > 0 ? n : 1), sizeof(*g->ids))) == NULL) {
		return ENOMEM;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK_BYTES);
	for (long long i = 0; i < n && rv == 0; i++) {
		rv = pthread_create(&g->ids[i], &attr, fn, (char *)base + (size_t)i * stride);
		if (rv == 0) {
			g->count++;
		} else {
			fprintf(stderr, "agentcom-bench: thread %lld: %s\n", i, strerror(rv));
		}
	}
	pthread_attr_destroy(&attr);
	return rv;
}

void
bench_threads_join(bench_threads *g)
{
	for (long long i = 0; i < g->count; i++) {
		pthread_join(g->ids[i], NULL);
	}
	free(g->ids);
	g->ids = NULL;
	g->count = 0;
}

static void *
watchdog(void *arg)
{
	(void)arg;
	bench_sleep_until(deadline_ns + (uint64_t)WATCHDOG_GRACE_S * 1000000000u);
	fputs("agentcom-bench: threads still running long after --timeout; exiting\n", stderr);
	fflush(stdout);
	_exit(3);
	return NULL;
}

/* --- options --- */

enum opt_type { OPT_STR, OPT_LL, OPT_DBL };

static const struct opt_def {
	const char *name;
	enum opt_type type;
	size_t off;
} opt_defs[] = {
	{ "--url", OPT_STR, offsetof(bench_opts, url) },
	{ "--token", OPT_STR, offsetof(bench_opts, token) },
	{ "--addr", OPT_STR, offsetof(bench_opts, addr) },
	{ "--mode", OPT_STR, offsetof(bench_opts, e2e_mode) },
	{ "--label", OPT_STR, offsetof(bench_opts, label) },
	{ "--fsync-dir", OPT_STR, offsetof(bench_opts, fsync_dir) },
	{ "--clients", OPT_LL, offsetof(bench_opts, clients) },
	{ "--seconds", OPT_LL, offsetof(bench_opts, seconds) },
	{ "--submitters", OPT_LL, offsetof(bench_opts, submitters) },
	{ "--agents", OPT_LL, offsetof(bench_opts, agents) },
	{ "--workers", OPT_LL, offsetof(bench_opts, workers) },
	{ "--batch", OPT_LL, offsetof(bench_opts, batch) },
	{ "--wait-ms", OPT_LL, offsetof(bench_opts, wait_ms) },
	{ "--timeout", OPT_LL, offsetof(bench_opts, timeout_s) },
	{ "--tasks", OPT_LL, offsetof(bench_opts, tasks) },
	{ "--preload", OPT_LL, offsetof(bench_opts, preload) },
	{ "--payload", OPT_LL, offsetof(bench_opts, payload) },
	{ "--iterations", OPT_LL, offsetof(bench_opts, iterations) },
	{ "--endpoints", OPT_LL, offsetof(bench_opts, endpoints) },
	{ "--entries", OPT_LL, offsetof(bench_opts, entries) },
	{ "--rate", OPT_DBL, offsetof(bench_opts, rate) },
};

static void
usage(FILE *f)
{
	fputs("Usage:\n"
	    "  agentcom-bench ping --url U [--token T] --clients N --seconds S\n"
	    "  agentcom-bench echo --clients N --seconds S   (ping's clients against a bare\n"
	    "      nng REP server in this process: the transport's ceiling, no agentcomd)\n"
	    "  agentcom-bench inproc [--iterations N]   (one message between two actors:\n"
	    "      nng inproc PUSH/PULL received as the runtime does; no agentcomd)\n"
	    "  agentcom-bench submit --url U --token T --clients N --tasks M [--batch B]"
	    " [--fsync-dir DIR]\n"
	    "  agentcom-bench e2e --url U --token T --submitters S --agents A --tasks N\n"
	    "      [--mode plain|fast] [--rate R] [--preload Q] [--wait-ms MS] [--batch B]\n"
	    "      (--batch: tasks per submit request; default 1 plain, 100 fast)\n"
	    "  agentcom-bench beanstalk --addr 127.0.0.1:PORT --submitters S --workers A"
	    " --tasks N [--payload BYTES]\n"
	    "  agentcom-bench route [--iterations N]   (pure routing cost, no server)\n"
	    "  agentcom-bench tables [--entries N]   (token and endpoint tables of N entries,\n"
	    "      default 5000: admission, token create/revoke, endpoint lookups; no server)\n"
	    "  agentcom-bench probe --url U --token T [--endpoints N] --seconds S\n"
	    "      (N fake Ollamas on 127.0.0.1; run the server with"
	    " --set health_interval_ms=1000)\n"
	    "Common: --timeout SECONDS (default 60; every run ends by then), --label TEXT.\n"
	    "e2e agents take whatever the server hands them: use a fresh server (run.sh does);\n"
	    "an admin token may act as any agent (bench-<i>).\n",
	    f);
}

static int
set_opt(bench_opts *o, const struct opt_def *d, const char *val)
{
	char *end = NULL;
	void *at = (char *)o + d->off;

	errno = 0;
	if (d->type == OPT_STR) {
		*(const char **)at = val;
		return 0;
	}
	if (d->type == OPT_LL) {
		*(long long *)at = strtoll(val, &end, 10);
	} else {
		*(double *)at = strtod(val, &end);
	}
	if (errno != 0 || end == val || *end != '\0') {
		fprintf(stderr, "agentcom-bench: %s: not a number: %s\n", d->name, val);
		return -1;
	}
	return 0;
}

static int
parse_opts(bench_opts *o, int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		size_t k = 0, n = sizeof(opt_defs) / sizeof(opt_defs[0]);

		while (k < n && strcmp(argv[i], opt_defs[k].name) != 0) {
			k++;
		}
		if (k == n || i + 1 >= argc) {
			fprintf(stderr, "agentcom-bench: %s: %s\n", argv[i],
			    k == n ? "unknown option" : "needs a value");
			return -1;
		}
		if (set_opt(o, &opt_defs[k], argv[++i]) != 0) {
			return -1;
		}
	}
	return 0;
}

static void
set_defaults(bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = AC_DEFAULT_URL;
	o->e2e_mode = "plain";
	o->clients = 1;
	o->seconds = 5;
	o->submitters = 1;
	o->agents = 1;
	o->workers = 1;
	o->batch = 0; /* the mode's default: submit 1, e2e plain 1, e2e fast 100 */
	o->wait_ms = 1000;
	o->timeout_s = 60;
	o->tasks = 10000;
	o->payload = 100;
	o->iterations = 100000;
	o->endpoints = 200;
	o->entries = 5000;
}

static int
check_opts(const bench_opts *o)
{
	if (o->clients < 1 || o->submitters < 1 || o->agents < 1 || o->workers < 1 ||
	    o->clients > 4096 || o->submitters > 4096 || o->agents > 4096 ||
	    o->workers > 4096) {
		fputs("agentcom-bench: thread counts must be 1..4096\n", stderr);
		return -1;
	}
	if (o->tasks < 1 || o->seconds < 1 || o->timeout_s < 1 || o->preload < 0 ||
	    o->rate < 0 || o->batch < 0 || o->batch > 1000 || o->wait_ms < 0 ||
	    o->wait_ms > 30000 || o->payload < 32 || o->payload > 65536) {
		fputs("agentcom-bench: --tasks/--seconds/--timeout >= 1, --batch 1..1000, "
		      "--wait-ms 0..30000, --payload 32..65536\n", stderr);
		return -1;
	}
	if (o->iterations < 1 || o->endpoints < 1 || o->endpoints > 1000 || o->entries < 1 ||
	    o->entries > 1000000) {
		fputs("agentcom-bench: --iterations >= 1, --endpoints 1..1000, --entries 1..1000000\n",
		    stderr);
		return -1;
	}
	if (strcmp(o->e2e_mode, "plain") != 0 && strcmp(o->e2e_mode, "fast") != 0) {
		fputs("agentcom-bench: --mode is plain or fast\n", stderr);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const bench_opts *);
	} modes[] = { { "ping", bench_ping }, { "echo", bench_echo }, { "inproc", bench_inproc },
		{ "submit", bench_submit },
		{ "e2e", bench_e2e },
		{ "beanstalk", bench_beanstalk }, { "route", bench_route },
		{ "probe", bench_probe }, { "tables", bench_tables } };
	bench_opts o;
	pthread_t wd;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	set_defaults(&o);
	if (parse_opts(&o, argc, argv) != 0 || check_opts(&o) != 0) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	deadline_ns = bench_now_ns() + (uint64_t)o.timeout_s * 1000000000u;
	if (pthread_create(&wd, NULL, watchdog, NULL) == 0) {
		pthread_detach(wd);
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(argv[1], modes[i].name) == 0) {
			return modes[i].run(&o);
		}
	}
	fprintf(stderr, "agentcom-bench: unknown mode %s\n", argv[1]);
	usage(stderr);
	return 2;
}
