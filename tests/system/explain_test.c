/* SPDX-License-Identifier: MIT
 * System tests of offline `agentcom explain` (DESIGN §5.3a): the CLI ($AGENTCOM_CLI) run
 * on task and endpoint files in a temporary directory, no server. Checks the printed
 * JSON (ranking with exact factors, pending reason, fallback, --set) and the exit
 * status of an invalid task; prints, without asserting, the CPU cost of one run.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "agentcom/json.h"

#define EPS 1e-9
#define OUT_CAP 65536
#define MAX_ARGS 16

typedef struct cli_run {
	int status;        /* exit status, -1 when it did not exit normally */
	char out[OUT_CAP]; /* stdout */
	char err[8192];    /* stderr */
	uint8_t *mp;       /* stdout as msgpack, when it is JSON */
	size_t mp_len;
	msgpack_unpacked u;
} cli_run;

static char dir[64];
static cli_run run; /* static: too large for a test's stack */

static void setup(void)
{
	cr_assert_not_null(getenv("AGENTCOM_CLI"), "AGENTCOM_CLI is not set");
	strcpy(dir, "/tmp/ac_explain_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	msgpack_unpacked_init(&run.u);
}

static void teardown(void)
{
	char cmd[128];

	msgpack_unpacked_destroy(&run.u);
	free(run.mp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void path_of(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	path_of(path, sizeof(path), name);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void read_file(const char *name, char *buf, size_t cap)
{
	char path[128];
	FILE *f;
	size_t n = 0;

	path_of(path, sizeof(path), name);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Runs the CLI with argv (NULL-terminated), stdout and stderr into files (or
 * /dev/null); returns the exit status. No shell, so the CPU time is the CLI's own. */
static int spawn(char *const argv[], bool keep_output)
{
	char out_path[128], err_path[128];
	pid_t pid;
	int st;

	path_of(out_path, sizeof(out_path), "out");
	path_of(err_path, sizeof(err_path), "err");
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int flags = O_WRONLY | O_CREAT | O_TRUNC;
		int out = open(keep_output ? out_path : "/dev/null", flags, 0600);
		int err = open(keep_output ? err_path : "/dev/null", flags, 0600);
		dup2(out, 1);
		dup2(err, 2);
		execv(getenv("AGENTCOM_CLI"), argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs "agentcom explain --task DIR/task.json --endpoints DIR/eps.json [extra...]". */
static void explain(const char *extra, ...)
{
	char task[128], eps[128];
	char *argv[MAX_ARGS] = { getenv("AGENTCOM_CLI"), "explain", "--task", task, "--endpoints",
		eps };
	int argc = 6;
	va_list ap;

	path_of(task, sizeof(task), "task.json");
	path_of(eps, sizeof(eps), "eps.json");
	va_start(ap, extra);
	for (const char *a = extra; a != NULL && argc < MAX_ARGS - 1; a = va_arg(ap, const char *)) {
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	run.status = spawn(argv, true);
	read_file("out", run.out, sizeof(run.out));
	read_file("err", run.err, sizeof(run.err));
	free(run.mp);
	run.mp = NULL;
	cr_assert_eq(ac_json_to_msgpack(run.out, strlen(run.out), &run.mp, &run.mp_len, NULL, 0),
	    AC_OK, "stdout is not JSON (exit %d):\n%s\nstderr: %s", run.status, run.out, run.err);
	cr_assert_eq(msgpack_unpack_next(&run.u, (const char *)run.mp, run.mp_len, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(run.u.data.type, MSGPACK_OBJECT_MAP);
}

/* The value at a dotted path of the output ("decision.target_type", "candidates.0"). */
static const msgpack_object *at(const char *path)
{
	const msgpack_object *o = &run.u.data;
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *part = strtok_r(buf, ".", &save); part != NULL && o != NULL;
	     part = strtok_r(NULL, ".", &save)) {
		const msgpack_object *next = NULL;
		if (o->type == MSGPACK_OBJECT_ARRAY) {
			size_t i = strtoul(part, NULL, 10);
			next = i < o->via.array.size ? &o->via.array.ptr[i] : NULL;
		}
		for (uint32_t i = 0; o->type == MSGPACK_OBJECT_MAP && i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			if (k->via.str.size == strlen(part) && memcmp(k->via.str.ptr, part, k->via.str.size) == 0) {
				next = &o->via.map.ptr[i].val;
			}
		}
		o = next;
	}
	return o;
}

static void expect_str(const char *path, const char *want)
{
	const msgpack_object *o = at(path);

	cr_assert(o != NULL && o->type == MSGPACK_OBJECT_STR, "%s is not a string:\n%s", path,
	    run.out);
	cr_assert(o->via.str.size == strlen(want) && memcmp(o->via.str.ptr, want, strlen(want)) == 0,
	    "%s is \"%.*s\", want \"%s\"", path, (int)o->via.str.size, o->via.str.ptr, want);
}

static void expect_num(const char *path, double want)
{
	const msgpack_object *o = at(path);
	double v;

	cr_assert_not_null(o, "no %s:\n%s", path, run.out);
	v = o->type == MSGPACK_OBJECT_FLOAT64 ? o->via.f64
	    : o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (double)o->via.u64 : -1e300;
	cr_assert_float_eq(v, want, EPS, "%s is %.17g, want %.17g", path, v, want);
}

static void expect_size(const char *path, uint32_t want)
{
	const msgpack_object *o = at(path);

	cr_assert(o != NULL && (o->type == MSGPACK_OBJECT_ARRAY || o->type == MSGPACK_OBJECT_MAP));
	cr_assert_eq(o->type == MSGPACK_OBJECT_ARRAY ? o->via.array.size : o->via.map.size, want,
	    "%s:\n%s", path, run.out);
}

static const char standard_task[] =
    "{\"description\": \"add a parser for the config file\", \"complexity_tier\": \"standard\","
    " \"repo\": \"org/app\"}";

/* busy: cpu 80, 16 GiB, nothing else known. idle: cpu 20, 32 GiB, VRAM a quarter used,
 * the default model loaded, org/app served recently, one task in flight. */
static const char two_endpoints[] =
    "{\"endpoints\": ["
    "{\"id\": \"busy:11434\", \"host\": \"busy\", \"port\": 11434, \"status\": \"healthy\","
    " \"models\": [\"qwen2.5-coder:7b\"],"
    " \"resources\": {\"cpu_percent\": 80, \"ram_total_bytes\": 17179869184}},"
    "{\"id\": \"idle:11434\", \"host\": \"idle\", \"port\": 11434, \"status\": \"healthy\","
    " \"models\": [\"llama3:8b\", \"qwen2.5-coder:7b\"], \"loaded_models\": [\"qwen2.5-coder:7b\"],"
    " \"in_flight\": 1, \"recent_repos\": [\"other\", \"org/app\"],"
    " \"resources\": {\"cpu_percent\": 20.0, \"ram_total_bytes\": 34359738368,"
    " \"vram_total_bytes\": 8000000000, \"vram_used_bytes\": 2000000000}}]}";

TestSuite(explain, .init = setup, .fini = teardown, .timeout = 60);

Test(explain, lower_cpu_endpoint_ranks_first_with_exact_factors)
{
	write_file("task.json", standard_task);
	write_file("eps.json", two_endpoints);
	explain(NULL);
	cr_assert_eq(run.status, 0, "stderr: %s", run.err);
	expect_str("complexity.effective_tier", "standard");
	expect_str("complexity.source", "explicit");
	expect_str("decision.target_type", "ollama");
	expect_str("decision.selected_endpoint", "idle:11434");
	expect_str("decision.selected_model", "qwen2.5-coder:7b");
	expect_num("decision.candidate_count", 2);
	expect_str("decision.estimated_cost_tier", "local");
	expect_str("decision.classification_reason",
	    "explicit:standard (confidence 0.00, word_count=7, files=0)");
	cr_assert_null(at("pending_reason"));
	expect_size("candidates", 2);
	expect_str("candidates.0.endpoint", "idle:11434");
	expect_num("candidates.0.factors.load", 0.8);
	expect_num("candidates.0.factors.capacity", 1.5);
	expect_num("candidates.0.factors.vram", 0.95);
	expect_num("candidates.0.factors.warm", 1.15);
	expect_num("candidates.0.factors.affinity", 1.05);
	expect_num("candidates.0.factors.queue", 0.5);
	expect_num("candidates.0.score", 0.8 * 1.5 * 0.95 * 1.15 * 1.05 * 0.5);
	expect_str("candidates.1.endpoint", "busy:11434");
	expect_num("candidates.1.factors.load", 0.2);
	expect_num("candidates.1.factors.capacity", 1.0);
	expect_num("candidates.1.factors.vram", 0.9);
	expect_num("candidates.1.factors.warm", 1.0);
	expect_num("candidates.1.factors.affinity", 1.0);
	expect_num("candidates.1.factors.queue", 1.0);
	expect_num("candidates.1.score", 0.18);
}

Test(explain, stale_resources_count_as_unknown)
{
	write_file("task.json", standard_task);
	write_file("eps.json",
	    "{\"endpoints\": [{\"id\": \"a:1\", \"status\": \"healthy\", \"models\": [\"m\"],"
	    " \"resources\": {\"cpu_percent\": 10, \"reported_at_ms\": 1000}}]}");
	explain(NULL);
	cr_assert_eq(run.status, 0, "stderr: %s", run.err);
	expect_num("candidates.0.factors.load", 0.5);
	expect_str("decision.selected_model", "m");
}

Test(explain, no_healthy_endpoint_prints_pending_reason)
{
	write_file("task.json", standard_task);
	write_file("eps.json",
	    "{\"endpoints\": [{\"id\": \"a:11434\", \"host\": \"a\", \"port\": 11434,"
	    " \"status\": \"unhealthy\", \"models\": [\"qwen2.5-coder:7b\"]},"
	    " {\"id\": \"b:11434\", \"host\": \"b\", \"port\": 11434, \"status\": \"unknown\","
	    " \"models\": [\"qwen2.5-coder:7b\"]}]}");
	explain(NULL);
	cr_assert_eq(run.status, 0, "stderr: %s", run.err);
	expect_str("pending_reason", "no_healthy_ollama_endpoints");
	cr_assert_null(at("decision"));
	expect_size("candidates", 0);
}

Test(explain, set_fallback_routes_one_tier_up)
{
	write_file("task.json", standard_task);
	write_file("eps.json", "{\"endpoints\": []}");
	explain("--set", "fallback=true", NULL);
	cr_assert_eq(run.status, 0, "stderr: %s", run.err);
	expect_str("decision.effective_tier", "complex");
	expect_str("decision.target_type", "claude");
	expect_str("decision.selected_endpoint", "claude_api");
	expect_str("decision.fallback_from_tier", "standard");
	expect_str("decision.fallback_reason", "no_healthy_ollama_endpoints");
	expect_str("decision.classification_reason",
	    "explicit:standard (confidence 0.00, word_count=7, files=0) "
	    "[fallback from standard: no_healthy_ollama_endpoints]");
}

Test(explain, set_endpoint_slots_and_default_model)
{
	write_file("task.json", standard_task);
	write_file("eps.json", two_endpoints);
	explain("--set", "endpoint_slots=1", "--set", "default_model=llama3:8b", NULL);
	cr_assert_eq(run.status, 0, "stderr: %s", run.err);
	expect_size("candidates", 1); /* idle is full at one slot */
	expect_str("decision.selected_endpoint", "busy:11434");
	expect_num("decision.candidate_count", 1);
	explain("--set", "endpoint_slots=2", "--set", "default_model=llama3:8b", NULL);
	expect_str("decision.selected_model", "llama3:8b");
	expect_num("candidates.0.factors.warm", 1.0); /* llama3 is not the loaded one */
}

Test(explain, invalid_task_prints_the_submit_error_and_exits_2)
{
	write_file("task.json", "{\"description\": \"x\", \"file_hints\": [{\"path\": \"a.c\"},"
	                        " {\"reason\": \"no path\"}]}");
	write_file("eps.json", two_endpoints);
	explain(NULL);
	cr_assert_eq(run.status, 2);
	expect_str("error.code", "invalid_argument");
	expect_str("error.field", "file_hints[1].path");
	cr_assert_not_null(at("error.message"));
	write_file("task.json", "{\"description\": \"x\", \"priority\": \"asap\"}");
	explain(NULL);
	cr_assert_eq(run.status, 2);
	expect_str("error.field", "priority");
}

Test(explain, unknown_set_key_is_a_usage_error)
{
	char task[128], eps[128];
	char *argv[] = { getenv("AGENTCOM_CLI"), "explain", "--task", task, "--endpoints", eps,
		"--set", "lease_ms=5", NULL };

	write_file("task.json", standard_task);
	write_file("eps.json", two_endpoints);
	path_of(task, sizeof(task), "task.json");
	path_of(eps, sizeof(eps), "eps.json");
	cr_assert_eq(spawn(argv, true), 2);
	read_file("err", run.err, sizeof(run.err));
	cr_assert_not_null(strstr(run.err, "lease_ms=5"), "stderr: %s", run.err);
}

static double cpu_seconds(const struct rusage *r)
{
	return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) +
	    (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1e6;
}

/* DESIGN §5.3a target: < 5 ms of CPU per offline explain. Printed, not asserted: CPU
 * time on a shared CI machine is too noisy for a hard limit. */
Test(explain, benchmark_cpu_per_offline_explain)
{
	enum { RUNS = 100 };
	char task[128], eps[128];
	char *argv[] = { getenv("AGENTCOM_CLI"), "explain", "--task", task, "--endpoints", eps,
		NULL };
	struct rusage before, after;

	write_file("task.json", standard_task);
	write_file("eps.json", two_endpoints);
	path_of(task, sizeof(task), "task.json");
	path_of(eps, sizeof(eps), "eps.json");
	getrusage(RUSAGE_CHILDREN, &before);
	for (int i = 0; i < RUNS; i++) {
		cr_assert_eq(spawn(argv, false), 0);
	}
	getrusage(RUSAGE_CHILDREN, &after);
	fprintf(stderr, "BENCH explain offline: %d runs, %.3f ms CPU per run (target < 5 ms)\n",
	    RUNS, (cpu_seconds(&after) - cpu_seconds(&before)) * 1000.0 / RUNS);
}
