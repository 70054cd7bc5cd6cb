/* SPDX-License-Identifier: MIT
 * libFuzzer target for the real request path: admission (envelope, op lookup) as the
 * gateway runs it, then the op's own schema as the owning actor decodes it. Whatever
 * decodes must re-encode and decode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ops.h"
#include "gateway/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const ac_schema *s, const void *req, ac_arena *arena)
{
	void *again = ac_arena_alloc(arena, s->size);
	ac_mpw w1, w2;

	ac_mpw_init(&w1);
	ac_mpw_init(&w2);
	ac_schema_encode(s, req, &w1);
	if (again == NULL || w1.err != AC_OK ||
	    ac_schema_decode_bytes(s, ac_mpw_data(&w1), ac_mpw_len(&w1), again, arena, NULL) != AC_OK) {
		abort();
	}
	ac_schema_encode(s, again, &w2);
	if (ac_mpw_len(&w1) != ac_mpw_len(&w2) ||
	    memcmp(ac_mpw_data(&w1), ac_mpw_data(&w2), ac_mpw_len(&w1)) != 0) {
		abort();
	}
	ac_mpw_fini(&w2);
	ac_mpw_fini(&w1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ac_arena arena;
	ac_admission adm;
	ac_decode_err err;

	ac_arena_init(&arena);
	if (ac_gateway_admit(NULL, data, size, &arena, &adm) == AC_OK) {
		void *req = ac_arena_alloc(&arena, adm.op->schema->size);
		if (req != NULL &&
		    ac_schema_decode_bytes(adm.op->schema, data, size, req, &arena, &err) == AC_OK) {
			round_trip(adm.op->schema, req, &arena);
		}
	} else if (adm.why.code == AC_OK) {
		abort(); /* a refusal must say why */
	}
	ac_arena_fini(&arena);
	return 0;
}
