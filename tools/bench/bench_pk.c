/* SPDX-License-Identifier: MIT
 * Request building for agentcom-bench straight into msgpack (msgpack_packer over one
 * reusable sbuffer per thread, no JSON in the hot loop), the token in every map so
 * the client library does not have to rewrite it, and one call wrapper that counts
 * failures.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

void
bench_pk_init(bench_pk *p)
{
	msgpack_sbuffer_init(&p->sb);
	msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
}

void
bench_pk_fini(bench_pk *p)
{
	msgpack_sbuffer_destroy(&p->sb);
}

void
bench_pk_str(bench_pk *p, const char *s)
{
	msgpack_pack_str_with_body(&p->pk, s, strlen(s));
}

void
bench_pk_kstr(bench_pk *p, const char *key, const char *val)
{
	bench_pk_str(p, key);
	bench_pk_str(p, val);
}

void
bench_pk_ku64(bench_pk *p, const char *key, uint64_t v)
{
	bench_pk_str(p, key);
	msgpack_pack_uint64(&p->pk, v);
}

void
bench_pk_ktrue(bench_pk *p, const char *key)
{
	bench_pk_str(p, key);
	msgpack_pack_true(&p->pk);
}

void
bench_pk_begin(bench_pk *p, const bench_opts *o, const char *op, uint32_t pairs)
{
	bool has_token = o->token != NULL && o->token[0] != '\0';

	msgpack_sbuffer_clear(&p->sb);
	msgpack_pack_map(&p->pk, pairs + 1 + (has_token ? 1 : 0));
	bench_pk_kstr(p, "op", op);
	if (has_token) {
		bench_pk_kstr(p, "token", o->token);
	}
}

ac_client *
bench_open(const bench_opts *o)
{
	ac_client *c = NULL;
	ac_err err = ac_client_open(&c, o->url, NULL);

	if (err != AC_OK) {
		fprintf(stderr, "agentcom-bench: cannot open %s: %s\n", o->url, ac_strerror(err));
		return NULL;
	}
	return c;
}

ac_err
bench_call(ac_client *c, const bench_pk *p, int extra_ms, bench_errs *e, const char *what,
    ac_reply **out)
{
	ac_reply *r = NULL;
	ac_err err;

	*out = NULL;
	err = ac_client_call_wait(c, (const uint8_t *)p->sb.data, p->sb.size, extra_ms, &r);
	if (err != AC_OK) {
		bench_errs_transport(e, err, what);
		return err;
	}
	if (!ac_reply_ok(r)) {
		bench_errs_reply(e, r, what);
		ac_reply_free(r);
		return AC_EPROTO;
	}
	*out = r;
	return AC_OK;
}

const msgpack_object *
bench_map_get(const msgpack_object *m, const char *key)
{
	size_t klen = strlen(key);

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP) {
		return NULL;
	}
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0) {
			return &m->via.map.ptr[i].val;
		}
	}
	return NULL;
}

/* --- task submission shared by submit, e2e and preload --- */

static uint32_t
task_pairs(const bench_task_spec *s)
{
	return 1 + (s->with_t0 ? 1 : 0) + (s->preload ? 2 : 0);
}

/* The task_pairs(s) key/value pairs of task n. */
static void
pk_task_fields(bench_pk *p, long long n, const bench_task_spec *s)
{
	char desc[64];

	/* "fix typo" makes it a trivial task: the sidecar tier routes without an Ollama
	 * endpoint, so the run measures the queue and scheduler, not the fallback wait.
	 * Preloaded tasks too: as standard tasks, with no endpoint, all of them would
	 * fall back together 5 s later (fallback_wait_ms), in the middle of the run. */
	snprintf(desc, sizeof(desc), "fix typo in bench %s %lld", s->preload ? "preload" : "task",
	    n);
	bench_pk_kstr(p, "description", desc);
	if (s->with_t0) {
		bench_pk_str(p, "metadata");
		msgpack_pack_map(&p->pk, 2);
		bench_pk_ku64(p, "t0", s->t0);
		bench_pk_ku64(p, "run", s->run_id);
	}
	if (s->preload) {
		bench_pk_kstr(p, "priority", "low");
		bench_pk_str(p, "needed_capabilities");
		msgpack_pack_array(&p->pk, 1);
		bench_pk_str(p, "never");
	}
}

void
bench_pk_task(bench_pk *p, long long n, const bench_task_spec *s)
{
	msgpack_pack_map(&p->pk, task_pairs(s));
	pk_task_fields(p, n, s);
}

/* task.submit takes the task's fields at the top level, next to op and token. */
void
bench_pk_submit(bench_pk *p, const bench_opts *o, long long first, long long count,
    bool batch, const bench_task_spec *s)
{
	if (!batch) {
		bench_pk_begin(p, o, "task.submit", task_pairs(s));
		pk_task_fields(p, first, s);
		return;
	}
	bench_pk_begin(p, o, "task.submit_batch", 1);
	bench_pk_str(p, "tasks");
	msgpack_pack_array(&p->pk, (uint32_t)count);
	for (long long i = 0; i < count; i++) {
		bench_pk_task(p, first + i, s);
	}
}

/* Counts the {ok: true} entries of a submit_batch reply; the others as error replies. */
static long long
count_batch_ok(const ac_reply *r, bench_errs *e)
{
	const msgpack_object *res = ac_reply_get(r, "results");
	long long ok = 0;

	if (res == NULL || res->type != MSGPACK_OBJECT_ARRAY) {
		atomic_fetch_add(&e->reply[AC_EPROTO], 1);
		return 0;
	}
	for (uint32_t i = 0; i < res->via.array.size; i++) {
		const msgpack_object *v = bench_map_get(&res->via.array.ptr[i], "ok");
		if (v != NULL && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean) {
			ok++;
		} else {
			const msgpack_object *code = bench_map_get(
			    bench_map_get(&res->via.array.ptr[i], "error"), "code");
			ac_err err = code != NULL && code->type == MSGPACK_OBJECT_STR
			    ? ac_err_from_wire_name(code->via.str.ptr, code->via.str.size)
			    : AC_EPROTO;
			atomic_fetch_add(&e->reply[err], 1);
		}
	}
	return ok;
}

long long
bench_submit_call(ac_client *c, const bench_pk *p, bool batch, bench_errs *e)
{
	ac_reply *r;
	long long ok;

	if (bench_call(c, p, 0, e, batch ? "task.submit_batch" : "task.submit", &r) != AC_OK) {
		return 0;
	}
	ok = batch ? count_batch_ok(r, e) : 1;
	ac_reply_free(r);
	return ok;
}
