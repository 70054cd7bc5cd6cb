/* SPDX-License-Identifier: MIT
 * Endpoint ops (endpoint.register/remove/list) and the prober's result message.
 */
#ifndef AC_CODEC_ENDPOINT_WIRE_H
#define AC_CODEC_ENDPOINT_WIRE_H

#include "codec/schema.h"

/* AC_MSG_PROBE_RESULT body. */
typedef struct ac_probe_result {
	ac_uint tag;            /* the tag given to ac_prober_probe */
	ac_flag ok;
	ac_str error;           /* why it failed, when !ok */
	ac_strs models;         /* names from /api/tags models[].name */
	ac_strs loaded_models;  /* names from /api/ps models[].name */
	ac_uint vram_used_bytes; /* sum of /api/ps models[].size_vram */
	ac_uint duration_ms;
} ac_probe_result;
extern const ac_schema ac_probe_result_schema;

typedef struct ac_resources_wire {
	ac_real cpu_percent;
	ac_uint ram_total_bytes;
	ac_uint ram_used_bytes;
	ac_uint vram_total_bytes;
	ac_uint vram_used_bytes;
	ac_int reported_at_ms;
} ac_resources_wire;
extern const ac_schema ac_resources_schema;

/* An endpoint as endpoint.list, events and the scheduler's snapshot carry it. */
typedef struct ac_endpoint_wire {
	ac_str id;
	ac_str host;
	ac_uint port;
	ac_str name;
	ac_str source;
	ac_str status;
	ac_strs models;
	ac_strs loaded_models;
	ac_uint loaded_vram_bytes;
	ac_uint consecutive_failures;
	ac_int last_checked_ms;
	ac_int registered_at_ms;
	ac_str last_error;
	ac_obj resources;       /* ac_resources_wire */
	ac_uint seq;            /* order of registration (tie-break) */
	ac_uint in_flight;      /* tasks placed on it and not finished (the scheduler's count) */
} ac_endpoint_wire;
extern const ac_schema ac_endpoint_wire_schema;

typedef struct ac_req_endpoint_register {
	ac_str host;
	ac_uint port;
	ac_str name;
} ac_req_endpoint_register;
extern const ac_schema ac_req_endpoint_register_schema;

typedef struct ac_req_endpoint_id {
	ac_str id;
} ac_req_endpoint_id;
extern const ac_schema ac_req_endpoint_id_schema;

/* agent.heartbeat's resources. */
extern const ac_schema ac_heartbeat_resources_schema;

/* Registry events on its inproc PUB socket and the snapshot: {seq, event, endpoints}. */
typedef struct ac_endpoint_event {
	ac_uint seq;
	ac_str event;           /* endpoint.registered | removed | healthy | unhealthy | models | snapshot */
	ac_str removed_id;      /* for endpoint.removed */
	ac_objs endpoints;      /* ac_endpoint_wire */
} ac_endpoint_event;
extern const ac_schema ac_endpoint_event_schema;

/* One entry of AC_MSG_ENDPOINT_LOAD: the scheduler's in-flight count of an endpoint. */
typedef struct ac_endpoint_load {
	ac_str endpoint_id;
	ac_uint in_flight;
} ac_endpoint_load;
/* AC_MSG_ENDPOINT_LOAD: the counts that changed in one scheduler batch (in order). */
typedef struct ac_endpoint_loads_msg {
	ac_objs loads;          /* ac_endpoint_load */
} ac_endpoint_loads_msg;
extern const ac_schema ac_endpoint_loads_msg_schema;

#endif
