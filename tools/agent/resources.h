/* SPDX-License-Identifier: MIT
 * agentcom-agent's view of its host for agent.heartbeat's resources (DESIGN §3): the
 * CPU busy share from /proc/stat deltas, RAM from /proc/meminfo, VRAM from nvidia-smi
 * when it is installed. A pure parser per text format, and a sampler that reads them.
 * Main's thread only; it never talks to the server.
 */
#ifndef AC_TOOLS_AGENT_RESOURCES_H
#define AC_TOOLS_AGENT_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agentcom/agent.h"

#define AC_AGENT_GPU_TIMEOUT_MS 1000 /* nvidia-smi gets this long per sample */
#define AC_AGENT_GPU_MAX_TIMEOUTS 3  /* in a row: it hangs here, stop running it */

/* Time all CPUs spent since boot, in clock ticks: busy, and in all (idle included). */
typedef struct ac_agent_cpu_ticks {
	uint64_t busy, total;
} ac_agent_cpu_ticks;

/* Reads the aggregate "cpu" line of /proc/stat text (NUL-terminated): total is user
 * through steal (guest time is inside user and nice already), busy is total less idle
 * and iowait. AC_EPROTO (out untouched) when the line is missing, has fewer than four
 * counters, or a counter is not a number. */
ac_err ac_agent_parse_stat(const char *text, ac_agent_cpu_ticks *out);

/* The busy share between two readings into res->cpu_percent (0..100, has_cpu_percent
 * set); left unset when no tick passed in between or the counters went backwards. */
void ac_agent_cpu_percent(const ac_agent_cpu_ticks *prev, const ac_agent_cpu_ticks *cur,
    ac_host_resources *res);

/* Reads /proc/meminfo text (NUL-terminated, values in kB) into res: MemTotal as
 * ram_total_bytes and MemTotal − MemAvailable as ram_used_bytes (0 when more is
 * available than the total). Without MemAvailable (kernels before 3.14) only the total
 * is set. AC_EPROTO (res untouched) when MemTotal is missing or a value is malformed. */
ac_err ac_agent_parse_meminfo(const char *text, ac_host_resources *res);

/* Reads the output of nvidia-smi --query-gpu=memory.total,memory.used
 * --format=csv,noheader,nounits (NUL-terminated): one "TOTAL, USED" line in MiB per GPU,
 * summed over the GPUs into res's vram_total_bytes and vram_used_bytes. AC_EPROTO (res
 * untouched) unless there is at least one line and every line is two numbers ("[N/A]",
 * an error text, a third column, a sum past 2^64 bytes are not). */
ac_err ac_agent_parse_nvidia_smi(const char *text, ac_host_resources *res);

/* What the sampler keeps between two samples. */
typedef struct ac_agent_sampler {
	char *gpu_cmd;          /* owned; nvidia-smi to run, NULL: none (or given up) */
	int gpu_timeout_ms;     /* AC_AGENT_GPU_TIMEOUT_MS; tests may lower it */
	unsigned gpu_timeouts;  /* in a row */
	pid_t gpu_stuck_pid;    /* killed at its timeout and not reaped yet; 0: none */
	ac_agent_cpu_ticks cpu; /* the previous reading, when has_cpu */
	bool has_cpu;
} ac_agent_sampler;

/* Takes the first CPU reading and finds nvidia-smi: gpu_cmd when not NULL (a path,
 * for tests), else "nvidia-smi" on $PATH; neither executable: VRAM is never sampled.
 * AC_ENOMEM. s is the caller's; release with ac_agent_sampler_fini. */
ac_err ac_agent_sampler_init(ac_agent_sampler *s, const char *gpu_cmd);

/* Frees what s holds and reaps a stuck nvidia-smi if it is gone by now. A zeroed s is
 * a no-op. */
void ac_agent_sampler_fini(ac_agent_sampler *s);

/* Samples the host into *res (zeroed first; what cannot be read stays unset): the CPU
 * share since the previous sample, RAM, and VRAM when nvidia-smi answers within
 * s->gpu_timeout_ms (the longest this blocks). After AC_AGENT_GPU_MAX_TIMEOUTS
 * timeouts in a row it stops running nvidia-smi (s->gpu_cmd becomes NULL). */
void ac_agent_sample(ac_agent_sampler *s, ac_host_resources *res);

#endif
