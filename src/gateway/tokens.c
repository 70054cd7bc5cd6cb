/* SPDX-License-Identifier: MIT
 * The token table: SHA-256 hashes of API tokens with their role, agent binding and label,
 * an index on the hash prefix that is also the token's id, the lock that lets worker
 * threads look tokens up while the gateway thread changes the table, and the
 * <data_dir>/tokens file (replaced atomically). It owns the table and its files; it never
 * stores or logs a token's text, and never compares secret bytes with an early exit.
 * (Over the 500-line soft limit: the file format is kept beside the table it persists;
 * it could move to a tokens_file.c.)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "codec/ops.h"
#include "gateway/tokens.h"
#include "rt/assert.h"
#include "rt/clock.h"
#include "rt/log.h"

#define HASH_LEN 32
#define KEY_LEN (AC_TOKEN_ID_LEN / 2) /* hash bytes an id spells: the index key */
#define MAX_NAME_LEN 128   /* agent ids and labels (DESIGN §8) */
#define INDEX_MIN_CAP 16

/* Tokens file, one line per token, fields separated by one space:
 *   v1 <id> <role> <sha256 hex> <agent_id or -> <created_at_ms> <label hex or ->
 * where a label is the hex of its bytes, so it may hold any byte but NUL and the line
 * stays space-separated. A change rewrites the whole file (tokens.tmp, then rename). */

typedef struct token {
	ac_token_info info;
	uint8_t hash[HASH_LEN];
} token;

/* One writer (the thread that calls create and revoke) and many readers (check). The
 * writer changes v, count, cap, index and index_cap only under the write lock, and only
 * for the in-memory step: the file is written and synced with no lock held, so lookups
 * never wait for the disk. The writer itself reads without the lock. */
struct ac_tokens {
	char file[PATH_MAX];     /* <data_dir>/tokens */
	char tmp[PATH_MAX];      /* <data_dir>/tokens.tmp */
	char admin[PATH_MAX];    /* <data_dir>/admin.token */
	char dir[PATH_MAX];
	pthread_rwlock_t lock;   /* guards the fields below against the readers */
	token *v;                /* creation order; v[count] is the writer's, unlocked */
	size_t count;
	size_t cap;
	/* Open addressing on the first KEY_LEN hash bytes, which are also the id's (uniform,
	 * so no further mixing): a slot holds index + 1 into v, 0 when empty. Load factor
	 * stays <= 1/2. Probing visits tokens of one key in creation order. */
	uint32_t *index;
	size_t index_cap;        /* a power of two */
};

/* Role names live once, in codec/ops.c: ac_role_names[i] names role 1 << i. */
const char *ac_role_name(ac_role role)
{
	for (unsigned i = 0; ac_role_names[i] != NULL; i++) {
		if ((unsigned)role == 1u << i) {
			return ac_role_names[i];
		}
	}
	return "none";
}

ac_role ac_role_parse(const char *name, size_t len)
{
	for (unsigned i = 0; ac_role_names[i] != NULL; i++) {
		if (strlen(ac_role_names[i]) == len && memcmp(ac_role_names[i], name, len) == 0) {
			return (ac_role)(1u << i);
		}
	}
	return AC_ROLE_NONE;
}

ac_err ac_random_bytes(void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = getrandom((uint8_t *)buf + done, len - done, 0);
		if (n < 0 && errno != EINTR) {
			return AC_EIO;
		}
		done += n > 0 ? (size_t)n : 0; /* a partial read (or EINTR) continues the loop */
	}
	return AC_OK;
}

/* In mbedTLS 2.x mbedtls_sha256() is the deprecated void variant; 3.x renamed _ret away. */
#if MBEDTLS_VERSION_NUMBER < 0x03000000
#define SHA256_RET mbedtls_sha256_ret
#else
#define SHA256_RET mbedtls_sha256
#endif

static void sha256(const void *in, size_t len, uint8_t out[HASH_LEN])
{
	static const uint8_t empty = 0; /* mbedTLS wants a readable pointer even for len 0 */

	AC_ASSERT(SHA256_RET(in != NULL ? in : &empty, len, out, 0) == 0);
}

static void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Exactly 2 * len lower-case hex digits into out[0..len). */
static bool hex_decode(const char *s, uint8_t *out, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	if (strlen(s) != 2 * len || strspn(s, digits) != 2 * len) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		sscanf(s + 2 * i, "%2hhx", &out[i]);
	}
	return true;
}

/* All n bytes are always compared: the time does not depend on where they differ. */
static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t diff = 0;

	for (size_t i = 0; i < n; i++) {
		diff |= (uint8_t)(a[i] ^ b[i]);
	}
	return diff == 0;
}

/* The index key: the KEY_LEN bytes that the id spells in hex. */
static uint64_t hash_prefix(const uint8_t *hash)
{
	uint64_t k = 0;

	memcpy(&k, hash, KEY_LEN);
	return k;
}

static bool is_valid_agent_id(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= MAX_NAME_LEN &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == len;
}

static bool label_decode(const char *s, char *out, size_t cap)
{
	size_t len = strlen(s) / 2;

	if (strcmp(s, "-") == 0) {
		out[0] = '\0';
		return true;
	}
	if (len == 0 || len >= cap || !hex_decode(s, (uint8_t *)out, len)) {
		return false;
	}
	out[len] = '\0';
	return strlen(out) == len; /* an encoded NUL is corruption */
}

static void index_insert(ac_tokens *t, size_t i)
{
	size_t mask = t->index_cap - 1;
	size_t s = (size_t)hash_prefix(t->v[i].hash) & mask;

	while (t->index[s] != 0) {
		s = (s + 1) & mask;
	}
	t->index[s] = (uint32_t)(i + 1);
}

static void index_rebuild(ac_tokens *t)
{
	memset(t->index, 0, t->index_cap * sizeof(*t->index));
	for (size_t i = 0; i < t->count; i++) {
		index_insert(t, i);
	}
}

/* Makes room for one more token in v and in the index (rebuilt when it grows), so
 * that adding it afterwards cannot fail. AC_ENOMEM leaves the table as it was. */
static ac_err reserve_one(ac_tokens *t)
{
	size_t want = INDEX_MIN_CAP;

	if (t->count == t->cap) {
		token *v = realloc(t->v, (t->cap + 8) * 2 * sizeof(*v));
		if (v == NULL) {
			return AC_ENOMEM;
		}
		t->v = v;
		t->cap = (t->cap + 8) * 2;
	}
	while (want < 2 * (t->count + 1)) {
		want *= 2;
	}
	if (want > t->index_cap) {
		uint32_t *index = calloc(want, sizeof(*index));
		if (index == NULL) {
			return AC_ENOMEM;
		}
		free(t->index);
		t->index = index;
		t->index_cap = want;
		index_rebuild(t);
	}
	return AC_OK;
}

/* The token whose hash is hash, SIZE_MAX if none. The probe stops early only on the
 * 8-byte prefix, which reveals nothing about stored tokens the hash does not already
 * hide; the full hashes are compared in constant time. */
static size_t find(const ac_tokens *t, const uint8_t *hash)
{
	uint64_t key = hash_prefix(hash);
	size_t mask = t->index_cap - 1;

	for (size_t s = (size_t)key & mask; t->index[s] != 0; s = (s + 1) & mask) {
		const token *k = &t->v[t->index[s] - 1];
		if (hash_prefix(k->hash) == key && equal_ct(k->hash, hash, HASH_LEN)) {
			return t->index[s] - 1;
		}
	}
	return SIZE_MAX;
}

/* The first-created token named id, SIZE_MAX if none. An id is the hex of the key, so
 * it probes the same index; ids are not secret (token.list shows them). */
static size_t find_id(const ac_tokens *t, const char *id)
{
	uint8_t key[KEY_LEN];
	size_t mask = t->index_cap - 1;

	if (!hex_decode(id, key, KEY_LEN)) {
		return SIZE_MAX;
	}
	for (size_t s = (size_t)hash_prefix(key) & mask; t->index[s] != 0; s = (s + 1) & mask) {
		if (strcmp(t->v[t->index[s] - 1].info.id, id) == 0) {
			return t->index[s] - 1;
		}
	}
	return SIZE_MAX;
}

bool ac_tokens_is_consistent(const ac_tokens *t)
{
	for (size_t i = 0; i < t->count; i++) {
		/* find_id gives the first-created token of an id: never one after i */
		if (find(t, t->v[i].hash) != i || find_id(t, t->v[i].info.id) > i) {
			return false;
		}
	}
	return t->count <= t->cap && 2 * t->count <= t->index_cap;
}

static bool write_line(FILE *f, const token *k)
{
	char hash[2 * HASH_LEN + 1], label[2 * MAX_NAME_LEN + 1];

	hex_encode(k->hash, HASH_LEN, hash);
	hex_encode((const uint8_t *)k->info.label, strlen(k->info.label), label);
	return fprintf(f, "v1 %s %s %s %s %lld %s\n", k->info.id, ac_role_name(k->info.role), hash,
	    k->info.role == AC_ROLE_AGENT ? k->info.agent_id : "-",
	    (long long)k->info.created_at_ms, label[0] != '\0' ? label : "-") > 0;
}

/* Writes v[0..count) except v[skip] to tokens.tmp, fsyncs it, renames it over tokens and
 * fsyncs the directory. On AC_EIO the old file is untouched. Lines go through a stdio
 * buffer: one write per line made a change cost thousands of syscalls at a few thousand
 * tokens. Reads the table only: the writer calls it without the lock. */
static ac_err persist(const ac_tokens *t, size_t count, size_t skip)
{
	int fd = open(t->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	bool is_ok = f != NULL;

	if (fd >= 0 && f == NULL) {
		close(fd);
	}
	for (size_t i = 0; i < count && is_ok; i++) {
		is_ok = i == skip || write_line(f, &t->v[i]);
	}
	is_ok = is_ok && fflush(f) == 0 && fsync(fd) == 0;
	if (f != NULL && fclose(f) != 0) {
		is_ok = false;
	}
	if (!is_ok || rename(t->tmp, t->file) != 0) {
		ac_log(AC_LOG_ERR, "gateway", "tokens_write_failed", "file=%s error=\"%s\"", t->tmp,
		    strerror(errno));
		unlink(t->tmp);
		return AC_EIO;
	}
	/* The new file is in place; a failed directory sync only risks losing the rename in a
	 * power cut, so it is reported but the change stands (memory matches the file). */
	if ((fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) != 0) {
		ac_log(AC_LOG_WARN, "gateway", "tokens_dir_sync", "dir=%s error=\"%s\"", t->dir,
		    strerror(errno));
	}
	if (fd >= 0) {
		close(fd);
	}
	return AC_OK;
}

/* Parses one line (without its newline) into *k; false when it is malformed. */
static bool parse_line(char *line, token *k)
{
	char *f[7], *save = NULL, *end;
	size_t n = 0;
	ac_token_info *info = &k->info;

	for (char *s = strtok_r(line, " ", &save); s != NULL; s = strtok_r(NULL, " ", &save)) {
		if (n == 7) {
			return false;
		}
		f[n++] = s;
	}
	if (n != 7 || strcmp(f[0], "v1") != 0 || !hex_decode(f[3], k->hash, HASH_LEN) ||
	    strlen(f[1]) != AC_TOKEN_ID_LEN || strncmp(f[1], f[3], AC_TOKEN_ID_LEN) != 0) {
		return false;
	}
	memset(info, 0, sizeof(*info));
	memcpy(info->id, f[1], AC_TOKEN_ID_LEN);
	info->role = ac_role_parse(f[2], strlen(f[2]));
	if (info->role == AC_ROLE_AGENT ? !is_valid_agent_id(f[4]) : strcmp(f[4], "-") != 0) {
		return false;
	}
	if (info->role == AC_ROLE_AGENT) {
		strcpy(info->agent_id, f[4]);
	}
	errno = 0;
	info->created_at_ms = strtoll(f[5], &end, 10);
	return info->role != AC_ROLE_NONE && f[5][0] >= '0' && f[5][0] <= '9' && *end == '\0' &&
	    errno == 0 && label_decode(f[6], info->label, sizeof(info->label));
}

static ac_err load(ac_tokens *t, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;
	ac_err err = AC_OK;

	while (err == AC_OK && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n') {
			line[--len] = '\0';
		}
		if ((err = reserve_one(t)) != AC_OK) {
			break;
		}
		/* A NUL inside, a malformed line or a token listed twice */
		if (strlen(line) != (size_t)len || !parse_line(line, &t->v[t->count]) ||
		    find(t, t->v[t->count].hash) != SIZE_MAX) {
			ac_log(AC_LOG_ERR, "gateway", "tokens_corrupt", "file=%s line=%d", t->file,
			    lineno);
			err = AC_EIO;
		} else {
			index_insert(t, t->count++);
		}
	}
	if (err == AC_OK && ferror(f)) {
		ac_log(AC_LOG_ERR, "gateway", "tokens_unreadable", "file=%s", t->file);
		err = AC_EIO;
	}
	free(line);
	return err;
}

/* Fills v[count] (reserved, not yet counted: no reader sees it) with a fresh token and
 * writes its text. Retries the astronomically rare case of an id that is already taken. */
static ac_err make_token(ac_tokens *t, ac_role role, const char *agent_id, const char *label,
    char *text)
{
	token *k = &t->v[t->count];
	uint8_t secret[32];
	bool is_taken;

	do {
		if (ac_random_bytes(secret, sizeof(secret)) != AC_OK) {
			ac_log(AC_LOG_ERR, "gateway", "random_failed", "error=\"%s\"",
			    strerror(errno));
			return AC_EIO;
		}
		memcpy(text, "ac_", 3);
		hex_encode(secret, sizeof(secret), text + 3);
		sha256(text, AC_TOKEN_TEXT_LEN, k->hash);
		memset(&k->info, 0, sizeof(k->info));
		hex_encode(k->hash, AC_TOKEN_ID_LEN / 2, k->info.id);
		is_taken = find_id(t, k->info.id) != SIZE_MAX;
	} while (is_taken);
	explicit_bzero(secret, sizeof(secret));
	k->info.role = role;
	if (role == AC_ROLE_AGENT) {
		strcpy(k->info.agent_id, agent_id);
	}
	strcpy(k->info.label, label != NULL ? label : "");
	k->info.created_at_ms = ac_clock_wall_ms();
	return AC_OK;
}

static ac_err write_admin_file(const ac_tokens *t, const char *text)
{
	int fd = open(t->admin, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	bool is_ok;

	/* fchmod: the file may predate us with a wider mode, and the umask only narrows. */
	is_ok = fd >= 0 && fchmod(fd, 0600) == 0 && dprintf(fd, "%s\n", text) > 0 && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0) {
		is_ok = false;
	}
	if (!is_ok) {
		ac_log(AC_LOG_ERR, "gateway", "admin_token_write_failed", "file=%s error=\"%s\"",
		    t->admin, strerror(errno));
	}
	return is_ok ? AC_OK : AC_EIO;
}

/* First start: admin.token is written before the table, so a crash in between leaves
 * no tokens file and the next start simply makes a new admin token. */
static ac_err create_admin(ac_tokens *t)
{
	char text[AC_TOKEN_TEXT_LEN + 1];
	ac_err err;

	if ((err = make_token(t, AC_ROLE_ADMIN, NULL, "admin", text)) == AC_OK &&
	    (err = write_admin_file(t, text)) == AC_OK &&
	    (err = persist(t, t->count + 1, SIZE_MAX)) == AC_OK) {
		index_insert(t, t->count++);
	}
	explicit_bzero(text, sizeof(text));
	return err;
}

static bool set_paths(ac_tokens *t, const char *data_dir)
{
	int a = snprintf(t->dir, sizeof(t->dir), "%s", data_dir);
	int b = snprintf(t->file, sizeof(t->file), "%s/tokens", data_dir);
	int c = snprintf(t->tmp, sizeof(t->tmp), "%s/tokens.tmp", data_dir);
	int d = snprintf(t->admin, sizeof(t->admin), "%s/admin.token", data_dir);

	return a >= 0 && b >= 0 && c >= 0 && d >= 0 && (size_t)c < sizeof(t->tmp) &&
	    (size_t)d < sizeof(t->admin);
}

ac_err ac_tokens_open(const char *data_dir, ac_tokens **out, bool *created_admin)
{
	ac_tokens *t = calloc(1, sizeof(*t));
	FILE *f;
	ac_err err;

	*created_admin = false;
	if (t == NULL) {
		return AC_ENOMEM;
	}
	pthread_rwlock_init(&t->lock, NULL);
	if (!set_paths(t, data_dir)) {
		ac_log(AC_LOG_ERR, "gateway", "tokens_path_too_long", "dir=%s", data_dir);
		err = AC_EIO;
		goto fail;
	}
	if ((err = reserve_one(t)) != AC_OK) { /* also allocates the index */
		goto fail;
	}
	if ((f = fopen(t->file, "re")) != NULL) {
		err = load(t, f);
		fclose(f);
	} else if (errno == ENOENT) {
		err = create_admin(t);
		*created_admin = err == AC_OK;
	} else {
		ac_log(AC_LOG_ERR, "gateway", "tokens_unreadable", "file=%s error=\"%s\"", t->file,
		    strerror(errno));
		err = AC_EIO;
	}
	if (err != AC_OK) {
		goto fail;
	}
	AC_ASSERT(ac_tokens_is_consistent(t));
	*out = t;
	return AC_OK;

fail:
	ac_tokens_free(t);
	return err;
}

void ac_tokens_free(ac_tokens *t)
{
	if (t != NULL) {
		pthread_rwlock_destroy(&t->lock);
		free(t->v);
		free(t->index);
		free(t);
	}
}

bool ac_tokens_check(const ac_tokens *t, const char *tok, size_t len, ac_token_info *info)
{
	uint8_t hash[HASH_LEN];
	size_t i;

	sha256(tok, len, hash);
	/* The lock is not part of the table's value: taking it does not change t. */
	pthread_rwlock_rdlock((pthread_rwlock_t *)&t->lock);
	if ((i = find(t, hash)) != SIZE_MAX && info != NULL) {
		*info = t->v[i].info;
	}
	pthread_rwlock_unlock((pthread_rwlock_t *)&t->lock);
	return i != SIZE_MAX;
}

ac_err ac_tokens_create(ac_tokens *t, ac_role role, const char *agent_id, const char *label,
    char *text, ac_token_info *info)
{
	ac_err err;

	if (strcmp(ac_role_name(role), "none") == 0 ||
	    (role == AC_ROLE_AGENT && (agent_id == NULL || !is_valid_agent_id(agent_id))) ||
	    (label != NULL && strlen(label) > MAX_NAME_LEN)) {
		return AC_EINVAL;
	}
	pthread_rwlock_wrlock(&t->lock);
	err = reserve_one(t); /* may move v and the index */
	pthread_rwlock_unlock(&t->lock);
	if (err != AC_OK || (err = make_token(t, role, agent_id, label, text)) != AC_OK ||
	    (err = persist(t, t->count + 1, SIZE_MAX)) != AC_OK) {
		explicit_bzero(text, AC_TOKEN_TEXT_LEN + 1);
		return err;
	}
	pthread_rwlock_wrlock(&t->lock);
	index_insert(t, t->count);
	*info = t->v[t->count++].info;
	pthread_rwlock_unlock(&t->lock);
	AC_ASSERT(find(t, t->v[t->count - 1].hash) == t->count - 1);
	return AC_OK;
}

ac_err ac_tokens_revoke(ac_tokens *t, const char *id)
{
	size_t i = find_id(t, id);
	ac_err err;

	if (i == SIZE_MAX) {
		return AC_ENOTFOUND;
	}
	if ((err = persist(t, t->count, i)) != AC_OK) {
		return err;
	}
	/* Keeps creation order for token.list, so the positions after i shift and the index
	 * is rebuilt: O(count) in memory, like the file rewrite before it. */
	pthread_rwlock_wrlock(&t->lock);
	memmove(&t->v[i], &t->v[i + 1], (t->count - i - 1) * sizeof(*t->v));
	t->count--;
	index_rebuild(t);
	pthread_rwlock_unlock(&t->lock);
	return AC_OK;
}

size_t ac_tokens_count(const ac_tokens *t)
{
	return t->count;
}

const ac_token_info *ac_tokens_at(const ac_tokens *t, size_t i)
{
	AC_ASSERT(i < t->count);
	return &t->v[i].info;
}
