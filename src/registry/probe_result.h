/* SPDX-License-Identifier: MIT
 * Builds the prober's AC_MSG_PROBE_RESULT message (body: ac_probe_result_schema) from
 * what the Ollama lists held, keeping it within the schema's limits so that the
 * registry's decode cannot fail. Pure: no I/O, no threads, no shared state.
 */
#ifndef AC_REGISTRY_PROBE_RESULT_H
#define AC_REGISTRY_PROBE_RESULT_H

#include <stdint.h>

#include <nng/nng.h>

#include "agentcom/errors.h"
#include "registry/ollama_json.h"

/* Items per list and bytes per name that ac_probe_result_schema accepts (models
 * max_len in codec/endpoint_wire.c; the schema's default string limit). */
#define AC_PROBE_RESULT_LIST_MAX 4096u
#define AC_PROBE_RESULT_NAME_MAX 1024u

/* Allocates the message for tag: a failure carrying error when error != NULL; else ok
 * with the names of models and, when loaded != NULL, the names of loaded and its VRAM
 * sum (loaded NULL leaves loaded_models and vram_used_bytes out: unknown, not empty).
 * Longer names and items past the list limit are left out; the VRAM sum is clamped to
 * INT64_MAX. Caller owns *out (nng_msg_free). AC_ENOMEM. Any thread. */
ac_err ac_probe_result_msg(uint64_t tag, const char *error, const ac_ollama_models *models,
    const ac_ollama_models *loaded, uint64_t duration_ms, nng_msg **out);

#endif
