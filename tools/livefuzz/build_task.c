/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's valid task requests: the fields of task.submit (also used by
 * task.submit_batch and route.explain) and of task.list, with ids and cursors taken
 * from earlier replies. Changes when proto/ops.md adds or changes a task field.
 */
#include <stdio.h>

#include "livefuzz.h"

static const char *const priorities[] = { "urgent", "high", "normal", "low" };
static const char *const statuses[] = { "queued", "assigned", "working", "completed",
	"dead_letter", "cancelled" };
const char *const lf_targets[3] = { "sidecar", "ollama", "claude" };

lf_node *lf_build_meta(lf_gen *g, int depth)
{
	lf_node *m = lf_map(g);
	int n = (int)lf_below(&g->r, 4);

	for (int i = 0; i < n; i++) {
		char k[16];
		uint32_t kind = lf_below(&g->r, 6);
		lf_node *v;

		snprintf(k, sizeof(k), "k%d", i);
		if (kind == 0) {
			v = lf_uint(g, lf_rng_next(&g->r));
		} else if (kind == 1) {
			v = lf_str(g, "v\xc3\xa9");
		} else if (kind == 2) {
			v = depth > 0 ? lf_build_meta(g, depth - 1) : lf_nil(g);
		} else if (kind == 3) {
			v = lf_f64(g, 1.25);
		} else if (kind == 4) {
			v = lf_arr(g);
			lf_push(g, v, lf_int(g, -5));
			lf_push(g, v, lf_nil(g));
		} else {
			v = lf_bool(g, true);
		}
		lf_put(g, m, k, v);
	}
	return m;
}

/* 1..3 maps of string entries: kv holds key, value pairs up to a NULL key; the last
 * pair is optional (present half the time). */
static lf_node *map_list(lf_gen *g, const char *const *kv)
{
	lf_node *a = lf_arr(g);
	uint32_t n = 1 + lf_below(&g->r, 3);

	for (uint32_t i = 0; i < n; i++) {
		lf_node *m = lf_map(g);

		for (int k = 0; kv[k] != NULL; k += 2) {
			if (kv[k + 2] != NULL || lf_coin(&g->r, 50)) {
				lf_put(g, m, kv[k], lf_str(g, kv[k + 1]));
			}
		}
		lf_push(g, a, m);
	}
	return a;
}

static lf_node *make_file_hints(lf_gen *g)
{
	static const char *const kv[] = { "path", "src/a.c", "reason", "because", NULL };

	return map_list(g, kv);
}

static lf_node *make_steps(lf_gen *g)
{
	static const char *const kv[] = { "type", "cmd", "target", "make test", "description",
		"run", NULL };

	return map_list(g, kv);
}

static lf_node *make_priority(lf_gen *g)
{
	return lf_str(g, priorities[lf_below(&g->r, 4)]);
}

static lf_node *make_capabilities(lf_gen *g)
{
	static const char *const caps[] = { "code", "c" };

	return lf_strs(g, 1 + lf_below(&g->r, 2), caps);
}

static lf_node *make_targets(lf_gen *g)
{
	return lf_strs(g, 1 + lf_below(&g->r, 3), lf_targets);
}

static lf_node *make_criteria(lf_gen *g)
{
	static const char *const criteria[] = { "builds", "tests pass" };

	return lf_strs(g, 2, criteria);
}

static lf_node *make_metadata(lf_gen *g)
{
	return lf_build_meta(g, 3);
}

static lf_node *make_max_retries(lf_gen *g)
{
	return lf_uint(g, lf_below(&g->r, 21));
}

static lf_node *make_ttl(lf_gen *g)
{
	return lf_uint(g, lf_coin(&g->r, 50) ? 0 : 1000 + lf_below(&g->r, 600000));
}

static lf_node *make_idempotency_key(lf_gen *g)
{
	char key[48];

	snprintf(key, sizeof(key), "idem-%u", lf_below(&g->r, 500));
	return lf_str(g, key);
}

static lf_node *make_delay(lf_gen *g)
{
	return lf_uint(g, lf_below(&g->r, 3000));
}

static lf_node *make_tier(lf_gen *g)
{
	/* "simple" is no tier: the server ignores it */
	static const char *const tiers[] = { "trivial", "standard", "complex", "unknown", "simple" };

	return lf_str(g, tiers[lf_below(&g->r, 5)]);
}

/* task.submit's optional fields: each appears pct % of the time, with the fixed string
 * value or one make draws. */
static const struct optional {
	const char *key;
	int pct;
	const char *fixed;
	lf_node *(*make)(lf_gen *g);
} optionals[] = {
	{ "priority", 60, NULL, make_priority },
	{ "needed_capabilities", 40, NULL, make_capabilities },
	{ "targets", 40, NULL, make_targets },
	{ "model", 30, "qwen2.5-coder:7b", NULL },
	{ "repo", 30, "git@example:r.git", NULL },
	{ "branch", 30, "main", NULL },
	{ "file_hints", 40, NULL, make_file_hints },
	{ "success_criteria", 30, NULL, make_criteria },
	{ "verification_steps", 30, NULL, make_steps },
	{ "metadata", 40, NULL, make_metadata },
	{ "max_retries", 30, NULL, make_max_retries },
	{ "ttl_ms", 30, NULL, make_ttl },
	{ "idempotency_key", 30, NULL, make_idempotency_key },
	{ "delay_ms", 20, NULL, make_delay },
	{ "complexity_tier", 15, NULL, make_tier },
	{ "submitted_by", 20, "fuzzer", NULL },
};

void lf_build_submit_fields(lf_worker *w, lf_node *m, bool full)
{
	lf_gen *g = &w->g;
	char d[64];

	snprintf(d, sizeof(d), "fuzz task %llu of t%u", (unsigned long long)w->n, w->index);
	lf_put(g, m, "description", lf_str(g, d));
	if (!full && lf_coin(&g->r, 50)) {
		return;
	}
	for (size_t i = 0; i < sizeof(optionals) / sizeof(optionals[0]); i++) {
		const struct optional *o = &optionals[i];

		if (lf_coin(&g->r, o->pct)) {
			lf_put(g, m, o->key, o->fixed != NULL ? lf_str(g, o->fixed) : o->make(g));
		}
	}
}

void lf_build_list(lf_worker *w, lf_node *m, int agent)
{
	/* cursors that once killed the server (i.N past INT64_MAX) and their neighbours */
	static const char *const odd_cursors[] = { "i.-1", "i.18446744073709551615",
		"i.99999999999999999999999", "q.4294967296.1.1", "q.4.0.0",
		"q.1.-9223372036854775808.0", "q.0.9223372036854775807.18446744073709551615", "i.",
		"q...", "i.5junk", "q.%n.%s" };
	lf_gen *g = &w->g;
	/* drawn whatever the thread's cursor, so a seed keeps its shape */
	bool is_next_page = lf_coin(&g->r, 40), is_odd = lf_coin(&g->r, 10);
	uint32_t odd = lf_below(&g->r, sizeof(odd_cursors) / sizeof(odd_cursors[0]));

	if (lf_coin(&g->r, 40)) {
		lf_put(g, m, "status", lf_str(g, statuses[lf_below(&g->r, 6)]));
	}
	if (lf_coin(&g->r, 20)) {
		lf_put(g, m, "priority", lf_str(g, priorities[lf_below(&g->r, 4)]));
	}
	if (lf_coin(&g->r, 15)) {
		lf_put(g, m, "assigned_to", lf_str(g, w->agents[agent].id));
	}
	lf_put(g, m, "limit", lf_uint(g, 1 + lf_below(&g->r, lf_coin(&g->r, 10) ? 1000 : 20)));
	if (w->cursor[0] != '\0' && is_next_page) {
		lf_put(g, m, "cursor", lf_str(g, w->cursor));
	} else if (is_odd) {
		lf_put(g, m, "cursor", lf_str(g, odd_cursors[odd]));
	}
}
