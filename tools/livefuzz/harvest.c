/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's memory of the server: what success replies tell a thread for its
 * later requests (task ids, each agent's assignment and generation, the next task.list
 * cursor, created token and endpoint ids), and what a refused fenced op means for the
 * agent's assignment. Touches only its own thread's lf_worker.
 */
#include <string.h>

#include "codec/schema.h"
#include "livefuzz.h"

void lf_remember_task(lf_worker *w, uint64_t id)
{
	w->tasks[w->task_count++ % LF_TASK_RING] = id;
}

static bool is_op(const lf_req *req, const char *name)
{
	return req->op >= 0 && strcmp(lf_ops[req->op].name, name) == 0;
}

/* Task ids from results[].task.id (submit_batch) and tasks[].id (list, first 20). */
static void harvest_lists(lf_worker *w, const lf_req *req, const msgpack_object *root)
{
	const msgpack_object *res = ac_mp_get(root, "results");
	const msgpack_object *tasks = ac_mp_get(root, "tasks");
	uint64_t id;

	if (res != NULL && res->type == MSGPACK_OBJECT_ARRAY) {
		for (uint32_t i = 0; i < res->via.array.size; i++) {
			if (lf_mp_u64(ac_mp_get(&res->via.array.ptr[i], "task"), "id", &id)) {
				lf_remember_task(w, id);
			}
		}
	}
	if (is_op(req, "task.list") && tasks != NULL && tasks->type == MSGPACK_OBJECT_ARRAY) {
		for (uint32_t i = 0; i < tasks->via.array.size && i < 20; i++) {
			if (lf_mp_u64(&tasks->via.array.ptr[i], "id", &id)) {
				lf_remember_task(w, id);
			}
		}
	}
}

/* The agent's assignment after an ok reply to an agent op. */
static void harvest_assignment(lf_worker *w, const lf_req *req, const msgpack_object *task)
{
	lf_agent *a = &w->agents[req->agent];
	bool is_delivery = is_op(req, "agent.fetch") || is_op(req, "task.complete");
	uint64_t id, gen;

	if (is_delivery && lf_mp_u64(task, "id", &id) && lf_mp_u64(task, "generation", &gen)) {
		a->task = id;
		a->generation = gen;
		a->has_task = true;
	} else if (is_op(req, "task.complete") || is_op(req, "task.fail") ||
	    is_op(req, "agent.bye")) {
		a->has_task = false;
	}
}

void lf_harvest(lf_worker *w, const lf_req *req, const msgpack_object *root)
{
	const msgpack_object *task = ac_mp_get(root, "task");
	uint64_t id;

	if (lf_mp_u64(task, "id", &id)) {
		lf_remember_task(w, id);
	}
	if (req->agent >= 0) {
		harvest_assignment(w, req, task);
	}
	harvest_lists(w, req, root);
	if (is_op(req, "task.list") && !lf_mp_str(root, "next", w->cursor, sizeof(w->cursor))) {
		w->cursor[0] = '\0';
	}
	if (is_op(req, "token.create") && w->token_count < 32) {
		const msgpack_object *info = ac_mp_get(root, "info");
		char role[16] = "";

		/* never an admin token: revoking one could lock the run out */
		lf_mp_str(info, "role", role, sizeof(role));
		if (strcmp(role, "admin") != 0 && lf_mp_str(info, "id", w->token_ids[w->token_count],
		    sizeof(w->token_ids[0]))) {
			w->token_count++;
		}
	}
	if (is_op(req, "endpoint.register") && w->endpoint_count < 16 &&
	    lf_mp_str(ac_mp_get(root, "endpoint"), "id", w->endpoint_ids[w->endpoint_count],
	    sizeof(w->endpoint_ids[0]))) {
		w->endpoint_count++;
	}
}

void lf_harvest_error(lf_worker *w, const lf_req *req, ac_err code)
{
	bool is_fenced = is_op(req, "task.accept") || is_op(req, "task.progress") ||
	    is_op(req, "task.complete") || is_op(req, "task.fail");
	bool is_lost = code == AC_ENOTFOUND || code == AC_ECONFLICT || code == AC_ESTALE;

	/* The assignment may be gone (reclaimed, cancelled) or only this request's fence
	 * was wrong: forget it now and then, so a live one is still used most times. */
	if (req->agent >= 0 && is_fenced && is_lost && lf_coin(&w->g.r, 30)) {
		w->agents[req->agent].has_task = false;
	}
}
