/* SPDX-License-Identifier: MIT
 * The token table: API tokens stored as SHA-256 hashes with a role (and, for agents,
 * the one agent_id they are bound to), persisted in <data-dir>/tokens. Data, file I/O
 * and its own reader/writer lock: one writer thread (the gateway actor's) changes it
 * while any number of threads (the gateway's workers) look tokens up. No threads.
 */
#ifndef AC_GATEWAY_TOKENS_H
#define AC_GATEWAY_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"
#include "codec/msg.h"

#define AC_TOKEN_TEXT_LEN 67  /* "ac_" + 64 hex digits (256 random bits) */
#define AC_TOKEN_ID_LEN 12    /* hex digits of the hash that name a token */

typedef struct ac_token_info {
	char id[AC_TOKEN_ID_LEN + 1];
	ac_role role;
	char agent_id[129];  /* "" unless role is AC_ROLE_AGENT */
	char label[129];
	int64_t created_at_ms;
} ac_token_info;

typedef struct ac_tokens ac_tokens;

/* Opens the table of data_dir: loads <data_dir>/tokens when it exists. On first start
 * (no tokens file) it creates an admin token, writes its text to
 * <data_dir>/admin.token with mode 0600 and persists the table; *created_admin is then
 * true. Caller owns; free with ac_tokens_free. Errors: AC_EIO (unreadable or corrupt
 * file, with a log line naming it), AC_ENOMEM. */
ac_err ac_tokens_open(const char *data_dir, ac_tokens **out, bool *created_admin);
void ac_tokens_free(ac_tokens *t);

/* Looks up the token text tok[0..len): hashes it with SHA-256, finds the stored hash in
 * the index (O(1)) and compares it in constant time. On a match copies its info into
 * *info and returns true. Any thread, concurrently with each other and with the writer:
 * it holds the table's read lock, which the writer takes only while memory changes. */
bool ac_tokens_check(const ac_tokens *t, const char *tok, size_t len, ac_token_info *info);

/* Creates a token with role (and agent_id for AC_ROLE_AGENT, required then; ignored
 * otherwise) and label (may be NULL), persists the table (write to a temp file, fsync,
 * rename) and writes the token text (NUL-terminated, AC_TOKEN_TEXT_LEN + 1 bytes) into
 * text and its info into *info. The text is never stored. AC_EINVAL for a missing
 * agent_id, AC_EIO when persisting fails (then nothing changed). The writer thread only
 * (as revoke); lookups go on while the file is written and see the token once it is. */
ac_err ac_tokens_create(ac_tokens *t, ac_role role, const char *agent_id, const char *label,
    char *text, ac_token_info *info);

/* Revokes the token named id (found through the index) and persists; AC_ENOTFOUND when
 * absent, AC_EIO on a write failure (then nothing changed). Lookups accept the token
 * until the file no longer holds it. The writer thread only. */
ac_err ac_tokens_revoke(ac_tokens *t, const char *id);

/* Number of tokens, and the i-th one (0 <= i < count) in creation order. The writer
 * thread only (it needs no lock: nobody else changes the table). Borrowed until the
 * next create or revoke. */
size_t ac_tokens_count(const ac_tokens *t);
const ac_token_info *ac_tokens_at(const ac_tokens *t, size_t i);

/* The table's invariant, for asserts and tests: every token is found by its hash, the
 * id lookup finds no token created after it, and the index has room. O(count). The
 * writer thread only. */
bool ac_tokens_is_consistent(const ac_tokens *t);

/* Role names on the wire: "admin", "client", "agent". */
const char *ac_role_name(ac_role role);
/* AC_ROLE_NONE when name[0..len) is not a role. */
ac_role ac_role_parse(const char *name, size_t len);

/* Fills buf with len cryptographically random bytes from the OS (getrandom). AC_EIO
 * on failure. Any thread. */
ac_err ac_random_bytes(void *buf, size_t len);

#endif
