/* SPDX-License-Identifier: MIT
 * agentcom-bench tables: what the server's in-memory tables cost once junk has piled up
 * (the live fuzzer leaves thousands of tokens and endpoints). Times token admission,
 * token create and revoke (each rewrites the tokens file) at --entries tokens, and the
 * registry's and the scheduler's endpoint lookups at --entries endpoints. In-process,
 * in a temporary data dir; no server.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "codec/mpw.h"
#include "gateway/tokens.h"
#include "registry/endpoints.h"
#include "scheduler/sched_endpoints.h"

#define TIMED_TOKENS 20   /* tokens created, checked and revoked at full size */
#define CHECK_ROUNDS 2000 /* lookups per timed token */
#define LOOKUPS 200000    /* endpoint lookups timed */

static uint32_t
next_rand(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static double
us_since(uint64_t t0, long long n)
{
	return (double)(bench_now_ns() - t0) / 1e3 / (double)(n > 0 ? n : 1);
}

/* <dir>/tokens with n client tokens of random hashes (their texts are unknown: they
 * only fill the table, as the fuzzer's do). false on an I/O error. */
static bool
write_tokens_file(const char *dir, long long n)
{
	char path[512];
	uint32_t seed = 7;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tokens", dir);
	if ((f = fopen(path, "w")) == NULL) {
		return false;
	}
	for (long long i = 0; i < n; i++) {
		char hash[65];
		for (int k = 0; k < 8; k++) {
			snprintf(hash + 8 * k, 9, "%08" PRIx32, next_rand(&seed) ^ (uint32_t)(i << 8));
		}
		fprintf(f, "v1 %.12s client %s - 1700000000000 -\n", hash, hash);
	}
	return fclose(f) == 0;
}

static void
remove_dir(const char *dir)
{
	static const char *const names[] = { "tokens", "tokens.tmp", "admin.token" };
	char path[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Creates TIMED_TOKENS tokens, checks each CHECK_ROUNDS times (and as many misses),
 * then revokes them: per-operation figures at n tokens. */
static int
time_tokens(const bench_opts *o, ac_tokens *t, long long n)
{
	static char texts[TIMED_TOKENS][AC_TOKEN_TEXT_LEN + 1];
	char ids[TIMED_TOKENS][AC_TOKEN_ID_LEN + 1], label[64], miss[AC_TOKEN_TEXT_LEN + 1];
	ac_token_info info;
	double create_us, check_us, miss_us, revoke_us;
	long long found = 0;
	uint64_t t0 = bench_now_ns();

	for (int i = 0; i < TIMED_TOKENS; i++) {
		if (ac_tokens_create(t, AC_ROLE_CLIENT, NULL, "bench", texts[i], &info) != AC_OK) {
			fputs("agentcom-bench: tables: token create failed\n", stderr);
			return 1;
		}
		memcpy(ids[i], info.id, sizeof(ids[i]));
	}
	create_us = us_since(t0, TIMED_TOKENS);
	t0 = bench_now_ns();
	for (int r = 0; r < CHECK_ROUNDS; r++) {
		for (int i = 0; i < TIMED_TOKENS; i++) {
			found += ac_tokens_check(t, texts[i], AC_TOKEN_TEXT_LEN, &info);
		}
	}
	check_us = us_since(t0, (long long)CHECK_ROUNDS * TIMED_TOKENS);
	memcpy(miss, texts[0], sizeof(miss));
	miss[3] ^= 1; /* a bad token: a whole probe, no match */
	t0 = bench_now_ns();
	for (int r = 0; r < CHECK_ROUNDS * TIMED_TOKENS; r++) {
		found -= ac_tokens_check(t, miss, AC_TOKEN_TEXT_LEN, NULL);
	}
	miss_us = us_since(t0, (long long)CHECK_ROUNDS * TIMED_TOKENS);
	t0 = bench_now_ns();
	for (int i = 0; i < TIMED_TOKENS; i++) {
		if (ac_tokens_revoke(t, ids[i]) != AC_OK) {
			fputs("agentcom-bench: tables: token revoke failed\n", stderr);
			return 1;
		}
	}
	revoke_us = us_since(t0, TIMED_TOKENS);
	printf("%s: %lld tokens: check %.2f us (unknown token %.2f us), create %.1f us,"
	    " revoke %.1f us (each rewrites and fsyncs the tokens file); %lld/%d found\n",
	    bench_label(o, label, sizeof(label), "tables tokens"), n, check_us, miss_us,
	    create_us, revoke_us, found, CHECK_ROUNDS * TIMED_TOKENS);
	return found == (long long)CHECK_ROUNDS * TIMED_TOKENS ? 0 : 1;
}

static int
bench_tokens(const bench_opts *o)
{
	char dir[] = "/tmp/agentcom_bench_tables_XXXXXX";
	ac_tokens *t = NULL;
	bool created;
	int rc = 1;

	if (mkdtemp(dir) == NULL) {
		perror("agentcom-bench: tables: mkdtemp");
		return 1;
	}
	if (!write_tokens_file(dir, o->entries) || ac_tokens_open(dir, &t, &created) != AC_OK) {
		fputs("agentcom-bench: tables: cannot set up the token table\n", stderr);
	} else {
		rc = time_tokens(o, t, o->entries);
	}
	ac_tokens_free(t);
	remove_dir(dir);
	return rc;
}

/* The host of endpoint i: 10.a.b.c, distinct for i < 2^24. */
static void
host_of(long long i, char *buf, size_t cap)
{
	snprintf(buf, cap, "10.%lld.%lld.%lld", (i >> 16) & 255, (i >> 8) & 255, i & 255);
}

/* A snapshot event of every endpoint in es, as the registry sends the scheduler. */
static void
encode_snapshot(ac_endpoints *es, ac_mpw *w)
{
	ac_mpw_map(w, 3);
	ac_mpw_key(w, "seq");
	ac_mpw_u64(w, 1);
	ac_mpw_key(w, "event");
	ac_mpw_cstr(w, "snapshot");
	ac_mpw_key(w, "endpoints");
	ac_mpw_array(w, (uint32_t)ac_endpoints_count(es));
	for (size_t i = 0; i < ac_endpoints_count(es); i++) {
		ac_endpoint_encode(ac_endpoints_at(es, i), w);
	}
}

/* Lookups by id and by probe tag in the registry's table, and the scheduler applying
 * a snapshot of it (one upsert per endpoint) and reading in-flight counts by id. */
static int
time_endpoints(const bench_opts *o, ac_endpoints *es, ac_sched_endpoints *ses, long long n)
{
	char id[AC_ENDPOINT_ID_MAX], host[32], label[64];
	uint32_t seed = 11;
	long long hits = 0;
	bool unblocks;
	ac_mpw w;
	uint64_t t0;
	double id_us, tag_us, snap_ms, flight_us;

	t0 = bench_now_ns();
	for (long long i = 0; i < LOOKUPS; i++) {
		host_of(next_rand(&seed) % n, host, sizeof(host));
		ac_endpoint_make_id(host, strlen(host), 11434, id, sizeof(id));
		hits += ac_endpoints_find(es, id) != NULL;
	}
	id_us = us_since(t0, LOOKUPS);
	t0 = bench_now_ns();
	for (long long i = 0; i < LOOKUPS; i++) {
		hits += ac_endpoints_find_tag(es, 1 + next_rand(&seed) % (uint64_t)n) != NULL;
	}
	tag_us = us_since(t0, LOOKUPS);
	ac_mpw_init(&w);
	encode_snapshot(es, &w);
	t0 = bench_now_ns();
	hits += ac_sched_endpoints_apply(ses, ac_mpw_data(&w), ac_mpw_len(&w), true, &unblocks) ==
	    AC_EP_APPLIED;
	snap_ms = (double)(bench_now_ns() - t0) / 1e6;
	ac_mpw_fini(&w);
	t0 = bench_now_ns();
	for (long long i = 0; i < LOOKUPS; i++) {
		host_of(next_rand(&seed) % n, host, sizeof(host));
		ac_endpoint_make_id(host, strlen(host), 11434, id, sizeof(id));
		uint32_t in_flight;
		hits += ac_sched_endpoints_in_flight(ses, id, &in_flight);
	}
	flight_us = us_since(t0, LOOKUPS);
	printf("%s: %lld endpoints: registry find by id %.3f us, by probe tag %.3f us;"
	    " scheduler snapshot apply %.1f ms, in-flight read by id %.3f us; %lld/%d hits\n",
	    bench_label(o, label, sizeof(label), "tables endpoints"), n, id_us, tag_us, snap_ms,
	    flight_us, hits, 3 * LOOKUPS + 1);
	return hits == 3 * LOOKUPS + 1 ? 0 : 1;
}

static int
bench_endpoints(const bench_opts *o)
{
	ac_endpoints *es = NULL;
	ac_sched_endpoints *ses = NULL;
	char host[32];
	int rc = 1;

	if (ac_endpoints_alloc(&es) != AC_OK || ac_sched_endpoints_alloc(&ses) != AC_OK) {
		goto done;
	}
	for (long long i = 0; i < o->entries; i++) {
		ac_endpoint *e;
		bool is_new;
		host_of(i, host, sizeof(host));
		if (ac_endpoints_put(es, host, strlen(host), 11434, NULL, false, 1700000000000 + i, &e,
		        &is_new) != AC_OK) {
			goto done;
		}
	}
	rc = time_endpoints(o, es, ses, o->entries);
done:
	if (rc != 0) {
		fputs("agentcom-bench: tables: endpoint tables failed\n", stderr);
	}
	ac_sched_endpoints_free(ses);
	ac_endpoints_free(es);
	return rc;
}

int
bench_tables(const bench_opts *o)
{
	int rc = bench_tokens(o);

	return bench_endpoints(o) | rc;
}
