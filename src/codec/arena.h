/* SPDX-License-Identifier: MIT
 * Bump allocator for the life of one decoded message: the decoder puts lists and
 * re-encoded opaque values here, the handler reads them, the runtime resets it.
 * One owner; not thread-safe.
 */
#ifndef AC_CODEC_ARENA_H
#define AC_CODEC_ARENA_H

#include <stddef.h>

typedef struct ac_arena_block ac_arena_block;

typedef struct ac_arena {
	ac_arena_block *head; /* newest block first */
	size_t total;         /* bytes handed out since the last reset */
} ac_arena;

/* Zeroes a (an arena needs no other initialisation). */
void ac_arena_init(ac_arena *a);
/* Frees every block; a zeroed arena is a no-op. */
void ac_arena_fini(ac_arena *a);
/* Forgets all allocations, keeping one block for reuse. */
void ac_arena_reset(ac_arena *a);
/* Returns len bytes aligned to 16, zeroed, valid until reset/fini; NULL when out of
 * memory. len 0 returns a valid non-NULL pointer. */
void *ac_arena_alloc(ac_arena *a, size_t len);
/* Copies len bytes into the arena; NULL when out of memory. */
void *ac_arena_dup(ac_arena *a, const void *p, size_t len);

#endif
