/* SPDX-License-Identifier: MIT
 * What actors say to others beyond a plain send: tells, forwards, replies to the
 * gateway, and telemetry events, which gather per batch and leave as one message.
 */
#include <string.h>

#include "codec/prevalidate.h"
#include "rt/actor.h"
#include "rt/actor_int.h"
#include "rt/clock.h"
#include "rt/log.h"

ac_err ac_actor_tell(ac_actor *a, ac_actor_id to, ac_msg_type type, const ac_mpw *body)
{
	ac_env env = { .type = (uint8_t)type };

	return ac_actor_send(a, to, &env, body ? ac_mpw_data(body) : NULL,
	    body ? ac_mpw_len(body) : 0);
}

/* Sends {key: [count items]} where items holds them back to back. */
static void tell_chunk(ac_actor *a, ac_actor_id to, ac_msg_type type, const char *key,
    const uint8_t *items, size_t len, uint32_t count)
{
	ac_mpw m;

	ac_mpw_init(&m);
	ac_mpw_map(&m, 1);
	ac_mpw_key(&m, key);
	ac_mpw_array(&m, count);
	ac_mpw_raw(&m, items, len);
	if (ac_actor_tell(a, to, type, &m) != AC_OK || m.err != AC_OK) {
		ac_log(AC_LOG_ERR, a->def->name, "list_not_sent", "type=%d items=%u", (int)type, count);
	}
	ac_mpw_fini(&m);
}

void ac_actor_tell_list(ac_actor *a, ac_actor_id to, ac_msg_type type, const char *key,
    ac_mpw *items, uint32_t *n)
{
	const uint8_t *p = ac_mpw_data(items);
	size_t len = ac_mpw_len(items), start = 0, pos = 0;
	uint32_t in_chunk = 0;

	if (*n == 0) {
		return;
	}
	if (items->err != AC_OK) {
		ac_log(AC_LOG_ERR, a->def->name, "list_not_sent", "type=%d items=%u error=\"%s\"",
		    (int)type, *n, ac_strerror(items->err));
	} else if (*n <= AC_TELL_LIST_MAX) {
		tell_chunk(a, to, type, key, p, len, *n);
	} else {
		/* a peer refuses a longer list: split it where one item ends */
		for (uint32_t i = 0; i < *n; i++) {
			size_t used;
			if (ac_mp_value_len(p + pos, len - pos, AC_MAX_WIRE_DEPTH, &used) != AC_OK) {
				ac_log(AC_LOG_ERR, a->def->name, "list_not_sent", "type=%d items=%u",
				    (int)type, *n - i + in_chunk);
				in_chunk = 0;
				break;
			}
			pos += used;
			if (++in_chunk == AC_TELL_LIST_MAX) {
				tell_chunk(a, to, type, key, p + start, pos - start, in_chunk);
				start = pos;
				in_chunk = 0;
			}
		}
		if (in_chunk > 0) {
			tell_chunk(a, to, type, key, p + start, pos - start, in_chunk);
		}
	}
	ac_mpw_reset(items);
	*n = 0;
}

ac_err ac_actor_forward(ac_actor *a, ac_actor_id to, const ac_env *req, ac_msg_type type,
    const ac_mpw *body)
{
	ac_env env = *req;

	env.type = (uint8_t)type;
	return ac_actor_send(a, to, &env, ac_mpw_data(body), ac_mpw_len(body));
}

/* Every reply to a request leaves here. The answer to an early fetch (one that rides
 * on a task.complete whose commit may still be pending, AC_ENV_AFTER_COMMIT) goes
 * through the queue, which holds it until that commit: the agent must hear nothing,
 * not even an error, before its completion is durable. */
static void send_reply(ac_actor *a, const ac_env *req, const void *body, size_t len)
{
	ac_env env = { .type = AC_MSG_GW_REPLY, .corr_id = req->corr_id };

	if (req->corr_id == 0) {
		return;
	}
	if ((req->flags & AC_ENV_AFTER_COMMIT) && a->def->id != AC_ACTOR_QUEUE) {
		env = *req;
		env.type = AC_MSG_EARLY_ANSWER;
		ac_actor_send(a, AC_ACTOR_QUEUE, &env, body, len);
		return;
	}
	ac_actor_send(a, AC_ACTOR_GATEWAY, &env, body, len);
}

void ac_actor_reply(ac_actor *a, const ac_env *req, const ac_mpw *body)
{
	if (body->err != AC_OK) {
		ac_actor_reply_err(a, req, AC_EINTERNAL, "reply encoding failed", NULL);
		return;
	}
	send_reply(a, req, ac_mpw_data(body), ac_mpw_len(body));
}

void ac_actor_reply_ok(ac_actor *a, const ac_env *req)
{
	static const uint8_t ok_map[] = { 0x81, 0xa2, 'o', 'k', 0xc3 }; /* {ok: true} */

	send_reply(a, req, ok_map, sizeof(ok_map));
}

void ac_write_error(ac_mpw *w, ac_err code, const char *message, const char *field)
{
	bool has_field = field != NULL && field[0] != '\0';

	ac_mpw_map(w, 2);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, false);
	ac_mpw_key(w, "error");
	ac_mpw_map(w, has_field ? 3 : 2);
	ac_mpw_key(w, "code");
	ac_mpw_cstr(w, ac_err_wire_name(code));
	ac_mpw_key(w, "message");
	ac_mpw_cstr(w, message != NULL ? message : ac_strerror(code));
	if (has_field) {
		ac_mpw_key(w, "field");
		ac_mpw_cstr(w, field);
	}
}

void ac_actor_reply_err(ac_actor *a, const ac_env *req, ac_err code, const char *message,
    const char *field)
{
	ac_mpw w;

	if (req->corr_id == 0) {
		return;
	}
	ac_mpw_init(&w);
	ac_write_error(&w, code, message, field);
	send_reply(a, req, ac_mpw_data(&w), ac_mpw_len(&w));
	ac_mpw_fini(&w);
}

/* Sends the events published so far as one message. */
void ac_actor_publish_flush(ac_actor *a)
{
	ac_env env = { .type = AC_MSG_TEL_EVENT };

	if (ac_mpw_len(&a->pubw) > 0 && a->pubw.err == AC_OK) {
		ac_actor_send(a, AC_ACTOR_TELEMETRY, &env, ac_mpw_data(&a->pubw),
		    ac_mpw_len(&a->pubw));
	}
	ac_mpw_reset(&a->pubw);
}

void ac_actor_publish_encoded(ac_actor *a, const uint8_t *ev, size_t len)
{
	if (ac_mpw_len(&a->pubw) == 0) {
		a->pub_due_ms = ac_clock_mono_ms() + PUBLISH_LINGER_MS;
	}
	ac_mpw_bin(&a->pubw, ev, len);
	if (ac_mpw_len(&a->pubw) >= PUBLISH_FLUSH_BYTES) {
		ac_actor_publish_flush(a);
	}
}

void ac_actor_publish(ac_actor *a, const char *topic, const ac_mpw *data)
{
	ac_mpw *w = &a->pubtmp;

	ac_mpw_reset(w);
	ac_mpw_cstr(w, topic);
	ac_mpw_raw(w, ac_mpw_data(data), ac_mpw_len(data));
	if (w->err == AC_OK && data->err == AC_OK) {
		ac_actor_publish_encoded(a, ac_mpw_data(w), ac_mpw_len(w));
	}
}

bool ac_event_next(const uint8_t *body, size_t len, size_t *off, const uint8_t **ev,
    size_t *ev_len)
{
	const uint8_t *p = body + *off;
	size_t left = len - *off, hdr, n;

	if (*off >= len) {
		return false;
	}
	if (p[0] == 0xc4 && left >= 2) {
		hdr = 2, n = p[1];
	} else if (p[0] == 0xc5 && left >= 3) {
		hdr = 3, n = (size_t)p[1] << 8 | p[2];
	} else if (p[0] == 0xc6 && left >= 5) {
		hdr = 5, n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
	} else {
		*off = len;
		return false;
	}
	if (n > left - hdr) {
		*off = len;
		return false;
	}
	*ev = p + hdr;
	*ev_len = n;
	*off += hdr + n;
	return true;
}

ac_mpw *ac_actor_scratch(ac_actor *a)
{
	ac_mpw_reset(&a->scratch);
	return &a->scratch;
}
