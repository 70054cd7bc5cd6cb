/* SPDX-License-Identifier: MIT
 * Telemetry actor. Frames each event as `topic NUL msgpack-map` where the map is
 * {ts_ms, seq, ...the publisher's fields}; seq is per server and gapless, so a
 * subscriber counts what PUB/SUB dropped. Owns the event counters behind `stats`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "codec/ops.h"
#include "rt/clock.h"
#include "rt/log.h"
#include "rt/url.h"
#include "telemetry/telemetry.h"

#define MAX_TOPICS 64
#define TOPIC_MAX 48

typedef struct topic_count {
	char topic[TOPIC_MAX];
	uint64_t count;
} topic_count;

struct ac_telemetry {
	const ac_config *cfg;
	ac_actor *actor;
	nng_socket pub;
	int64_t started_mono_ms;
	uint64_t seq;                   /* last seq published */
	topic_count topics[MAX_TOPICS]; /* events published per topic */
	unsigned topic_count;
	ac_mpw frame;
};

static void count_topic(ac_telemetry *t, const char *topic, size_t len)
{
	for (unsigned i = 0; i < t->topic_count; i++) {
		if (strlen(t->topics[i].topic) == len && memcmp(t->topics[i].topic, topic, len) == 0) {
			t->topics[i].count++;
			return;
		}
	}
	if (t->topic_count < MAX_TOPICS && len < TOPIC_MAX) {
		memcpy(t->topics[t->topic_count].topic, topic, len);
		t->topics[t->topic_count].topic[len] = '\0';
		t->topics[t->topic_count++].count = 1;
	}
}

/* Splits a msgpack map header off p: its entry count and where the entries start. */
/* One event: a topic string, then its data map (see ac_actor_publish). */
static void publish_one(ac_telemetry *t, const uint8_t *ev, size_t len)
{
	msgpack_unpacked u;
	size_t off = 0, hdr;
	uint32_t count;
	nng_msg *m;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)ev, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    u.data.type != MSGPACK_OBJECT_STR || !ac_mp_map_header(ev + off, len - off, &count, &hdr)) {
		msgpack_unpacked_destroy(&u);
		ac_log(AC_LOG_ERR, "telemetry", "bad_event", "len=%zu", len);
		return;
	}
	ac_mpw_reset(&t->frame);
	ac_mpw_raw(&t->frame, u.data.via.str.ptr, u.data.via.str.size);
	ac_mpw_raw(&t->frame, "", 1);
	ac_mpw_map(&t->frame, count + 2);
	ac_mpw_key(&t->frame, "ts_ms");
	ac_mpw_i64(&t->frame, ac_clock_wall_ms());
	ac_mpw_key(&t->frame, "seq");
	ac_mpw_u64(&t->frame, ++t->seq);
	ac_mpw_raw(&t->frame, ev + off + hdr, len - off - hdr);
	count_topic(t, u.data.via.str.ptr, u.data.via.str.size);
	msgpack_unpacked_destroy(&u);
	if (t->frame.err == AC_OK && nng_msg_alloc(&m, 0) == 0) {
		if (nng_msg_append(m, ac_mpw_data(&t->frame), ac_mpw_len(&t->frame)) != 0 ||
		    nng_sendmsg(t->pub, m, NNG_FLAG_NONBLOCK) != 0) {
			nng_msg_free(m);
		}
	}
}

/* Body: one or more events (ac_event_next). */
static void on_event(void *state, ac_call *call)
{
	const uint8_t *ev;
	size_t off = 0, len;

	while (ac_event_next(call->body, call->body_len, &off, &ev, &len)) {
		publish_one(state, ev, len);
	}
	if (off != call->body_len) {
		ac_log(AC_LOG_ERR, "telemetry", "bad_event_batch", "len=%zu", call->body_len);
	}
}

static void on_ping(void *state, ac_call *call)
{
	ac_telemetry *t = state;
	ac_mpw *w = ac_actor_scratch(call->actor);

	ac_mpw_map(w, 4);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_key(w, "version");
	ac_mpw_cstr(w, AC_VERSION);
	ac_mpw_key(w, "proto");
	ac_mpw_u64(w, AC_PROTO_VERSION);
	ac_mpw_key(w, "uptime_ms");
	ac_mpw_i64(w, ac_clock_mono_ms() - t->started_mono_ms);
	ac_actor_reply(call->actor, &call->env, w);
}

/* The last stop of a stats request: the sections the actors before us collected,
 * then uptime and our own counters. */
static void on_stats_collect(void *state, ac_call *call)
{
	ac_telemetry *t = state;
	ac_mpw *w = ac_actor_scratch(call->actor);
	uint32_t sections;
	size_t hdr;

	if (!ac_mp_map_header(call->body, call->body_len, &sections, &hdr)) {
		ac_actor_reply_err(call->actor, &call->env, AC_EINTERNAL, "bad stats section", NULL);
		return;
	}
	ac_mpw_map(w, sections + 3);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_raw(w, call->body + hdr, call->body_len - hdr);
	ac_mpw_key(w, "uptime_ms");
	ac_mpw_i64(w, ac_clock_mono_ms() - t->started_mono_ms);
	ac_mpw_key(w, "telemetry");
	ac_mpw_map(w, 2);
	ac_mpw_key(w, "events_published");
	ac_mpw_u64(w, t->seq);
	ac_mpw_key(w, "by_topic");
	ac_mpw_map(w, t->topic_count);
	for (unsigned i = 0; i < t->topic_count; i++) {
		ac_mpw_key(w, t->topics[i].topic);
		ac_mpw_u64(w, t->topics[i].count);
	}
	ac_actor_reply(call->actor, &call->env, w);
}

static uint64_t topic_total(const ac_telemetry *t, const char *topic)
{
	for (unsigned i = 0; i < t->topic_count; i++) {
		if (strcmp(t->topics[i].topic, topic) == 0) {
			return t->topics[i].count;
		}
	}
	return 0;
}

/* The operator's summary line at shutdown: how long this run lasted and what
 * happened to tasks in it (counted from the events published). */
static void telemetry_actor_stop(void *state, ac_actor *a)
{
	static const char *const outcomes[] = { "submitted", "assigned", "completed", "failed",
		"reclaimed", "dead_letter", "expired", "cancelled" };
	ac_telemetry *t = state;
	char line[512], topic[TOPIC_MAX];
	int used = 0;

	(void)a;
	line[0] = '\0';
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		int n;
		snprintf(topic, sizeof(topic), "task.%s", outcomes[i]);
		n = snprintf(line + used, sizeof(line) - (size_t)used, " tasks_%s=%llu", outcomes[i],
		    (unsigned long long)topic_total(t, topic));
		if (n < 0 || (size_t)n >= sizeof(line) - (size_t)used) {
			break; /* cannot happen at these sizes; never index past the buffer */
		}
		used += n;
	}
	ac_log(AC_LOG_INFO, "telemetry", "summary", "uptime_s=%.1f events=%llu%s",
	    (double)(ac_clock_mono_ms() - t->started_mono_ms) / 1000.0,
	    (unsigned long long)t->seq, line);
}

static const ac_handler telemetry_handlers[AC_MSG_COUNT] = {
	[AC_MSG_TEL_EVENT] = { on_event, NULL },
	[AC_MSG_OP_PING] = { on_ping, &ac_req_empty_schema },
	[AC_MSG_STATS_COLLECT] = { on_stats_collect, NULL },
};

static const ac_actor_def telemetry_def = {
	.name = "telemetry",
	.id = AC_ACTOR_TELEMETRY,
	.handlers = telemetry_handlers,
	.stop = telemetry_actor_stop,
	.max_batch = 1024,
};

static ac_err bind_pub(ac_telemetry *t, char *bound, size_t cap)
{
	nng_listener l;
	int rv, port;

	if ((rv = nng_pub0_open(&t->pub)) != 0) {
		return AC_ENOMEM;
	}
	nng_socket_set_int(t->pub, NNG_OPT_SENDBUF, 8192);
	if ((rv = nng_listen(t->pub, t->cfg->pub_url, &l, 0)) != 0) {
		ac_log(AC_LOG_ERR, "telemetry", "listen_failed", "url=%s error=\"%s\"", t->cfg->pub_url,
		    nng_strerror(rv));
		nng_close(t->pub);
		return rv == NNG_EADDRINVAL ? AC_EADDRINVAL : AC_EIO;
	}
	if (nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
		ac_url_with_port(t->cfg->pub_url, port, bound, cap);
	} else {
		snprintf(bound, cap, "%s", t->cfg->pub_url);
	}
	return AC_OK;
}

ac_err ac_telemetry_start(ac_rt *rt, const ac_config *cfg, ac_telemetry **out, char *bound,
    size_t cap)
{
	ac_telemetry *t = calloc(1, sizeof(*t));
	ac_err err;

	if (t == NULL) {
		return AC_ENOMEM;
	}
	t->cfg = cfg;
	t->started_mono_ms = ac_clock_mono_ms();
	ac_mpw_init(&t->frame);
	if ((err = bind_pub(t, bound, cap)) != AC_OK) {
		goto fail_bind;
	}
	if ((err = ac_actor_start(rt, &telemetry_def, t, &t->actor)) != AC_OK) {
		goto fail_actor;
	}
	*out = t;
	return AC_OK;

fail_actor:
	nng_close(t->pub);
fail_bind:
	ac_mpw_fini(&t->frame);
	free(t);
	return err;
}

void ac_telemetry_stop(ac_telemetry *t)
{
	if (t == NULL) {
		return;
	}
	ac_actor_stop(t->actor);
	nng_close(t->pub);
	ac_mpw_fini(&t->frame);
	free(t);
}
