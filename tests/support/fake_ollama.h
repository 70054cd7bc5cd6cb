/* SPDX-License-Identifier: MIT
 * Test support: a fake Ollama HTTP server inside the test process, on 127.0.0.1 and a
 * port chosen by the kernel. It answers GET /api/tags and GET /api/ps with the JSON
 * shapes of the real server, or misbehaves on purpose (fake_mode). One thread, plain
 * POSIX sockets and poll(): the faults need byte-level control of the response.
 */
#ifndef AC_TEST_FAKE_OLLAMA_H
#define AC_TEST_FAKE_OLLAMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fake_ollama fake_ollama;

/* How every following request is answered. */
typedef enum fake_mode {
	FAKE_OK,            /* 200 with Content-Length and the JSON body */
	FAKE_500,           /* 500 Internal Server Error */
	FAKE_HANG,          /* read the request, never answer, keep the connection open */
	FAKE_CLOSE,         /* close each connection as soon as it is accepted */
	FAKE_GARBAGE,       /* 200 with a body that is not JSON */
	FAKE_NO_MODELS,     /* 200 with {} */
	FAKE_CHUNKED,       /* 200, the JSON body with Transfer-Encoding: chunked */
	FAKE_HUGE,          /* 200 claiming Content-Length: 100000000, a few bytes, then hang */
	FAKE_CHUNKED_HUGE,  /* 200 chunked, 5 MiB of chunks (over the prober's 4 MiB) */
	FAKE_PS_404,        /* /api/tags as FAKE_OK, /api/ps 404 (an Ollama without it) */
	FAKE_NO_LENGTH,     /* 200, no length, body delimited by closing (HTTP/1.0 style) */
} fake_mode;

/* Starts listening on 127.0.0.1:0 with mode FAKE_OK and no models. NULL (and a line
 * on stderr) on failure. Caller owns; free with fake_ollama_free. */
fake_ollama *fake_ollama_start(void);

/* The bound port; the same after fake_ollama_restart. */
uint16_t fake_ollama_port(const fake_ollama *fo);

/* /api/tags lists these model names (copied). Any thread. */
void fake_ollama_set_models(fake_ollama *fo, const char *const *models, size_t n);

/* /api/ps lists these loaded models with their size_vram (copied; NULL: all 0).
 * Any thread. */
void fake_ollama_set_loaded(fake_ollama *fo, const char *const *models,
    const uint64_t *size_vram, size_t n);

/* Any thread; applies to requests read after the call. */
void fake_ollama_set_mode(fake_ollama *fo, fake_mode mode);

/* Stops listening and drops open connections: new connections are refused. Returns
 * once done. */
void fake_ollama_stop(fake_ollama *fo);

/* Listens again on the same port; false if the bind failed. Returns once done. */
bool fake_ollama_restart(fake_ollama *fo);

/* Requests read so far for path ("/api/tags"), in any mode except FAKE_CLOSE. */
unsigned fake_ollama_hits(fake_ollama *fo, const char *path);

/* Stops the thread, closes everything, frees fo. NULL is a no-op. */
void fake_ollama_free(fake_ollama *fo);

#endif
