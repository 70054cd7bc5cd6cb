/* SPDX-License-Identifier: MIT
 * The prober's result message: fills an ac_probe_result and lets the schema encoder
 * write it (no hand-written codec), then wraps it in the internal envelope.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/endpoint_wire.h"
#include "codec/msg.h"
#include "codec/mpw.h"
#include "registry/probe_result.h"

/* Points up to AC_PROBE_RESULT_LIST_MAX items at the names of m that fit the schema. */
static void fill_strs(ac_strs *out, ac_str *items, const ac_ollama_models *m)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->count && n < AC_PROBE_RESULT_LIST_MAX; i++) {
		if (m->names[i].len <= AC_PROBE_RESULT_NAME_MAX) {
			items[n++] = (ac_str){ ac_ollama_models_name(m, i), m->names[i].len, true };
		}
	}
	*out = (ac_strs){ items, n, true };
}

ac_err ac_probe_result_msg(uint64_t tag, const char *error, const ac_ollama_models *models,
    const ac_ollama_models *loaded, uint64_t duration_ms, nng_msg **out)
{
	ac_probe_result r = {
		.tag = { tag, true },
		.ok = { error == NULL, true },
		.duration_ms = { duration_ms, true },
	};
	ac_env env = { .type = AC_MSG_PROBE_RESULT };
	size_t n = error != NULL ? 0 : (size_t)models->count + (loaded ? loaded->count : 0);
	ac_str *items = malloc((n + 1) * sizeof(*items));
	ac_mpw w;
	if (items == NULL) {
		return AC_ENOMEM;
	}
	if (error != NULL) {
		r.error = (ac_str){ error, (uint32_t)strlen(error), true };
	} else {
		fill_strs(&r.models, items, models);
		if (loaded != NULL) {
			fill_strs(&r.loaded_models, items + r.models.count, loaded);
			uint64_t v = loaded->vram_bytes;
			r.vram_used_bytes = (ac_uint){ v > INT64_MAX ? INT64_MAX : v, true };
		}
	}
	ac_mpw_init(&w);
	ac_schema_encode(&ac_probe_result_schema, &r, &w);
	ac_err err = w.err != AC_OK ? w.err :
	    ac_msg_alloc(out, &env, ac_mpw_data(&w), ac_mpw_len(&w));
	ac_mpw_fini(&w);
	free(items);
	return err;
}
