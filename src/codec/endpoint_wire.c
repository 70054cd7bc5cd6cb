/* SPDX-License-Identifier: MIT
 * Field tables of the endpoint ops and of the prober's result.
 */
#include <stddef.h>

#include "codec/endpoint_wire.h"

static const ac_field probe_result_fields[] = {
	AC_F(ac_probe_result, tag, "tag", AC_FT_UINT, true),
	AC_F(ac_probe_result, ok, "ok", AC_FT_FLAG, true),
	AC_F(ac_probe_result, error, "error", AC_FT_STR, false),
	AC_F(ac_probe_result, models, "models", AC_FT_STRS, false, .max_len = 4096),
	AC_F(ac_probe_result, loaded_models, "loaded_models", AC_FT_STRS, false, .max_len = 4096),
	AC_F(ac_probe_result, vram_used_bytes, "vram_used_bytes", AC_FT_UINT, false),
	AC_F(ac_probe_result, duration_ms, "duration_ms", AC_FT_UINT, false),
};
const ac_schema ac_probe_result_schema = AC_SCHEMA("probe_result", ac_probe_result,
    probe_result_fields);

static const ac_field resources_fields[] = {
	AC_F(ac_resources_wire, cpu_percent, "cpu_percent", AC_FT_REAL, false),
	AC_F(ac_resources_wire, ram_total_bytes, "ram_total_bytes", AC_FT_UINT, false),
	AC_F(ac_resources_wire, ram_used_bytes, "ram_used_bytes", AC_FT_UINT, false),
	AC_F(ac_resources_wire, vram_total_bytes, "vram_total_bytes", AC_FT_UINT, false),
	AC_F(ac_resources_wire, vram_used_bytes, "vram_used_bytes", AC_FT_UINT, false),
	AC_F(ac_resources_wire, reported_at_ms, "reported_at_ms", AC_FT_INT, false),
};
const ac_schema ac_resources_schema = AC_SCHEMA("resources", ac_resources_wire, resources_fields);
/* What an agent may report: the same fields minus reported_at_ms (the server sets it). */
const ac_schema ac_heartbeat_resources_schema = {
	.name = "resources",
	.fields = resources_fields,
	.count = (uint16_t)(sizeof(resources_fields) / sizeof(resources_fields[0]) - 1),
	.size = (uint16_t)sizeof(ac_resources_wire),
};

#define E ac_endpoint_wire
static const ac_field endpoint_fields[] = {
	AC_F(E, id, "id", AC_FT_STR, true),
	AC_F(E, host, "host", AC_FT_STR, true),
	AC_F(E, port, "port", AC_FT_UINT, true, .max = 65535),
	AC_F(E, name, "name", AC_FT_STR, false),
	AC_F(E, source, "source", AC_FT_STR, false),
	AC_F(E, status, "status", AC_FT_STR, false),
	AC_F(E, models, "models", AC_FT_STRS, false, .max_len = 4096),
	AC_F(E, loaded_models, "loaded_models", AC_FT_STRS, false, .max_len = 4096),
	AC_F(E, loaded_vram_bytes, "loaded_vram_bytes", AC_FT_UINT, false),
	AC_F(E, consecutive_failures, "consecutive_failures", AC_FT_UINT, false),
	AC_F(E, last_checked_ms, "last_checked_ms", AC_FT_INT, false),
	AC_F(E, registered_at_ms, "registered_at_ms", AC_FT_INT, false),
	AC_F(E, last_error, "last_error", AC_FT_STR, false),
	AC_F(E, resources, "resources", AC_FT_OBJ, false, .sub = &ac_resources_schema),
	AC_F(E, seq, "seq", AC_FT_UINT, false),
	AC_F(E, in_flight, "in_flight", AC_FT_UINT, false),
};
const ac_schema ac_endpoint_wire_schema = AC_SCHEMA("endpoint", E, endpoint_fields);
#undef E

static const ac_field register_fields[] = {
	AC_F(ac_req_endpoint_register, host, "host", AC_FT_STR, true, .min_len = 1, .max_len = 255),
	AC_F(ac_req_endpoint_register, port, "port", AC_FT_UINT, false, .min = 1, .max = 65535),
	AC_F(ac_req_endpoint_register, name, "name", AC_FT_STR, false, .max_len = 128),
};
const ac_schema ac_req_endpoint_register_schema = AC_SCHEMA("endpoint.register",
    ac_req_endpoint_register, register_fields);

static const ac_field endpoint_id_fields[] = {
	AC_F(ac_req_endpoint_id, id, "id", AC_FT_STR, true, .min_len = 1, .max_len = 300),
};
const ac_schema ac_req_endpoint_id_schema = AC_SCHEMA("endpoint.remove", ac_req_endpoint_id,
    endpoint_id_fields);

static const ac_field event_fields[] = {
	AC_F(ac_endpoint_event, seq, "seq", AC_FT_UINT, true),
	AC_F(ac_endpoint_event, event, "event", AC_FT_STR, true),
	AC_F(ac_endpoint_event, removed_id, "removed_id", AC_FT_STR, false),
	AC_F(ac_endpoint_event, endpoints, "endpoints", AC_FT_OBJS, false, .max_len = 100000,
	    .sub = &ac_endpoint_wire_schema),
};
const ac_schema ac_endpoint_event_schema = AC_SCHEMA("endpoint_event", ac_endpoint_event,
    event_fields);

static const ac_field load_fields[] = {
	AC_F(ac_endpoint_load, endpoint_id, "endpoint_id", AC_FT_STR, true, .min_len = 1,
	    .max_len = 300),
	AC_F(ac_endpoint_load, in_flight, "in_flight", AC_FT_UINT, true),
};
static const ac_schema load_schema = AC_SCHEMA("endpoint_load", ac_endpoint_load, load_fields);
static const ac_field loads_fields[] = {
	AC_F(ac_endpoint_loads_msg, loads, "loads", AC_FT_OBJS, true, .max_len = 100000,
	    .sub = &load_schema),
};
const ac_schema ac_endpoint_loads_msg_schema = AC_SCHEMA("endpoint_loads", ac_endpoint_loads_msg,
    loads_fields);
