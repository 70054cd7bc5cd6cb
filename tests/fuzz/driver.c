/* SPDX-License-Identifier: MIT
 * A fixed-seed fuzz pass for builds without libFuzzer (gcc, CI): mutates a corpus of
 * valid requests (bit flips, byte edits, truncation, splices, hostile headers) and
 * feeds each to LLVMFuzzerTestOneInput. AC_FUZZ_ITERS sets the count (default 2 000 000).
 * A crash or abort fails the run; the seed is fixed so a failure reproduces.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcom/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 8192

static const char *const corpus[] = {
	"{\"op\":\"ping\"}",
	"{\"op\":\"task.submit\",\"description\":\"fix typo\",\"priority\":\"high\","
	"\"file_hints\":[{\"path\":\"a.c\",\"reason\":\"x\"}],\"metadata\":{\"a\":[1,{\"b\":null}]},"
	"\"targets\":[\"ollama\"],\"needed_capabilities\":[\"code\"],\"max_retries\":3}",
	"{\"op\":\"task.submit_batch\",\"tasks\":[{\"description\":\"a\"},{\"description\":\"b\"}]}",
	"{\"op\":\"task.list\",\"status\":\"queued\",\"limit\":10,\"cursor\":\"q.0.1.2\"}",
	"{\"op\":\"task.get\",\"id\":7}",
	"{\"op\":\"token.create\",\"role\":\"agent\",\"agent_id\":\"a-1\",\"label\":\"x\"}",
	"{\"op\":\"agent.hello\",\"agent_id\":\"a1\",\"capabilities\":[\"c\"],\"targets\":[\"sidecar\"]}",
	"{\"op\":\"agent.fetch\",\"agent_id\":\"a1\",\"wait_ms\":100,\"accept\":true}",
	"{\"op\":\"task.complete\",\"agent_id\":\"a1\",\"id\":1,\"generation\":2,\"result\":{\"o\":\"k\"},"
	"\"tokens_used\":5,\"fetch_wait_ms\":10}",
	"{\"op\":\"task.fail\",\"agent_id\":\"a1\",\"id\":1,\"generation\":2,\"error\":\"e\",\"retryable\":false}",
};

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static size_t mutate(uint8_t *buf, size_t len, const uint8_t *other, size_t other_len)
{
	static const uint8_t hostile[] = { 0xdd, 0xdf, 0xdb, 0xc6, 0xc1, 0xff, 0x00, 0x7f, 0x80, 0x90 };
	size_t pos = len ? next() % len : 0;

	switch (next() % 6) {
	case 0: if (len) buf[pos] ^= (uint8_t)(1u << (next() % 8)); break;
	case 1: if (len) buf[pos] = (uint8_t)next(); break;
	case 2: len = len ? next() % len : 0; break; /* truncate */
	case 3: if (len < MAX_INPUT) { memmove(buf + pos + 1, buf + pos, len - pos); buf[pos] = hostile[next() % sizeof(hostile)]; len++; } break;
	case 4: if (len) { memmove(buf + pos, buf + pos + 1, len - pos - 1); len--; } break;
	default: { /* splice the tail of another input */
		size_t from = other_len ? next() % other_len : 0, n = other_len - from;
		n = pos + n > MAX_INPUT ? MAX_INPUT - pos : n;
		memcpy(buf + pos, other + from, n);
		len = pos + n;
	}
	}
	return len;
}

int main(void)
{
	enum { N = sizeof(corpus) / sizeof(corpus[0]) };
	uint8_t *seeds[N], buf[MAX_INPUT];
	size_t seed_len[N];
	const char *env = getenv("AC_FUZZ_ITERS");
	long iters = env ? atol(env) : 2000000;

	for (int i = 0; i < N; i++) {
		if (ac_json_to_msgpack(corpus[i], strlen(corpus[i]), &seeds[i], &seed_len[i], NULL, 0) != AC_OK) {
			fprintf(stderr, "bad corpus entry %d\n", i);
			return 2;
		}
		LLVMFuzzerTestOneInput(seeds[i], seed_len[i]);
	}
	for (long it = 0; it < iters; it++) {
		int a = (int)(next() % N), b = (int)(next() % N);
		size_t len = seed_len[a];
		memcpy(buf, seeds[a], len);
		for (uint32_t k = 1 + next() % 4; k > 0; k--) {
			len = mutate(buf, len, seeds[b], seed_len[b]);
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	for (int i = 0; i < N; i++) {
		free(seeds[i]);
	}
	printf("%ld passed, 0 failed\n", iters + N);
	return 0;
}
