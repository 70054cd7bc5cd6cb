/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's output: one stderr line per failure (and per note worth a look)
 * with the request's bytes in hex, optionally saved for replay; the progress line; and
 * the summary on stdout that ends every run and decides its exit status.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "livefuzz.h"

#define MAX_FAILURES_SHOWN 40 /* the rest are counted only */
#define MAX_NOTES_SHOWN 20
#define MAX_SAVED 200
#define HEX_BYTES 512         /* of a request or reply shown */

void lf_atomic_max(_Atomic uint64_t *v, uint64_t x)
{
	uint64_t cur = atomic_load(v);

	while (x > cur && !atomic_compare_exchange_weak(v, &cur, x)) {
	}
}

static void hex(FILE *f, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len && i < HEX_BYTES; i++) {
		fprintf(f, "%02x", p[i]);
	}
	if (len > HEX_BYTES) {
		fprintf(f, "... (%zu bytes)", len);
	}
}

/* Writes the request to DIR/KIND-tTHREAD-nREQUEST.bin, for sending again by hand. */
static void save(const lf_run *run, const lf_worker *w, const lf_req *req, const char *kind)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-t%u-n%" PRIu64 ".bin", run->opts->save_dir, kind,
	    w->index, w->n);
	if ((f = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "agentcom-livefuzz: cannot write %s\n", path);
		return;
	}
	fwrite(req->buf.p, 1, req->buf.len, f);
	fclose(f);
}

void lf_report(lf_run *run, const lf_worker *w, const lf_req *req, bool is_note,
    const char *kind, const uint8_t *reply, size_t reply_len, const char *fmt, ...)
{
	unsigned *shown = is_note ? &run->notes_shown : &run->failures_shown;
	unsigned cap = is_note ? MAX_NOTES_SHOWN : MAX_FAILURES_SHOWN;
	va_list ap;

	pthread_mutex_lock(&run->log_lock);
	if (run->opts->save_dir != NULL && !is_note && run->saved < MAX_SAVED) {
		run->saved++;
		save(run, w, req, kind);
	}
	if ((*shown)++ < cap) {
		fprintf(stderr, "agentcom-livefuzz: %s %s: op=%s thread=%u request=%" PRIu64
		    " mutations=%d len=%zu: ", is_note ? "note" : "FAIL", kind,
		    req->op >= 0 ? lf_ops[req->op].name : "(special)", w->index, w->n,
		    req->mutations, req->buf.len);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputs("\n  request: ", stderr);
		hex(stderr, req->buf.p, req->buf.len);
		if (reply != NULL) {
			fputs("\n  reply: ", stderr);
			hex(stderr, reply, reply_len);
		}
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&run->log_lock);
}

void lf_report_progress(const lf_run *run, int64_t elapsed_ms)
{
	const lf_stats *st = &run->st;

	fprintf(stderr, "agentcom-livefuzz: [%4" PRId64 " s] sent=%" PRIu64 " checked=%" PRIu64
	    " malformed=%" PRIu64 " missing=%" PRIu64 " slowest_reply_ms=%" PRIu64 "\n",
	    elapsed_ms / 1000, atomic_load(&st->sent), atomic_load(&st->replies),
	    atomic_load(&st->malformed), atomic_load(&st->missing), atomic_load(&st->slowest_ms));
}

static void print_codes(const lf_stats *st)
{
	printf("replies: ok=%" PRIu64, atomic_load(&st->ok));
	for (int e = AC_EBADREQ; e <= AC_EINTERNAL; e++) {
		printf(" %s=%" PRIu64, ac_err_wire_name((ac_err)e), atomic_load(&st->by_code[e]));
	}
	printf(" unknown_code=%" PRIu64 "\n", atomic_load(&st->unknown_code));
}

static void print_ops(const lf_stats *st)
{
	fputs("ops (sent/ok):", stdout);
	for (int i = 0; i < lf_op_count; i++) {
		printf(" %s=%" PRIu64 "/%" PRIu64, lf_ops[i].name, atomic_load(&st->by_op[i]),
		    atomic_load(&st->ok_by_op[i]));
	}
	putchar('\n');
}

int lf_report_summary(const lf_run *run, bool is_server_up, bool is_stuck)
{
	const lf_stats *st = &run->st;
	uint64_t oversize = atomic_load(&st->oversize_sent);
	uint64_t dropped = atomic_load(&st->oversize_dropped);
	bool is_failed = atomic_load(&st->malformed) != 0 || atomic_load(&st->missing) != 0 ||
	    dropped != oversize || !is_server_up || is_stuck || atomic_load(&run->is_setup_failed);

	print_ops(st);
	print_codes(st);
	printf("notes: valid=%" PRIu64 " valid_rejected=%" PRIu64 " padded=%" PRIu64
	    " not_sent_over_limit=%" PRIu64 "%s%s\n", atomic_load(&st->valid),
	    atomic_load(&st->valid_rejected), atomic_load(&st->padded),
	    atomic_load(&st->skipped), is_stuck ? " threads_stuck" : "",
	    atomic_load(&run->is_setup_failed) ? " setup_failed" : "");
	printf("agentcom-livefuzz: %s sent=%" PRIu64 " checked=%" PRIu64 " malformed=%" PRIu64
	    " missing=%" PRIu64 " oversize_dropped=%" PRIu64 "/%" PRIu64 " slowest_reply_ms=%"
	    PRIu64 " server=%s seed=%" PRIu64 "\n", is_failed ? "FAIL" : "PASS",
	    atomic_load(&st->sent), atomic_load(&st->replies), atomic_load(&st->malformed),
	    atomic_load(&st->missing), dropped, oversize, atomic_load(&st->slowest_ms),
	    is_server_up ? "up" : "DOWN", run->opts->seed);
	fflush(stdout);
	return is_failed ? 1 : 0;
}
