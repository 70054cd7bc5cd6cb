/* SPDX-License-Identifier: MIT
 * Server assembly: the runtime, then telemetry (everyone publishes to it), then the
 * domain actors, then the gateway (so no request arrives before its owner runs).
 * Stop runs in reverse, with the gateway quiesced first and stopped after the actors
 * so that their last replies are still delivered.
 */
#include <stdlib.h>

#include "gateway/gateway.h"
#include "queue/queue.h"
#include "registry/registry.h"
#include "scheduler/scheduler.h"
#include "rt/actor.h"
#include "rt/log.h"
#include "server.h"
#include "telemetry/telemetry.h"

struct ac_server {
	const ac_config *cfg;
	ac_rt *rt;
	ac_telemetry *telemetry;
	ac_queue *queue;
	ac_registry *registry;
	ac_scheduler *scheduler;
	ac_gateway *gateway;
	char api_urls[AC_MAX_LISTEN * 300];
	char pub_url[300];
};

ac_err ac_server_start(const ac_config *cfg, ac_server **out)
{
	ac_server *s = calloc(1, sizeof(*s));
	ac_err err;

	if (s == NULL) {
		return AC_ENOMEM;
	}
	s->cfg = cfg;
	if ((err = ac_rt_alloc(&s->rt)) != AC_OK) {
		goto fail_rt;
	}
	err = ac_telemetry_start(s->rt, cfg, &s->telemetry, s->pub_url, sizeof(s->pub_url));
	if (err != AC_OK) {
		goto fail_telemetry;
	}
	if ((err = ac_queue_start(s->rt, cfg, &s->queue)) != AC_OK) {
		goto fail_queue;
	}
	if ((err = ac_registry_start(s->rt, cfg, &s->registry)) != AC_OK) {
		goto fail_registry;
	}
	if ((err = ac_scheduler_start(s->rt, cfg, &s->scheduler)) != AC_OK) {
		goto fail_scheduler;
	}
	err = ac_gateway_start(s->rt, cfg, &s->gateway, s->api_urls, sizeof(s->api_urls));
	if (err != AC_OK) {
		goto fail_gateway;
	}
	ac_gateway_forward_pipe_events(s->gateway);
	*out = s;
	return AC_OK;

fail_gateway:
	ac_scheduler_stop(s->scheduler);
fail_scheduler:
	ac_registry_stop(s->registry);
fail_registry:
	ac_queue_stop(s->queue);
fail_queue:
	ac_telemetry_stop(s->telemetry);
fail_telemetry:
	ac_rt_free(s->rt);
fail_rt:
	ac_log(AC_LOG_ERR, "main", "start_failed", "error=\"%s\"", ac_strerror(err));
	free(s);
	return err;
}

const char *ac_server_api_urls(const ac_server *s)
{
	return s->api_urls;
}

const char *ac_server_pub_url(const ac_server *s)
{
	return s->pub_url;
}

void ac_server_stop(ac_server *s)
{
	if (s == NULL) {
		return;
	}
	ac_gateway_quiesce(s->gateway);
	ac_scheduler_stop(s->scheduler); /* answers held fetches `unavailable` */
	ac_registry_stop(s->registry);
	ac_queue_stop(s->queue);
	ac_gateway_stop(s->gateway);
	ac_telemetry_stop(s->telemetry);
	ac_rt_free(s->rt);
	free(s);
}
