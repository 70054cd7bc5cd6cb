/* SPDX-License-Identifier: MIT
 * Tests of the token table (src/gateway/tokens.c): first-start admin token, reload,
 * constant-time check accepting only exact texts, agent binding, revocation, the file
 * never holding a token's text, corrupt files refused, the index (growth, ids and keys
 * that collide, revoke by id among thousands) and lookups while the table changes.
 * Each test has its own data dir.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/tokens.h"
#include "rt/clock.h"

/* A syntactically valid hash whose first 12 digits are the id 0123456789ab. */
#define H "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char dir[64];

static void make_dir(void)
{
	strcpy(dir, "/tmp/ac_tokens_test_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	static const char *const names[] = { "tokens", "tokens.tmp", "admin.token" };
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) != 0) {
			rmdir(path); /* tokens.tmp is a directory in write_failure_changes_nothing */
		}
	}
	rmdir(dir);
}

TestSuite(tokens, .init = make_dir, .fini = remove_dir);

/* Reads <dir>/name into a malloc'd NUL-terminated buffer (caller frees). */
static char *read_file(const char *name)
{
	char path[128], *buf;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static bool is_token_text(const char *s)
{
	return strlen(s) == AC_TOKEN_TEXT_LEN && strncmp(s, "ac_", 3) == 0 &&
	    strspn(s + 3, "0123456789abcdef") == 64;
}

/* The admin text from admin.token, without its newline, into text. */
static void read_admin(char text[AC_TOKEN_TEXT_LEN + 1])
{
	char *s = read_file("admin.token");

	cr_assert_eq(strlen(s), AC_TOKEN_TEXT_LEN + 1);
	cr_assert_eq(s[AC_TOKEN_TEXT_LEN], '\n');
	memcpy(text, s, AC_TOKEN_TEXT_LEN);
	text[AC_TOKEN_TEXT_LEN] = '\0';
	free(s);
}

static ac_tokens *open_ok(bool expect_created)
{
	ac_tokens *t = NULL;
	bool created = !expect_created;

	cr_assert_eq(ac_tokens_open(dir, &t, &created), AC_OK);
	cr_assert_not_null(t);
	cr_assert_eq(created, expect_created);
	return t;
}

Test(tokens, first_open_creates_admin_token_with_mode_0600)
{
	ac_tokens *t = open_ok(true);
	char text[AC_TOKEN_TEXT_LEN + 1], path[128];
	ac_token_info info;
	struct stat st;

	snprintf(path, sizeof(path), "%s/admin.token", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	read_admin(text);
	cr_assert(is_token_text(text), "bad admin token text: %s", text);
	snprintf(path, sizeof(path), "%s/tokens", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(ac_tokens_count(t), 1);
	cr_assert(ac_tokens_check(t, text, strlen(text), &info));
	cr_assert_eq(info.role, AC_ROLE_ADMIN);
	cr_assert_str_eq(info.id, ac_tokens_at(t, 0)->id);
	cr_assert_eq(strlen(info.id), AC_TOKEN_ID_LEN);
	cr_assert_str_eq(info.agent_id, "");
	cr_assert(llabs(info.created_at_ms - ac_clock_wall_ms()) < 60000);
	ac_tokens_free(t);
}

Test(tokens, reopen_loads_same_tokens_and_check_accepts_only_exact_text)
{
	ac_tokens *t = open_ok(true);
	char admin[AC_TOKEN_TEXT_LEN + 1], client[AC_TOKEN_TEXT_LEN + 1];
	char wrong[AC_TOKEN_TEXT_LEN + 1];
	ac_token_info info, got;

	cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, "ignored", "ci", client, &info), AC_OK);
	cr_assert(is_token_text(client));
	cr_assert_str_eq(info.agent_id, "");
	ac_tokens_free(t);

	t = open_ok(false);
	read_admin(admin);
	cr_assert_eq(ac_tokens_count(t), 2);
	cr_assert_eq(ac_tokens_at(t, 0)->role, AC_ROLE_ADMIN);
	cr_assert_str_eq(ac_tokens_at(t, 1)->id, info.id);
	cr_assert_str_eq(ac_tokens_at(t, 1)->label, "ci");
	cr_assert_eq(ac_tokens_at(t, 1)->created_at_ms, info.created_at_ms);
	cr_assert(ac_tokens_check(t, admin, strlen(admin), &got));
	cr_assert_eq(got.role, AC_ROLE_ADMIN);
	cr_assert(ac_tokens_check(t, client, strlen(client), &got));
	cr_assert_str_eq(got.id, info.id);
	cr_assert_eq(got.role, AC_ROLE_CLIENT);

	memcpy(wrong, admin, sizeof(wrong));
	wrong[AC_TOKEN_TEXT_LEN - 1] = wrong[AC_TOKEN_TEXT_LEN - 1] == '0' ? '1' : '0';
	cr_assert_not(ac_tokens_check(t, wrong, strlen(wrong), &got));
	cr_assert_not(ac_tokens_check(t, admin, strlen(admin) - 1, &got));
	cr_assert_not(ac_tokens_check(t, "ac_nope", 7, &got));
	cr_assert_not(ac_tokens_check(t, "", 0, &got));
	cr_assert_not(ac_tokens_check(t, NULL, 0, NULL));
	ac_tokens_free(t);
}

Test(tokens, agent_token_requires_valid_agent_id)
{
	ac_tokens *t = open_ok(true);
	char text[AC_TOKEN_TEXT_LEN + 1], long_id[200];
	ac_token_info info, got;

	memset(long_id, 'a', 129);
	long_id[129] = '\0';
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_AGENT, NULL, NULL, text, &info), AC_EINVAL);
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_AGENT, "", NULL, text, &info), AC_EINVAL);
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_AGENT, "has space", NULL, text, &info), AC_EINVAL);
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_AGENT, long_id, NULL, text, &info), AC_EINVAL);
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_NONE, NULL, NULL, text, &info), AC_EINVAL);
	cr_assert_eq(ac_tokens_count(t), 1);

	long_id[128] = '\0';
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_AGENT, long_id, NULL, text, &info), AC_OK);
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_AGENT, "gpu-box.1:a_b", NULL, text, &info), AC_OK);
	cr_assert_str_eq(info.agent_id, "gpu-box.1:a_b");
	ac_tokens_free(t);

	t = open_ok(false);
	cr_assert(ac_tokens_check(t, text, strlen(text), &got));
	cr_assert_eq(got.role, AC_ROLE_AGENT);
	cr_assert_str_eq(got.agent_id, "gpu-box.1:a_b");
	cr_assert_str_eq(ac_tokens_at(t, 1)->agent_id, long_id);
	ac_tokens_free(t);
}

Test(tokens, revoke_then_check_fails_and_survives_reopen)
{
	ac_tokens *t = open_ok(true);
	char a[AC_TOKEN_TEXT_LEN + 1], b[AC_TOKEN_TEXT_LEN + 1];
	ac_token_info ia, ib;

	cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, "a", a, &ia), AC_OK);
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, "b", b, &ib), AC_OK);
	cr_assert_eq(ac_tokens_revoke(t, ia.id), AC_OK);
	cr_assert_eq(ac_tokens_revoke(t, ia.id), AC_ENOTFOUND);
	cr_assert_eq(ac_tokens_revoke(t, "000000000000"), AC_ENOTFOUND);
	cr_assert_not(ac_tokens_check(t, a, strlen(a), NULL));
	cr_assert(ac_tokens_check(t, b, strlen(b), NULL));
	cr_assert_eq(ac_tokens_count(t), 2);
	ac_tokens_free(t);

	t = open_ok(false);
	cr_assert_eq(ac_tokens_count(t), 2);
	cr_assert_not(ac_tokens_check(t, a, strlen(a), NULL));
	cr_assert(ac_tokens_check(t, b, strlen(b), NULL));
	cr_assert_str_eq(ac_tokens_at(t, 1)->id, ib.id);
	ac_tokens_free(t);
}

Test(tokens, token_text_is_never_in_tokens_file)
{
	ac_tokens *t = open_ok(true);
	char admin[AC_TOKEN_TEXT_LEN + 1], text[AC_TOKEN_TEXT_LEN + 1];
	ac_token_info info;
	char *file;

	cr_assert_eq(ac_tokens_create(t, AC_ROLE_AGENT, "w1", "worker one", text, &info), AC_OK);
	read_admin(admin);
	file = read_file("tokens");
	cr_assert_null(strstr(file, text));
	cr_assert_null(strstr(file, text + 3), "the secret hex is in the file");
	cr_assert_null(strstr(file, admin + 3));
	cr_assert_null(strstr(file, "ac_"));
	cr_assert_not_null(strstr(file, info.id));
	free(file);
	ac_tokens_free(t);
}

Test(tokens, label_with_any_bytes_round_trips)
{
	static const char label[] = "my label 100% - x\n\ttab \xc3\xa9";
	ac_tokens *t = open_ok(true);
	char text[AC_TOKEN_TEXT_LEN + 1];
	ac_token_info info;

	cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, label, text, &info), AC_OK);
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, "", text, &info), AC_OK);
	ac_tokens_free(t);
	t = open_ok(false);
	cr_assert_str_eq(ac_tokens_at(t, 1)->label, label);
	cr_assert_str_eq(ac_tokens_at(t, 2)->label, "");
	ac_tokens_free(t);
}

Test(tokens, many_tokens_all_found_after_reopen)
{
	enum { N = 300 };
	static char texts[N][AC_TOKEN_TEXT_LEN + 1];
	ac_tokens *t = open_ok(true);
	ac_token_info info, got;

	for (int i = 0; i < N; i++) {
		cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, NULL, texts[i], &info),
		    AC_OK);
	}
	cr_assert_eq(ac_tokens_revoke(t, ac_tokens_at(t, 100)->id), AC_OK);
	ac_tokens_free(t);
	t = open_ok(false);
	cr_assert_eq(ac_tokens_count(t), N);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(ac_tokens_check(t, texts[i], AC_TOKEN_TEXT_LEN, &got), i != 99,
		    "token %d", i);
	}
	ac_tokens_free(t);
}

Test(tokens, corrupt_file_fails_with_eio)
{
	static const char *const bad[] = {
		"garbage\n",
		"v1 0123456789ab admin " H " - 1\n",
		"v1 0123456789ab admin " H " - 1 - x\n",
		"v1 0123456789ac admin " H " - 1 -\n",
		"v1 0123456789ab root " H " - 1 -\n",
		"v1 0123456789ab agent " H " a/b 1 -\n",
		"v1 0123456789ab client " H " w1 1 -\n",
		"v1 0123456789ab admin " H "0 - 1 -\n", /* 65 hash digits */
		"v1 0123456789ab admin 0123456789abcdef0123456789abcdef0123456789abcdeg - 1 -\n",
		"v1 0123456789ab admin " H " - -1 -\n",
		"v1 0123456789ab admin " H " - 1 4\n",
		"v1 0123456789ab admin " H " - 1 6100\n",
		"v2 0123456789ab admin " H " - 1 -\n",
		"\n",
	};
	ac_tokens *t = NULL;
	bool created = true;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file("tokens", bad[i]);
		cr_assert_eq(ac_tokens_open(dir, &t, &created), AC_EIO, "case %zu accepted", i);
		cr_assert_not(created);
	}
}

Test(tokens, valid_hand_written_line_loads_and_duplicate_is_corrupt)
{
	static const char line[] =
	    "v1 0123456789ab agent " H " "
	    "w-1 1700000000000 6869\n";
	char twice[sizeof(line) * 2];
	ac_tokens *t = NULL;
	bool created = true;

	write_file("tokens", line);
	cr_assert_eq(ac_tokens_open(dir, &t, &created), AC_OK);
	cr_assert_eq(ac_tokens_count(t), 1);
	cr_assert_str_eq(ac_tokens_at(t, 0)->agent_id, "w-1");
	cr_assert_str_eq(ac_tokens_at(t, 0)->label, "hi");
	cr_assert_eq(ac_tokens_at(t, 0)->created_at_ms, 1700000000000);
	ac_tokens_free(t);
	snprintf(twice, sizeof(twice), "%s%s", line, line);
	write_file("tokens", twice);
	cr_assert_eq(ac_tokens_open(dir, &t, &created), AC_EIO);
}

Test(tokens, role_names_round_trip)
{
	static const ac_role roles[] = { AC_ROLE_ADMIN, AC_ROLE_CLIENT, AC_ROLE_AGENT };

	for (size_t i = 0; i < 3; i++) {
		const char *name = ac_role_name(roles[i]);
		cr_assert_eq(ac_role_parse(name, strlen(name)), roles[i]);
	}
	cr_assert_str_eq(ac_role_name(AC_ROLE_CLIENT), "client");
	cr_assert_eq(ac_role_parse("admi", 4), AC_ROLE_NONE);
	cr_assert_eq(ac_role_parse("adminx", 6), AC_ROLE_NONE);
}

Test(tokens, random_bytes_fills_large_buffers)
{
	static uint8_t buf[100000];
	size_t zeros = 0;

	cr_assert_eq(ac_random_bytes(buf, sizeof(buf)), AC_OK);
	for (size_t i = 0; i < sizeof(buf); i++) {
		zeros += buf[i] == 0;
	}
	cr_assert_lt(zeros, 1000); /* about 390 expected */
}

Test(tokens, write_failure_changes_nothing)
{
	ac_tokens *t = open_ok(true);
	char text[AC_TOKEN_TEXT_LEN + 1], path[128];
	ac_token_info info;

	cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, NULL, text, &info), AC_OK);
	snprintf(path, sizeof(path), "%s/tokens.tmp", dir);
	cr_assert_eq(mkdir(path, 0700), 0); /* now tokens.tmp cannot be opened for writing */
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, NULL, text, &info), AC_EIO);
	cr_assert_eq(ac_tokens_revoke(t, ac_tokens_at(t, 1)->id), AC_EIO);
	cr_assert_eq(ac_tokens_count(t), 2);
	cr_assert(ac_tokens_check(t, text, strlen(text), NULL) == false);
	cr_assert_eq(rmdir(path), 0);
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, NULL, text, &info), AC_OK);
	cr_assert(ac_tokens_check(t, text, strlen(text), NULL));
	ac_tokens_free(t);
	t = open_ok(false);
	cr_assert_eq(ac_tokens_count(t), 3);
	ac_tokens_free(t);
}

/* A client token line whose hash is the 64 hex digits hash (its id: their first 12). */
static void append_line(FILE *f, const char *hash, long long created_at_ms)
{
	fprintf(f, "v1 %.12s client %s - %lld -\n", hash, hash, created_at_ms);
}

/* The hash of filler token i: distinct ids, spread over every slot. */
static void filler_hash(unsigned i, char hash[65])
{
	unsigned x = i * 2654435761u;

	snprintf(hash, 65, "%08x%04x%052d", x, i & 0xffff, 0);
}

/* Writes <dir>/tokens: the given lines first, then n filler tokens. */
static void write_tokens(const char *const *hashes, size_t k, unsigned n)
{
	char path[128], hash[65];
	FILE *f;

	snprintf(path, sizeof(path), "%s/tokens", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (size_t i = 0; i < k; i++) {
		append_line(f, hashes[i], 1000 + (long long)i);
	}
	for (unsigned i = 0; i < n; i++) {
		filler_hash(i, hash);
		append_line(f, hash, 2000 + (long long)i);
	}
	cr_assert_eq(fclose(f), 0);
}

Test(tokens, ids_and_keys_that_collide_are_told_apart_and_revoked_oldest_first)
{
	static const char *const hashes[] = {
		"0123456789ab" "0000000000000000000000000000000000000000000000000001", /* A */
		"0123456789cd" "0000000000000000000000000000000000000000000000000002", /* same home */
		"0123456789ab" "0000000000000000000000000000000000000000000000000003", /* A's id */
	};
	ac_tokens *t = NULL;
	bool created;

	write_tokens(hashes, 3, 40);
	cr_assert_eq(ac_tokens_open(dir, &t, &created), AC_OK);
	cr_assert(ac_tokens_is_consistent(t));
	cr_assert_eq(ac_tokens_revoke(t, "0123456789ab"), AC_OK);
	cr_assert_eq(ac_tokens_count(t), 42);
	cr_assert_eq(ac_tokens_at(t, 0)->created_at_ms, 1001, "not the oldest of the id went");
	cr_assert_eq(ac_tokens_at(t, 1)->created_at_ms, 1002);
	cr_assert(ac_tokens_is_consistent(t));
	cr_assert_eq(ac_tokens_revoke(t, "0123456789ab"), AC_OK);
	cr_assert_eq(ac_tokens_revoke(t, "0123456789ab"), AC_ENOTFOUND);
	cr_assert_str_eq(ac_tokens_at(t, 0)->id, "0123456789cd");
	cr_assert(ac_tokens_is_consistent(t));
	ac_tokens_free(t);
	t = open_ok(false);
	cr_assert_eq(ac_tokens_count(t), 41);
	cr_assert_str_eq(ac_tokens_at(t, 0)->id, "0123456789cd");
	ac_tokens_free(t);
}

Test(tokens, revoke_takes_only_exact_ids)
{
	static const char *const hashes[] = { H };
	static const char *const wrong[] = { "0123456789AB", "0123456789a", "0123456789abc", "",
		"0123456789ax", "123456789ab0" };
	ac_tokens *t = NULL;
	bool created;

	write_tokens(hashes, 1, 0);
	cr_assert_eq(ac_tokens_open(dir, &t, &created), AC_OK);
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		cr_assert_eq(ac_tokens_revoke(t, wrong[i]), AC_ENOTFOUND, "revoked by '%s'", wrong[i]);
	}
	cr_assert_eq(ac_tokens_count(t), 1);
	cr_assert_eq(ac_tokens_revoke(t, "0123456789ab"), AC_OK);
	cr_assert_eq(ac_tokens_count(t), 0);
	ac_tokens_free(t);
}

Test(tokens, thousands_of_tokens_revoked_by_id_keep_the_index_whole)
{
	enum { N = 3000 };
	char text[AC_TOKEN_TEXT_LEN + 1], hash[65];
	ac_tokens *t = NULL;
	ac_token_info info, got;
	bool created;

	write_tokens(NULL, 0, N);
	cr_assert_eq(ac_tokens_open(dir, &t, &created), AC_OK);
	cr_assert_eq(ac_tokens_count(t), N);
	for (unsigned i = 0; i < N; i += 3) {
		filler_hash(i, hash);
		hash[AC_TOKEN_ID_LEN] = '\0';
		cr_assert_eq(ac_tokens_revoke(t, hash), AC_OK, "token %u", i);
	}
	cr_assert_eq(ac_tokens_count(t), N - N / 3);
	cr_assert(ac_tokens_is_consistent(t));
	cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, "late", text, &info), AC_OK);
	cr_assert(ac_tokens_check(t, text, strlen(text), &got));
	cr_assert_str_eq(got.id, info.id);
	cr_assert_eq(ac_tokens_revoke(t, info.id), AC_OK);
	cr_assert_not(ac_tokens_check(t, text, strlen(text), NULL));
	ac_tokens_free(t);
	t = open_ok(false);
	cr_assert_eq(ac_tokens_count(t), N - N / 3);
	cr_assert_eq(ac_tokens_at(t, 0)->created_at_ms, 2001);
	ac_tokens_free(t);
}

Test(tokens, index_grows_with_every_created_token_found)
{
	enum { N = 100 };
	static char texts[N][AC_TOKEN_TEXT_LEN + 1];
	ac_tokens *t = open_ok(true);
	ac_token_info info, got;

	for (int i = 0; i < N; i++) {
		cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, NULL, texts[i], &info), AC_OK);
		cr_assert(ac_tokens_is_consistent(t), "after token %d", i);
		for (int k = 0; k <= i; k++) {
			cr_assert(ac_tokens_check(t, texts[k], AC_TOKEN_TEXT_LEN, &got), "%d of %d", k, i);
		}
		cr_assert_str_eq(got.id, info.id);
	}
	ac_tokens_free(t);
}

typedef struct reader {
	ac_tokens *t;
	const char *text;
	atomic_bool *stop;
	long misses, rounds;
} reader;

static void *read_loop(void *arg)
{
	reader *r = arg;
	ac_token_info info;

	while (!atomic_load(r->stop)) {
		r->misses += !ac_tokens_check(r->t, r->text, AC_TOKEN_TEXT_LEN, &info) ||
		    info.role != AC_ROLE_ADMIN;
		r->rounds++;
	}
	return NULL;
}

/* Workers look tokens up while the gateway thread creates and revokes (the index grows
 * from 16 slots and is rebuilt on each revoke): the admin token is found every time. */
Test(tokens, lookups_during_create_and_revoke_always_find_a_standing_token, .timeout = 60)
{
	enum { READERS = 2, N = 60 };
	static char texts[N][AC_TOKEN_TEXT_LEN + 1];
	ac_token_info infos[N];
	char admin[AC_TOKEN_TEXT_LEN + 1];
	ac_tokens *t = open_ok(true);
	atomic_bool stop = false;
	reader rs[READERS];
	pthread_t th[READERS];

	read_admin(admin);
	for (int i = 0; i < READERS; i++) {
		rs[i] = (reader){ .t = t, .text = admin, .stop = &stop };
		cr_assert_eq(pthread_create(&th[i], NULL, read_loop, &rs[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		cr_assert_eq(ac_tokens_create(t, AC_ROLE_CLIENT, NULL, NULL, texts[i], &infos[i]),
		    AC_OK);
	}
	for (int i = 0; i < N; i++) {
		cr_assert_eq(ac_tokens_revoke(t, infos[i].id), AC_OK);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < READERS; i++) {
		cr_assert_eq(pthread_join(th[i], NULL), 0);
		cr_assert_eq(rs[i].misses, 0, "reader %d missed %ld of %ld", i, rs[i].misses,
		    rs[i].rounds);
	}
	cr_assert_eq(ac_tokens_count(t), 1);
	ac_tokens_free(t);
}
