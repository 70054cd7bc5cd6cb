/* SPDX-License-Identifier: MIT
 * `agentcom submit`: builds one task.submit map (DESIGN §3, §4) from the command line,
 * optionally on top of a JSON file or stdin, with an idempotency key so that a retried
 * call never submits twice. One table maps each option to its wire key; the server,
 * not the CLI, validates the values (so its error names the field).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cli.h"
#include "codec/mpw.h"

#define KEY_BYTES 16 /* random bytes of a generated idempotency key */

typedef struct submit_req submit_req;

/* Writes the value of option opt; returns an exit status. */
typedef int (*write_fn)(submit_req *s, const char *opt);

/* One option of submit and the key of the submit map it sets. Given on the command
 * line, the key replaces the JSON file's key of that name entirely (arrays too). */
typedef struct submit_opt {
	const char *opt;
	const char *key;
	write_fn write;
} submit_opt;

struct submit_req {
	ac_cli *cli;
	const msgpack_object *file_map; /* the JSON task map, or NULL */
	size_t hint_pos;   /* where the --file hints start: past the one that named the map */
	char key[2 * KEY_BYTES + 1];    /* generated idempotency key, "" when none */
	ac_mpw w;
};

static int
write_str(submit_req *s, const char *opt)
{
	ac_mpw_cstr(&s->w, ac_cli_opt(s->cli, opt));
	return AC_CLI_EXIT_OK;
}

static int
write_strs(submit_req *s, const char *opt)
{
	size_t pos = 0;
	const char *v;

	ac_mpw_array(&s->w, (uint32_t)ac_cli_opt_count(s->cli, opt));
	while ((v = ac_cli_opt_next(s->cli, opt, &pos)) != NULL) {
		ac_mpw_cstr(&s->w, v);
	}
	return AC_CLI_EXIT_OK;
}

static int
write_uint(submit_req *s, const char *opt)
{
	uint64_t v = 0;
	int rc = ac_cli_parse_u64(s->cli, opt, ac_cli_opt(s->cli, opt), &v);

	ac_mpw_u64(&s->w, v);
	return rc;
}

/* --tier: checked here, because the server ignores a complexity_tier it does not know
 * (DESIGN §5.1) and a typo would silently leave the task to the heuristic. */
static int
write_tier(submit_req *s, const char *opt)
{
	static const char *const tiers[] = { "trivial", "standard", "complex", "unknown" };
	const char *v = ac_cli_opt(s->cli, opt);

	for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++) {
		if (strcmp(v, tiers[i]) == 0) {
			ac_mpw_cstr(&s->w, v);
			return AC_CLI_EXIT_OK;
		}
	}
	return ac_cli_usage_error(s->cli, "%s wants trivial, standard, complex or unknown, not '%s'",
	    opt, v);
}

/* --metadata JSON: any JSON value; the server says when it is not an object. */
static int
write_json(submit_req *s, const char *opt)
{
	const char *text = ac_cli_opt(s->cli, opt);
	uint8_t *mp = NULL;
	size_t mp_len = 0;
	int rc = ac_cli_parse_json(s->cli, opt, text, strlen(text), &mp, &mp_len);

	if (rc == AC_CLI_EXIT_OK) {
		ac_mpw_raw(&s->w, mp, mp_len);
	}
	free(mp);
	return rc;
}

/* --file PATH[:REASON]: {path, reason?}; an empty REASON is none. */
static int
write_hints(submit_req *s, const char *opt)
{
	size_t pos = s->hint_pos, count = 0;
	const char *v;

	while (ac_cli_opt_next(s->cli, opt, &pos) != NULL) {
		count++;
	}
	ac_mpw_array(&s->w, (uint32_t)count);
	pos = s->hint_pos;
	while ((v = ac_cli_opt_next(s->cli, opt, &pos)) != NULL) {
		size_t path_len = strcspn(v, ":");
		bool has_reason = v[path_len] == ':' && v[path_len + 1] != '\0';
		ac_mpw_map(&s->w, has_reason ? 2 : 1);
		ac_mpw_key(&s->w, "path");
		ac_mpw_str(&s->w, v, path_len);
		if (has_reason) {
			ac_mpw_key(&s->w, "reason");
			ac_mpw_cstr(&s->w, v + path_len + 1);
		}
	}
	return AC_CLI_EXIT_OK;
}

/* --step TYPE:TARGET[:DESCRIPTION]: {type, target, description?}. The description is
 * the rest after the second ':', so it may hold colons itself. */
static int
write_steps(submit_req *s, const char *opt)
{
	size_t pos = 0;
	const char *v;

	ac_mpw_array(&s->w, (uint32_t)ac_cli_opt_count(s->cli, opt));
	while ((v = ac_cli_opt_next(s->cli, opt, &pos)) != NULL) {
		size_t type_len = strcspn(v, ":"), target_len;
		const char *target = v + type_len + 1;
		if (v[type_len] != ':') {
			return ac_cli_usage_error(s->cli, "%s wants TYPE:TARGET[:DESCRIPTION], not '%s'",
			    opt, v);
		}
		target_len = strcspn(target, ":");
		ac_mpw_map(&s->w, target[target_len] == ':' ? 3 : 2);
		ac_mpw_key(&s->w, "type");
		ac_mpw_str(&s->w, v, type_len);
		ac_mpw_key(&s->w, "target");
		ac_mpw_str(&s->w, target, target_len);
		if (target[target_len] == ':') {
			ac_mpw_key(&s->w, "description");
			ac_mpw_cstr(&s->w, target + target_len + 1);
		}
	}
	return AC_CLI_EXIT_OK;
}

/* The options, in the order their keys are written. main.c's table lists the same. */
static const submit_opt submit_opts[] = {
	{ "--priority", "priority", write_str },
	{ "--capability", "needed_capabilities", write_strs },
	{ "--target", "targets", write_strs },
	{ "--model", "model", write_str },
	{ "--repo", "repo", write_str },
	{ "--branch", "branch", write_str },
	{ "--file", "file_hints", write_hints },
	{ "--criterion", "success_criteria", write_strs },
	{ "--step", "verification_steps", write_steps },
	{ "--metadata", "metadata", write_json },
	{ "--max-retries", "max_retries", write_uint },
	{ "--ttl-ms", "ttl_ms", write_uint },
	{ "--delay-ms", "delay_ms", write_uint },
	{ "--tier", "complexity_tier", write_tier },
	{ "--key", "idempotency_key", write_str },
};
#define SUBMIT_OPT_COUNT (sizeof(submit_opts) / sizeof(submit_opts[0]))

/* Whether the command line sets submit_opts[i]'s key. */
static bool
is_given(const submit_req *s, size_t i)
{
	size_t pos = submit_opts[i].write == write_hints ? s->hint_pos : 0;

	return ac_cli_opt_next(s->cli, submit_opts[i].opt, &pos) != NULL;
}

static bool
is_key(const msgpack_object *k, const char *name)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(name) &&
	    memcmp(k->via.str.ptr, name, k->via.str.size) == 0;
}

/* Whether the JSON file's key k goes into the request: not the envelope's (the CLI
 * writes op and token) and not one the command line sets. */
static bool
is_kept(const submit_req *s, const msgpack_object *k)
{
	if (is_key(k, "op") || is_key(k, "token") ||
	    (s->cli->arg_count > 0 && is_key(k, "description"))) {
		return false;
	}
	for (size_t i = 0; i < SUBMIT_OPT_COUNT; i++) {
		if (is_key(k, submit_opts[i].key) && is_given(s, i)) {
			return false;
		}
	}
	return true;
}

/* 32 hex digits from getrandom; false when the kernel would not give them. */
static bool
make_key(char *out)
{
	uint8_t raw[KEY_BYTES];
	ssize_t n;

	do {
		n = getrandom(raw, sizeof(raw), 0);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(raw)) {
		return false;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	}
	return true;
}

/* How many keys the request map has. */
static uint32_t
count_keys(const submit_req *s)
{
	uint32_t n = 1 + (s->cli->arg_count > 0) + (s->key[0] != '\0');

	for (size_t i = 0; i < SUBMIT_OPT_COUNT; i++) {
		n += is_given(s, i);
	}
	for (uint32_t i = 0; s->file_map != NULL && i < s->file_map->via.map.size; i++) {
		n += is_kept(s, &s->file_map->via.map.ptr[i].key);
	}
	return n;
}

/* The whole request into s->w: op, description, the options, the generated key, then
 * what the file adds. */
static int
write_request(submit_req *s)
{
	int rc = AC_CLI_EXIT_OK;

	ac_mpw_map(&s->w, count_keys(s));
	ac_mpw_key(&s->w, "op");
	ac_mpw_cstr(&s->w, "task.submit");
	if (s->cli->arg_count > 0) {
		ac_mpw_key(&s->w, "description");
		ac_mpw_cstr(&s->w, s->cli->args[0]);
	}
	for (size_t i = 0; i < SUBMIT_OPT_COUNT && rc == AC_CLI_EXIT_OK; i++) {
		if (is_given(s, i)) {
			ac_mpw_key(&s->w, submit_opts[i].key);
			rc = submit_opts[i].write(s, submit_opts[i].opt);
		}
	}
	if (s->key[0] != '\0') {
		ac_mpw_key(&s->w, "idempotency_key");
		ac_mpw_cstr(&s->w, s->key);
	}
	for (uint32_t i = 0; s->file_map != NULL && i < s->file_map->via.map.size; i++) {
		const msgpack_object_kv *kv = &s->file_map->via.map.ptr[i];
		if (is_kept(s, &kv->key)) {
			ac_mpw_object(&s->w, &kv->key);
			ac_mpw_object(&s->w, &kv->val);
		}
	}
	return rc;
}

/* "submitted task 42 (priority normal, tier standard, status queued)" or, for a key
 * seen before, "task 42 already submitted with this key (duplicate)". */
static int
show_submitted(ac_cli *cli, const ac_reply *r)
{
	char id[32], prio[32], tier[32], status[32];
	bool is_duplicate = false;

	(void)cli;
	ac_cli_format_value(ac_reply_get(r, "task.id"), id, sizeof(id));
	ac_cli_format_value(ac_reply_get(r, "task.priority"), prio, sizeof(prio));
	ac_cli_format_value(ac_reply_get(r, "task.complexity.effective_tier"), tier, sizeof(tier));
	ac_cli_format_value(ac_reply_get(r, "task.status"), status, sizeof(status));
	(void)ac_reply_bool(r, "duplicate", &is_duplicate);
	if (is_duplicate) {
		printf("task %s already submitted with this key (duplicate)\n", id);
	} else {
		printf("submitted task %s (priority %s, tier %s, status %s)\n", id, prio, tier, status);
	}
	return AC_CLI_EXIT_OK;
}

/* Builds the request from s (file map already loaded) and sends it. With no reply the
 * task may or may not exist: the key makes a retry safe, so say which key. */
static int
send_submit(submit_req *s)
{
	const msgpack_object *key;
	int rc;

	key = s->file_map != NULL ? ac_cli_map_get(s->file_map, "idempotency_key") : NULL;
	if (ac_cli_opt(s->cli, "--key") == NULL && key == NULL && !make_key(s->key)) {
		fprintf(stderr, "agentcom: submit: no random bytes for the idempotency key: %s\n",
		    strerror(errno));
		return AC_CLI_EXIT_USAGE;
	}
	ac_mpw_init(&s->w);
	if ((rc = write_request(s)) == AC_CLI_EXIT_OK) {
		rc = s->w.err != AC_OK ? ac_cli_fail("submit") :
		    ac_cli_run(s->cli, ac_mpw_data(&s->w), ac_mpw_len(&s->w), show_submitted);
	}
	if (rc == AC_CLI_EXIT_UNREACHABLE && s->key[0] != '\0') {
		fprintf(stderr, "agentcom: submit: the task may have been submitted; to retry "
		    "safely add --key %s\n", s->key);
	}
	ac_mpw_fini(&s->w);
	return rc;
}

/* Loads the JSON task map named by path into *mp and u (u->data is then the map). */
static int
load_file_map(ac_cli *cli, const char *path, uint8_t **mp, msgpack_unpacked *u)
{
	char *text = NULL;
	size_t text_len = 0, mp_len = 0, off = 0;
	int rc = ac_cli_read_input(cli, "submit", path, &text, &text_len);

	if (rc == AC_CLI_EXIT_OK) {
		rc = ac_cli_parse_json(cli, strcmp(path, "-") == 0 ? "stdin" : path, text, text_len,
		    mp, &mp_len);
	}
	free(text);
	if (rc == AC_CLI_EXIT_OK &&
	    (msgpack_unpack_next(u, (const char *)*mp, mp_len, &off) != MSGPACK_UNPACK_SUCCESS ||
	        u->data.type != MSGPACK_OBJECT_MAP)) {
		rc = ac_cli_usage_error(cli, "submit: %s must hold one JSON object (a submit map)",
		    strcmp(path, "-") == 0 ? "stdin" : path);
	}
	return rc;
}

/* Without DESCRIPTION the first --file names the JSON task map ("-": stdin) and any
 * further --file is a file hint; with DESCRIPTION every --file is a file hint. */
int
ac_cli_cmd_submit(ac_cli *cli)
{
	submit_req s = { .cli = cli };
	const char *path = NULL;
	msgpack_unpacked u;
	uint8_t *mp = NULL;
	int rc = AC_CLI_EXIT_OK;

	if (cli->arg_count == 0 && (path = ac_cli_opt_next(cli, "--file", &s.hint_pos)) == NULL) {
		return ac_cli_usage_error(cli, "submit: give DESCRIPTION or --file TASK.json");
	}
	msgpack_unpacked_init(&u);
	if (path != NULL && (rc = load_file_map(cli, path, &mp, &u)) == AC_CLI_EXIT_OK) {
		s.file_map = &u.data;
	}
	if (rc == AC_CLI_EXIT_OK) {
		rc = send_submit(&s);
	}
	msgpack_unpacked_destroy(&u);
	free(mp);
	return rc;
}
