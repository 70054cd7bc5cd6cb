/* SPDX-License-Identifier: MIT
 * The CLI's one path to the server: open the client on first use, send a request, and
 * turn what came back into output and an exit status (error replies, transport
 * failures, --json). Commands only build requests and print success replies.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "agentcom/json.h"
#include "cli.h"
#include "codec/mpw.h"

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
ac_cli_fail(const char *what)
{
	fprintf(stderr, "agentcom: %s: out of memory\n", what);
	return AC_CLI_EXIT_USAGE;
}

/* A server that is not there at all: a plain tcp or ipc dial says so at once, where
 * the client (which keeps redialling, as agents need) would wait out --timeout. Other
 * transports (tls, ws) are left to the call. True when the dial was refused. */
static bool
is_refused(const char *url)
{
	nng_socket s;
	int rv;

	if ((strncmp(url, "tcp://", 6) != 0 && strncmp(url, "ipc://", 6) != 0) ||
	    nng_req0_open(&s) != 0) {
		return false;
	}
	rv = nng_dial(s, url, NULL, 0);
	nng_close(s);
	if (rv == NNG_ECONNREFUSED || rv == NNG_ENOENT) {
		fprintf(stderr, "agentcom: cannot reach agentcomd at %s: %s\n", url, nng_strerror(rv));
		return true;
	}
	return false;
}

static int
open_client(ac_cli *cli)
{
	ac_err err;

	if (cli->client != NULL) {
		return AC_CLI_EXIT_OK;
	}
	if (is_refused(cli->url)) {
		return AC_CLI_EXIT_UNREACHABLE;
	}
	err = ac_client_open(&cli->client, cli->url, cli->token);
	if (err == AC_EADDRINVAL) {
		fprintf(stderr, "agentcom: invalid URL '%s'\n", cli->url);
		return AC_CLI_EXIT_USAGE;
	}
	if (err != AC_OK) {
		fprintf(stderr, "agentcom: cannot reach agentcomd at %s: %s\n", cli->url,
		    ac_strerror(err));
		return AC_CLI_EXIT_UNREACHABLE;
	}
	if (cli->timeout_ms > 0) {
		ac_client_set_timeout(cli->client, cli->timeout_ms);
	}
	return AC_CLI_EXIT_OK;
}

int
ac_cli_request(ac_cli *cli, const uint8_t *req, size_t len, ac_reply **reply)
{
	int64_t start_us;
	ac_err err;
	int rc;

	if ((rc = open_client(cli)) != AC_CLI_EXIT_OK) {
		return rc;
	}
	start_us = mono_us();
	err = ac_client_call(cli->client, req, len, reply);
	cli->rtt_us = mono_us() - start_us;
	if (err == AC_EINVAL) {
		return ac_cli_usage_error(cli, "the request is not a map (a JSON object)");
	}
	if (err != AC_OK) {
		fprintf(stderr, "agentcom: cannot reach agentcomd at %s: %s\n", cli->url,
		    ac_strerror(err));
		return AC_CLI_EXIT_UNREACHABLE;
	}
	return AC_CLI_EXIT_OK;
}

static int
print_json(const ac_reply *r)
{
	char *json = ac_reply_json(r, AC_JSON_PRETTY);

	if (json == NULL) {
		fputs("agentcom: cannot print the reply as JSON: out of memory\n", stderr);
		return AC_CLI_EXIT_REPLY;
	}
	puts(json);
	free(json);
	return AC_CLI_EXIT_OK;
}

/* "agentcom: <code>: <message> (field <field>)"; the code as the server spelled it, so
 * a code newer than this client still shows. */
static void
print_error(const ac_reply *r)
{
	const msgpack_object *code = ac_reply_get(r, "error.code");
	const char *message = ac_reply_message(r);
	const char *field = ac_reply_field(r);

	fputs("agentcom: ", stderr);
	if (code != NULL && code->type == MSGPACK_OBJECT_STR) {
		ac_cli_print_text(stderr, code->via.str.ptr, code->via.str.size);
	} else {
		fputs(ac_err_wire_name(ac_reply_error(r)), stderr);
	}
	if (message[0] != '\0') {
		fputs(": ", stderr);
		ac_cli_print_text(stderr, message, strlen(message));
	}
	if (field[0] != '\0') {
		fputs(" (field ", stderr);
		ac_cli_print_text(stderr, field, strlen(field));
		fputc(')', stderr);
	}
	fputc('\n', stderr);
}

int
ac_cli_report(ac_cli *cli, const ac_reply *r, ac_cli_show_fn show)
{
	int rc = AC_CLI_EXIT_OK;

	if (cli->is_json) {
		rc = print_json(r);
	}
	if (!ac_reply_ok(r)) {
		print_error(r);
		return AC_CLI_EXIT_REPLY;
	}
	if (!cli->is_json && show != NULL) {
		rc = show(cli, r);
	}
	return rc;
}

int
ac_cli_run(ac_cli *cli, const uint8_t *req, size_t len, ac_cli_show_fn show)
{
	ac_reply *r = NULL;
	int rc = ac_cli_request(cli, req, len, &r);

	if (rc == AC_CLI_EXIT_OK) {
		rc = ac_cli_report(cli, r, show);
	}
	ac_reply_free(r);
	return rc;
}

int
ac_cli_run_op(ac_cli *cli, const char *op, const char *const *pairs, size_t pair_count,
    ac_cli_show_fn show)
{
	uint32_t count = 1;
	ac_mpw w;
	int rc;

	for (size_t i = 0; i < pair_count; i++) {
		count += pairs[2 * i + 1] != NULL;
	}
	ac_mpw_init(&w);
	ac_mpw_map(&w, count);
	ac_mpw_key(&w, "op");
	ac_mpw_cstr(&w, op);
	for (size_t i = 0; i < pair_count; i++) {
		if (pairs[2 * i + 1] != NULL) {
			ac_mpw_key(&w, pairs[2 * i]);
			ac_mpw_cstr(&w, pairs[2 * i + 1]);
		}
	}
	if (w.err != AC_OK) {
		rc = ac_cli_fail(op);
	} else {
		rc = ac_cli_run(cli, ac_mpw_data(&w), ac_mpw_len(&w), show);
	}
	ac_mpw_fini(&w);
	return rc;
}
