/* SPDX-License-Identifier: MIT
 * Tests for tools/agent/resources.c: the /proc/stat, /proc/meminfo and nvidia-smi
 * parsers on fixed text (real layouts, 1 and 2 GPUs, malformed input that must leave
 * the report untouched), the CPU share, and the sampler on this host with stand-in
 * nvidia-smi scripts (an answer, a failure, one that hangs past the timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "resources.h"

#define MIB (1024ull * 1024)
#define KIB 1024ull

/* ---- /proc/stat ---- */

/* A 2-CPU kernel 6.1 /proc/stat, cut after the per-CPU lines. */
static const char stat_text[] =
    "cpu  100 20 30 400 50 6 7 8 9 10\n"
    "cpu0 50 10 15 200 25 3 4 4 5 5\n"
    "cpu1 50 10 15 200 25 3 3 4 4 5\n"
    "intr 123456 0 9 0 0 0 0 0 0 0 0\n"
    "ctxt 987654\n"
    "btime 1700000000\n";

Test(resources, stat_sums_user_through_steal_and_idle_plus_iowait_is_not_busy)
{
	ac_agent_cpu_ticks t = { 0, 0 };

	cr_assert_eq(ac_agent_parse_stat(stat_text, &t), AC_OK);
	/* guest (9) and guest_nice (10) are inside user and nice already */
	cr_assert_eq(t.total, 100 + 20 + 30 + 400 + 50 + 6 + 7 + 8);
	cr_assert_eq(t.busy, 100 + 20 + 30 + 6 + 7 + 8);
}

Test(resources, stat_of_an_old_kernel_with_four_counters)
{
	ac_agent_cpu_ticks t = { 0, 0 };

	cr_assert_eq(ac_agent_parse_stat("cpu 10 0 5 85\n", &t), AC_OK);
	cr_assert_eq(t.total, 100);
	cr_assert_eq(t.busy, 15);
}

Test(resources, malformed_stat_is_refused_and_leaves_the_reading)
{
	static const char *const bad[] = {
		"",
		"cpu0 1 2 3 4\n",                  /* only single CPUs */
		"intr 1 2 3\ncpu1 1 2 3 4\n",
		"cpu  1 2 3\n",                    /* fewer than four counters */
		"cpu  1 2 x 4\n",
		"cpu  1 2 3 4 junk\n",
		"cpu  -1 2 3 4\n",
		"cpu  18446744073709551616 0 0 0\n", /* past 64 bits */
		"cpu  18446744073709551615 1 0 0\n", /* the sum past 64 bits */
	};
	ac_agent_cpu_ticks t = { 7, 9 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(ac_agent_parse_stat(bad[i], &t), AC_EPROTO, "accepted \"%s\"", bad[i]);
		cr_expect(t.busy == 7 && t.total == 9, "\"%s\" changed the reading", bad[i]);
	}
}

Test(resources, cpu_percent_is_the_busy_share_of_the_ticks_between_readings)
{
	ac_agent_cpu_ticks prev = { 100, 1000 }, cur = { 150, 1100 }, same = { 100, 1000 },
			   back = { 90, 1200 };
	ac_host_resources r = { .has_cpu_percent = false };

	ac_agent_cpu_percent(&prev, &cur, &r);
	cr_assert(r.has_cpu_percent);
	cr_assert_float_eq(r.cpu_percent, 50.0, 1e-9);
	memset(&r, 0, sizeof(r));
	ac_agent_cpu_percent(&prev, &same, &r);
	cr_assert_not(r.has_cpu_percent, "no tick passed: unknown, not 0");
	ac_agent_cpu_percent(&prev, &back, &r);
	cr_assert_not(r.has_cpu_percent, "counters went backwards");
	ac_agent_cpu_percent(&(ac_agent_cpu_ticks){ 0, 0 }, &(ac_agent_cpu_ticks){ 10, 10 }, &r);
	cr_assert_float_eq(r.cpu_percent, 100.0, 1e-9);
}

/* ---- /proc/meminfo ---- */

static const char meminfo_text[] =
    "MemTotal:       16318480 kB\n"
    "MemFree:         1234567 kB\n"
    "MemAvailable:    9876543 kB\n"
    "Buffers:          345678 kB\n"
    "Cached:          7654321 kB\n"
    "HugePages_Total:       0\n";

Test(resources, meminfo_gives_total_and_total_less_available)
{
	ac_host_resources r = { .has_cpu_percent = false };

	cr_assert_eq(ac_agent_parse_meminfo(meminfo_text, &r), AC_OK);
	cr_assert(r.has_ram_total && r.has_ram_used);
	cr_assert_eq(r.ram_total_bytes, 16318480 * KIB);
	cr_assert_eq(r.ram_used_bytes, (16318480 - 9876543) * KIB);
	cr_assert_not(r.has_vram_total || r.has_vram_used || r.has_cpu_percent);
}

Test(resources, meminfo_without_memavailable_gives_the_total_only)
{
	ac_host_resources r = { .has_cpu_percent = false };

	cr_assert_eq(ac_agent_parse_meminfo("MemTotal: 2048 kB\nMemFree: 1024 kB\n", &r), AC_OK);
	cr_assert(r.has_ram_total);
	cr_assert_eq(r.ram_total_bytes, 2048 * KIB);
	cr_assert_not(r.has_ram_used);
	/* more available than the total (a racy read): nothing used, not a wrap */
	cr_assert_eq(ac_agent_parse_meminfo("MemTotal: 10 kB\nMemAvailable: 11 kB", &r), AC_OK);
	cr_assert(r.has_ram_used);
	cr_assert_eq(r.ram_used_bytes, 0);
}

Test(resources, malformed_meminfo_is_refused_and_leaves_the_report)
{
	static const char *const bad[] = {
		"",
		"MemFree: 1024 kB\nMemAvailable: 512 kB\n", /* no MemTotal */
		"MemTotal: abc kB\n",
		"MemTotal: 1024\n",                         /* no unit */
		"MemTotal: 1024 MB\n",
		"MemTotal: 1024 kB extra\n",
		"MemTotal: 1024 kB\nMemAvailable: lots kB\n",
		"MemTotal: 18446744073709551615 kB\n",      /* past 64 bits in bytes */
	};
	ac_host_resources r = { .has_cpu_percent = false };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(ac_agent_parse_meminfo(bad[i], &r), AC_EPROTO, "accepted \"%s\"", bad[i]);
		cr_expect_not(r.has_ram_total || r.has_ram_used, "\"%s\" set RAM", bad[i]);
	}
}

/* ---- nvidia-smi ---- */

Test(resources, nvidia_smi_with_one_gpu)
{
	ac_host_resources r = { .has_cpu_percent = false };

	cr_assert_eq(ac_agent_parse_nvidia_smi("24576, 1024\n", &r), AC_OK);
	cr_assert(r.has_vram_total && r.has_vram_used);
	cr_assert_eq(r.vram_total_bytes, 24576 * MIB);
	cr_assert_eq(r.vram_used_bytes, 1024 * MIB);
	cr_assert_not(r.has_ram_total || r.has_cpu_percent);
}

Test(resources, nvidia_smi_with_two_gpus_sums_them)
{
	ac_host_resources r = { .has_cpu_percent = false };

	/* as some drivers print it: CRLF, no newline at the end */
	cr_assert_eq(ac_agent_parse_nvidia_smi("24576, 1024\r\n8192,4096", &r), AC_OK);
	cr_assert_eq(r.vram_total_bytes, (24576 + 8192) * MIB);
	cr_assert_eq(r.vram_used_bytes, (1024 + 4096) * MIB);
}

Test(resources, malformed_nvidia_smi_output_is_refused_and_leaves_the_report)
{
	static const char *const bad[] = {
		"",
		"\n",
		"No devices were found\n",
		"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
		"[N/A], [N/A]\n",
		"24576\n",
		"24576,\n",
		"24576, 1024, 7\n",            /* a third column */
		"24576, 1024 8192, 4096\n",    /* two GPUs on one line */
		"24576 MiB, 1024 MiB\n",       /* units: not nounits */
		"24576, 1024\nbroken\n",       /* one good line does not save a bad one */
		"17592186044416, 0\n",         /* 2^44 MiB is 2^64 bytes */
		"17592186044415, 0\n1, 0\n",   /* the sum past 64 bits */
	};
	ac_host_resources r = { .has_cpu_percent = false };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(ac_agent_parse_nvidia_smi(bad[i], &r), AC_EPROTO, "accepted \"%s\"", bad[i]);
		cr_expect_not(r.has_vram_total || r.has_vram_used, "\"%s\" set VRAM", bad[i]);
	}
}

/* ---- the sampler on this host ---- */

static char dir[64];
static char script[128];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ac-res-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/nvidia-smi", dir);
}

static void remove_dir(void)
{
	unlink(script);
	rmdir(dir);
}

TestSuite(sampler, .init = make_dir, .fini = remove_dir, .timeout = 20);

/* A stand-in nvidia-smi that runs body, after checking it was asked our query. */
static void write_script(const char *body)
{
	FILE *f = fopen(script, "w");

	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\n"
		   "[ \"$1\" = --query-gpu=memory.total,memory.used ] || exit 9\n"
		   "[ \"$2\" = --format=csv,noheader,nounits ] || exit 9\n"
		   "%s\n",
	    body);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(script, 0700), 0);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(sampler, reads_ram_and_cpu_of_this_host_and_vram_from_nvidia_smi)
{
	ac_agent_sampler s;
	ac_host_resources r;
	volatile unsigned long spin = 0;
	long long until;

	write_script("printf '1024, 512\\n2048, 0\\n'");
	cr_assert_eq(ac_agent_sampler_init(&s, script), AC_OK);
	cr_assert_str_eq(s.gpu_cmd, script);
	until = mono_ms() + 100; /* ticks of CPU time between the readings */
	while (mono_ms() < until) {
		spin++;
	}
	ac_agent_sample(&s, &r);
	cr_assert(r.has_ram_total && r.ram_total_bytes > 0, "no RAM from /proc/meminfo");
	cr_assert(r.has_ram_used && r.ram_used_bytes <= r.ram_total_bytes);
	cr_assert(r.has_cpu_percent, "no CPU share after 100 ms of spinning");
	cr_assert(r.cpu_percent >= 0.0 && r.cpu_percent <= 100.0, "cpu %g", r.cpu_percent);
	cr_assert(r.has_vram_total && r.has_vram_used, "no VRAM from the stand-in");
	cr_assert_eq(r.vram_total_bytes, 3072 * MIB);
	cr_assert_eq(r.vram_used_bytes, 512 * MIB);
	ac_agent_sampler_fini(&s);
}

Test(sampler, without_nvidia_smi_vram_is_left_out)
{
	ac_agent_sampler s;
	ac_host_resources r;

	cr_assert_eq(ac_agent_sampler_init(&s, script), AC_OK); /* not written: absent */
	cr_assert_null(s.gpu_cmd);
	ac_agent_sample(&s, &r);
	cr_assert(r.has_ram_total);
	cr_assert_not(r.has_vram_total || r.has_vram_used);
	ac_agent_sampler_fini(&s);
}

Test(sampler, a_failing_nvidia_smi_leaves_vram_out_and_is_tried_again)
{
	ac_agent_sampler s;
	ac_host_resources r;

	write_script("echo '100, 50'; exit 1"); /* an answer, but a failing status */
	cr_assert_eq(ac_agent_sampler_init(&s, script), AC_OK);
	for (int i = 0; i <= AC_AGENT_GPU_MAX_TIMEOUTS; i++) {
		ac_agent_sample(&s, &r);
		cr_assert_not(r.has_vram_total || r.has_vram_used, "VRAM despite exit 1");
		cr_assert(r.has_ram_total);
	}
	cr_assert_not_null(s.gpu_cmd, "quick failures are no reason to stop asking");
	write_script("echo '100, 50'"); /* the driver is back */
	ac_agent_sample(&s, &r);
	cr_assert(r.has_vram_total);
	cr_assert_eq(r.vram_used_bytes, 50 * MIB);
	ac_agent_sampler_fini(&s);
}

Test(sampler, a_hanging_nvidia_smi_is_killed_at_the_timeout_and_given_up_after_three)
{
	ac_agent_sampler s;
	ac_host_resources r;
	long long start, took;

	write_script("exec sleep 10");
	cr_assert_eq(ac_agent_sampler_init(&s, script), AC_OK);
	s.gpu_timeout_ms = 200;
	for (int i = 1; i <= AC_AGENT_GPU_MAX_TIMEOUTS; i++) {
		start = mono_ms();
		ac_agent_sample(&s, &r);
		took = mono_ms() - start;
		cr_assert(took >= 200 && took < 1200, "sample %d took %lld ms", i, took);
		cr_assert_not(r.has_vram_total, "VRAM from a process that never answered");
		cr_assert(r.has_ram_total, "RAM must not wait for the GPU");
		cr_assert_eq(s.gpu_stuck_pid, 0, "the killed nvidia-smi was not reaped");
	}
	cr_assert_null(s.gpu_cmd, "still running nvidia-smi after %d timeouts",
	    AC_AGENT_GPU_MAX_TIMEOUTS);
	start = mono_ms();
	ac_agent_sample(&s, &r);
	cr_assert_lt(mono_ms() - start, 100, "given up, yet it still waits");
	ac_agent_sampler_fini(&s);
}
