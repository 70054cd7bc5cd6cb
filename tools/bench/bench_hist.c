/* SPDX-License-Identifier: MIT
 * Latency histograms for agentcom-bench (log-linear buckets: exact below 64 ns, then 32
 * per power of two, about 3 % resolution; exact max) and the error counters that
 * every mode prints at the end.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define SUB_BITS 5
#define SUB_COUNT (1u << SUB_BITS)
#define LINEAR_MAX 64u
#define MAX_LOGGED 8

static unsigned
msb(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

static size_t
bucket_of(uint64_t v)
{
	unsigned e;

	if (v < LINEAR_MAX) {
		return (size_t)v;
	}
	e = msb(v); /* >= 6 */
	return LINEAR_MAX + (size_t)(e - 6) * SUB_COUNT +
	    (size_t)((v >> (e - SUB_BITS)) & (SUB_COUNT - 1));
}

/* The middle of bucket i. */
static uint64_t
bucket_mid(size_t i)
{
	size_t k;
	unsigned e;
	uint64_t lo, width;

	if (i < LINEAR_MAX) {
		return (uint64_t)i;
	}
	k = i - LINEAR_MAX;
	e = (unsigned)(k / SUB_COUNT) + 6;
	width = (uint64_t)1 << (e - SUB_BITS);
	lo = ((uint64_t)1 << e) + (uint64_t)(k % SUB_COUNT) * width;
	return lo + width / 2;
}

void
bench_hist_add(bench_hist *h, uint64_t ns)
{
	h->b[bucket_of(ns)]++;
	h->count++;
	if (ns > h->max) {
		h->max = ns;
	}
}

void
bench_hist_merge(bench_hist *into, const bench_hist *from)
{
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		into->b[i] += from->b[i];
	}
	into->count += from->count;
	if (from->max > into->max) {
		into->max = from->max;
	}
}

uint64_t
bench_hist_pct(const bench_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0) {
		return 0;
	}
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count) {
		rank = h->count - 1;
	}
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			uint64_t v = bucket_mid(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

/* ns as milliseconds with 2 significant-ish digits: 0.41, 1.9, 12, 340. */
static void
fmt_ms(uint64_t ns, char *buf, size_t cap)
{
	double ms = (double)ns / 1e6;

	snprintf(buf, cap, ms < 1 ? "%.2f ms" : ms < 10 ? "%.1f ms" : "%.0f ms", ms);
}

void
bench_hist_fmt_ms(const bench_hist *h, char *buf, size_t cap)
{
	char a[32], b[32], c[32];

	if (h->count == 0) {
		snprintf(buf, cap, "no samples");
		return;
	}
	fmt_ms(bench_hist_pct(h, 0.50), a, sizeof(a));
	fmt_ms(bench_hist_pct(h, 0.99), b, sizeof(b));
	fmt_ms(h->max, c, sizeof(c));
	snprintf(buf, cap, "p50 %s p99 %s max %s", a, b, c);
}

void
bench_hist_fmt_us(const bench_hist *h, char *buf, size_t cap)
{
	if (h->count == 0) {
		snprintf(buf, cap, "no samples");
		return;
	}
	snprintf(buf, cap, "p50 %.0f us p99 %.0f us max %.0f us",
	    (double)bench_hist_pct(h, 0.50) / 1e3, (double)bench_hist_pct(h, 0.99) / 1e3,
	    (double)h->max / 1e3);
}

/* --- errors --- */

void
bench_errs_transport(bench_errs *e, ac_err err, const char *what)
{
	if ((unsigned)err >= AC_ERR_COUNT) {
		err = AC_EINTERNAL;
	}
	atomic_fetch_add(&e->transport[err], 1);
	if (atomic_fetch_add(&e->logged, 1) < MAX_LOGGED) {
		fprintf(stderr, "agentcom-bench: %s: no reply: %s\n", what, ac_strerror(err));
	}
}

void
bench_errs_reply(bench_errs *e, const ac_reply *r, const char *what)
{
	ac_err err = ac_reply_error(r);

	if ((unsigned)err >= AC_ERR_COUNT || err == AC_OK) {
		err = AC_EINTERNAL;
	}
	atomic_fetch_add(&e->reply[err], 1);
	if (atomic_fetch_add(&e->logged, 1) < MAX_LOGGED) {
		fprintf(stderr, "agentcom-bench: %s: error reply %s: %s\n", what,
		    ac_err_wire_name(err), ac_reply_message(r));
	}
}

uint64_t
bench_errs_total(bench_errs *e)
{
	uint64_t n = 0;

	for (int i = 0; i < AC_ERR_COUNT; i++) {
		n += atomic_load(&e->transport[i]) + atomic_load(&e->reply[i]);
	}
	return n;
}

void
bench_errs_print(bench_errs *e)
{
	char line[1024];
	size_t len = 0;

	if (bench_errs_total(e) == 0) {
		printf("  errors: none\n");
		return;
	}
	line[0] = '\0';
	for (int i = 0; i < AC_ERR_COUNT && len < sizeof(line) - 80; i++) {
		uint64_t t = atomic_load(&e->transport[i]), r = atomic_load(&e->reply[i]);
		if (t > 0) {
			len += (size_t)snprintf(line + len, sizeof(line) - len, " no-reply(%s)=%llu",
			    ac_strerror((ac_err)i), (unsigned long long)t);
		}
		if (r > 0 && len < sizeof(line) - 80) {
			len += (size_t)snprintf(line + len, sizeof(line) - len, " error-reply(%s)=%llu",
			    ac_err_wire_name((ac_err)i), (unsigned long long)r);
		}
	}
	printf("  errors:%s\n", line);
}
