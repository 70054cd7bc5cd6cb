/* SPDX-License-Identifier: MIT
 * The gateway actor: binds the --listen URLs, owns the token table and answers the
 * token ops, and delivers actors' replies to the waiting workers (gw_worker.c).
 * It never touches another actor's state: requests go out, replies come in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>

#include "gateway/gw_int.h"
#include "rt/log.h"
#include "rt/url.h"

/* ---- token ops (admin) ---- */

static void write_token_info(ac_mpw *w, const ac_token_info *t)
{
	ac_mpw_map(w, 5);
	ac_mpw_key(w, "id");
	ac_mpw_cstr(w, t->id);
	ac_mpw_key(w, "role");
	ac_mpw_cstr(w, ac_role_name(t->role));
	ac_mpw_key(w, "agent_id");
	ac_mpw_cstr(w, t->agent_id[0] ? t->agent_id : NULL);
	ac_mpw_key(w, "label");
	ac_mpw_cstr(w, t->label);
	ac_mpw_key(w, "created_at_ms");
	ac_mpw_i64(w, t->created_at_ms);
}

static bool tokens_enabled(ac_gateway *gw, ac_call *call)
{
	if (gw->tokens == NULL) {
		ac_actor_reply_err(call->actor, &call->env, AC_ECONFLICT,
		    "authentication is off (--insecure): there are no tokens", NULL);
		return false;
	}
	return true;
}

static void on_token_create(void *state, ac_call *call)
{
	ac_gateway *gw = state;
	const ac_req_token_create *req = call->req;
	char agent_id[129], label[129], text[AC_TOKEN_TEXT_LEN + 1];
	ac_role role = (ac_role)(1u << req->role.v);
	ac_token_info info;
	ac_mpw *w;
	ac_err err;

	if (!tokens_enabled(gw, call)) {
		return;
	}
	if (role == AC_ROLE_AGENT && !req->agent_id.set) {
		ac_actor_reply_err(call->actor, &call->env, AC_EINVAL,
		    "an agent token needs the agent_id it acts for", "agent_id");
		return;
	}
	ac_str_cpy(agent_id, sizeof(agent_id), req->agent_id);
	ac_str_cpy(label, sizeof(label), req->label);
	err = ac_tokens_create(gw->tokens, role, agent_id, label, text, &info);
	if (err != AC_OK) {
		ac_actor_reply_err(call->actor, &call->env, err == AC_EIO ? AC_EUNAVAIL : err,
		    "could not store the token", NULL);
		return;
	}
	ac_log(AC_LOG_INFO, "gateway", "token_created", "id=%s role=%s", info.id,
	    ac_role_name(info.role));
	w = ac_actor_scratch(call->actor);
	ac_mpw_map(w, 3);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_key(w, "token");
	ac_mpw_cstr(w, text);
	ac_mpw_key(w, "info");
	write_token_info(w, &info);
	ac_actor_reply(call->actor, &call->env, w);
}

static void on_token_list(void *state, ac_call *call)
{
	ac_gateway *gw = state;
	ac_mpw *w;
	size_t n;

	if (!tokens_enabled(gw, call)) {
		return;
	}
	/* Only this thread writes the table, so reading it needs no lock here. */
	n = ac_tokens_count(gw->tokens);
	w = ac_actor_scratch(call->actor);
	ac_mpw_map(w, 2);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_key(w, "tokens");
	ac_mpw_array(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		write_token_info(w, ac_tokens_at(gw->tokens, i));
	}
	ac_actor_reply(call->actor, &call->env, w);
}

static void on_token_revoke(void *state, ac_call *call)
{
	ac_gateway *gw = state;
	const ac_req_token_revoke *req = call->req;
	char id[65];
	ac_err err;

	if (!tokens_enabled(gw, call)) {
		return;
	}
	ac_str_cpy(id, sizeof(id), req->id);
	err = ac_tokens_revoke(gw->tokens, id);
	if (err != AC_OK) {
		ac_actor_reply_err(call->actor, &call->env, err == AC_EIO ? AC_EUNAVAIL : err,
		    err == AC_ENOTFOUND ? "no token with this id" : "could not store the change",
		    err == AC_ENOTFOUND ? "id" : NULL);
		return;
	}
	ac_log(AC_LOG_INFO, "gateway", "token_revoked", "id=%s", id);
	ac_actor_reply_ok(call->actor, &call->env);
}

static void on_reply(void *state, ac_call *call)
{
	gw_worker_deliver(state, call->env.corr_id, call->body, call->body_len);
}

/* A stats request passing through: our section, then on to telemetry, its last stop. */
static void on_stats(void *state, ac_call *call)
{
	ac_mpw *w = ac_actor_scratch(call->actor);
	unsigned workers, busy;

	if (!ac_mpw_map_extend(w, call->body, call->body_len, 1)) {
		ac_actor_reply_err(call->actor, &call->env, AC_EINTERNAL, "bad stats section", NULL);
		return;
	}
	gw_workers_counts(state, &workers, &busy);
	ac_mpw_key(w, "gateway");
	ac_mpw_map(w, 2);
	ac_mpw_key(w, "workers");
	ac_mpw_u64(w, workers);
	ac_mpw_key(w, "busy");
	ac_mpw_u64(w, busy);
	ac_actor_forward(call->actor, AC_ACTOR_TELEMETRY, &call->env, AC_MSG_STATS_COLLECT, w);
}

static const ac_handler gateway_handlers[AC_MSG_COUNT] = {
	[AC_MSG_GW_REPLY] = { on_reply, NULL },
	[AC_MSG_STATS_COLLECT] = { on_stats, NULL },
	[AC_MSG_OP_TOKEN_CREATE] = { on_token_create, &ac_req_token_create_schema },
	[AC_MSG_OP_TOKEN_LIST] = { on_token_list, &ac_req_empty_schema },
	[AC_MSG_OP_TOKEN_REVOKE] = { on_token_revoke, &ac_req_token_revoke_schema },
};

static const ac_actor_def gateway_def = {
	.name = "gateway",
	.id = AC_ACTOR_GATEWAY,
	.handlers = gateway_handlers,
	.max_batch = 1024,
};

/* ---- listeners ---- */

static bool is_tls_url(const char *url)
{
	return strncmp(url, "tls+tcp://", 10) == 0 || strncmp(url, "wss://", 6) == 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL) {
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static ac_err configure_tls(const ac_config *cfg, nng_listener l)
{
	nng_tls_config *tls = NULL;
	char *cert = NULL, *key = NULL;
	ac_err err = AC_EIO;

	if (cfg->tls_cert[0] == '\0' || cfg->tls_key[0] == '\0') {
		ac_log(AC_LOG_ERR, "gateway", "tls_config", "error=\"tls URLs need --tls-cert and --tls-key\"");
		return AC_EINVAL;
	}
	if ((cert = read_file(cfg->tls_cert)) == NULL || (key = read_file(cfg->tls_key)) == NULL) {
		ac_log(AC_LOG_ERR, "gateway", "tls_config", "error=\"cannot read %s or %s\"",
		    cfg->tls_cert, cfg->tls_key);
		goto done;
	}
	if (nng_tls_config_alloc(&tls, NNG_TLS_MODE_SERVER) != 0 ||
	    nng_tls_config_own_cert(tls, cert, key, NULL) != 0 ||
	    nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls) != 0) {
		ac_log(AC_LOG_ERR, "gateway", "tls_config", "error=\"invalid certificate or key\"");
		goto done;
	}
	err = AC_OK;
done:
	if (tls != NULL) {
		nng_tls_config_free(tls); /* the listener holds its own reference */
	}
	free(cert);
	free(key);
	return err;
}

/* Writes url with the port it really bound (port 0 asks for an ephemeral one). */
static void resolve_url(const char *url, nng_listener l, char *out, size_t cap)
{
	int port;

	if (nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) != 0) {
		snprintf(out, cap, "%s", url);
		return;
	}
	ac_url_with_port(url, port, out, cap);
}

static void on_pipe_closed(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	ac_gateway *gw = arg;
	ac_env env = { .type = AC_MSG_PIPE_CLOSED, .pipe_id = nng_pipe_id(p) };
	nng_msg *m;

	(void)ev;
	if (!atomic_load(&gw->forward_pipes) || ac_msg_alloc(&m, &env, NULL, 0) != AC_OK) {
		return;
	}
	if (ac_rt_send(gw->rt, AC_ACTOR_REGISTRY, &m) != AC_OK) {
		nng_msg_free(m);
		ac_log(AC_LOG_WARN, "gateway", "pipe_event_dropped", "pipe=%u", nng_pipe_id(p));
	}
}

static ac_err bind_one(ac_gateway *gw, const char *url, char *bound, size_t cap)
{
	gw_socket *gs = &gw->sockets[gw->socket_count];
	ac_err err = AC_EIO;
	int rv;

	if ((rv = nng_rep0_open(&gs->sock)) != 0) {
		return AC_ENOMEM;
	}
	nng_socket_set_size(gs->sock, NNG_OPT_RECVMAXSZ, AC_MAX_REQUEST_BYTES);
	nng_pipe_notify(gs->sock, NNG_PIPE_EV_REM_POST, on_pipe_closed, gw);
	if ((rv = nng_listener_create(&gs->listener, gs->sock, url)) != 0) {
		ac_log(AC_LOG_ERR, "gateway", "listen_failed", "url=%s error=\"%s\"", url, nng_strerror(rv));
		err = AC_EADDRINVAL;
		goto fail;
	}
	nng_listener_set_size(gs->listener, NNG_OPT_RECVMAXSZ, AC_MAX_REQUEST_BYTES);
	if (is_tls_url(url) && (err = configure_tls(gw->cfg, gs->listener)) != AC_OK) {
		goto fail;
	}
	if ((rv = nng_listener_start(gs->listener, 0)) != 0) {
		ac_log(AC_LOG_ERR, "gateway", "listen_failed", "url=%s error=\"%s\"", url, nng_strerror(rv));
		err = AC_EIO;
		goto fail;
	}
	resolve_url(url, gs->listener, bound, cap);
	gw->socket_count++;
	return gw_workers_add(gw, gs, GW_INITIAL_WORKERS);

fail:
	nng_close(gs->sock);
	return err;
}

static ac_err bind_all(ac_gateway *gw, char *bound, size_t cap)
{
	size_t used = 0;
	ac_err err;

	bound[0] = '\0';
	for (int i = 0; i < gw->cfg->listen_count; i++) {
		char one[300];
		if ((err = bind_one(gw, gw->cfg->listen[i], one, sizeof(one))) != AC_OK) {
			return err;
		}
		used += (size_t)snprintf(bound + used, used < cap ? cap - used : 0, "%s%s",
		    i ? "," : "", one);
	}
	return AC_OK;
}

/* ---- lifecycle ---- */

static void close_sockets(ac_gateway *gw)
{
	for (int i = 0; i < gw->socket_count; i++) {
		nng_close(gw->sockets[i].sock);
	}
	gw->socket_count = 0;
}

static void gateway_free(ac_gateway *gw)
{
	gw_workers_stop(gw);
	close_sockets(gw);
	gw_workers_free(gw);
	ac_tokens_free(gw->tokens);
	pthread_mutex_destroy(&gw->pool_lock);
	free(gw->workers);
	free(gw);
}

/* The reply sink: actors hand replies straight to the waiting worker. */
static void deliver_reply(void *ctx, uint64_t corr_id, const uint8_t *body, size_t len)
{
	gw_worker_deliver(ctx, corr_id, body, len);
}

ac_err ac_gateway_start(ac_rt *rt, const ac_config *cfg, ac_gateway **out, char *bound,
    size_t cap)
{
	ac_gateway *gw = calloc(1, sizeof(*gw));
	bool created_admin = false;
	ac_err err;

	if (gw == NULL || (gw->workers = calloc(GW_MAX_WORKERS, sizeof(*gw->workers))) == NULL) {
		free(gw);
		return AC_ENOMEM;
	}
	gw->rt = rt;
	gw->cfg = cfg;
	pthread_mutex_init(&gw->pool_lock, NULL);
	if (!cfg->insecure) {
		if ((err = ac_tokens_open(cfg->data_dir, &gw->tokens, &created_admin)) != AC_OK) {
			goto fail;
		}
		if (created_admin) {
			ac_log(AC_LOG_INFO, "gateway", "admin_token_created", "file=%s/admin.token",
			    cfg->data_dir);
		}
	}
	if ((err = bind_all(gw, bound, cap)) != AC_OK) {
		goto fail;
	}
	if ((err = ac_actor_start(rt, &gateway_def, gw, &gw->actor)) != AC_OK) {
		goto fail;
	}
	ac_rt_set_reply_sink(rt, deliver_reply, gw);
	*out = gw;
	return AC_OK;

fail:
	gateway_free(gw);
	return err;
}

void ac_gateway_forward_pipe_events(ac_gateway *gw)
{
	atomic_store(&gw->forward_pipes, true);
}

void ac_gateway_quiesce(ac_gateway *gw)
{
	atomic_store(&gw->closing, true);
}

void ac_gateway_stop(ac_gateway *gw)
{
	if (gw == NULL) {
		return;
	}
	atomic_store(&gw->closing, true);
	ac_rt_set_reply_sink(gw->rt, NULL, NULL); /* the other actors have stopped */
	ac_actor_stop(gw->actor); /* delivers the replies already in its inbox */
	gw_workers_wait_sends(gw, 1000);
	gateway_free(gw);
}
