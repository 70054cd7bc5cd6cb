/* SPDX-License-Identifier: MIT
 * Bump allocator for one decoded message. Blocks of at least AC_ARENA_BLOCK bytes;
 * a request bigger than half a block gets a block of its own, so one large value
 * never wastes the tail of the current block. Owns its blocks; not thread-safe.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/arena.h"

#define AC_ARENA_ALIGN 16
#define AC_ARENA_BLOCK 4096
/* reset keeps one block; a bigger one (from a huge value) goes back to malloc so an
 * actor does not sit on a megabyte after one large message. */
#define AC_ARENA_KEEP_MAX (64 * 1024)

struct ac_arena_block {
	ac_arena_block *next;
	size_t cap;  /* usable bytes in data */
	size_t used; /* bytes of data handed out, always a multiple of AC_ARENA_ALIGN */
	alignas(AC_ARENA_ALIGN) unsigned char data[];
};

void ac_arena_init(ac_arena *a)
{
	memset(a, 0, sizeof(*a));
}

static void free_list(ac_arena_block *b)
{
	while (b != NULL) {
		ac_arena_block *next = b->next;
		free(b);
		b = next;
	}
}

void ac_arena_fini(ac_arena *a)
{
	free_list(a->head);
	a->head = NULL;
	a->total = 0;
}

void ac_arena_reset(ac_arena *a)
{
	ac_arena_block *keep = NULL;
	ac_arena_block **pp = &a->head;

	/* Unlink the largest block that is not oversized, free the rest. */
	for (ac_arena_block *b = a->head; b != NULL; b = b->next) {
		if (b->cap <= AC_ARENA_KEEP_MAX && (keep == NULL || b->cap > keep->cap)) {
			keep = b;
		}
	}
	while (*pp != NULL) {
		if (*pp == keep) {
			*pp = keep->next;
			break;
		}
		pp = &(*pp)->next;
	}
	free_list(a->head);
	if (keep != NULL) {
		keep->next = NULL;
		keep->used = 0;
	}
	a->head = keep;
	a->total = 0;
}

static ac_arena_block *new_block(size_t cap)
{
	ac_arena_block *b;

	if (cap > SIZE_MAX - sizeof(*b)) {
		return NULL;
	}
	b = malloc(sizeof(*b) + cap);
	if (b != NULL) {
		b->next = NULL;
		b->cap = cap;
		b->used = 0;
	}
	return b;
}

void *ac_arena_alloc(ac_arena *a, size_t len)
{
	ac_arena_block *b = a->head;
	size_t need;
	void *p;

	if (len > SIZE_MAX - 2 * AC_ARENA_ALIGN) {
		return NULL;
	}
	/* len 0 still takes one slot, so the pointer is distinct and inside a block. */
	need = (len + AC_ARENA_ALIGN - 1 + (len == 0)) & ~(size_t)(AC_ARENA_ALIGN - 1);
	if (need > AC_ARENA_BLOCK / 2) {
		/* Its own block, linked behind the head so the head keeps filling. */
		ac_arena_block *big = new_block(need);
		if (big == NULL) {
			return NULL;
		}
		big->used = need;
		if (b != NULL) {
			big->next = b->next;
			b->next = big;
		} else {
			a->head = big;
		}
		p = big->data;
	} else {
		if (b == NULL || b->cap - b->used < need) {
			b = new_block(AC_ARENA_BLOCK);
			if (b == NULL) {
				return NULL;
			}
			b->next = a->head;
			a->head = b;
		}
		p = b->data + b->used;
		b->used += need;
	}
	a->total += len;
	memset(p, 0, len);
	return p;
}

void *ac_arena_dup(ac_arena *a, const void *p, size_t len)
{
	void *q = ac_arena_alloc(a, len);

	if (q != NULL && len > 0) {
		memcpy(q, p, len);
	}
	return q;
}
