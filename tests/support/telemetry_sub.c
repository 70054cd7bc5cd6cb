/* SPDX-License-Identifier: MIT
 * The telemetry subscriber of telemetry_sub.h, on libagentcom's ac_sub (which checks
 * each frame and waits without nng timers); unmatched events stay in a FIFO for later
 * waits, each a copy with its map unpacked for path lookups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentcom/json.h"
#include "agentcom/sub.h"
#include "telemetry_sub.h"

#define KEEP_MAX 4096
/* How long ac_tsub_open waits for the connection (the server is up by then). */
#define CONNECT_WAIT_MS 5000

struct ac_tevent {
	char topic[128];
	uint8_t *data; /* the msgpack map (strings of root point into it) */
	size_t len;
	msgpack_unpacked u;
	ac_tevent *next;
};

struct ac_tsub {
	ac_sub *sub;
	ac_tevent *head, *tail; /* received, not taken */
	size_t kept;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ac_tsub *ac_tsub_open(const char *url, const char *const *prefixes)
{
	ac_tsub *s = calloc(1, sizeof(*s));
	ac_err err;

	if (s == NULL) {
		return NULL;
	}
	if ((err = ac_sub_open(&s->sub, url, prefixes)) != AC_OK) {
		fprintf(stderr, "telemetry_sub: %s: %s\n", url, ac_strerror(err));
		free(s);
		return NULL;
	}
	for (long long until = mono_ms() + CONNECT_WAIT_MS; !ac_sub_is_connected(s->sub);) {
		struct timespec ms = { 0, 1000000 };
		if (mono_ms() > until) {
			fprintf(stderr, "telemetry_sub: %s: not connected after %d ms\n", url,
			    CONNECT_WAIT_MS);
			ac_tsub_close(s);
			return NULL;
		}
		nanosleep(&ms, NULL);
	}
	return s;
}

void ac_tevent_free(ac_tevent *e)
{
	if (e != NULL) {
		msgpack_unpacked_destroy(&e->u);
		free(e->data);
		free(e);
	}
}

void ac_tsub_close(ac_tsub *s)
{
	if (s == NULL) {
		return;
	}
	ac_sub_close(s->sub);
	while (s->head != NULL) {
		ac_tevent *e = s->head;
		s->head = e->next;
		ac_tevent_free(e);
	}
	free(s);
}

unsigned ac_tsub_bad_frames(const ac_tsub *s)
{
	return (unsigned)ac_sub_bad_frames(s->sub);
}

/* A copy of ev that outlives the next receive, its map unpacked. */
static ac_tevent *copy_event(const ac_event *ev)
{
	size_t tlen = strlen(ev->topic), off = 0;
	ac_tevent *e;

	if (tlen >= sizeof(e->topic) || (e = calloc(1, sizeof(*e))) == NULL) {
		return NULL;
	}
	memcpy(e->topic, ev->topic, tlen + 1);
	e->len = ev->len;
	msgpack_unpacked_init(&e->u);
	if ((e->data = malloc(e->len + 1)) == NULL) {
		ac_tevent_free(e);
		return NULL;
	}
	memcpy(e->data, ev->data, e->len);
	if (msgpack_unpack_next(&e->u, (const char *)e->data, e->len, &off) != MSGPACK_UNPACK_SUCCESS) {
		ac_tevent_free(e);
		return NULL;
	}
	return e;
}

static void keep(ac_tsub *s, ac_tevent *e)
{
	e->next = NULL;
	if (s->tail != NULL) {
		s->tail->next = e;
	} else {
		s->head = e;
	}
	s->tail = e;
	if (++s->kept > KEEP_MAX) {
		ac_tevent *old = s->head;
		s->head = old->next;
		s->kept--;
		ac_tevent_free(old);
	}
}

/* Receives one event, waiting until deadline; NULL on timeout. */
static ac_tevent *recv_one(ac_tsub *s, long long deadline)
{
	ac_event ev;
	long long left = deadline - mono_ms();

	if (ac_sub_recv(s->sub, left > 0 ? (int)left : 0, &ev) != AC_OK) {
		return NULL;
	}
	return copy_event(&ev);
}

ac_tevent *ac_tsub_recv(ac_tsub *s, int timeout_ms)
{
	ac_tevent *e = s->head;

	if (e != NULL) {
		s->head = e->next;
		if (s->head == NULL) {
			s->tail = NULL;
		}
		s->kept--;
		e->next = NULL;
		return e;
	}
	return recv_one(s, mono_ms() + timeout_ms);
}

typedef struct match {
	const char *topic, *key, *str;
	uint64_t u64;
	bool is_u64;
} match;

static bool matches(const ac_tevent *e, const match *m)
{
	char buf[512];
	uint64_t v;

	if (strcmp(e->topic, m->topic) != 0) {
		return false;
	}
	if (m->key == NULL) {
		return true;
	}
	if (m->is_u64) {
		return ac_tevent_u64(e, m->key, &v) && v == m->u64;
	}
	return ac_tevent_str(e, m->key, buf, sizeof(buf)) && strcmp(buf, m->str) == 0;
}

static ac_tevent *wait_for(ac_tsub *s, const match *m, int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;
	ac_tevent *prev = NULL;

	for (ac_tevent *e = s->head; e != NULL; prev = e, e = e->next) {
		if (matches(e, m)) {
			if (prev != NULL) {
				prev->next = e->next;
			} else {
				s->head = e->next;
			}
			if (s->tail == e) {
				s->tail = prev;
			}
			s->kept--;
			e->next = NULL;
			return e;
		}
	}
	for (;;) {
		ac_tevent *e = recv_one(s, deadline);
		if (e == NULL || matches(e, m)) {
			return e;
		}
		keep(s, e);
	}
}

ac_tevent *ac_tsub_wait(ac_tsub *s, const char *topic, const char *key, const char *value,
    int timeout_ms)
{
	match m = { .topic = topic, .key = key, .str = value != NULL ? value : "" };

	return wait_for(s, &m, timeout_ms);
}

ac_tevent *ac_tsub_wait_u64(ac_tsub *s, const char *topic, const char *key, uint64_t value,
    int timeout_ms)
{
	match m = { .topic = topic, .key = key, .u64 = value, .is_u64 = true };

	return wait_for(s, &m, timeout_ms);
}

/* ---- one event ---- */

const char *ac_tevent_topic(const ac_tevent *e)
{
	return e->topic;
}

static const msgpack_object *map_get(const msgpack_object *o, const char *key, size_t len)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_MAP) {
		return NULL;
	}
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
		    memcmp(k->via.str.ptr, key, len) == 0) {
			return &o->via.map.ptr[i].val;
		}
	}
	return NULL;
}

const msgpack_object *ac_tevent_get(const ac_tevent *e, const char *path)
{
	const msgpack_object *o = &e->u.data;
	const char *p = path;

	while (o != NULL && *p != '\0') {
		if (*p == '[') {
			char *end;
			unsigned long i = strtoul(p + 1, &end, 10);
			if (*end != ']' || o->type != MSGPACK_OBJECT_ARRAY || i >= o->via.array.size) {
				return NULL;
			}
			o = &o->via.array.ptr[i];
			p = end + 1;
		} else {
			size_t len = strcspn(p, ".[");
			o = map_get(o, p, len);
			p += len;
		}
		if (*p == '.') {
			p++;
		}
	}
	return o;
}

bool ac_tevent_str(const ac_tevent *e, const char *path, char *buf, size_t cap)
{
	const msgpack_object *o = ac_tevent_get(e, path);
	size_t n;

	if (o == NULL || o->type != MSGPACK_OBJECT_STR || cap == 0) {
		return false;
	}
	n = o->via.str.size < cap - 1 ? o->via.str.size : cap - 1;
	memcpy(buf, o->via.str.ptr, n);
	buf[n] = '\0';
	return true;
}

bool ac_tevent_u64(const ac_tevent *e, const char *path, uint64_t *out)
{
	const msgpack_object *o = ac_tevent_get(e, path);

	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		return false;
	}
	*out = o->via.u64;
	return true;
}

bool ac_tevent_i64(const ac_tevent *e, const char *path, int64_t *out)
{
	const msgpack_object *o = ac_tevent_get(e, path);

	if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
		*out = (int64_t)o->via.u64;
		return true;
	}
	if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return true;
	}
	return false;
}

bool ac_tevent_f64(const ac_tevent *e, const char *path, double *out)
{
	const msgpack_object *o = ac_tevent_get(e, path);
	int64_t i;

	if (o != NULL && (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)) {
		*out = o->via.f64;
		return true;
	}
	if (ac_tevent_i64(e, path, &i)) {
		*out = (double)i;
		return true;
	}
	return false;
}

bool ac_tevent_bool(const ac_tevent *e, const char *path, bool *out)
{
	const msgpack_object *o = ac_tevent_get(e, path);

	if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN) {
		return false;
	}
	*out = o->via.boolean;
	return true;
}

bool ac_tevent_is_nil(const ac_tevent *e, const char *path)
{
	const msgpack_object *o = ac_tevent_get(e, path);

	return o == NULL || o->type == MSGPACK_OBJECT_NIL;
}

char *ac_tevent_text(const ac_tevent *e)
{
	char *json = NULL, *out;
	size_t cap;

	if (ac_msgpack_to_json(e->data, e->len, 0, &json) != AC_OK) {
		json = NULL;
	}
	cap = strlen(e->topic) + (json != NULL ? strlen(json) : 7) + 2;
	if ((out = malloc(cap)) != NULL) {
		snprintf(out, cap, "%s %s", e->topic, json != NULL ? json : "(bad)");
	}
	free(json);
	return out;
}
