/* SPDX-License-Identifier: MIT
 * `agentcom explain`: a routing dry run (DESIGN §5.3a). With --endpoints it runs the
 * server's own validation, classification and routing code (src/routing/explain.h)
 * over the files given, without a server; without it, it asks the server's
 * route.explain. Stores nothing anywhere; prints one JSON object.
 */
#include <stdlib.h>
#include <string.h>

#include "agentcom/json.h"
#include "cli.h"
#include "codec/endpoint_wire.h"
#include "codec/schema.h"
#include "codec/task_wire.h"
#include "config.h"
#include "routing/explain.h"
#include "rt/clock.h"

/* The endpoints file: {"endpoints": [...]} in registration order. host and port are
 * accepted but unused (the id names the endpoint). */
typedef struct file_endpoint {
	ac_str id, host, status;
	ac_uint port, in_flight;
	ac_strs models, loaded_models, recent_repos;
	ac_obj resources; /* ac_resources_wire */
} file_endpoint;

typedef struct endpoints_file {
	ac_objs endpoints;
} endpoints_file;

#define MAX_MODELS 4096

static const ac_field file_endpoint_fields[] = {
	AC_F(file_endpoint, id, "id", AC_FT_STR, true, .min_len = 1, .max_len = 300),
	AC_F(file_endpoint, host, "host", AC_FT_STR, false, .max_len = 255),
	AC_F(file_endpoint, port, "port", AC_FT_UINT, false, .max = 65535),
	AC_F(file_endpoint, status, "status", AC_FT_STR, true),
	AC_F(file_endpoint, models, "models", AC_FT_STRS, false, .max_len = MAX_MODELS),
	AC_F(file_endpoint, loaded_models, "loaded_models", AC_FT_STRS, false,
	    .max_len = MAX_MODELS),
	AC_F(file_endpoint, in_flight, "in_flight", AC_FT_UINT, false, .max = UINT32_MAX),
	AC_F(file_endpoint, recent_repos, "recent_repos", AC_FT_STRS, false, .max_len = 4096),
	AC_F(file_endpoint, resources, "resources", AC_FT_OBJ, false, .sub = &ac_resources_schema),
};
static const ac_schema file_endpoint_schema = AC_SCHEMA("endpoint", file_endpoint,
    file_endpoint_fields);

static const ac_field endpoints_file_fields[] = {
	AC_F(endpoints_file, endpoints, "endpoints", AC_FT_OBJS, true, .max_len = 100000,
	    .sub = &file_endpoint_schema),
};
static const ac_schema endpoints_file_schema = AC_SCHEMA("endpoints", endpoints_file,
    endpoints_file_fields);

/* Everything one offline run holds; freed by explain_fini. */
typedef struct explain {
	ac_cli *cli;
	ac_arena arena;           /* decoded files, endpoint array, NUL-terminated copies */
	uint8_t *task_mp, *eps_mp; /* the files as msgpack */
	size_t task_len, eps_len;
	ac_task_wire task;
	ac_complexity complexity;
	ac_route_task route;
	char model[AC_EXPLAIN_MODEL_CAP];
	ac_route_endpoint *eps;
	size_t ep_count;
	ac_config cfg;            /* endpoint_slots, default_model */
	bool is_fallback_due;
	int64_t now_ms;
} explain;

static void explain_fini(explain *x)
{
	ac_arena_fini(&x->arena);
	free(x->task_mp);
	free(x->eps_mp);
}

/* Reads the JSON file at path into msgpack *mp (caller frees). */
static int read_json(ac_cli *cli, const char *path, uint8_t **mp, size_t *len)
{
	char *text = NULL;
	size_t text_len = 0;
	int rc = ac_cli_read_input(cli, "explain", path, &text, &text_len);

	if (rc == AC_CLI_EXIT_OK) {
		rc = ac_cli_parse_json(cli, path, text, text_len, mp, len);
	}
	free(text);
	return rc;
}

/* --- --set KEY=VALUE --- */

typedef int (*set_fn)(explain *x, const char *kv, const char *value);

static int set_config(explain *x, const char *kv, const char *value)
{
	char why[200];

	(void)value;
	if (ac_config_set(&x->cfg, kv, why, sizeof(why)) != AC_OK) {
		return ac_cli_usage_error(x->cli, "--set %s: %s", kv, why);
	}
	return AC_CLI_EXIT_OK;
}

static int set_fallback(explain *x, const char *kv, const char *value)
{
	if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
		return ac_cli_usage_error(x->cli, "--set %s: fallback is true or false", kv);
	}
	x->is_fallback_due = strcmp(value, "true") == 0;
	return AC_CLI_EXIT_OK;
}

static const struct {
	const char *key;
	set_fn set;
} set_keys[] = {
	{ "endpoint_slots", set_config }, /* same limits as agentcomd --set */
	{ "default_model", set_config },
	{ "fallback", set_fallback },     /* true: route as if the fallback wait had passed */
};

static int apply_set(explain *x, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t key_len = eq != NULL ? (size_t)(eq - kv) : 0;

	for (size_t i = 0; eq != NULL && i < sizeof(set_keys) / sizeof(set_keys[0]); i++) {
		const char *key = set_keys[i].key;
		if (strlen(key) == key_len && memcmp(kv, key, key_len) == 0) {
			return set_keys[i].set(x, kv, eq + 1);
		}
	}
	return ac_cli_usage_error(x->cli,
	    "--set %s: expected endpoint_slots=N, default_model=M or fallback=true|false", kv);
}

/* --- TASK.json --- */

/* The error task.submit would reply, as {"error": {code, message, field?}} on stdout. */
static int print_task_error(ac_err code, const ac_decode_err *e)
{
	bool has_field = e->field[0] != '\0';
	char *json = NULL;
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "error");
	ac_mpw_map(&w, has_field ? 3 : 2);
	ac_mpw_key(&w, "code");
	ac_mpw_cstr(&w, ac_err_wire_name(code));
	ac_mpw_key(&w, "message");
	ac_mpw_cstr(&w, e->message[0] != '\0' ? e->message : ac_strerror(code));
	if (has_field) {
		ac_mpw_key(&w, "field");
		ac_mpw_cstr(&w, e->field);
	}
	if (w.err == AC_OK &&
	    ac_msgpack_to_json(ac_mpw_data(&w), ac_mpw_len(&w), AC_JSON_PRETTY, &json) == AC_OK) {
		puts(json);
	}
	free(json);
	ac_mpw_fini(&w);
	return AC_CLI_EXIT_USAGE;
}

/* Validates the task exactly as task.submit does, then classifies it. */
static int load_task(explain *x)
{
	ac_decode_err e = { 0 };
	ac_err err = ac_schema_decode_bytes(&ac_task_submit_schema, x->task_mp, x->task_len,
	    &x->task, &x->arena, &e);

	if (err == AC_ENOMEM) {
		return ac_cli_fail("explain");
	}
	if (err != AC_OK) {
		return print_task_error(err, &e);
	}
	ac_explain_classify(&x->task, &x->complexity);
	ac_explain_route_task(&x->task, &x->complexity, x->model, &x->route);
	return AC_CLI_EXIT_OK;
}

/* --- ENDPOINTS.json --- */

/* NUL-terminated arena copies of strs; NULL when out of memory. */
static const char *const *copy_strs(ac_arena *a, const ac_strs *strs)
{
	const char **out = ac_arena_alloc(a, (strs->count + 1) * sizeof(*out));

	for (uint32_t i = 0; out != NULL && i < strs->count; i++) {
		char *s = ac_arena_alloc(a, (size_t)strs->items[i].len + 1);
		if (s == NULL) {
			return NULL;
		}
		out[i] = ac_str_cpy(s, (size_t)strs->items[i].len + 1, strs->items[i]);
	}
	return out;
}

static bool has_str(const ac_strs *strs, ac_str s)
{
	for (uint32_t i = 0; s.set && i < strs->count; i++) {
		if (strs->items[i].len == s.len && memcmp(strs->items[i].p, s.p, s.len) == 0) {
			return true;
		}
	}
	return false;
}

static void take_resources(ac_route_endpoint *ep, const ac_resources_wire *r)
{
	ep->has_cpu = r->cpu_percent.set;
	ep->cpu_percent = r->cpu_percent.v;
	ep->has_ram_total = r->ram_total_bytes.set;
	ep->ram_total_bytes = r->ram_total_bytes.v;
	ep->has_vram_used = r->vram_used_bytes.set;
	ep->vram_used_bytes = r->vram_used_bytes.v;
	ep->has_vram_total = r->vram_total_bytes.set;
	ep->vram_total_bytes = r->vram_total_bytes.v;
	ep->reported_at_ms = r->reported_at_ms.set ? r->reported_at_ms.v : 0;
}

/* Fills ep from the file's f; false when out of memory. */
static bool take_endpoint(explain *x, const file_endpoint *f, ac_route_endpoint *ep)
{
	char *id = ac_arena_alloc(&x->arena, (size_t)f->id.len + 1);

	*ep = (ac_route_endpoint){
		.id = id != NULL ? ac_str_cpy(id, (size_t)f->id.len + 1, f->id) : NULL,
		.is_healthy = ac_str_eq(f->status, "healthy"),
		.models = copy_strs(&x->arena, &f->models),
		.model_count = f->models.count,
		.loaded_models = copy_strs(&x->arena, &f->loaded_models),
		.loaded_count = f->loaded_models.count,
		.in_flight = (uint32_t)f->in_flight.v,
		/* served the task's repo within the window: as recent as can be */
		.last_repo_at_ms = has_str(&f->recent_repos, x->task.repo) ? x->now_ms : 0,
	};
	if (f->resources.set) {
		take_resources(ep, f->resources.p);
	}
	return ep->id != NULL && ep->models != NULL && ep->loaded_models != NULL;
}

static int load_endpoints(explain *x, const char *path)
{
	ac_decode_err e = { 0 };
	endpoints_file file;
	const file_endpoint *items;
	ac_err err = ac_schema_decode_bytes(&endpoints_file_schema, x->eps_mp, x->eps_len, &file,
	    &x->arena, &e);

	if (err == AC_ENOMEM) {
		return ac_cli_fail("explain");
	}
	if (err != AC_OK) {
		return ac_cli_usage_error(x->cli, "%s: %s%s%s", path, e.field,
		    e.field[0] != '\0' ? ": " : "", e.message);
	}
	items = file.endpoints.items;
	x->ep_count = file.endpoints.count;
	if ((x->eps = ac_arena_alloc(&x->arena, x->ep_count * sizeof(*x->eps))) == NULL) {
		return ac_cli_fail("explain");
	}
	for (size_t i = 0; i < x->ep_count; i++) {
		if (!take_endpoint(x, &items[i], &x->eps[i])) {
			return ac_cli_fail("explain");
		}
	}
	return AC_CLI_EXIT_OK;
}

/* --- output --- */

static int print_explain(explain *x)
{
	ac_route_opts o = {
		.endpoint_slots = (uint32_t)x->cfg.endpoint_slots,
		.default_model = x->cfg.default_model,
		.now_ms = x->now_ms,
	};
	char *json = NULL;
	ac_mpw w;
	int rc = AC_CLI_EXIT_OK;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 3);
	if (ac_explain_encode_fields(&x->complexity, &x->route, x->eps, x->ep_count, &o,
	        x->is_fallback_due, &w) != AC_OK ||
	    ac_msgpack_to_json(ac_mpw_data(&w), ac_mpw_len(&w), AC_JSON_PRETTY, &json) != AC_OK) {
		rc = ac_cli_fail("explain");
	} else {
		puts(json);
	}
	free(json);
	ac_mpw_fini(&w);
	return rc;
}

static int run_offline(ac_cli *cli, explain *x, const char *eps_path)
{
	size_t pos = 0;
	const char *kv;
	int rc = AC_CLI_EXIT_OK;

	ac_config_defaults(&x->cfg);
	x->now_ms = ac_clock_wall_ms();
	while (rc == AC_CLI_EXIT_OK && (kv = ac_cli_opt_next(cli, "--set", &pos)) != NULL) {
		rc = apply_set(x, kv);
	}
	if (rc == AC_CLI_EXIT_OK) {
		rc = read_json(cli, eps_path, &x->eps_mp, &x->eps_len);
	}
	if (rc == AC_CLI_EXIT_OK) {
		rc = load_task(x);
	}
	if (rc == AC_CLI_EXIT_OK) {
		rc = load_endpoints(x, eps_path);
	}
	return rc == AC_CLI_EXIT_OK ? print_explain(x) : rc;
}

/* --- live: route.explain --- */

/* The keys of the task file that the request must not repeat. */
static bool is_envelope_key(const msgpack_object *k)
{
	static const char *const keys[] = { "op", "token" };
	size_t count = sizeof(keys) / sizeof(keys[0]);

	for (size_t i = 0; k->type == MSGPACK_OBJECT_STR && i < count; i++) {
		if (k->via.str.size == strlen(keys[i]) &&
		    memcmp(k->via.str.ptr, keys[i], k->via.str.size) == 0) {
			return true;
		}
	}
	return false;
}

/* Sends {op: "route.explain", ...the task map's entries} and prints the reply as JSON.
 * The file's own "op" or "token", if any, is left out (the client adds the token). */
static int run_live(ac_cli *cli, const uint8_t *mp, size_t len)
{
	msgpack_unpacked u;
	const msgpack_object_map *m;
	uint32_t count = 1;
	ac_mpw w;
	int rc;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)mp, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
	    u.data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(&u);
		return ac_cli_usage_error(cli, "explain: the task must be a JSON object");
	}
	m = &u.data.via.map;
	for (uint32_t i = 0; i < m->size; i++) {
		count += !is_envelope_key(&m->ptr[i].key);
	}
	ac_mpw_init(&w);
	ac_mpw_map(&w, count);
	ac_mpw_key(&w, "op");
	ac_mpw_cstr(&w, "route.explain");
	for (uint32_t i = 0; i < m->size; i++) {
		if (!is_envelope_key(&m->ptr[i].key)) {
			ac_mpw_object(&w, &m->ptr[i].key);
			ac_mpw_object(&w, &m->ptr[i].val);
		}
	}
	cli->is_json = true; /* the reply is JSON whatever --json says */
	rc = w.err != AC_OK ? ac_cli_fail("explain")
	                    : ac_cli_run(cli, ac_mpw_data(&w), ac_mpw_len(&w), NULL);
	ac_mpw_fini(&w);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
ac_cli_cmd_explain(ac_cli *cli)
{
	const char *task_path = ac_cli_opt(cli, "--task");
	const char *eps_path = ac_cli_opt(cli, "--endpoints");
	explain x = { .cli = cli };
	int rc;

	if (task_path == NULL) {
		return ac_cli_usage_error(cli, "explain: --task TASK.json is required");
	}
	if (eps_path == NULL && ac_cli_opt(cli, "--set") != NULL) {
		return ac_cli_usage_error(cli, "explain: --set needs --endpoints (the server "
		                               "routes with its own configuration)");
	}
	rc = read_json(cli, task_path, &x.task_mp, &x.task_len);
	if (rc == AC_CLI_EXIT_OK) {
		rc = eps_path == NULL ? run_live(cli, x.task_mp, x.task_len)
		                      : run_offline(cli, &x, eps_path);
	}
	explain_fini(&x);
	return rc;
}
