/* SPDX-License-Identifier: MIT
 * Crash suite (DESIGN §7): submitters record every acknowledged task while the server
 * is killed with SIGKILL at random moments and restarted; after each restart every
 * acknowledged task must exist, unchanged, with a legal status. 10+ kill cycles.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "test_server.h"

#define SUBMITTERS 4
#define CYCLES 10
#define MAX_ACKED 200000

typedef struct acked {
	uint64_t id;
	char description[48];
} acked;

static acked acks[MAX_ACKED];
static atomic_size_t ack_count;
static atomic_bool running;
static char api_url[256], token[128];

static void *submitter(void *arg)
{
	int who = (int)(intptr_t)arg;
	ac_client *c = NULL;
	unsigned n = 0;

	cr_assert_eq(ac_client_open(&c, api_url, token), AC_OK);
	ac_client_set_timeout(c, 2000);
	while (atomic_load(&running)) {
		char json[256], desc[48];
		ac_reply *r = NULL;
		uint64_t id;
		snprintf(desc, sizeof(desc), "crash %d-%u-%ld", who, n++, (long)time(NULL));
		snprintf(json, sizeof(json), "{\"op\":\"task.submit\",\"description\":\"%s\"}", desc);
		if (ac_client_call_json(c, json, &r) != AC_OK) {
			continue; /* server down: not acknowledged, nothing to check */
		}
		if (ac_reply_ok(r) && ac_reply_u64(r, "task.id", &id)) {
			size_t i = atomic_fetch_add(&ack_count, 1);
			if (i < MAX_ACKED) {
				acks[i].id = id;
				snprintf(acks[i].description, sizeof(acks[i].description), "%s", desc);
			}
		}
		ac_reply_free(r);
	}
	ac_client_close(c);
	return NULL;
}

static void verify_all(const ac_test_server *srv, size_t upto)
{
	ac_client *c = ac_ts_client(srv);

	for (size_t i = 0; i < upto && i < MAX_ACKED; i++) {
		ac_reply *r = ac_ts_call(c, "{\"op\":\"task.get\",\"id\":%llu}", (unsigned long long)acks[i].id);
		char desc[64], status[32];
		cr_assert(ac_reply_ok(r), "acknowledged task %llu lost: %s",
		    (unsigned long long)acks[i].id, ac_reply_message(r));
		cr_assert(ac_reply_str(r, "task.description", desc, sizeof(desc)));
		cr_assert_str_eq(desc, acks[i].description, "task %llu changed", (unsigned long long)acks[i].id);
		cr_assert(ac_reply_str(r, "task.status", status, sizeof(status)));
		cr_assert_str_eq(status, "queued", "task %llu in state %s", (unsigned long long)acks[i].id, status);
		ac_reply_free(r);
	}
	ac_client_close(c);
}

Test(crash, kill9_under_load_loses_no_acknowledged_task, .timeout = 300)
{
	ac_test_server srv;
	pthread_t th[SUBMITTERS];
	unsigned seed = (unsigned)time(NULL);

	cr_log_info("seed %u", seed);
	srand(seed);
	cr_assert(ac_ts_start(&srv, NULL));
	snprintf(api_url, sizeof(api_url), "%s", srv.api);
	snprintf(token, sizeof(token), "%s", srv.token);
	for (int cycle = 0; cycle < CYCLES; cycle++) {
		size_t before = atomic_load(&ack_count);
		atomic_store(&running, true);
		for (int i = 0; i < SUBMITTERS; i++) {
			pthread_create(&th[i], NULL, submitter, (void *)(intptr_t)i);
		}
		usleep((useconds_t)(50000 + rand() % 250000)); /* the random kill moment */
		ac_ts_kill(&srv);
		atomic_store(&running, false);
		for (int i = 0; i < SUBMITTERS; i++) {
			pthread_join(th[i], NULL);
		}
		cr_assert(ac_ts_restart(&srv, NULL), "restart after kill %d", cycle);
		/* the restarted server keeps its port only by chance: clients follow the new one */
		snprintf(api_url, sizeof(api_url), "%s", srv.api);
		verify_all(&srv, atomic_load(&ack_count));
		cr_log_info("cycle %d: %zu acknowledged (+%zu), all present", cycle,
		    atomic_load(&ack_count), atomic_load(&ack_count) - before);
	}
	cr_assert_gt(atomic_load(&ack_count), 0, "no submission was ever acknowledged");
	ac_ts_cleanup(&srv);
}
