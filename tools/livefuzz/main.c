/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's main: the command line, the worker threads and their watch (the
 * progress line, a stall detector), the final liveness ping and the summary that sets
 * the exit status: 0 every reply well formed and the server up, 1 not, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "livefuzz.h"
#include "rt/clock.h"

#define PROGRESS_EVERY_MS 10000
#define FINAL_PING_MS 10000
/* No request finished for this long past the deadline: a thread is stuck in the client
 * (nng), not waiting on the server, which every request bounds. */
#define STALL_GRACE_MS 45000

static void usage(FILE *f)
{
	fputs("Usage: agentcom-livefuzz --url URL --token TOKEN [--threads N]\n"
	    "           [--seconds S | --requests N] [--seed N] [--pad-rate PCT]\n"
	    "           [--deadline-ms MS] [--save-dir DIR]\n"
	    "\n"
	    "Fuzzes a running agentcomd through its API: valid requests of every op, built\n"
	    "from live state (task ids, assignments, cursors), then mutated (fields dropped,\n"
	    "retyped, oversized, nested too deep, invalid UTF-8, duplicate keys, odd ops and\n"
	    "tokens), re-encoded non-minimally, byte-flipped, or padded so the request ends\n"
	    "exactly at its buffer's end. Every reply must be one msgpack map with a bool ok,\n"
	    "and an error's code one of include/agentcom/errors.h, within the deadline.\n"
	    "\n"
	    "  --url URL         the server's API (tcp:// for the oversize requests)\n"
	    "  --token TOKEN     an admin token (\"\" for a server run with --insecure)\n"
	    "  --threads N       concurrent clients, each with 3 agents (default 3, max 64)\n"
	    "  --seconds S       run for S seconds (default 60)\n"
	    "  --requests N      or send N requests in all, then stop\n"
	    "  --seed N          the n-th request of thread t draws from (N, t, n): same\n"
	    "                    seed, same requests (ids and cursors still come from the\n"
	    "                    server's replies); default: from the clock, printed at the end\n"
	    "  --pad-rate PCT    requests padded to 2^k - 4 bytes (default 10)\n"
	    "  --deadline-ms MS  a reply's deadline past the request's own wait (default 2000)\n"
	    "  --save-dir DIR    write each failing request to DIR/KIND-tT-nN.bin\n"
	    "\n"
	    "Failures go to stderr with the request in hex; the last line on stdout sums up:\n"
	    "requests sent, replies checked, malformed replies, missing replies, oversize\n"
	    "requests dropped as they should be, the slowest reply. After a missing reply\n"
	    "the server is pinged; the run stops when it does not answer.\n"
	    "Exit status: 0 every reply well formed and the server still up; 1 otherwise;\n"
	    "2 usage error. Endpoint and ollama_url values make the server probe local\n"
	    "ports: run server and fuzzer inside `unshare -n` (README.md, Testing).\n",
	    f);
}

/* Value parsers: val into *at; false when it is not a (non-negative, for u64) number. */
static bool parse_str(const char *val, void *at)
{
	*(const char **)at = val;
	return true;
}

static bool parse_ll(const char *val, void *at)
{
	char *end = NULL;

	errno = 0;
	*(long long *)at = strtoll(val, &end, 10);
	return errno == 0 && end != val && *end == '\0';
}

static bool parse_u64(const char *val, void *at)
{
	char *end = NULL;

	errno = 0;
	*(uint64_t *)at = strtoull(val, &end, 0); /* which would take "-1" as 2^64 - 1 */
	return errno == 0 && end != val && *end == '\0' && val[0] != '-';
}

/* Every option takes a value, which parse stores at off in lf_opts. */
static const struct opt_def {
	const char *name; /* without the leading -- */
	bool (*parse)(const char *val, void *at);
	size_t off;
} opt_defs[] = {
	{ "url", parse_str, offsetof(lf_opts, url) },
	{ "token", parse_str, offsetof(lf_opts, token) },
	{ "save-dir", parse_str, offsetof(lf_opts, save_dir) },
	{ "threads", parse_ll, offsetof(lf_opts, threads) },
	{ "seconds", parse_ll, offsetof(lf_opts, seconds) },
	{ "requests", parse_ll, offsetof(lf_opts, requests) },
	{ "pad-rate", parse_ll, offsetof(lf_opts, pad_rate) },
	{ "deadline-ms", parse_ll, offsetof(lf_opts, deadline_ms) },
	{ "seed", parse_u64, offsetof(lf_opts, seed) },
};

#define OPT_COUNT (sizeof(opt_defs) / sizeof(opt_defs[0]))

/* 0 parsed, 1 --help, -1 error (said on stderr). */
static int parse_opts(lf_opts *o, int argc, char **argv)
{
	struct option longs[OPT_COUNT + 2];
	int c, k = -1;

	for (size_t i = 0; i < OPT_COUNT; i++) {
		longs[i] = (struct option){ opt_defs[i].name, required_argument, NULL, 0 };
	}
	longs[OPT_COUNT] = (struct option){ "help", no_argument, NULL, 'h' };
	longs[OPT_COUNT + 1] = (struct option){ 0 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longs, &k)) != -1) {
		if (c == 'h') {
			return 1;
		}
		if (c != 0) {
			fprintf(stderr, "agentcom-livefuzz: %s: %s\n", argv[optind - 1],
			    c == ':' ? "needs a value" : "unknown option");
			return -1;
		}
		if (!opt_defs[k].parse(optarg, (char *)o + opt_defs[k].off)) {
			fprintf(stderr, "agentcom-livefuzz: --%s: not a number: %s\n", opt_defs[k].name,
			    optarg);
			return -1;
		}
		o->has_seed = o->has_seed || opt_defs[k].off == offsetof(lf_opts, seed);
	}
	if (optind < argc) {
		fprintf(stderr, "agentcom-livefuzz: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int check_opts(lf_opts *o)
{
	const char *why = NULL;

	if (o->url == NULL || o->token == NULL) {
		why = "--url and --token are required";
	} else if (o->threads < 1 || o->threads > LF_MAX_THREADS) {
		why = "--threads is 1..64";
	} else if (o->seconds < 0 || o->requests < 0 || (o->seconds > 0 && o->requests > 0)) {
		why = "give --seconds or --requests (not both), each at least 1";
	} else if (o->pad_rate < 0 || o->pad_rate > 100) {
		why = "--pad-rate is 0..100";
	} else if (o->deadline_ms < 100 || o->deadline_ms > 600000) {
		why = "--deadline-ms is 100..600000";
	}
	if (why != NULL) {
		fprintf(stderr, "agentcom-livefuzz: %s\n", why);
		return -1;
	}
	if (o->seconds == 0 && o->requests == 0) {
		o->seconds = 60;
	}
	if (o->requests > 0 && o->threads > o->requests) {
		o->threads = o->requests; /* every thread sends at least one */
	}
	if (!o->has_seed) {
		o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	}
	return 0;
}

/* Waits for the threads, printing progress; false when they stalled. */
static bool watch(lf_run *run, int64_t start_ms)
{
	int64_t next_progress = start_ms + PROGRESS_EVERY_MS;
	int64_t stall_ms = run->opts->deadline_ms + 30000 + STALL_GRACE_MS;

	while (atomic_load(&run->running) > 0) {
		int64_t now = ac_clock_mono_ms();

		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
		if (now >= next_progress) {
			lf_report_progress(run, now - start_ms);
			next_progress += PROGRESS_EVERY_MS;
		}
		if (now - atomic_load(&run->last_done_ms) > stall_ms) {
			fputs("agentcom-livefuzz: no request finished for too long: giving up\n", stderr);
			return false;
		}
	}
	return true;
}

/* Starts o->threads workers (fewer if a start fails: o->threads is then the count). */
static void start_workers(lf_run *run, lf_opts *o, lf_worker *workers, pthread_t *threads,
    int64_t start_ms)
{
	for (long long i = 0; i < o->threads; i++) {
		lf_worker *w = &workers[i];

		w->run = run;
		w->index = (unsigned)i;
		w->quota = (uint64_t)(o->requests / o->threads + (i < o->requests % o->threads));
		w->end_ms = o->seconds > 0 ? start_ms + o->seconds * 1000 : 0;
		atomic_fetch_add(&run->running, 1);
		if (pthread_create(&threads[i], NULL, lf_worker_main, w) != 0) {
			fputs("agentcom-livefuzz: cannot start a thread\n", stderr);
			atomic_store(&run->is_stopping, true);
			atomic_fetch_sub(&run->running, 1);
			o->threads = i;
		}
	}
}

int main(int argc, char **argv)
{
	lf_opts o = { .threads = 3, .pad_rate = 10, .deadline_ms = 2000 };
	lf_run run = { .opts = &o };
	pthread_t threads[LF_MAX_THREADS];
	lf_worker *workers;
	int64_t start_ms;
	bool is_up;
	int rc = parse_opts(&o, argc, argv);

	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc != 0 || check_opts(&o) != 0) {
		usage(stderr);
		return 2;
	}
	lf_ops_check();
	if (!lf_wire_alive(o.url, o.token, FINAL_PING_MS)) {
		fprintf(stderr, "agentcom-livefuzz: no reply to ping from %s\n", o.url);
		return 1;
	}
	if ((workers = calloc((size_t)o.threads, sizeof(*workers))) == NULL) {
		fputs("agentcom-livefuzz: out of memory\n", stderr);
		return 1;
	}
	pthread_mutex_init(&run.log_lock, NULL);
	fprintf(stderr, "agentcom-livefuzz: fuzzing %s with %lld threads, seed %" PRIu64 ", %lld %s\n",
	    o.url, o.threads, o.seed, o.seconds > 0 ? o.seconds : o.requests,
	    o.seconds > 0 ? "seconds" : "requests");
	start_ms = ac_clock_mono_ms();
	atomic_store(&run.last_done_ms, start_ms);
	start_workers(&run, &o, workers, threads, start_ms);
	if (!watch(&run, start_ms)) {
		/* the stuck threads cannot be joined: report and leave */
		_exit(lf_report_summary(&run, lf_wire_alive(o.url, o.token, FINAL_PING_MS), true));
	}
	for (long long i = 0; i < o.threads; i++) {
		pthread_join(threads[i], NULL);
	}
	is_up = !atomic_load(&run.is_server_down) && lf_wire_alive(o.url, o.token, FINAL_PING_MS);
	rc = lf_report_summary(&run, is_up, false);
	pthread_mutex_destroy(&run.log_lock);
	free(workers);
	return rc;
}
