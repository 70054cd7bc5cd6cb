/* SPDX-License-Identifier: MIT
 * libagentcom's agent ops (include/agentcom/agent.h): each writes its request map with
 * the sticky-error writer and sends it through ac_client_call_wait.
 */
#include "agentcom/agent.h"
#include "codec/mpw.h"

/* Starts a request map of 2 + more pairs: op and agent_id. */
static void begin(ac_mpw *w, const char *op, const char *agent_id, uint32_t more)
{
	ac_mpw_init(w);
	ac_mpw_map(w, 2 + more);
	ac_mpw_key(w, "op");
	ac_mpw_cstr(w, op);
	ac_mpw_key(w, "agent_id");
	ac_mpw_cstr(w, agent_id != NULL ? agent_id : "");
}

/* The fence of every task op: id and generation (2 pairs). */
static void put_task_ref(ac_mpw *w, uint64_t id, uint64_t generation)
{
	ac_mpw_key(w, "id");
	ac_mpw_u64(w, id);
	ac_mpw_key(w, "generation");
	ac_mpw_u64(w, generation);
}

static void put_strs(ac_mpw *w, const char *key, const char *const *v, size_t count)
{
	ac_mpw_key(w, key);
	ac_mpw_array(w, (uint32_t)count);
	for (size_t i = 0; i < count; i++) {
		ac_mpw_cstr(w, v[i]);
	}
}

/* Sends w's request (waiting extra_ms more than the client's timeout) and frees w. */
static ac_err send_and_free(ac_client *c, ac_mpw *w, uint32_t extra_ms, ac_reply **reply)
{
	ac_err err = w->err != AC_OK ? w->err :
	    ac_client_call_wait(c, ac_mpw_data(w), ac_mpw_len(w), (int)extra_ms, reply);

	ac_mpw_fini(w);
	return err;
}

ac_err ac_op_hello(ac_client *c, const char *agent_id, const ac_hello *h, ac_reply **reply)
{
	static const ac_hello none;
	ac_mpw w;

	h = h != NULL ? h : &none;
	begin(&w, "agent.hello", agent_id,
	    (uint32_t)((h->name != NULL) + (h->capability_count > 0) + (h->target_count > 0) +
	        (h->ollama_url != NULL)));
	if (h->name != NULL) {
		ac_mpw_key(&w, "name");
		ac_mpw_cstr(&w, h->name);
	}
	if (h->capability_count > 0) {
		put_strs(&w, "capabilities", h->capabilities, h->capability_count);
	}
	if (h->target_count > 0) {
		put_strs(&w, "targets", h->targets, h->target_count);
	}
	if (h->ollama_url != NULL) {
		ac_mpw_key(&w, "ollama_url");
		ac_mpw_cstr(&w, h->ollama_url);
	}
	return send_and_free(c, &w, 0, reply);
}

/* res's values that are set, as the resources map (field names of DESIGN §3). */
static void put_resources(ac_mpw *w, const ac_host_resources *res, uint32_t count)
{
	const struct { bool has; const char *key; uint64_t v; } u[] = {
		{ res->has_ram_total, "ram_total_bytes", res->ram_total_bytes },
		{ res->has_ram_used, "ram_used_bytes", res->ram_used_bytes },
		{ res->has_vram_total, "vram_total_bytes", res->vram_total_bytes },
		{ res->has_vram_used, "vram_used_bytes", res->vram_used_bytes },
	};

	ac_mpw_key(w, "resources");
	ac_mpw_map(w, count);
	if (res->has_cpu_percent) {
		ac_mpw_key(w, "cpu_percent");
		ac_mpw_f64(w, res->cpu_percent);
	}
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (u[i].has) {
			ac_mpw_key(w, u[i].key);
			ac_mpw_u64(w, u[i].v);
		}
	}
}

ac_err ac_op_heartbeat(ac_client *c, const char *agent_id, ac_reply **reply)
{
	return ac_op_heartbeat_with(c, agent_id, NULL, reply);
}

ac_err ac_op_heartbeat_with(ac_client *c, const char *agent_id, const ac_host_resources *res,
    ac_reply **reply)
{
	uint32_t count = res == NULL ? 0 : (uint32_t)(res->has_cpu_percent + res->has_ram_total +
	    res->has_ram_used + res->has_vram_total + res->has_vram_used);
	ac_mpw w;

	begin(&w, "agent.heartbeat", agent_id, count > 0);
	if (count > 0) {
		put_resources(&w, res, count);
	}
	return send_and_free(c, &w, 0, reply);
}

ac_err ac_op_fetch(ac_client *c, const char *agent_id, uint32_t wait_ms, bool accept,
    ac_reply **reply)
{
	ac_mpw w;

	begin(&w, "agent.fetch", agent_id, 2);
	ac_mpw_key(&w, "wait_ms");
	ac_mpw_u64(&w, wait_ms);
	ac_mpw_key(&w, "accept");
	ac_mpw_bool(&w, accept);
	return send_and_free(c, &w, wait_ms, reply);
}

ac_err ac_op_accept(ac_client *c, const char *agent_id, uint64_t id, uint64_t generation,
    ac_reply **reply)
{
	ac_mpw w;

	begin(&w, "task.accept", agent_id, 2);
	put_task_ref(&w, id, generation);
	return send_and_free(c, &w, 0, reply);
}

ac_err ac_op_progress(ac_client *c, const char *agent_id, uint64_t id, uint64_t generation,
    const char *message, ac_reply **reply)
{
	ac_mpw w;

	begin(&w, "task.progress", agent_id, 2 + (message != NULL));
	put_task_ref(&w, id, generation);
	if (message != NULL) {
		ac_mpw_key(&w, "message");
		ac_mpw_cstr(&w, message);
	}
	return send_and_free(c, &w, 0, reply);
}

ac_err ac_op_complete(ac_client *c, const char *agent_id, uint64_t id, uint64_t generation,
    const ac_completion *how, ac_reply **reply)
{
	static const ac_completion plain;
	ac_mpw w;

	how = how != NULL ? how : &plain;
	begin(&w, "task.complete", agent_id,
	    2 + (uint32_t)((how->result != NULL) + how->has_tokens_used + 2 * how->has_fetch));
	put_task_ref(&w, id, generation);
	if (how->result != NULL) {
		ac_mpw_key(&w, "result");
		ac_mpw_raw(&w, how->result, how->result_len);
	}
	if (how->has_tokens_used) {
		ac_mpw_key(&w, "tokens_used");
		ac_mpw_u64(&w, how->tokens_used);
	}
	if (how->has_fetch) {
		ac_mpw_key(&w, "fetch_wait_ms");
		ac_mpw_u64(&w, how->fetch_wait_ms);
		ac_mpw_key(&w, "accept");
		ac_mpw_bool(&w, how->accept);
	}
	return send_and_free(c, &w, how->has_fetch ? how->fetch_wait_ms : 0, reply);
}

ac_err ac_op_fail(ac_client *c, const char *agent_id, uint64_t id, uint64_t generation,
    const char *error, bool retryable, ac_reply **reply)
{
	ac_mpw w;

	begin(&w, "task.fail", agent_id, 4);
	put_task_ref(&w, id, generation);
	ac_mpw_key(&w, "error");
	ac_mpw_cstr(&w, error != NULL ? error : "");
	ac_mpw_key(&w, "retryable");
	ac_mpw_bool(&w, retryable);
	return send_and_free(c, &w, 0, reply);
}

ac_err ac_op_bye(ac_client *c, const char *agent_id, ac_reply **reply)
{
	ac_mpw w;

	begin(&w, "agent.bye", agent_id, 0);
	return send_and_free(c, &w, 0, reply);
}
