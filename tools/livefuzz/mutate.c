/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's structural mutations: one picks a random key or value anywhere in
 * a request tree and drops, retypes, enlarges, nests, duplicates or corrupts it, or
 * changes the op or the token. The table at the end is the whole list; add a mutator
 * there. Mutations work on the tree only; bytes.c changes encoded bytes.
 */
#include <string.h>

#include "livefuzz.h"

#define MAX_SLOTS 4096

/* A place in the tree: parent->kids[idx] (in a map, even idx is a key). */
typedef struct slot {
	lf_node *parent;
	uint32_t idx;
} slot;

/* What one mutation works on. */
typedef struct target {
	lf_worker *w;
	lf_gen *g;
	lf_node *root;
	slot at;        /* the chosen place */
	lf_node **p;    /* &at.parent->kids[at.idx] */
	lf_node *val;   /* *p before the mutation */
	bool is_key;
	const slot *all; /* every place, for copying one value over another */
	uint32_t count;
} target;

static uint32_t kids_of(const lf_node *x)
{
	if (x->type == LF_MAP) {
		return 2 * x->count;
	}
	return x->type == LF_ARR ? x->count : 0;
}

static void collect(lf_node *x, slot *out, uint32_t *n)
{
	for (uint32_t i = 0; i < kids_of(x) && *n < MAX_SLOTS; i++) {
		out[(*n)++] = (slot){ x, i };
		collect(x->kids[i], out, n);
	}
}

/* Whether inner is x or below it. Copies share subtrees, so a tree can hold billions
 * of paths: past *budget visits the answer is yes, which only refuses one copy. */
static bool contains(const lf_node *x, const lf_node *inner, uint32_t *budget)
{
	if (x == inner || *budget == 0) {
		return true;
	}
	--*budget;
	for (uint32_t i = 0; i < kids_of(x); i++) {
		if (contains(x->kids[i], inner, budget)) {
			return true;
		}
	}
	return false;
}

/* The map to add an entry to: the chosen place's parent if a map, else the root. */
static lf_node *nearest_map(const target *t)
{
	return t->at.parent->type == LF_MAP ? t->at.parent : t->root;
}

static void drop(target *t)
{
	lf_node *x = t->at.parent;
	uint32_t per = x->type == LF_MAP ? 2 : 1, first = t->at.idx / per * per;

	memmove(&x->kids[first], &x->kids[first + per],
	    sizeof(lf_node *) * (kids_of(x) - first - per));
	x->count--;
}

static void retype(target *t)
{
	*t->p = lf_value_scalar(t->g); /* on a key too: keys of any type */
}

static void big_string(target *t)
{
	*t->p = lf_value_big_str(t->g);
}

static void huge_number(target *t)
{
	*t->p = lf_value_huge_num(t->g);
}

static void bad_utf8(target *t)
{
	*t->p = lf_value_bad_utf8(t->g);
}

static void nest(target *t)
{
	/* a little too deep (wrong shape) or past the depth limit of 16 */
	bool is_shallow = lf_coin(&t->g->r, 70);
	int depth = is_shallow ? 1 + (int)lf_below(&t->g->r, 3) : 14 + (int)lf_below(&t->g->r, 10);

	*t->p = lf_value_deep(t->g, depth, t->val);
}

static void big_list(target *t)
{
	lf_node *item = lf_coin(&t->g->r, 50) ? t->val : lf_value_scalar(t->g);

	if (!t->is_key) {
		*t->p = lf_value_big_list(t->g, item);
	}
}

static void duplicate_key(target *t)
{
	lf_node *m = nearest_map(t);
	uint32_t e = lf_below(&t->g->r, m->count);
	lf_node *v = lf_coin(&t->g->r, 50) && m->count > 0 ? m->kids[2 * e + 1]
	                                                   : lf_value_scalar(t->g);

	if (m->count > 0) {
		lf_put(t->g, m, "x", v);
		m->kids[2 * (m->count - 1)] = m->kids[2 * e];
	}
}

static void add_known_key(target *t)
{
	/* keys of the protocol, so the new value lands where some decoder looks */
	static const char *const keys[] = { "op", "token", "agent_id", "id", "generation",
		"description", "tasks", "metadata", "result", "file_hints", "targets", "priority",
		"status", "limit", "cursor", "wait_ms", "fetch_wait_ms", "accept", "role", "host",
		"port", "resources", "error", "percent", "capabilities", "verification_steps",
		"max_retries", "ttl_ms", "delay_ms", "idempotency_key", "ollama_url" };
	const char *key = keys[lf_below(&t->g->r, sizeof(keys) / sizeof(keys[0]))];
	lf_node *v = lf_coin(&t->g->r, 50) ? lf_value_scalar(t->g) : lf_value_huge_num(t->g);

	lf_put(t->g, nearest_map(t), key, v);
}

static void edit_string(target *t)
{
	uint32_t kind = lf_below(&t->g->r, 4);
	uint64_t draw = lf_rng_next(&t->g->r);
	lf_node *x;

	if (t->val->type != LF_STR || t->val->len == 0) {
		*t->p = lf_str(t->g, "");
		return;
	}
	x = lf_strn(t->g, t->val->s, t->val->len);
	if (kind == 0) {
		x->len = (uint32_t)(draw % x->len); /* truncated, maybe mid-character */
	} else if (kind == 1) {
		x->s[draw % x->len] = (char)(draw >> 32);
	} else if (kind == 2) {
		x->s[draw % x->len] = '\0';
	} else {
		x->type = LF_BIN;
	}
	*t->p = x;
}

static void nudge_number(target *t)
{
	uint32_t kind = lf_below(&t->g->r, 4);
	lf_node *v = t->val;

	if (v->type != LF_UINT) {
		*t->p = lf_value_huge_num(t->g);
	} else if (kind == 0) {
		v->u++;
	} else if (kind == 1) {
		v->u--;
	} else if (kind == 2) {
		*t->p = lf_int(t->g, -(int64_t)(v->u & 0x7fffffffffffffffull) - 1);
	} else {
		*t->p = lf_f64(t->g, (double)v->u + 0.5);
	}
}

static void copy_other(target *t)
{
	const slot *o = &t->all[lf_below(&t->g->r, t->count)];
	lf_node *src = o->parent->kids[o->idx];
	uint32_t budget = 100000;

	if (!contains(src, t->at.parent, &budget)) { /* no cycles */
		*t->p = src;
	}
}

static void empty(target *t)
{
	bool is_nil = lf_coin(&t->g->r, 50);

	*t->p = is_nil ? lf_nil(t->g) : t->val->type == LF_MAP ? lf_arr(t->g) : lf_map(t->g);
}

static void change_op(target *t)
{
	static const char *const odd[] = { "", "PING", "ping ", "task", "task.", "token.create\0x",
		"agent.fetch.x", "nope" };
	lf_gen *g = t->g;
	bool is_odd = lf_coin(&g->r, 50), is_long = lf_coin(&g->r, 10);
	uint32_t k = lf_below(&g->r, is_odd ? 8 : (uint32_t)lf_op_count);
	const char *name = is_odd ? odd[k] : lf_ops[k].name;
	int e = lf_find(t->root, "op");
	char padded[14] = { 0 };

	if (e < 0) {
		return;
	}
	if (is_long && strlen(name) < sizeof(padded)) {
		memcpy(padded, name, strlen(name)); /* the name, then NULs up to 14 bytes */
		t->root->kids[2 * e + 1] = lf_strn(g, padded, sizeof(padded));
	} else {
		t->root->kids[2 * e + 1] = lf_str(g, name);
	}
}

static void change_token(target *t)
{
	lf_gen *g = t->g;
	uint32_t kind = lf_below(&g->r, 4);
	uint32_t agent = lf_below(&g->r, LF_AGENTS);
	int e = lf_find(t->root, "token");
	lf_node *v;

	if (e < 0) {
		return;
	}
	if (kind == 0) {
		v = lf_str(g, "bad-token");
	} else if (kind == 1) {
		v = lf_value_scalar(g);
	} else if (kind == 2) {
		v = lf_value_big_str(g);
	} else {
		v = lf_str(g, t->w->agents[agent].token); /* another agent's */
	}
	t->root->kids[2 * e + 1] = v;
}

static const struct mutator {
	void (*fn)(target *t);
	uint32_t weight;
} mutators[] = {
	{ drop, 1 }, { retype, 2 }, { big_string, 1 }, { huge_number, 1 }, { bad_utf8, 1 },
	{ nest, 1 }, { big_list, 1 }, { duplicate_key, 1 }, { add_known_key, 1 },
	{ edit_string, 1 }, { nudge_number, 1 }, { copy_other, 1 }, { empty, 1 },
	{ change_op, 1 }, { change_token, 1 },
};

void lf_mutate(lf_worker *w, lf_node *root)
{
	slot all[MAX_SLOTS]; /* 64 KiB */
	uint32_t n = 0, total = 0, pick;
	size_t k = 0;
	target t;

	collect(root, all, &n);
	if (n == 0) {
		return;
	}
	t.w = w;
	t.g = &w->g;
	t.root = root;
	t.all = all;
	t.count = n;
	t.at = t.all[lf_below(&w->g.r, n)];
	t.p = &t.at.parent->kids[t.at.idx];
	t.val = *t.p;
	t.is_key = t.at.parent->type == LF_MAP && t.at.idx % 2 == 0;
	for (size_t i = 0; i < sizeof(mutators) / sizeof(mutators[0]); i++) {
		total += mutators[i].weight;
	}
	pick = lf_below(&w->g.r, total);
	while (pick >= mutators[k].weight) {
		pick -= mutators[k++].weight;
	}
	mutators[k].fn(&t);
}
