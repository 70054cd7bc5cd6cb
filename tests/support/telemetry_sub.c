/* SPDX-License-Identifier: MIT
 * The telemetry subscriber of telemetry_sub.h. Waits with poll() on the socket's
 * NNG_OPT_RECVFD and receives without blocking (nng's own timers are costly in 1.5.2,
 * DESIGN §2 rule 3); unmatched events stay in a FIFO for later waits.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "agentcom/json.h"
#include "telemetry_sub.h"

#define KEEP_MAX 4096

struct ac_tevent {
	char topic[128];
	uint8_t *data; /* the msgpack map (strings of root point into it) */
	size_t len;
	msgpack_unpacked u;
	ac_tevent *next;
};

struct ac_tsub {
	nng_socket sock;
	int fd;
	ac_tevent *head, *tail; /* received, not taken */
	size_t kept;
	unsigned bad;
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
	int rv;

	if (s == NULL) {
		return NULL;
	}
	if ((rv = nng_sub0_open(&s->sock)) != 0) {
		fprintf(stderr, "telemetry_sub: sub0_open: %s\n", nng_strerror(rv));
		free(s);
		return NULL;
	}
	(void)nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, 8192); /* best effort */
	if (prefixes == NULL || prefixes[0] == NULL) {
		rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	}
	for (size_t i = 0; rv == 0 && prefixes != NULL && prefixes[i] != NULL; i++) {
		rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, prefixes[i], strlen(prefixes[i]));
	}
	if (rv == 0) {
		rv = nng_socket_get_int(s->sock, NNG_OPT_RECVFD, &s->fd);
	}
	if (rv == 0) {
		rv = nng_dial(s->sock, url, NULL, 0); /* synchronous: connected on return */
	}
	if (rv != 0) {
		fprintf(stderr, "telemetry_sub: %s: %s\n", url, nng_strerror(rv));
		nng_close(s->sock);
		free(s);
		return NULL;
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
	nng_close(s->sock);
	while (s->head != NULL) {
		ac_tevent *e = s->head;
		s->head = e->next;
		ac_tevent_free(e);
	}
	free(s);
}

unsigned ac_tsub_bad_frames(const ac_tsub *s)
{
	return s->bad;
}

/* One frame into an event; NULL when it is not `topic NUL map{ts_ms, seq, ...}`. */
static ac_tevent *parse(const uint8_t *body, size_t len)
{
	const uint8_t *nul = memchr(body, 0, len);
	size_t tlen = nul != NULL ? (size_t)(nul - body) : 0, off = 0;
	ac_tevent *e;
	uint64_t seq;
	int64_t ts;

	if (nul == NULL || tlen == 0 || tlen >= sizeof(e->topic) || (e = calloc(1, sizeof(*e))) == NULL) {
		return NULL;
	}
	memcpy(e->topic, body, tlen);
	e->len = len - tlen - 1;
	msgpack_unpacked_init(&e->u);
	if ((e->data = malloc(e->len + 1)) == NULL) {
		ac_tevent_free(e);
		return NULL;
	}
	memcpy(e->data, nul + 1, e->len);
	if (msgpack_unpack_next(&e->u, (const char *)e->data, e->len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != e->len || e->u.data.type != MSGPACK_OBJECT_MAP || !ac_tevent_u64(e, "seq", &seq) ||
	    !ac_tevent_i64(e, "ts_ms", &ts)) {
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

/* Receives one frame from the socket, waiting until deadline; NULL on timeout. */
static ac_tevent *recv_one(ac_tsub *s, long long deadline)
{
	for (;;) {
		nng_msg *m = NULL;
		int rv = nng_recvmsg(s->sock, &m, NNG_FLAG_NONBLOCK);
		if (rv == 0) {
			ac_tevent *e = parse(nng_msg_body(m), nng_msg_len(m));
			nng_msg_free(m);
			if (e != NULL) {
				return e;
			}
			s->bad++;
			continue;
		}
		long long left = deadline - mono_ms();
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		if (rv != NNG_EAGAIN || left <= 0) {
			return NULL;
		}
		(void)poll(&p, 1, (int)(left > 50 ? 50 : left));
	}
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
