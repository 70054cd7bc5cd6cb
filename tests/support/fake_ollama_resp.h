/* SPDX-License-Identifier: MIT
 * Test support, private to fake_ollama.c: the bytes the fake Ollama sends, i.e. the
 * /api/tags and /api/ps bodies in Ollama's shapes and one full response per fake_mode.
 */
#ifndef AC_TEST_FAKE_OLLAMA_RESP_H
#define AC_TEST_FAKE_OLLAMA_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_ollama.h"

/* {"models":[...]} listing names: a /api/ps body when is_ps (size_vram from vram, n
 * values, or 0 when vram is NULL), else a /api/tags body. Caller frees; NULL when out
 * of memory. */
char *fake_resp_list(const char *const *names, const uint64_t *vram, size_t n, bool is_ps);

/* The whole response (head and body) to a request for path in mode, where body is
 * that path's JSON (NULL: unknown path, 404). NULL means close the connection at once.
 * *close_after false means hold the connection open after writing. Caller frees. */
char *fake_resp_build(fake_mode mode, const char *path, const char *body, bool *close_after);

#endif
