/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's thread: creates its agents' tokens and says hello for them, then
 * composes requests (a valid one of a weighted op, then mutated, padded or byte-changed,
 * or a whole-message special), sends each, checks the reply and learns from it. The
 * n-th request of thread t draws from its own generator seeded by (seed, t, n).
 */
#include <stdio.h>
#include <string.h>

#include "codec/ops.h"
#include "livefuzz.h"
#include "rt/clock.h"

#define SETUP_TIMEOUT_MS 10000
#define LIVENESS_MIN_MS 5000 /* a liveness ping's own deadline, at least */
#define MAX_WAIT_MS 30000    /* the longest wait_ms a request may ask for (DESIGN §4) */

/* A setup request on the thread's socket. AC_OK, the reply's error code, AC_EPROTO for
 * a malformed reply or AC_ETIMEDOUT for none; the reply's token into tok when not NULL. */
static ac_err setup_call(lf_worker *w, const lf_node *req, char *tok, size_t cap)
{
	lf_buf b = { 0 };
	nng_msg *m = NULL;
	ac_err err = AC_ETIMEDOUT;

	lf_encode(&w->g, &b, req, 0);
	if (lf_wire_call(w->sock, &b, SETUP_TIMEOUT_MS, &m) == 0) {
		lf_reply r;
		lf_verdict v = lf_check_reply(&r, nng_msg_body(m), nng_msg_len(m));

		err = v == LF_REPLY_OK ? AC_OK : v == LF_REPLY_ERROR ? r.code : AC_EPROTO;
		if (v == LF_REPLY_OK && tok != NULL) {
			lf_mp_str(r.root, "token", tok, cap);
		}
		lf_reply_fini(&r);
		nng_msg_free(m);
	}
	lf_buf_fini(&b);
	return err;
}

/* A token for each agent, then its hello. False (said on stderr) when one fails. */
static bool setup(lf_worker *w)
{
	const char *admin = w->run->opts->token;
	lf_gen *g = &w->g;

	for (int i = 0; i < LF_AGENTS; i++) {
		lf_agent *a = &w->agents[i];
		lf_node *m;
		ac_err err;

		snprintf(a->id, sizeof(a->id), "fz-t%u-a%d", w->index, i);
		ac_arena_reset(&g->a);
		m = lf_map(g);
		lf_put(g, m, "op", lf_str(g, "token.create"));
		lf_put(g, m, "token", lf_str(g, admin));
		lf_put(g, m, "role", lf_str(g, "agent"));
		lf_put(g, m, "agent_id", lf_str(g, a->id));
		err = setup_call(w, m, a->token, sizeof(a->token));
		if (err == AC_ECONFLICT) { /* --insecure: no tokens, anyone may act as an agent */
			snprintf(a->token, sizeof(a->token), "%s", admin);
		} else if (err != AC_OK) {
			fprintf(stderr, "agentcom-livefuzz: setup: token.create for %s: %s\n", a->id,
			    ac_err_wire_name(err));
			return false;
		}
		m = lf_map(g);
		lf_put(g, m, "op", lf_str(g, "agent.hello"));
		lf_put(g, m, "token", lf_str(g, a->token));
		lf_put(g, m, "agent_id", lf_str(g, a->id));
		if ((err = setup_call(w, m, NULL, 0)) != AC_OK) {
			fprintf(stderr, "agentcom-livefuzz: setup: agent.hello for %s: %s\n", a->id,
			    ac_err_wire_name(err));
			return false;
		}
	}
	return true;
}

static int pick_op(lf_gen *g)
{
	int total = 0, pick, op = 0;

	for (int i = 0; i < lf_op_count; i++) {
		total += lf_ops[i].weight;
	}
	pick = (int)lf_below(&g->r, (uint32_t)total);
	while (pick >= lf_ops[op].weight) {
		pick -= lf_ops[op++].weight;
	}
	return op;
}

static int mutation_count(lf_gen *g)
{
	uint32_t k = lf_below(&g->r, 100);
	int many = 1 + (int)lf_below(&g->r, 6);

	return k < 25 ? 0 : k < 65 ? 1 : k < 85 ? 2 : many;
}

/* The longest wait the top-level map asks for (every wait_ms or fetch_wait_ms key the
 * server would accept: an unsigned number up to 30 000). */
static int64_t tree_wait(const lf_node *m)
{
	int64_t wait = 0;

	for (uint32_t i = 0; i < m->count; i++) {
		const lf_node *k = m->kids[2 * i], *v = m->kids[2 * i + 1];
		bool is_wait = lf_is_key(k, "wait_ms") || lf_is_key(k, "fetch_wait_ms");

		if (is_wait && v->type == LF_UINT && v->u <= MAX_WAIT_MS && (int64_t)v->u > wait) {
			wait = (int64_t)v->u;
		}
	}
	return wait;
}

static void compose_op(lf_worker *w, lf_req *req)
{
	lf_gen *g = &w->g;
	const char *token;
	bool has_token = !lf_coin(&g->r, 3), is_shuffled = lf_coin(&g->r, 20);
	bool is_padded = lf_coin(&g->r, (int)w->run->opts->pad_rate);
	bool is_wide = lf_coin(&g->r, 10), is_byte_mutated = lf_coin(&g->r, 12);
	int mutations = mutation_count(g);
	lf_node *m;

	req->op = pick_op(g);
	m = lf_build(w, req->op, &req->agent, &token);
	if (has_token) {
		lf_put(g, m, "token", lf_str(g, token));
	} else {
		req->mutations++;
	}
	if (is_shuffled && m->count > 1) {
		lf_swap(m, lf_below(&g->r, m->count), lf_below(&g->r, m->count));
	}
	for (int i = 0; i < mutations; i++) {
		lf_mutate(w, m);
	}
	req->mutations += mutations;
	req->wait_ms = tree_wait(m);
	if (is_padded && m->count > 1) {
		req->is_padded = lf_pad(g, m, &req->buf);
		return;
	}
	lf_encode(g, &req->buf, m, is_wide ? 30 : 0);
	if (is_byte_mutated) {
		lf_mutate_bytes(g, &req->buf);
		req->mutations++;
		/* the change may have made some wait bigger: allow the longest */
		if (memmem(req->buf.p, req->buf.len, "wait_ms", 7) != NULL) {
			req->wait_ms = MAX_WAIT_MS;
		}
	}
}

static void compose(lf_worker *w, lf_req *req)
{
	lf_gen *g = &w->g;
	uint32_t kind = lf_below(&g->r, 100);
	bool is_oversize = lf_coin(&g->r, 2);

	if (kind < 3) {
		lf_special(w, &req->buf);
		req->mutations = 1;
	} else if (kind == 3 && is_oversize) {
		lf_oversize(w, &req->buf);
		req->mutations = 1;
	} else {
		compose_op(w, req);
	}
}

/* Said about an error reply that is well formed but worth a look. */
static void note_error(lf_worker *w, const lf_req *req, const lf_reply *r, nng_msg *m)
{
	lf_run *run = w->run;
	bool is_refusal = r->code == AC_EBADREQ || r->code == AC_EUNKNOWNOP ||
	    r->code == AC_EINVAL || r->code == AC_EUNAUTH || r->code == AC_EPERM;

	if (r->code == AC_EINTERNAL || r->code == AC_EUNAVAIL) {
		lf_report(run, w, req, true, r->code_name, nng_msg_body(m), nng_msg_len(m),
		    "message=%s field=%s", r->message, r->field);
	}
	/* a previous page's cursor no longer fits once the filters changed: expected */
	if (req->mutations == 0 && is_refusal && strcmp(r->field, "cursor") != 0) {
		atomic_fetch_add(&run->st.valid_rejected, 1);
		lf_report(run, w, req, true, "valid_rejected", nng_msg_body(m), nng_msg_len(m),
		    "code=%s message=%s field=%s", r->code_name, r->message, r->field);
	}
}

static void check(lf_worker *w, const lf_req *req, nng_msg *m)
{
	lf_stats *st = &w->run->st;
	lf_reply r;
	lf_verdict v = lf_check_reply(&r, nng_msg_body(m), nng_msg_len(m));

	if (v == LF_REPLY_OK) {
		atomic_fetch_add(&st->ok, 1);
		if (req->op >= 0) {
			atomic_fetch_add(&st->ok_by_op[req->op], 1);
		}
		lf_harvest(w, req, r.root);
	} else if (v == LF_REPLY_ERROR) {
		atomic_fetch_add(&st->errors, 1);
		atomic_fetch_add(&st->by_code[r.code], 1);
		note_error(w, req, &r, m);
		lf_harvest_error(w, req, r.code);
	} else {
		atomic_fetch_add(&st->malformed, 1);
		if (v == LF_REPLY_UNKNOWN_CODE) {
			atomic_fetch_add(&st->unknown_code, 1);
		}
		lf_report(w->run, w, req, false, "malformed_reply", nng_msg_body(m), nng_msg_len(m),
		    "%s", r.why);
	}
	lf_reply_fini(&r);
}

static void missing(lf_worker *w, const lf_req *req, int rv, int64_t waited_ms)
{
	lf_run *run = w->run;
	const lf_opts *o = run->opts;
	int64_t timeout = o->deadline_ms > LIVENESS_MIN_MS ? o->deadline_ms : LIVENESS_MIN_MS;
	bool is_alive = lf_wire_alive(o->url, o->token, (int)timeout);

	atomic_fetch_add(&run->st.missing, 1);
	lf_report(run, w, req, false, "no_reply", NULL, 0,
	    "%s after %lld ms (request wait %lld ms); the server %s", nng_strerror(rv),
	    (long long)waited_ms, (long long)req->wait_ms,
	    is_alive ? "still answers ping" : "does not answer ping: stopping");
	if (!is_alive) {
		atomic_store(&run->is_server_down, true);
		atomic_store(&run->is_stopping, true);
	}
}

static void send_oversize(lf_worker *w, const lf_req *req)
{
	lf_run *run = w->run;
	int64_t timeout = run->opts->deadline_ms > LIVENESS_MIN_MS ? run->opts->deadline_ms
	                                                           : LIVENESS_MIN_MS;
	lf_oversize_result r = lf_wire_oversize(run->opts->url, &req->buf, timeout);

	if (r == LF_OVERSIZE_UNSENT) {
		atomic_fetch_add(&run->st.skipped, 1);
		return;
	}
	atomic_fetch_add(&run->st.sent, 1);
	atomic_fetch_add(&run->st.oversize_sent, 1);
	if (r == LF_OVERSIZE_DROPPED) {
		atomic_fetch_add(&run->st.oversize_dropped, 1);
	} else {
		lf_report(run, w, req, false, "oversize_not_dropped", NULL, 0, "%s",
		    r == LF_OVERSIZE_ANSWERED ? "the server answered a request over 2 MiB"
		                              : "the connection stayed open");
	}
}

static void send_and_check(lf_worker *w, const lf_req *req)
{
	lf_stats *st = &w->run->st;
	int64_t t0, elapsed;
	nng_msg *m = NULL;
	int rv;

	/* SP frames count the 4-byte REQ header against the server's limit */
	if (req->buf.len + 4 > AC_MAX_REQUEST_BYTES) {
		send_oversize(w, req);
		return;
	}
	atomic_fetch_add(&st->sent, 1);
	if (req->op >= 0) {
		atomic_fetch_add(&st->by_op[req->op], 1);
	}
	if (req->mutations == 0) {
		atomic_fetch_add(&st->valid, 1);
	}
	if (req->is_padded) {
		atomic_fetch_add(&st->padded, 1);
	}
	t0 = ac_clock_mono_ms();
	rv = lf_wire_call(w->sock, &req->buf, w->run->opts->deadline_ms + req->wait_ms, &m);
	elapsed = ac_clock_mono_ms() - t0;
	if (rv != 0) {
		missing(w, req, rv, elapsed);
		return;
	}
	atomic_fetch_add(&st->replies, 1);
	lf_atomic_max(&st->slowest_ms, (uint64_t)(elapsed > req->wait_ms ? elapsed - req->wait_ms : 0));
	check(w, req, m);
	nng_msg_free(m);
}

static bool has_more(const lf_worker *w)
{
	if (atomic_load(&w->run->is_stopping)) {
		return false;
	}
	return w->quota != 0 ? w->n < w->quota : ac_clock_mono_ms() < w->end_ms;
}

void *lf_worker_main(void *arg)
{
	lf_worker *w = arg;
	lf_run *run = w->run;
	lf_req req = { .op = -1 };
	int rv;

	if ((rv = lf_wire_open(w)) != 0) {
		fprintf(stderr, "agentcom-livefuzz: %s: %s\n", run->opts->url, nng_strerror(rv));
		atomic_store(&run->is_setup_failed, true);
		atomic_store(&run->is_stopping, true);
		atomic_fetch_sub(&run->running, 1);
		return NULL;
	}
	if (!setup(w)) {
		atomic_store(&run->is_setup_failed, true);
		atomic_store(&run->is_stopping, true);
	}
	for (; has_more(w); w->n++) {
		ac_arena_reset(&w->g.a);
		lf_rng_seed(&w->g.r, run->opts->seed, w->index, w->n);
		req = (lf_req){ .op = -1, .agent = -1, .buf = req.buf };
		req.buf.len = 0;
		req.buf.is_over = false;
		compose(w, &req);
		if (req.buf.is_over) {
			atomic_fetch_add(&run->st.skipped, 1);
		} else {
			send_and_check(w, &req);
		}
		atomic_store(&run->last_done_ms, ac_clock_mono_ms());
	}
	nng_close(w->sock);
	lf_buf_fini(&req.buf);
	ac_arena_fini(&w->g.a);
	atomic_fetch_sub(&run->running, 1);
	return NULL;
}
