/* SPDX-License-Identifier: MIT
 * libagentcom: the agent ops of protocol v1 (proto/ops.md "Agent ops", DESIGN §4), one
 * call each, for authors of agents. Each builds the request for agent_id (which must
 * be the id the token is bound to), sends it on c and hands back the reply: AC_OK
 * means a reply arrived (check ac_reply_ok; free it with ac_reply_free); other errors
 * as ac_client_call. Long-polls (fetch, complete with a fetch) wait for the server's
 * answer up to their wait on top of the client's timeout.
 */
#ifndef AGENTCOM_AGENT_H
#define AGENTCOM_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/client.h"

/* What agent.hello says of the agent; every field may be left zero. */
typedef struct ac_hello {
	const char *name;                /* NULL: none */
	const char *const *capabilities; /* capability_count of them */
	size_t capability_count;
	const char *const *targets;      /* sidecar, ollama, claude; none: all three */
	size_t target_count;
	const char *ollama_url;          /* its local Ollama; NULL: none */
} ac_hello;

/* How task.complete reports; a zeroed struct is a plain completion without result. */
typedef struct ac_completion {
	const uint8_t *result;  /* a msgpack map, result_len bytes; NULL: none */
	size_t result_len;
	bool has_tokens_used;
	uint64_t tokens_used;
	bool has_fetch;         /* also wait up to fetch_wait_ms for the next task */
	uint32_t fetch_wait_ms;
	bool accept;            /* with has_fetch: the next task comes accepted (working) */
} ac_completion;

/* agent.hello (h may be NULL). The reply has heartbeat_ms, accept_timeout_ms, lease_ms
 * and tasks (still assigned to the agent, after a restart). */
ac_err ac_op_hello(ac_client *c, const char *agent_id, const ac_hello *h, ac_reply **reply);

/* The agent's host as agent.heartbeat reports it (its resources map, DESIGN §3): each
 * value is sent only when its has_ flag is set; a zeroed struct reports nothing. The
 * server keeps them on the endpoint the agent's hello ollama_url names (an agent
 * without one reports in vain), stamps reported_at_ms itself, scores with them
 * (DESIGN §5.3) and treats them as unknown once 90 s old. */
typedef struct ac_host_resources {
	bool has_cpu_percent;
	double cpu_percent;        /* busy share of all CPUs together, 0..100 */
	bool has_ram_total;
	uint64_t ram_total_bytes;
	bool has_ram_used;
	uint64_t ram_used_bytes;
	bool has_vram_total;
	uint64_t vram_total_bytes; /* all GPUs together */
	bool has_vram_used;
	uint64_t vram_used_bytes;
} ac_host_resources;

/* agent.heartbeat. The reply's abort lists task ids the agent must stop. */
ac_err ac_op_heartbeat(ac_client *c, const char *agent_id, ac_reply **reply);

/* agent.heartbeat reporting res (borrowed for the call; NULL or nothing set: as
 * ac_op_heartbeat, and what was reported before stays). */
ac_err ac_op_heartbeat_with(ac_client *c, const char *agent_id, const ac_host_resources *res,
    ac_reply **reply);

/* agent.fetch, waiting up to wait_ms (0..30 000) for a task; the reply has task or not.
 * With accept the task comes working (no task.accept needed). */
ac_err ac_op_fetch(ac_client *c, const char *agent_id, uint32_t wait_ms, bool accept,
    ac_reply **reply);

/* task.accept of task id at generation. */
ac_err ac_op_accept(ac_client *c, const char *agent_id, uint64_t id, uint64_t generation,
    ac_reply **reply);

/* task.progress (message may be NULL). The reply's abort is true when the task was
 * cancelled or taken back. */
ac_err ac_op_progress(ac_client *c, const char *agent_id, uint64_t id, uint64_t generation,
    const char *message, ac_reply **reply);

/* task.complete (how may be NULL). With how->has_fetch the reply may carry the next
 * task, as agent.fetch's does. */
ac_err ac_op_complete(ac_client *c, const char *agent_id, uint64_t id, uint64_t generation,
    const ac_completion *how, ac_reply **reply);

/* task.fail with error; retryable false sends it to dead_letter at once. The reply's
 * status is queued (it will be retried) or dead_letter. */
ac_err ac_op_fail(ac_client *c, const char *agent_id, uint64_t id, uint64_t generation,
    const char *error, bool retryable, ac_reply **reply);

/* agent.bye: the agent leaves; its task is reclaimed at once. */
ac_err ac_op_bye(ac_client *c, const char *agent_id, ac_reply **reply);

#endif
