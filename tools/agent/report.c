/* SPDX-License-Identifier: MIT
 * agentcom-agent's output: the one-line event log (text or JSON lines) on stderr, the
 * task result built from the command's stdout, and the failure text from its exit
 * status and stderr. Pure formatting; it never talks to the server.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agent.h"
#include "agentcom/json.h"
#include "codec/utf8.h"
#include "rt/clock.h"

/* The server caps an encoded result at 1 MiB; the {"output", "truncated"} wrapper
 * needs a few bytes of it. */
#define RESULT_MAX_LEN ((size_t)1024 * 1024)
#define OUTPUT_MAX_LEN (RESULT_MAX_LEN - 64)

/* Length of the valid UTF-8 sequence at p[0..len), 0 when p[0] does not start one. */
static size_t
seq_len(const unsigned char *p, size_t len)
{
	size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 :
	    p[0] >= 0xe0 && p[0] <= 0xef ? 3 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;

	return n != 0 && n <= len && ac_utf8_valid((const char *)p, n) ? n : 0;
}

size_t
ac_agent_utf8_clean(const char *in, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = seq_len(p + i, len - i);
		if (n == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return o;
}

/* Whether mp starts a msgpack map (fixmap, map16, map32). */
static bool
is_map(const uint8_t *mp, size_t len)
{
	return len > 0 && ((mp[0] & 0xf0) == 0x80 || mp[0] == 0xde || mp[0] == 0xdf);
}

/* Shortens len so that out[0..len) does not end inside a UTF-8 sequence. */
static size_t
cut_utf8(const char *out, size_t len)
{
	size_t back = 0;

	while (back < 3 && back < len && ((unsigned char)out[len - 1 - back] & 0xc0) == 0x80) {
		back++;
	}
	if (back < len && (unsigned char)out[len - 1 - back] >= 0xc0) {
		unsigned char lead = (unsigned char)out[len - 1 - back];
		size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
		return back + 1 >= need ? len : len - 1 - back; /* drop a cut sequence whole */
	}
	return len;
}

static void
write_output(const char *out, size_t len, bool is_truncated, ac_mpw *w)
{
	char *clean;
	size_t n;

	if (len > OUTPUT_MAX_LEN) {
		len = cut_utf8(out, OUTPUT_MAX_LEN);
		is_truncated = true;
	}
	if ((clean = malloc(len + 1)) == NULL) {
		w->err = AC_ENOMEM;
		return;
	}
	n = ac_agent_utf8_clean(out, len, clean);
	ac_mpw_map(w, is_truncated ? 2 : 1);
	ac_mpw_key(w, "output");
	ac_mpw_str(w, clean, n);
	if (is_truncated) {
		ac_mpw_key(w, "truncated");
		ac_mpw_bool(w, true);
	}
	free(clean);
}

void
ac_agent_build_result(const char *out, size_t len, bool is_truncated, bool is_text,
    ac_mpw *w)
{
	uint8_t *mp = NULL;
	size_t mp_len = 0;

	if (!is_truncated && !is_text &&
	    ac_json_to_msgpack(out, len, &mp, &mp_len, NULL, 0) == AC_OK &&
	    is_map(mp, mp_len) && mp_len <= RESULT_MAX_LEN) {
		ac_mpw_raw(w, mp, mp_len);
	} else {
		write_output(out, len, is_truncated, w);
	}
	free(mp);
}

void
ac_agent_format_error(const ac_run *run, char *buf, size_t cap)
{
	const char *tail = run->err;
	size_t len = run->err_len, used;
	int st = run->wait_status;

	if (WIFSIGNALED(st)) {
		used = (size_t)snprintf(buf, cap, "signal %d", WTERMSIG(st));
	} else {
		used = (size_t)snprintf(buf, cap, "exit %d", WEXITSTATUS(st));
	}
	if (cap > AC_AGENT_ERROR_MAX + 1) {
		cap = AC_AGENT_ERROR_MAX + 1;
	}
	while (len > 0 && (tail[len - 1] == '\n' || tail[len - 1] == '\r' || tail[len - 1] == ' ' ||
	                      tail[len - 1] == '\t')) {
		len--; /* the last line's end is not part of the message */
	}
	if (len == 0 || used + 3 >= cap) {
		return;
	}
	if (len > cap - used - 3) { /* keep the end, which says what went wrong */
		tail += len - (cap - used - 3);
		len = cap - used - 3;
	}
	while (len > 0 && ((unsigned char)*tail & 0xc0) == 0x80) {
		tail++; /* do not start inside a character */
		len--;
	}
	memcpy(buf + used, ": ", 2);
	ac_agent_utf8_clean(tail, len, buf + used + 2);
}

static void
log_json(const ac_agent *ag, const ac_job *job, const char *event, const char *msg)
{
	ac_mpw w;
	char *json = NULL;

	ac_mpw_init(&w);
	ac_mpw_map(&w, job != NULL ? 6 : 4);
	ac_mpw_key(&w, "ts_ms");
	ac_mpw_i64(&w, ac_clock_wall_ms());
	ac_mpw_key(&w, "agent");
	ac_mpw_cstr(&w, ag->cfg.id);
	if (job != NULL) {
		ac_mpw_key(&w, "task");
		ac_mpw_u64(&w, job->id);
		ac_mpw_key(&w, "gen");
		ac_mpw_u64(&w, job->generation);
	}
	ac_mpw_key(&w, "event");
	ac_mpw_cstr(&w, event);
	ac_mpw_key(&w, "msg");
	ac_mpw_cstr(&w, msg);
	if (w.err == AC_OK &&
	    ac_msgpack_to_json(ac_mpw_data(&w), ac_mpw_len(&w), 0, &json) == AC_OK) {
		fprintf(stderr, "%s\n", json);
	}
	free(json);
	ac_mpw_fini(&w);
}

void
ac_agent_log(const ac_agent *ag, const ac_job *job, const char *event, const char *fmt, ...)
{
	char raw[1024], msg[sizeof(raw)];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* Server text and stderr may hold anything: keep one line of valid UTF-8. */
	ac_agent_utf8_clean(raw, n < 0 ? 0 : strnlen(raw, sizeof(raw)), msg);
	for (char *p = msg; *p != '\0'; p++) {
		*p = *p == '\n' || *p == '\r' ? ' ' : *p;
	}
	if (ag->cfg.is_json_log) {
		log_json(ag, job, event, msg);
	} else if (job != NULL) {
		fprintf(stderr, "agent=%s task=%llu gen=%llu %s\n", ag->cfg.id,
		    (unsigned long long)job->id, (unsigned long long)job->generation, msg);
	} else {
		fprintf(stderr, "agent=%s %s\n", ag->cfg.id, msg);
	}
}
