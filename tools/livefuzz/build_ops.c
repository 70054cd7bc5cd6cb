/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's op table: every op of proto/ops.md with its share of the requests
 * and the builder of a valid request, filled from the thread's live state (task ids,
 * the agents' current assignment, token and endpoint ids). Fenced ops carry a wrong
 * generation or task 30 % of the time. Changes when an op is added or changes fields.
 */
#include <stdio.h>
#include <string.h>

#include "codec/ops.h"
#include "livefuzz.h"

uint64_t lf_some_task(lf_worker *w)
{
	/* The same draws whatever the ring holds, so a seed keeps its shape. */
	bool is_made_up = lf_coin(&w->g.r, 5);
	uint64_t made_up = 1 + lf_below(&w->g.r, 1000);
	unsigned n = w->task_count < LF_TASK_RING ? w->task_count : LF_TASK_RING;
	uint32_t k = lf_below(&w->g.r, n);

	return is_made_up || n == 0 ? made_up : w->tasks[k];
}

/* One of the first count names (each cap bytes apart) 70 % of the time, else fallback. */
static const char *known_or(lf_gen *g, const char *names, size_t cap, unsigned count,
    const char *fallback)
{
	bool is_known = lf_coin(&g->r, 70);
	uint32_t k = lf_below(&g->r, count);

	return is_known && count > 0 ? names + k * cap : fallback;
}

static void build_nothing(lf_worker *w, lf_node *m, int agent)
{
	(void)w, (void)m, (void)agent;
}

static void build_token_create(lf_worker *w, lf_node *m, int agent)
{
	static const char *const roles[] = { "agent", "client", "admin" };
	lf_gen *g = &w->g;
	uint32_t role = lf_below(&g->r, 3);
	bool has_agent = lf_coin(&g->r, 20);
	char id[32];

	(void)agent;
	lf_put(g, m, "role", lf_str(g, roles[role]));
	if (role == 0 || has_agent) {
		snprintf(id, sizeof(id), "fz-x%u", lf_below(&g->r, 50));
		lf_put(g, m, "agent_id", lf_str(g, id));
	}
	if (lf_coin(&g->r, 50)) {
		lf_put(g, m, "label", lf_str(g, "fuzz"));
	}
}

static void build_token_revoke(lf_worker *w, lf_node *m, int agent)
{
	(void)agent;
	lf_put(&w->g, m, "id", lf_str(&w->g, known_or(&w->g, w->token_ids[0],
	    sizeof(w->token_ids[0]), w->token_count, "nonexistent")));
}

static void build_submit(lf_worker *w, lf_node *m, int agent)
{
	(void)agent;
	lf_build_submit_fields(w, m, false);
}

static void build_explain(lf_worker *w, lf_node *m, int agent)
{
	(void)agent;
	lf_build_submit_fields(w, m, true);
}

static void build_batch(lf_worker *w, lf_node *m, int agent)
{
	lf_gen *g = &w->g;
	lf_node *tasks = lf_arr(g);
	uint32_t n = 1 + lf_below(&g->r, lf_coin(&g->r, 10) ? 200 : 5);

	(void)agent;
	for (uint32_t i = 0; i < n; i++) {
		lf_node *t = lf_map(g);

		lf_build_submit_fields(w, t, false);
		lf_push(g, tasks, t);
	}
	lf_put(g, m, "tasks", tasks);
}

static void build_task_id(lf_worker *w, lf_node *m, int agent)
{
	(void)agent;
	lf_put(&w->g, m, "id", lf_uint(&w->g, lf_some_task(w)));
}

static void build_endpoint_register(lf_worker *w, lf_node *m, int agent)
{
	lf_gen *g = &w->g;

	(void)agent;
	lf_put(g, m, "host", lf_str(g, lf_coin(&g->r, 50) ? "127.0.0.1" : "localhost"));
	if (lf_coin(&g->r, 70)) {
		lf_put(g, m, "port", lf_uint(g, 1 + lf_below(&g->r, 65535)));
	}
	if (lf_coin(&g->r, 50)) {
		lf_put(g, m, "name", lf_str(g, "fz-ep"));
	}
}

static void build_endpoint_remove(lf_worker *w, lf_node *m, int agent)
{
	(void)agent;
	lf_put(&w->g, m, "id", lf_str(&w->g, known_or(&w->g, w->endpoint_ids[0],
	    sizeof(w->endpoint_ids[0]), w->endpoint_count, "127.0.0.1:1")));
}

static void build_hello(lf_worker *w, lf_node *m, int agent)
{
	static const char *const caps[] = { "code", "c", "py" };
	/* the forms parse_url once read past (no colon, trailing colon) and their kin */
	static const char *const urls[] = { "http://127.0.0.1:9", "127.0.0.1", "h:", "http://",
		"http://[::1]:9", "http://[::1", "localhost:99999", "http://x:0/", "://", "[",
		"a:123456" };
	lf_gen *g = &w->g;

	(void)agent;
	if (lf_coin(&g->r, 50)) {
		lf_put(g, m, "name", lf_str(g, "fuzz agent"));
	}
	if (lf_coin(&g->r, 60)) {
		lf_put(g, m, "capabilities", lf_strs(g, 1 + lf_below(&g->r, 3), caps));
	}
	if (lf_coin(&g->r, 50)) {
		lf_put(g, m, "targets", lf_strs(g, 1 + lf_below(&g->r, 3), lf_targets));
	}
	if (lf_coin(&g->r, 30)) {
		lf_put(g, m, "ollama_url", lf_str(g, urls[lf_below(&g->r, sizeof(urls) / sizeof(urls[0]))]));
	}
}

static void build_heartbeat(lf_worker *w, lf_node *m, int agent)
{
	lf_gen *g = &w->g;
	lf_node *r;

	(void)agent;
	if (!lf_coin(&g->r, 50)) {
		return;
	}
	r = lf_map(g);
	lf_put(g, r, "cpu_percent", lf_f64(g, 12.5));
	lf_put(g, r, "ram_total_bytes", lf_uint(g, 1u << 30));
	lf_put(g, r, "ram_used_bytes", lf_uint(g, 1u << 20));
	if (lf_coin(&g->r, 50)) {
		lf_put(g, r, "vram_total_bytes", lf_uint(g, 1u << 30));
	}
	if (lf_coin(&g->r, 50)) {
		lf_put(g, r, "vram_used_bytes", lf_uint(g, 1u << 20));
	}
	lf_put(g, m, "resources", r);
}

static void build_fetch(lf_worker *w, lf_node *m, int agent)
{
	lf_gen *g = &w->g;

	(void)agent;
	lf_put(g, m, "wait_ms", lf_uint(g, lf_coin(&g->r, 60) ? 0 : lf_below(&g->r, 300)));
	if (lf_coin(&g->r, 40)) {
		lf_put(g, m, "accept", lf_bool(g, lf_coin(&g->r, 50)));
	}
}

/* id and generation of the agent's assignment; 30 % of the time a stale or foreign one. */
static void build_fence(lf_worker *w, lf_node *m, int agent)
{
	lf_gen *g = &w->g;
	const lf_agent *a = &w->agents[agent];
	uint64_t other = lf_some_task(w);
	uint64_t id = a->has_task ? a->task : other, gen = a->has_task ? a->generation : 1;
	uint32_t r = lf_below(&g->r, 10);

	if (r == 7) {
		gen++;
	} else if (r == 8 && gen > 0) {
		gen--;
	} else if (r == 9) {
		id = lf_some_task(w);
	}
	lf_put(g, m, "id", lf_uint(g, id));
	lf_put(g, m, "generation", lf_uint(g, gen));
}

static void build_progress(lf_worker *w, lf_node *m, int agent)
{
	lf_gen *g = &w->g;

	build_fence(w, m, agent);
	if (lf_coin(&g->r, 50)) {
		lf_put(g, m, "message", lf_str(g, "halfway"));
	}
	if (lf_coin(&g->r, 50)) {
		lf_put(g, m, "percent", lf_uint(g, lf_below(&g->r, 101)));
	}
}

static void build_complete(lf_worker *w, lf_node *m, int agent)
{
	lf_gen *g = &w->g;

	build_fence(w, m, agent);
	if (lf_coin(&g->r, 60)) {
		lf_put(g, m, "result", lf_coin(&g->r, 70) ? lf_build_meta(g, 4) : lf_str(g, "done"));
	}
	if (lf_coin(&g->r, 40)) {
		lf_put(g, m, "tokens_used", lf_uint(g, lf_below(&g->r, 100000)));
	}
	if (lf_coin(&g->r, 30)) {
		lf_put(g, m, "fetch_wait_ms", lf_uint(g, lf_below(&g->r, 200)));
	}
	if (lf_coin(&g->r, 20)) {
		lf_put(g, m, "accept", lf_bool(g, true));
	}
}

static void build_fail(lf_worker *w, lf_node *m, int agent)
{
	lf_gen *g = &w->g;

	build_fence(w, m, agent);
	lf_put(g, m, "error", lf_str(g, "boom"));
	if (lf_coin(&g->r, 50)) {
		lf_put(g, m, "retryable", lf_bool(g, lf_coin(&g->r, 50)));
	}
}

const lf_op lf_ops[] = {
	{ "ping", 2, false, build_nothing },
	{ "stats", 2, false, build_nothing },
	{ "token.create", 1, false, build_token_create },
	{ "token.list", 1, false, build_nothing },
	{ "token.revoke", 1, false, build_token_revoke },
	{ "task.submit", 10, false, build_submit },
	{ "task.submit_batch", 4, false, build_batch },
	{ "task.get", 5, false, build_task_id },
	{ "task.list", 5, false, lf_build_list },
	{ "task.cancel", 4, false, build_task_id },
	{ "task.retry", 4, false, build_task_id },
	{ "route.explain", 4, false, build_explain },
	{ "agent.list", 2, false, build_nothing },
	{ "endpoint.register", 2, false, build_endpoint_register },
	{ "endpoint.remove", 2, false, build_endpoint_remove },
	{ "endpoint.list", 2, false, build_nothing },
	{ "agent.hello", 5, true, build_hello },
	{ "agent.heartbeat", 5, true, build_heartbeat },
	{ "agent.fetch", 8, true, build_fetch },
	{ "agent.bye", 2, true, build_nothing },
	{ "task.accept", 6, true, build_fence },
	{ "task.progress", 5, true, build_progress },
	{ "task.complete", 6, true, build_complete },
	{ "task.fail", 5, true, build_fail },
};
const int lf_op_count = (int)(sizeof(lf_ops) / sizeof(lf_ops[0]));

_Static_assert(sizeof(lf_ops) / sizeof(lf_ops[0]) <= LF_MAX_OPS, "raise LF_MAX_OPS");

int lf_op_find(const char *name)
{
	for (int i = 0; i < lf_op_count; i++) {
		if (strcmp(lf_ops[i].name, name) == 0) {
			return i;
		}
	}
	return -1;
}

void lf_ops_check(void)
{
	size_t count;
	const ac_op_desc *ops = ac_ops_all(&count);

	for (size_t i = 0; i < count; i++) {
		if (lf_op_find(ops[i].name) < 0) {
			fprintf(stderr, "agentcom-livefuzz: op %s has no request builder in "
			    "tools/livefuzz/build_ops.c\n", ops[i].name);
		}
	}
	for (int i = 0; i < lf_op_count; i++) {
		if (ac_op_lookup(lf_ops[i].name, strlen(lf_ops[i].name)) == NULL) {
			fprintf(stderr, "agentcom-livefuzz: op %s is built but the server has no "
			    "such op\n", lf_ops[i].name);
		}
	}
}

lf_node *lf_build(lf_worker *w, int op, int *agent, const char **token)
{
	lf_gen *g = &w->g;
	lf_node *m = lf_map(g);
	int slot = (int)lf_below(&g->r, LF_AGENTS);
	bool is_own_token = lf_coin(&g->r, 60);

	*agent = -1;
	*token = w->run->opts->token;
	lf_put(g, m, "op", lf_str(g, lf_ops[op].name));
	if (lf_ops[op].is_agent_op) {
		/* the agent's own token, or the admin token, which may act for any agent */
		*agent = slot;
		if (is_own_token) {
			*token = w->agents[slot].token;
		}
		lf_put(g, m, "agent_id", lf_str(g, w->agents[slot].id));
	}
	lf_ops[op].build(w, m, slot);
	return m;
}
