/* SPDX-License-Identifier: MIT
 * Test support for the endpoint and routing suites: read endpoint records from
 * endpoint.list, wait for an endpoint's status with a deadline, start a fake Ollama
 * with models and register it. Asserts with Criterion, like test_server.c.
 */
#ifndef AC_TEST_ENDPOINT_UTIL_H
#define AC_TEST_ENDPOINT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/client.h"
#include "fake_ollama.h"

/* endpoint.list (asserts ok). */
ac_reply *ac_ep_list(ac_client *c);
/* Index of endpoint id in an endpoint.list reply, -1 when not listed. */
int ac_ep_index(const ac_reply *list, const char *id);
/* Field of endpoint id in a fresh endpoint.list (e.g. "status", "resources.cpu_percent");
 * false when the endpoint or the field is absent. */
bool ac_ep_str(ac_client *c, const char *id, const char *field, char *buf, size_t cap);
bool ac_ep_u64(ac_client *c, const char *id, const char *field, uint64_t *out);
bool ac_ep_i64(ac_client *c, const char *id, const char *field, int64_t *out);
/* Polls endpoint.list every 10 ms until endpoint id has status; false (and a log line
 * with the last status seen) after timeout_ms. */
bool ac_ep_wait_status(ac_client *c, const char *id, const char *status, int timeout_ms);
/* Starts a fake Ollama with these models (asserts) and writes "127.0.0.1:PORT" to id. */
fake_ollama *ac_ep_fake(const char *const *models, size_t n, char *id, size_t cap);
/* endpoint.register host 127.0.0.1 and the fake's port (asserts ok). */
void ac_ep_register(ac_client *c, const fake_ollama *fo);

#endif
