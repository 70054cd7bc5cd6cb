/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's message-level inputs: byte mutations of an encoded request
 * (truncation, bit flips, hostile bytes, headers claiming 4 G items), whole hostile
 * messages (empty, not a map, two maps, random bytes, thousands of keys), the request
 * just past the size limit, and padding a request to exactly 2^k - 4 bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ops.h"
#include "livefuzz.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PAD_MAX 70000u

/* A byte mutation at pos (< b->len) with one random draw r. */
typedef void (*byte_fn)(lf_buf *b, size_t pos, uint64_t r);

static void truncate_at(lf_buf *b, size_t pos, uint64_t r)
{
	(void)r;
	b->len = pos;
}

static void flip_bit(lf_buf *b, size_t pos, uint64_t r)
{
	b->p[pos] ^= (uint8_t)(1u << (r % 8));
}

static void random_byte(lf_buf *b, size_t pos, uint64_t r)
{
	b->p[pos] = (uint8_t)r;
}

static void hostile_byte(lf_buf *b, size_t pos, uint64_t r)
{
	/* headers of 32-bit containers and strings, the never-used 0xc1, nil, fixmap 0 */
	static const uint8_t hostile[] = { 0xdd, 0xdf, 0xdb, 0xc6, 0xc9, 0xc1, 0xff, 0x00, 0x7f,
		0x80, 0x90, 0xc0, 0xd9, 0xde };

	b->p[pos] = hostile[r % COUNT(hostile)];
}

static void trailing_byte(lf_buf *b, size_t pos, uint64_t r)
{
	(void)pos;
	lf_buf_byte(b, (uint8_t)r);
}

static void huge_header(lf_buf *b, size_t pos, uint64_t r)
{
	/* an array 32 or map 32 claiming about 4 G items, inserted at pos */
	uint8_t h[5] = { (r & 1) != 0 ? 0xdd : 0xdf, 0xff, 0xff, 0xff, (uint8_t)(r >> 8) };

	lf_buf_put(b, h, sizeof(h));
	if (!b->is_over) {
		memmove(b->p + pos + sizeof(h), b->p + pos, b->len - sizeof(h) - pos);
		memcpy(b->p + pos, h, sizeof(h));
	}
}

static void duplicate_chunk(lf_buf *b, size_t pos, uint64_t r)
{
	size_t n = (size_t)(r % (b->len - pos)) + 1;
	uint8_t *tmp = malloc(n);

	if (tmp != NULL) {
		memcpy(tmp, b->p + pos, n);
		lf_buf_put(b, tmp, n); /* appended: the message now has trailing bytes */
		free(tmp);
	}
}

void lf_mutate_bytes(lf_gen *g, lf_buf *b)
{
	static const byte_fn fns[] = { truncate_at, flip_bit, random_byte, hostile_byte,
		trailing_byte, huge_header, duplicate_chunk };
	uint32_t k = lf_below(&g->r, COUNT(fns));
	size_t pos = b->len != 0 ? lf_below(&g->r, (uint32_t)b->len) : 0;
	uint64_t r = lf_rng_next(&g->r);

	if (b->len != 0) {
		fns[k](b, pos, r);
	}
}

/* The envelope every special map starts with. */
static lf_node *envelope(lf_worker *w, const char *op)
{
	lf_node *x = lf_map(&w->g);

	lf_put(&w->g, x, "op", lf_str(&w->g, op));
	lf_put(&w->g, x, "token", lf_str(&w->g, w->run->opts->token));
	return x;
}

/* Each special returns the tree to encode, or NULL when it wrote b itself. */
typedef lf_node *(*special_fn)(lf_worker *w, lf_buf *b);

static lf_node *special_empty(lf_worker *w, lf_buf *b)
{
	(void)w, (void)b;
	return NULL;
}

static lf_node *special_array_root(lf_worker *w, lf_buf *b)
{
	lf_node *x = lf_arr(&w->g);

	(void)b;
	lf_push(&w->g, x, lf_str(&w->g, "ping"));
	return x;
}

static lf_node *special_str_root(lf_worker *w, lf_buf *b)
{
	(void)b;
	return lf_str(&w->g, "ping");
}

static lf_node *special_int_root(lf_worker *w, lf_buf *b)
{
	(void)b;
	return lf_uint(&w->g, 5);
}

static lf_node *special_deep_junk(lf_worker *w, lf_buf *b)
{
	lf_node *x = envelope(w, "ping");
	int depth = 15 + (int)lf_below(&w->g.r, 40);

	(void)b;
	lf_put(&w->g, x, "junk", lf_value_deep(&w->g, depth, lf_nil(&w->g)));
	return x;
}

static lf_node *special_two_maps(lf_worker *w, lf_buf *b)
{
	lf_node *x = envelope(w, "ping");

	lf_encode(&w->g, b, x, 0); /* the caller encodes the second */
	return x;
}

static lf_node *special_random(lf_worker *w, lf_buf *b)
{
	uint32_t n = lf_below(&w->g.r, 64);

	for (uint32_t i = 0; i < n; i++) {
		lf_buf_byte(b, (uint8_t)lf_rng_next(&w->g.r));
	}
	return NULL;
}

static lf_node *special_odd_key(lf_worker *w, lf_buf *b)
{
	lf_node *x = envelope(w, "ping");
	bool is_int = lf_coin(&w->g.r, 50);

	(void)b;
	lf_put(&w->g, x, "k", lf_uint(&w->g, 1));
	x->kids[4] = is_int ? lf_uint(&w->g, 7) : lf_map(&w->g);
	return x;
}

static lf_node *special_many_keys(lf_worker *w, lf_buf *b)
{
	lf_node *x = envelope(w, "stats");
	uint32_t n = lf_below(&w->g.r, 3000);

	(void)b;
	for (uint32_t i = 0; i < n; i++) {
		char k[16];

		snprintf(k, sizeof(k), "u%u", i);
		lf_put(&w->g, x, k, lf_nil(&w->g));
	}
	return x;
}

void lf_special(lf_worker *w, lf_buf *b)
{
	static const special_fn fns[] = { special_empty, special_array_root, special_str_root,
		special_int_root, special_deep_junk, special_two_maps, special_random,
		special_odd_key, special_many_keys };
	lf_node *x = fns[lf_below(&w->g.r, COUNT(fns))](w, b);

	if (x != NULL) {
		lf_encode(&w->g, b, x, 10);
	}
}

void lf_oversize(lf_worker *w, lf_buf *b)
{
	lf_node *x = envelope(w, "ping");

	lf_put(&w->g, x, "junk", lf_fill(&w->g, 'z', AC_MAX_REQUEST_BYTES + 100));
	lf_encode(&w->g, b, x, 0);
}

/* Moves map entry i to the front, keeping the order of the others. */
static void move_first(lf_node *m, uint32_t i)
{
	lf_node *k = m->kids[2 * i], *v = m->kids[2 * i + 1];

	memmove(&m->kids[2], &m->kids[0], sizeof(lf_node *) * 2 * i);
	m->kids[0] = k;
	m->kids[1] = v;
}

bool lf_pad(lf_gen *g, lf_node *m, lf_buf *b)
{
	uint32_t last = m->count - 1;
	lf_node *pad = lf_fill(g, 'p', PAD_MAX);
	size_t target = 1024;

	/* The token goes first and the op's own fields last, so that the request ends in
	 * the value a handler reads (F1 of the fuzz report: ollama_url scanned past the end). */
	if (lf_is_key(m->kids[2 * last], "token")) {
		lf_swap(m, 0, last);
	}
	pad->len = 0;
	lf_put(g, m, "pad", pad); /* an unknown key: ignored by the server */
	move_first(m, m->count - 1);
	lf_encode(g, b, m, 0);
	/* nng allocates 4 + body bytes exactly for powers of two >= 1024 */
	while (target - 4 < b->len + 8) {
		target *= 2;
	}
	target -= 4;
	/* The pad's own header grows at 32, 256 and 65536 bytes: a few rounds settle it. */
	for (int round = 0; round < 6 && b->len != target && !b->is_over; round++) {
		int64_t len = (int64_t)pad->len + (int64_t)target - (int64_t)b->len;

		if (len < 0 || len >= PAD_MAX) {
			break;
		}
		pad->len = (uint32_t)len;
		b->len = 0;
		lf_encode(g, b, m, 0);
	}
	return b->len == target;
}
