/* SPDX-License-Identifier: MIT
 * agentcom-agent's side of the agent ops (DESIGN §4): builds each request with the
 * sticky-error writer, sends it on the agent's one client and reads what the agent
 * needs from the reply. Knows nothing of processes or of when to call what.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agentcom/agent.h"
#include "agentcom/json.h"
#include "rt/assert.h"
#include "rt/clock.h"

bool
ac_agent_is_transient(ac_err err)
{
	return err == AC_ETIMEDOUT || err == AC_EUNAVAIL || err == AC_ECLOSED ||
	    err == AC_ECONNREFUSED;
}

bool
ac_agent_is_unknown(const ac_agent *ag, ac_err err)
{
	return err == AC_ECONFLICT && strcmp(ag->why_field, "agent_id") == 0;
}

/* The outcome of a call (err, and the reply r when err is AC_OK) as the agent's: on
 * AC_OK *out (when out != NULL) is the caller's; otherwise ag->why says what happened. */
static ac_err
finish(ac_agent *ag, ac_err err, ac_reply *r, ac_reply **out)
{
	if (err != AC_OK) {
		snprintf(ag->why, sizeof(ag->why), "%s", ac_strerror(err));
		return err;
	}
	if (!ac_reply_ok(r)) {
		err = ac_reply_error(r);
		snprintf(ag->why, sizeof(ag->why), "%s: %s", ac_err_wire_name(err),
		    ac_reply_message(r));
		snprintf(ag->why_field, sizeof(ag->why_field), "%s", ac_reply_field(r));
		ac_reply_free(r);
		return err == AC_OK ? AC_EPROTO : err;
	}
	if (out != NULL) {
		*out = r;
	} else {
		ac_reply_free(r);
	}
	return AC_OK;
}

/* Sends w's request (a replay of a complete or fail) and waits up to the client's
 * timeout plus extra_ms; as finish. */
static ac_err
call(ac_agent *ag, const ac_mpw *w, int extra_ms, ac_reply **out)
{
	ac_reply *r = NULL;
	ac_err err;

	ag->why_field[0] = '\0';
	if (w->err != AC_OK) {
		snprintf(ag->why, sizeof(ag->why), "cannot build request: %s", ac_strerror(w->err));
		return w->err;
	}
	err = ac_client_call_wait(ag->client, ac_mpw_data(w), ac_mpw_len(w), extra_ms, &r);
	return finish(ag, err, r, out);
}

/* The fence of every task op: id and generation (2 pairs). */
static void
put_task_ref(ac_mpw *w, const ac_job *job)
{
	ac_mpw_key(w, "id");
	ac_mpw_u64(w, job->id);
	ac_mpw_key(w, "generation");
	ac_mpw_u64(w, job->generation);
}

ac_err
ac_agent_hello(ac_agent *ag, ac_reply **reply)
{
	const ac_agent_cfg *c = &ag->cfg;
	ac_hello h = { .name = c->name, .capabilities = (const char *const *)c->caps,
		.capability_count = c->cap_count, .targets = (const char *const *)c->targets,
		.target_count = c->target_count, .ollama_url = c->ollama_url };
	ac_reply *r = NULL;

	ac_err err;

	ag->why_field[0] = '\0';
	err = ac_op_hello(ag->client, c->id, &h, &r);
	return finish(ag, err, r, reply);
}

/* The task at path of r, if any, into *job. */
static ac_err
take_job(ac_agent *ag, const ac_reply *r, const char *path, ac_job *job, bool *has_job)
{
	ac_err err = ac_agent_job_from(r, path, job);

	if (err == AC_ENOTFOUND) {
		return AC_OK;
	}
	if (err == AC_OK) {
		*has_job = true;
	} else {
		snprintf(ag->why, sizeof(ag->why), "unusable task in reply: %s", ac_strerror(err));
	}
	return err;
}

ac_err
ac_agent_fetch(ac_agent *ag, ac_job *job, bool *has_job)
{
	ac_reply *r = NULL;
	ac_err err;

	*has_job = false;
	ag->why_field[0] = '\0';
	err = ac_op_fetch(ag->client, ag->cfg.id, (uint32_t)ag->cfg.wait_ms, true, &r);
	err = finish(ag, err, r, &r);
	if (err == AC_OK) {
		err = take_job(ag, r, "task", job, has_job);
		ac_reply_free(r);
	}
	return err;
}

ac_err
ac_agent_heartbeat(ac_agent *ag, const ac_job *job, bool *is_aborted)
{
	ac_host_resources res = { .has_cpu_percent = false }; /* nothing to report */
	int64_t now_ms = ac_clock_mono_ms();
	const msgpack_object *abort;
	ac_reply *r = NULL;
	ac_err err;

	*is_aborted = false;
	if (ag->is_reporting && now_ms >= ag->resources_due_ms) {
		bool had_gpu = ag->sampler.gpu_cmd != NULL;
		ac_agent_sample(&ag->sampler, &res);
		ag->resources_due_ms = now_ms + ag->heartbeat_ms;
		if (had_gpu && ag->sampler.gpu_cmd == NULL) {
			ac_agent_log(ag, job, "vram_off", "nvidia-smi timed out %d times in a row: "
			    "VRAM no longer reported", AC_AGENT_GPU_MAX_TIMEOUTS);
		}
	}
	ag->why_field[0] = '\0';
	err = ac_op_heartbeat_with(ag->client, ag->cfg.id, &res, &r);
	if ((err = finish(ag, err, r, &r)) != AC_OK) {
		return err;
	}
	abort = ac_reply_get(r, "abort");
	for (uint32_t i = 0; abort != NULL && abort->type == MSGPACK_OBJECT_ARRAY &&
	     i < abort->via.array.size; i++) {
		const msgpack_object *o = &abort->via.array.ptr[i];
		if (job != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    o->via.u64 == job->id) {
			*is_aborted = true;
		}
	}
	ac_reply_free(r);
	return AC_OK;
}

ac_err
ac_agent_progress(ac_agent *ag, const ac_job *job, const char *msg, bool *is_aborted)
{
	ac_reply *r = NULL;
	ac_err err;

	*is_aborted = false;
	ag->why_field[0] = '\0';
	err = ac_op_progress(ag->client, ag->cfg.id, job->id, job->generation, msg, &r);
	err = finish(ag, err, r, &r);
	if (err == AC_OK) {
		ac_reply_bool(r, "abort", is_aborted);
		ac_reply_free(r);
	}
	return err;
}

ac_err
ac_agent_accept(ac_agent *ag, const ac_job *job)
{
	ac_reply *r = NULL;
	ac_err err;

	ag->why_field[0] = '\0';
	err = ac_op_accept(ag->client, ag->cfg.id, job->id, job->generation, &r);
	return finish(ag, err, r, NULL);
}

ac_err
ac_agent_bye(ac_agent *ag)
{
	ac_reply *r = NULL;
	ac_err err;

	ag->why_field[0] = '\0';
	err = ac_op_bye(ag->client, ag->cfg.id, &r);
	return finish(ag, err, r, NULL);
}

void
ac_agent_build_complete(ac_agent *ag, const ac_job *job, const ac_mpw *result)
{
	ac_mpw *w = &ag->unsent;

	ac_mpw_reset(w);
	ac_mpw_map(w, 5);
	ac_mpw_key(w, "op");
	ac_mpw_cstr(w, "task.complete");
	ac_mpw_key(w, "agent_id");
	ac_mpw_cstr(w, ag->cfg.id);
	put_task_ref(w, job);
	ac_mpw_key(w, "result");
	ac_mpw_raw(w, ac_mpw_data(result), ac_mpw_len(result));
	if (result->err != AC_OK) {
		w->err = result->err;
	}
}

void
ac_agent_build_fail(ac_agent *ag, const ac_job *job, const char *error)
{
	ac_mpw *w = &ag->unsent;

	ac_mpw_reset(w);
	ac_mpw_map(w, 6);
	ac_mpw_key(w, "op");
	ac_mpw_cstr(w, "task.fail");
	ac_mpw_key(w, "agent_id");
	ac_mpw_cstr(w, ag->cfg.id);
	put_task_ref(w, job);
	ac_mpw_key(w, "error");
	ac_mpw_cstr(w, error);
	ac_mpw_key(w, "retryable");
	ac_mpw_bool(w, true);
}

/* The plain request of ag->unsent plus fetch_wait_ms and accept. The plain map has
 * fewer than 16 pairs, so its header is the one fixmap byte. */
static void
with_fetch(const ac_agent *ag, ac_mpw *w)
{
	const uint8_t *p = ac_mpw_data(&ag->unsent);
	size_t len = ac_mpw_len(&ag->unsent);

	AC_ASSERT(len > 0 && (p[0] & 0xf0) == 0x80 && (p[0] & 0x0f) <= 13);
	ac_mpw_map(w, (uint32_t)(p[0] & 0x0f) + 2);
	ac_mpw_raw(w, p + 1, len - 1);
	ac_mpw_key(w, "fetch_wait_ms");
	ac_mpw_u64(w, (uint64_t)ag->cfg.wait_ms);
	ac_mpw_key(w, "accept");
	ac_mpw_bool(w, true);
}

ac_err
ac_agent_send_unsent(ac_agent *ag, bool want_next, ac_job *next, bool *has_next)
{
	ac_reply *r = NULL;
	ac_mpw w;
	ac_err err;

	*has_next = false;
	ac_mpw_init(&w);
	if (ag->unsent.err != AC_OK) {
		w.err = ag->unsent.err;
	} else if (want_next) {
		with_fetch(ag, &w);
	} else {
		ac_mpw_raw(&w, ac_mpw_data(&ag->unsent), ac_mpw_len(&ag->unsent));
	}
	err = call(ag, &w, want_next ? ag->cfg.wait_ms : 0, &r);
	ac_mpw_fini(&w);
	if (err == AC_OK) {
		err = take_job(ag, r, "task", next, has_next);
		ac_reply_free(r);
	}
	return err;
}

/* A NUL-terminated copy of the string at path.field of r; "" when absent. */
static char *
dup_at(const ac_reply *r, const char *path, const char *field)
{
	char key[128];
	const msgpack_object *o;
	size_t n;
	char *s;

	snprintf(key, sizeof(key), "%s.%s", path, field);
	o = ac_reply_get(r, key);
	n = o != NULL && o->type == MSGPACK_OBJECT_STR ? o->via.str.size : 0;
	if ((s = malloc(n + 1)) != NULL) {
		if (n > 0) {
			memcpy(s, o->via.str.ptr, n);
		}
		s[n] = '\0';
	}
	return s;
}

static ac_err
task_json(const msgpack_object *task, char **out)
{
	ac_mpw w;
	ac_err err;

	ac_mpw_init(&w);
	ac_mpw_object(&w, task);
	err = w.err != AC_OK ? w.err : ac_msgpack_to_json(ac_mpw_data(&w), ac_mpw_len(&w), 0, out);
	ac_mpw_fini(&w);
	return err;
}

ac_err
ac_agent_job_from(const ac_reply *r, const char *path, ac_job *job)
{
	const msgpack_object *task = ac_reply_get(r, path);
	char key[128];
	bool has_ref;
	ac_err err;

	memset(job, 0, sizeof(*job));
	if (task == NULL || task->type != MSGPACK_OBJECT_MAP) {
		return AC_ENOTFOUND;
	}
	snprintf(key, sizeof(key), "%s.id", path);
	has_ref = ac_reply_u64(r, key, &job->id);
	snprintf(key, sizeof(key), "%s.generation", path);
	if (!has_ref || !ac_reply_u64(r, key, &job->generation)) {
		return AC_EPROTO;
	}
	job->status = dup_at(r, path, "status");
	job->description = dup_at(r, path, "description");
	job->target = dup_at(r, path, "routing_decision.target_type");
	job->model = dup_at(r, path, "routing_decision.selected_model");
	err = task_json(task, &job->json);
	if (err == AC_OK && (job->status == NULL || job->description == NULL ||
	    job->target == NULL || job->model == NULL)) {
		err = AC_ENOMEM;
	}
	if (err != AC_OK) {
		ac_agent_job_fini(job);
	}
	return err;
}

void
ac_agent_job_fini(ac_job *job)
{
	free(job->status);
	free(job->description);
	free(job->target);
	free(job->model);
	free(job->json);
	memset(job, 0, sizeof(*job));
}
