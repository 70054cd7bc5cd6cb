/* SPDX-License-Identifier: MIT
 * The endpoint health prober of prober.h. Each probe is a small state machine driven
 * by one nng_aio: connect, write request, read head, read body; first for /api/tags,
 * then for /api/ps. It owns its nng HTTP objects and sends exactly one result to the
 * registry. It never closes or frees nng objects inside a callback (that blocks):
 * finished probes are reaped on the owner's thread by a later probe() (in batches) or
 * by free(). Which tags are in flight is a hash set, so a probe costs the same however
 * many endpoints the registry has.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "queue/task_map.h"
#include "registry/http_body.h"
#include "registry/ollama_json.h"
#include "registry/probe_result.h"
#include "registry/prober.h"
#include "rt/clock.h"
#include "rt/log.h"

#define READ_CHUNK (16u * 1024u) /* bytes per raw read of a chunked or EOF body */
#define HOST_MAX 253u
/* Finished probes are freed once this many have piled up: a reap walks every probe, so
 * reaping before each new probe made a health pass over n endpoints cost n^2 steps. */
#define REAP_BATCH 32

typedef enum step { ST_CONNECT, ST_SEND, ST_HEAD, ST_BODY_FULL, ST_BODY_RAW, ST_COUNT } step;
typedef enum req_kind { REQ_TAGS, REQ_PS } req_kind;
typedef enum framing { FR_LENGTH, FR_CHUNKED, FR_EOF } framing;

typedef struct probe probe;
struct probe {
	/* set by probe_alloc, then read-only */
	ac_prober *p;
	uint64_t tag;
	int64_t started_ms, deadline_ms; /* monotonic */
	nng_aio *aio;                    /* the one operation in flight */
	nng_url *url;
	nng_http_client *cli;
	/* One request and one response per kind: nng 1.5.2 caches a request's serialized
	 * head, so nng_http_req_set_uri on a request that was sent once has no effect. */
	nng_http_req *reqs[2];
	nng_http_res *ress[2];
	uint8_t *rbuf;                   /* READ_CHUNK bytes for raw reads */
	/* owned by the callback chain: one operation at a time, so one writer at a time */
	step st;
	req_kind kind;
	framing fr;
	nng_http_conn *conns[2];         /* one per request, closed by probe_free */
	ac_body body;
	ac_chunked chunked;
	ac_ollama_models models, loaded; /* /api/tags, /api/ps */
	bool has_loaded;                 /* /api/ps answered with a models array */
	/* guarded by ac_prober.mu */
	bool is_done;                    /* the result was sent (or dropped at shutdown) */
	probe *next;
};

struct ac_prober {
	/* set by ac_prober_alloc, then read-only */
	ac_rt *rt;
	ac_actor_id to;
	pthread_mutex_t mu;
	/* guarded by mu */
	probe *probes;   /* every probe not yet freed, in flight or done */
	ac_task_map busy; /* tag -> its probe, while not done (one probe per tag) */
	size_t done_count; /* probes in the list that are done */
	bool is_closing; /* ac_prober_free started: callbacks send nothing more */
};

static void start_request(probe *pr, req_kind kind);

/* ---- results ---- */

static bool is_probe(const void *val, const void *ctx)
{
	return val == ctx;
}

static bool mark_done(probe *pr)
{
	pthread_mutex_lock(&pr->p->mu);
	pr->is_done = true;
	pr->p->done_count++;
	ac_task_map_remove(&pr->p->busy, pr->tag, is_probe, pr); /* never allocates */
	bool is_closing = pr->p->is_closing;
	pthread_mutex_unlock(&pr->p->mu);
	return is_closing;
}

/* Ends the probe: the tag is free again before the registry sees the result. */
static void finish(probe *pr, bool ok, const char *why)
{
	nng_msg *m = NULL;
	uint64_t ms = (uint64_t)(ac_clock_mono_ms() - pr->started_ms);
	ac_err err = ac_probe_result_msg(pr->tag, ok ? NULL : why, &pr->models,
	    pr->has_loaded ? &pr->loaded : NULL, ms, &m);
	bool is_closing = mark_done(pr);
	if (err == AC_OK && !is_closing) {
		err = ac_rt_send(pr->p->rt, pr->p->to, &m);
	}
	if (err != AC_OK && !is_closing) {
		ac_log(AC_LOG_WARN, "prober", "result_lost", "tag=%" PRIu64 " err=%s", pr->tag,
		    ac_strerror(err));
	}
	if (m != NULL) {
		nng_msg_free(m); /* not sent */
	}
}

/* /api/tags decides health; /api/ps only adds loaded models, so an Ollama without
 * it (404) or a failure there still reports ok, with loaded_models absent. */
static void fail(probe *pr, const char *why)
{
	if (pr->kind == REQ_PS) {
		ac_log(AC_LOG_DEBUG, "prober", "ps_failed", "tag=%" PRIu64 " error=\"%s\"", pr->tag, why);
		finish(pr, true, NULL);
		return;
	}
	finish(pr, false, why);
}

static void fail_nng(probe *pr, int rv)
{
	static const char *const phase[ST_COUNT] = {
		[ST_CONNECT] = "connect", [ST_SEND] = "send", [ST_HEAD] = "recv",
		[ST_BODY_FULL] = "recv", [ST_BODY_RAW] = "recv",
	};
	char why[128];
	snprintf(why, sizeof(why), "%s: %s", phase[pr->st], nng_strerror(rv));
	fail(pr, rv == NNG_ETIMEDOUT ? "timeout" : why);
}

/* ---- the state machine ---- */

/* Sets the next step and the aio's timeout to what is left of the probe (at most
 * cap_ms when cap_ms > 0). False, with the probe failed, when nothing is left. */
static bool arm(probe *pr, step st, int64_t cap_ms)
{
	int64_t left = pr->deadline_ms - ac_clock_mono_ms();
	if (left <= 0) {
		fail(pr, "timeout");
		return false;
	}
	pr->st = st;
	nng_aio_set_timeout(pr->aio, (nng_duration)(cap_ms > 0 && left > cap_ms ? cap_ms : left));
	return true;
}

static void on_connected(probe *pr)
{
	if (arm(pr, ST_SEND, 0)) {
		nng_http_conn_write_req(pr->conns[pr->kind], pr->reqs[pr->kind], pr->aio);
	}
}

static void on_sent(probe *pr)
{
	if (arm(pr, ST_HEAD, 0)) {
		nng_http_conn_read_res(pr->conns[pr->kind], pr->ress[pr->kind], pr->aio);
	}
}

/* A whole body arrived: parse it and go on to /api/ps, or report. */
static void on_body(probe *pr)
{
	ac_ollama_models *m = pr->kind == REQ_TAGS ? &pr->models : &pr->loaded;
	const char *json = pr->body.p != NULL ? (const char *)pr->body.p : "";
	ac_err err = ac_ollama_models_parse(m, json, pr->body.len);
	if (err != AC_OK) {
		fail(pr, err == AC_ENOTFOUND ? "no models array" :
		    err == AC_ENOMEM ? "out of memory" : "bad json");
	} else if (pr->kind == REQ_TAGS) {
		start_request(pr, REQ_PS);
	} else {
		pr->has_loaded = true;
		finish(pr, true, NULL);
	}
}

static void read_raw(probe *pr)
{
	nng_iov iov = { .iov_buf = pr->rbuf, .iov_len = READ_CHUNK };
	if (arm(pr, ST_BODY_RAW, 0)) {
		nng_aio_set_iov(pr->aio, 1, &iov);
		nng_http_conn_read(pr->conns[pr->kind], pr->aio);
	}
}

/* A Content-Length body of len (<= AC_PROBE_MAX_BODY) bytes: one exact read. */
static void read_length(probe *pr, size_t len)
{
	if (len == 0) {
		on_body(pr); /* an empty body is "bad json" */
		return;
	}
	uint8_t *p = malloc(len + 1);
	if (p == NULL) {
		fail(pr, "out of memory");
		return;
	}
	ac_body_fini(&pr->body);
	pr->body = (ac_body){ .p = p, .len = len, .cap = len + 1, .max = AC_PROBE_MAX_BODY };
	pr->fr = FR_LENGTH;
	nng_iov iov = { .iov_buf = p, .iov_len = len };
	if (arm(pr, ST_BODY_FULL, 0)) {
		nng_aio_set_iov(pr->aio, 1, &iov);
		nng_http_conn_read_all(pr->conns[pr->kind], pr->aio);
	}
}

/* The head arrived: check the status, then read the body as the head frames it. A
 * claimed size is checked before anything is allocated for it. */
static void on_head(probe *pr)
{
	char why[32];
	nng_http_res *res = pr->ress[pr->kind];
	uint16_t status = nng_http_res_get_status(res);
	const char *te = nng_http_res_get_header(res, "Transfer-Encoding");
	const char *cl = nng_http_res_get_header(res, "Content-Length");
	uint64_t len = 0;
	bool has_length = cl != NULL && ac_http_content_length(cl, &len);
	if (status != 200) {
		snprintf(why, sizeof(why), "http %u", (unsigned)status);
		fail(pr, why);
	} else if (te != NULL && strcasestr(te, "chunked") != NULL) {
		pr->fr = FR_CHUNKED; /* checked first: it overrides any Content-Length */
		ac_chunked_init(&pr->chunked);
		read_raw(pr);
	} else if (cl != NULL && !has_length) {
		fail(pr, "bad content-length");
	} else if (len > AC_PROBE_MAX_BODY) {
		fail(pr, "body too large");
	} else if (!has_length) {
		pr->fr = FR_EOF; /* HTTP/1.0 style: the body ends when the server closes */
		read_raw(pr);
	} else {
		read_length(pr, (size_t)len);
	}
}

static void on_body_raw(probe *pr)
{
	size_t n = nng_aio_count(pr->aio), used;
	ac_err err = pr->fr == FR_CHUNKED ?
	    ac_chunked_feed(&pr->chunked, pr->rbuf, n, &pr->body, &used) :
	    ac_body_append(&pr->body, pr->rbuf, n);
	if (err != AC_OK) {
		fail(pr, err == AC_ETOOLARGE ? "body too large" :
		    err == AC_ENOMEM ? "out of memory" : "bad chunked encoding");
	} else if (pr->fr == FR_CHUNKED && ac_chunked_is_done(&pr->chunked)) {
		on_body(pr);
	} else {
		read_raw(pr);
	}
}

typedef void (*step_fn)(probe *pr);

/* What to do when the operation of each step completed successfully. */
static const step_fn steps[ST_COUNT] = {
	[ST_CONNECT] = on_connected,
	[ST_SEND] = on_sent,
	[ST_HEAD] = on_head,
	[ST_BODY_FULL] = on_body,
	[ST_BODY_RAW] = on_body_raw,
};

/* The aio callback (nng taskq thread): never blocks, never closes anything. */
static void on_aio(void *arg)
{
	probe *pr = arg;
	int rv = nng_aio_result(pr->aio);
	if (rv == 0 && pr->st == ST_CONNECT) {
		pr->conns[pr->kind] = nng_aio_get_output(pr->aio, 0); /* ours even if closing */
	}
	pthread_mutex_lock(&pr->p->mu);
	bool is_closing = pr->p->is_closing;
	pthread_mutex_unlock(&pr->p->mu);
	if (is_closing) {
		mark_done(pr); /* cancelled by ac_prober_free: no result */
	} else if (rv != 0 && pr->st == ST_BODY_RAW && pr->fr == FR_EOF &&
	    (rv == NNG_ECONNSHUT || rv == NNG_ECLOSED)) {
		on_body(pr);
	} else if (rv != 0) {
		fail_nng(pr, rv);
	} else {
		steps[pr->st](pr);
	}
}

static void start_request(probe *pr, req_kind kind)
{
	pr->kind = kind;
	ac_body_fini(&pr->body);
	if (arm(pr, ST_CONNECT, AC_PROBE_CONNECT_TIMEOUT_MS)) {
		nng_http_client_connect(pr->cli, pr->aio);
	}
}

/* ---- lifecycle ---- */

/* Frees pr and everything it owns. Its aio must be idle or stopped; blocks briefly
 * (closing connections), so never from a callback. */
static void probe_free(probe *pr)
{
	if (pr->aio != NULL) {
		nng_aio_free(pr->aio);
	}
	for (size_t i = 0; i < 2; i++) {
		if (pr->conns[i] != NULL) {
			nng_http_conn_close(pr->conns[i]); /* closes and frees */
		}
	}
	if (pr->cli != NULL) {
		nng_http_client_free(pr->cli);
	}
	for (size_t i = 0; i < 2; i++) {
		if (pr->reqs[i] != NULL) {
			nng_http_req_free(pr->reqs[i]);
		}
		if (pr->ress[i] != NULL) {
			nng_http_res_free(pr->ress[i]);
		}
	}
	if (pr->url != NULL) {
		nng_url_free(pr->url);
	}
	ac_body_fini(&pr->body);
	ac_ollama_models_fini(&pr->models);
	ac_ollama_models_fini(&pr->loaded);
	free(pr->rbuf);
	free(pr);
}

/* A host goes into the URL as-is (bracketed when IPv6), so only name, IPv4 and IPv6
 * characters are accepted: nothing that could add a path, user info or a port. */
static bool is_valid_host(const char *host)
{
	size_t n = strlen(host);
	if (n == 0 || n > HOST_MAX) {
		return false;
	}
	return strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_:%") == n;
}

/* One GET of path with the probe's URL as its base. */
static int alloc_request(probe *pr, req_kind kind, const char *path)
{
	int rv;
	if ((rv = nng_http_req_alloc(&pr->reqs[kind], pr->url)) == 0 &&
	    (rv = nng_http_req_set_uri(pr->reqs[kind], path)) == 0 &&
	    (rv = nng_http_req_set_header(pr->reqs[kind], "Accept", "application/json")) == 0 &&
	    (rv = nng_http_req_set_header(pr->reqs[kind], "Connection", "close")) == 0) {
		rv = nng_http_res_alloc(&pr->ress[kind]);
	}
	return rv;
}

/* Creates the URL, client, requests and responses. AC_EADDRINVAL for a host or port
 * that cannot be probed, AC_ENOMEM. */
static ac_err setup_http(probe *pr, const char *host, uint16_t port)
{
	char url[HOST_MAX + 32];
	bool is_v6 = strchr(host, ':') != NULL;
	if (!is_valid_host(host) || port == 0) {
		return AC_EADDRINVAL;
	}
	snprintf(url, sizeof(url), is_v6 ? "http://[%s]:%u" : "http://%s:%u", host,
	    (unsigned)port);
	int rv = nng_url_parse(&pr->url, url);
	if (rv == 0) {
		rv = nng_http_client_alloc(&pr->cli, pr->url);
	}
	if (rv == 0 && (rv = alloc_request(pr, REQ_TAGS, "/api/tags")) == 0) {
		rv = alloc_request(pr, REQ_PS, "/api/ps");
	}
	return rv == 0 ? AC_OK : rv == NNG_ENOMEM ? AC_ENOMEM : AC_EADDRINVAL;
}

static ac_err probe_alloc(ac_prober *p, uint64_t tag, const char *host, uint16_t port,
    probe **out)
{
	probe *pr = calloc(1, sizeof(*pr));
	if (pr == NULL) {
		return AC_ENOMEM;
	}
	pr->p = p;
	pr->tag = tag;
	pr->started_ms = ac_clock_mono_ms();
	pr->deadline_ms = pr->started_ms + AC_PROBE_REQUEST_TIMEOUT_MS;
	pr->body.max = AC_PROBE_MAX_BODY;
	ac_err err = AC_ENOMEM;
	if (nng_aio_alloc(&pr->aio, on_aio, pr) == 0 && (pr->rbuf = malloc(READ_CHUNK)) != NULL) {
		err = setup_http(pr, host, port);
	}
	if (err == AC_ENOMEM) {
		probe_free(pr);
		return err;
	}
	*out = pr;
	return err;
}

/* Frees the probes that are done (owner's thread), once REAP_BATCH of them are. */
static void reap(ac_prober *p)
{
	probe *dead = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->done_count < REAP_BATCH) {
		pthread_mutex_unlock(&p->mu);
		return;
	}
	p->done_count = 0;
	for (probe **pp = &p->probes; *pp != NULL;) {
		probe *pr = *pp;
		if (pr->is_done) {
			*pp = pr->next;
			pr->next = dead;
			dead = pr;
		} else {
			pp = &pr->next;
		}
	}
	pthread_mutex_unlock(&p->mu);
	while (dead != NULL) {
		probe *next = dead->next;
		probe_free(dead); /* waits for the callback that marked it done to return */
		dead = next;
	}
}

ac_err ac_prober_alloc(ac_rt *rt, ac_actor_id to, ac_prober **out)
{
	ac_prober *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return AC_ENOMEM;
	}
	p->rt = rt;
	p->to = to;
	pthread_mutex_init(&p->mu, NULL);
	*out = p;
	return AC_OK;
}

void ac_prober_free(ac_prober *p)
{
	if (p == NULL) {
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->is_closing = true;
	probe *all = p->probes;
	p->probes = NULL;
	ac_task_map_fini(&p->busy);
	pthread_mutex_unlock(&p->mu);
	for (probe *pr = all; pr != NULL; pr = pr->next) {
		nng_aio_stop(pr->aio); /* cancels; waits for the callback */
	}
	while (all != NULL) {
		probe *next = all->next;
		probe_free(all);
		all = next;
	}
	pthread_mutex_destroy(&p->mu);
	free(p);
}

ac_err ac_prober_probe(ac_prober *p, uint64_t tag, const char *host, uint16_t port)
{
	probe *pr = NULL;
	reap(p);
	pthread_mutex_lock(&p->mu);
	bool is_busy = ac_task_map_find(&p->busy, tag, NULL, NULL) != NULL;
	pthread_mutex_unlock(&p->mu);
	if (is_busy) {
		return AC_OK; /* one probe per tag: its result is still to come */
	}
	ac_err err = probe_alloc(p, tag, host, port, &pr);
	if (err == AC_ENOMEM) {
		return err;
	}
	pthread_mutex_lock(&p->mu);
	if (ac_task_map_put(&p->busy, tag, pr) != AC_OK) {
		pthread_mutex_unlock(&p->mu);
		probe_free(pr); /* never started: no callback can run */
		return AC_ENOMEM;
	}
	pr->next = p->probes;
	p->probes = pr;
	pthread_mutex_unlock(&p->mu);
	if (err == AC_EADDRINVAL) {
		finish(pr, false, "bad address"); /* still exactly one result */
	} else {
		start_request(pr, REQ_TAGS); /* no lock held: nng may call back at once */
	}
	return AC_OK;
}
