/* SPDX-License-Identifier: MIT
 * Endpoint helpers of endpoint_util.h: endpoint.list lookups by id, a polling wait for
 * a status (10 ms steps, a deadline, never a fixed sleep), and a registered fake Ollama.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "endpoint_util.h"
#include "test_server.h"

ac_reply *ac_ep_list(ac_client *c)
{
	ac_reply *r = ac_ts_call(c, "{\"op\":\"endpoint.list\"}");

	cr_assert(ac_reply_ok(r), "endpoint.list: %s", ac_reply_message(r));
	return r;
}

int ac_ep_index(const ac_reply *list, const char *id)
{
	const msgpack_object *eps = ac_reply_get(list, "endpoints");

	for (uint32_t i = 0; eps != NULL && eps->type == MSGPACK_OBJECT_ARRAY && i < eps->via.array.size;
	     i++) {
		char path[48], have[320];
		snprintf(path, sizeof(path), "endpoints[%u].id", i);
		if (ac_reply_str(list, path, have, sizeof(have)) && strcmp(have, id) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* "endpoints[i].field" of endpoint id in r, false when it is not listed. */
static bool path_of(const ac_reply *r, const char *id, const char *field, char *path, size_t cap)
{
	int i = ac_ep_index(r, id);

	if (i < 0) {
		return false;
	}
	snprintf(path, cap, "endpoints[%d].%s", i, field);
	return true;
}

bool ac_ep_str(ac_client *c, const char *id, const char *field, char *buf, size_t cap)
{
	ac_reply *r = ac_ep_list(c);
	char path[128];
	bool ok = path_of(r, id, field, path, sizeof(path)) && ac_reply_str(r, path, buf, cap);

	ac_reply_free(r);
	return ok;
}

bool ac_ep_u64(ac_client *c, const char *id, const char *field, uint64_t *out)
{
	ac_reply *r = ac_ep_list(c);
	char path[128];
	bool ok = path_of(r, id, field, path, sizeof(path)) && ac_reply_u64(r, path, out);

	ac_reply_free(r);
	return ok;
}

bool ac_ep_i64(ac_client *c, const char *id, const char *field, int64_t *out)
{
	ac_reply *r = ac_ep_list(c);
	char path[128];
	bool ok = path_of(r, id, field, path, sizeof(path)) && ac_reply_i64(r, path, out);

	ac_reply_free(r);
	return ok;
}

bool ac_ep_wait_status(ac_client *c, const char *id, const char *status, int timeout_ms)
{
	long long deadline = ac_ts_now_ms() + timeout_ms;
	char have[32] = "";

	for (;;) {
		if (!ac_ep_str(c, id, "status", have, sizeof(have))) {
			snprintf(have, sizeof(have), "(not listed)");
		}
		if (strcmp(have, status) == 0) {
			return true;
		}
		if (ac_ts_now_ms() > deadline) {
			cr_log_warn("endpoint %s still '%s', not %s, after %d ms", id, have, status, timeout_ms);
			return false;
		}
		usleep(10000);
	}
}

fake_ollama *ac_ep_fake(const char *const *models, size_t n, char *id, size_t cap)
{
	fake_ollama *fo = fake_ollama_start();

	cr_assert_not_null(fo, "fake Ollama did not start");
	fake_ollama_set_models(fo, models, n);
	snprintf(id, cap, "127.0.0.1:%u", (unsigned)fake_ollama_port(fo));
	return fo;
}

void ac_ep_register(ac_client *c, const fake_ollama *fo)
{
	ac_reply *r = ac_ts_call(c, "{\"op\":\"endpoint.register\",\"host\":\"127.0.0.1\",\"port\":%u}",
	    (unsigned)fake_ollama_port(fo));

	cr_assert(ac_reply_ok(r), "endpoint.register: %s", ac_reply_message(r));
	ac_reply_free(r);
}
