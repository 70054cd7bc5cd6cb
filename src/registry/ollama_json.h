/* SPDX-License-Identifier: MIT
 * Extractor for the two Ollama list bodies the prober reads: GET /api/tags and
 * GET /api/ps, both {"models":[{"name":..., "size_vram":..., ...}, ...], ...}.
 * It validates the whole body as JSON (RFC 8259, UTF-8) and keeps only
 * models[].name and the sum of models[].size_vram. Pure: no I/O, no threads.
 */
#ifndef AC_REGISTRY_OLLAMA_JSON_H
#define AC_REGISTRY_OLLAMA_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"

/* Nesting deeper than this is refused as bad JSON (no Ollama body comes close). */
#define AC_OLLAMA_JSON_MAX_DEPTH 64

typedef struct ac_ollama_name {
	uint32_t off; /* where the name starts in ac_ollama_models.text */
	uint32_t len; /* bytes, without the NUL that follows it */
} ac_ollama_name;

/* What one body listed. Caller storage; fini frees what parse allocated. */
typedef struct ac_ollama_models {
	char *text;            /* decoded names (valid UTF-8), each NUL-terminated */
	uint32_t text_len, text_cap;
	ac_ollama_name *names; /* in body order; elements without a string "name" skipped */
	uint32_t count, cap;
	uint64_t vram_bytes;   /* sum of the non-negative integer size_vram values,
	                        * saturating at UINT64_MAX; other values are ignored */
} ac_ollama_models;

/* Parses json[0..len) into out (zeroed first; fini it on every return). Only the
 * first top-level "models" member that is an array counts. Returns AC_OK; AC_EPROTO
 * when the body is not exactly one JSON value in valid UTF-8 ("bad json");
 * AC_ENOTFOUND when it is valid JSON but not an object with a "models" array
 * ("no models array"); AC_ENOMEM. Any thread. */
ac_err ac_ollama_models_parse(ac_ollama_models *out, const char *json, size_t len);

/* Frees what parse allocated and zeroes m. A zeroed struct is a no-op. */
void ac_ollama_models_fini(ac_ollama_models *m);

/* Name i as a NUL-terminated string; borrowed, valid until fini. */
static inline const char *ac_ollama_models_name(const ac_ollama_models *m, uint32_t i)
{
	return m->text + m->names[i].off;
}

#endif
