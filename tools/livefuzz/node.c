/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's request tree: the random generator, allocation from the arena
 * that holds one request's nodes, and the node constructors and map helpers every
 * builder and mutator uses. No I/O and no shared state: each lf_gen belongs to one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "livefuzz.h"

static uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

void lf_rng_seed(lf_rng *r, uint64_t seed, unsigned thread, uint64_t n)
{
	r->s = splitmix(splitmix(splitmix(seed) ^ thread) ^ n);
	if (r->s == 0) {
		r->s = 1; /* xorshift stays at 0 forever */
	}
}

uint64_t lf_rng_next(lf_rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

uint32_t lf_below(lf_rng *r, uint32_t n)
{
	return n != 0 ? (uint32_t)(lf_rng_next(r) % n) : 0;
}

bool lf_coin(lf_rng *r, int pct)
{
	return lf_below(r, 100) < (uint32_t)pct;
}

void *lf_alloc(ac_arena *a, size_t len)
{
	void *p = ac_arena_alloc(a, len);

	if (p == NULL) {
		fputs("agentcom-livefuzz: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/* A node in g's arena, a copy of proto. */
static lf_node *make(lf_gen *g, lf_node proto)
{
	lf_node *x = lf_alloc(&g->a, sizeof(*x));

	*x = proto;
	return x;
}

lf_node *lf_node_new(lf_gen *g, lf_type type)
{
	return make(g, (lf_node){ .type = type });
}

lf_node *lf_nil(lf_gen *g)
{
	return lf_node_new(g, LF_NIL);
}

lf_node *lf_bool(lf_gen *g, bool b)
{
	return make(g, (lf_node){ .type = LF_BOOL, .b = b });
}

lf_node *lf_uint(lf_gen *g, uint64_t u)
{
	return make(g, (lf_node){ .type = LF_UINT, .u = u });
}

lf_node *lf_int(lf_gen *g, int64_t i)
{
	return make(g, (lf_node){ .type = LF_INT, .i = i });
}

lf_node *lf_f64(lf_gen *g, double d)
{
	return make(g, (lf_node){ .type = LF_F64, .d = d });
}

lf_node *lf_strn(lf_gen *g, const char *p, size_t len)
{
	lf_node *x = lf_node_new(g, LF_STR);

	x->s = lf_alloc(&g->a, len + 1);
	memcpy(x->s, p, len);
	x->len = (uint32_t)len;
	return x;
}

lf_node *lf_str(lf_gen *g, const char *s)
{
	return lf_strn(g, s, strlen(s));
}

lf_node *lf_fill(lf_gen *g, char ch, uint32_t len)
{
	lf_node *x = lf_node_new(g, LF_STR);

	x->s = lf_alloc(&g->a, (size_t)len + 1);
	memset(x->s, ch, len);
	x->len = len;
	return x;
}

static size_t kids_per_slot(const lf_node *x)
{
	return x->type == LF_MAP ? 2 : 1;
}

lf_node *lf_container(lf_gen *g, lf_type type, uint32_t cap)
{
	lf_node *x = lf_node_new(g, type);

	x->cap = cap != 0 ? cap : 4;
	x->kids = lf_alloc(&g->a, sizeof(lf_node *) * x->cap * kids_per_slot(x));
	return x;
}

lf_node *lf_arr(lf_gen *g)
{
	return lf_container(g, LF_ARR, 8);
}

lf_node *lf_map(lf_gen *g)
{
	return lf_container(g, LF_MAP, 24);
}

static void grow(lf_gen *g, lf_node *x)
{
	size_t per = kids_per_slot(x);
	lf_node **kids = lf_alloc(&g->a, sizeof(lf_node *) * x->cap * 2 * per);

	memcpy(kids, x->kids, sizeof(lf_node *) * x->count * per);
	x->kids = kids; /* the old array stays in the arena until the reset */
	x->cap *= 2;
}

void lf_push(lf_gen *g, lf_node *arr, lf_node *v)
{
	if (arr->count == arr->cap) {
		grow(g, arr);
	}
	arr->kids[arr->count++] = v;
}

void lf_put(lf_gen *g, lf_node *map, const char *key, lf_node *v)
{
	if (map->count == map->cap) {
		grow(g, map);
	}
	map->kids[2 * map->count] = lf_str(g, key);
	map->kids[2 * map->count + 1] = v;
	map->count++;
}

lf_node *lf_strs(lf_gen *g, uint32_t n, const char *const *v)
{
	lf_node *a = lf_arr(g);

	for (uint32_t i = 0; i < n; i++) {
		lf_push(g, a, lf_str(g, v[i]));
	}
	return a;
}

bool lf_is_key(const lf_node *x, const char *key)
{
	size_t len = strlen(key);

	return x->type == LF_STR && x->len == len && memcmp(x->s, key, len) == 0;
}

int lf_find(const lf_node *map, const char *key)
{
	for (uint32_t i = 0; map->type == LF_MAP && i < map->count; i++) {
		if (lf_is_key(map->kids[2 * i], key)) {
			return (int)i;
		}
	}
	return -1;
}

void lf_swap(lf_node *map, uint32_t i, uint32_t j)
{
	lf_node *k = map->kids[2 * i], *v = map->kids[2 * i + 1];

	map->kids[2 * i] = map->kids[2 * j];
	map->kids[2 * i + 1] = map->kids[2 * j + 1];
	map->kids[2 * j] = k;
	map->kids[2 * j + 1] = v;
}
