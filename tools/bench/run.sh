#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the DESIGN §10 benchmark set on this machine: agentcomd (durable, --durability
# full, a fresh temp data dir per run, tcp://127.0.0.1:0) and beanstalkd (-f 0 and its
# default 50 ms binlog fsync) side by side, then prints a summary table with ratios.
# Also the pure routing cost (route, no server) and the registry's latency while it
# probes 200 fake Ollamas every second (probe, its own server with health_interval_ms=1000).
# Everything talks to 127.0.0.1 only; each run is bounded by counts and timeouts.
# Usage: tools/bench/run.sh [BUILD_DIR]   (default: build-bench next to tools/)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$HERE/../../build-bench}" && pwd)
AGENTCOMD=$BUILD/src/agentcomd
BENCH=$BUILD/tools/agentcom-bench
WORK=$(mktemp -d /tmp/agentcom-bench.XXXXXX)
RESULTS=$WORK/results.txt
RUN_TIMEOUT=60 # seconds, passed to agentcom-bench --timeout; `timeout` adds a margin
SERVER_PID=""
BS_PIDS=()
: >"$RESULTS"

for f in "$AGENTCOMD" "$BENCH"; do
	[ -x "$f" ] || { echo "run.sh: $f not built (meson setup build-bench --buildtype=release && ninja -C build-bench)" >&2; exit 2; }
done

cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
	for p in "${BS_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

# An LD_PRELOAD shim that counts the server's fdatasync/fsync calls (printed to its
# stderr at exit): commits per task, i.e. how much group commit happened.
SHIM=""
build_shim() {
	command -v cc >/dev/null || return 0
	cat >"$WORK/shim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
static _Atomic unsigned long n_fdatasync, n_fsync;
int fdatasync(int fd);
int fsync(int fd);
int fdatasync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	atomic_fetch_add(&n_fdatasync, 1);
	return real(fd);
}
int fsync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	atomic_fetch_add(&n_fsync, 1);
	return real(fd);
}
__attribute__((destructor)) static void report(void)
{
	fprintf(stderr, "bench-shim fdatasync=%lu fsync=%lu\n", n_fdatasync, n_fsync);
}
EOF
	cc -O2 -shared -fPIC -o "$WORK/shim.so" "$WORK/shim.c" -ldl && SHIM=$WORK/shim.so
}

# --- agentcomd: one fresh server per run (arguments: extra agentcomd flags) ---
RUN_NO=0
start_server() {
	RUN_NO=$((RUN_NO + 1))
	local d=$WORK/ac$RUN_NO
	mkdir -p "$d/data"
	LD_PRELOAD=${SHIM} "$AGENTCOMD" --data-dir "$d/data" --listen tcp://127.0.0.1:0 \
		--pub tcp://127.0.0.1:0 --durability full --log-level warn "$@" >"$d/out" 2>"$d/err" &
	SERVER_PID=$!
	for _ in $(seq 100); do grep -qs '^ready ' "$d/out" && break; sleep 0.1; done
	grep -q '^ready ' "$d/out" || { echo "run.sh: agentcomd did not start:" >&2; cat "$d/err" >&2; exit 1; }
	URL=$(sed -n 's/^ready api=\([^ ,]*\).*/\1/p' "$d/out")
	TOKEN=$(cat "$d/data/admin.token")
	SERVER_DIR=$d
	CPU0=$(server_cpu_ticks); WR0=$(server_write_bytes); CS0=$(server_ctxsw)
}
server_cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0; }
server_write_bytes() { awk '/^write_bytes/ {print $2}' "/proc/$SERVER_PID/io" 2>/dev/null || echo 0; }
# Context switches of every server thread (voluntary + involuntary).
server_ctxsw() { cat /proc/"$SERVER_PID"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'; }

# Stops the server and prints its CPU, bytes written and fsync count (per task when
# $1, the run's task count, is > 0).
stop_server() {
	local tasks=$1 tck cpu wr cs fds
	tck=$(getconf CLK_TCK)
	cpu=$(( $(server_cpu_ticks) - CPU0 )); wr=$(( $(server_write_bytes) - WR0 ))
	cs=$(( $(server_ctxsw) - CS0 ))
	kill -TERM "$SERVER_PID"
	for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "  server did not stop within 10 s of SIGTERM; killing it" | tee -a "$RESULTS"
		kill -KILL "$SERVER_PID"
	fi
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
	fds=$(sed -n 's/^bench-shim fdatasync=\([0-9]*\) fsync=\([0-9]*\)/\1 \2/p' "$SERVER_DIR/err")
	awk -v c="$cpu" -v t="$tck" -v w="$wr" -v n="$tasks" -v f="$fds" -v x="$cs" 'BEGIN {
		split(f, s, " "); syncs = s[1] + s[2];
		printf "  server: cpu %.2f s, wrote %.1f MB, %d context switches", c / t, w / 1e6, x;
		if (f != "") printf (", fdatasync+fsync %d", syncs);
		if (n > 0) {
			printf (" = per task: %.0f us cpu, %.1f KB written, %.0f switches", c / t * 1e6 / n, w / 1024 / n, x / n);
			if (f != "" && syncs > 0) printf (", %.2f tasks per sync", n / syncs);
		}
		printf "\n" }' | tee -a "$RESULTS"
	grep -E ' (ERR|WARN) ' "$SERVER_DIR/err" | head -5 | sed 's/^/  server log: /' | tee -a "$RESULTS" || true
}

# run_ac TASKS MODE ARGS...: one agentcom-bench run on a fresh server.
run_ac() {
	local tasks=$1; shift
	start_server
	timeout -k 5 $((RUN_TIMEOUT + 30)) "$BENCH" "$@" --url "$URL" --token "$TOKEN" \
		--timeout "$RUN_TIMEOUT" | tee -a "$RESULTS" || echo "  (agentcom-bench exit $?)" | tee -a "$RESULTS"
	stop_server "$tasks"
}

# --- beanstalkd ---
free_port() {
	local p=$1
	while ss -ltn | awk '{print $4}' | grep -q ":$p\$"; do p=$((p + 1)); done
	echo "$p"
}
start_beanstalkd() { # PORT BINLOG_DIR [extra args]
	local port=$1 dir=$2; shift 2
	rm -rf "$dir"; mkdir -p "$dir"
	beanstalkd -l 127.0.0.1 -p "$port" -b "$dir" "$@" &
	BS_PIDS+=($!)
	for _ in $(seq 50); do ss -ltn | grep -q "127.0.0.1:$port " && return 0; sleep 0.1; done
	echo "run.sh: beanstalkd on $port did not start" >&2; exit 1
}

# --- the runs ---
cd "$WORK" # nothing this script writes lands in the source tree
build_shim
echo "agentcom-bench run $(date -u +%FT%TZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); work dir $WORK"
echo "agentcomd: $AGENTCOMD --durability full, fresh data dir per run; fsync counting shim: ${SHIM:-off (no cc)}"
T_START=$(date +%s)

# Routing decision cost in-process (no server), then the registry under probing.
timeout -k 5 $((RUN_TIMEOUT + 30)) "$BENCH" route --timeout "$RUN_TIMEOUT" | tee -a "$RESULTS" \
	|| echo "  (agentcom-bench exit $?)" | tee -a "$RESULTS"
start_server --set health_interval_ms=1000
timeout -k 5 $((RUN_TIMEOUT + 30)) "$BENCH" probe --url "$URL" --token "$TOKEN" --endpoints 200 \
	--seconds 5 --timeout "$RUN_TIMEOUT" --label "probe 200 endpoints" | tee -a "$RESULTS" \
	|| echo "  (agentcom-bench exit $?)" | tee -a "$RESULTS"
stop_server 0

run_ac 0 ping --clients 1 --seconds 3 --label "ping 1 client"
run_ac 0 ping --clients 8 --seconds 3 --label "ping 8 clients"
# The same clients against a bare nng REP server in agentcom-bench itself: the
# transport's ceiling here (16 clients: as many as e2e plain 8+8 has threads).
for n in 1 8 16; do
	timeout -k 5 $((RUN_TIMEOUT + 30)) "$BENCH" echo --clients "$n" --seconds 3 \
		--timeout "$RUN_TIMEOUT" --label "nng echo $n client$([ "$n" = 1 ] || echo s)" \
		| tee -a "$RESULTS" || echo "  (agentcom-bench exit $?)" | tee -a "$RESULTS"
done
# One message between two actors (nng inproc, received as the runtime does).
timeout -k 5 $((RUN_TIMEOUT + 30)) "$BENCH" inproc --iterations 50000 --timeout "$RUN_TIMEOUT" \
	| tee -a "$RESULTS" || echo "  (agentcom-bench exit $?)" | tee -a "$RESULTS"
run_ac 8000 submit --clients 1 --tasks 8000 --label "submit 1 client" --fsync-dir "$WORK"
run_ac 20000 submit --clients 16 --tasks 20000 --label "submit 16 clients"
run_ac 200000 submit --clients 16 --tasks 200000 --batch 100 --label "submit 16 clients batch 100"
run_ac 15000 e2e --submitters 8 --agents 8 --tasks 15000 --label "e2e plain 8+8"
run_ac 15000 e2e --submitters 32 --agents 32 --tasks 15000 --label "e2e plain 32+32"
run_ac 30000 e2e --mode fast --submitters 8 --agents 8 --tasks 30000 --label "e2e fast 8+8 (batch 100)"
run_ac 5000 e2e --submitters 8 --agents 8 --tasks 5000 --rate 1000 --label "e2e plain paced 1000/s, 8 agents"
run_ac 0 e2e --submitters 8 --agents 8 --tasks 5000 --rate 1000 --preload 100000 \
	--label "e2e plain paced 1000/s, 8 agents, 100000 queued"
# 1000 agents: one thread and one connection (nng REQ socket) per agent, no multiplexing,
# each long-polling 25 s like agentcom-agent by default (with 1 s, a thousand idle agents
# would re-fetch a thousand times a second).
run_ac 5000 e2e --submitters 8 --agents 1000 --tasks 5000 --rate 1000 --wait-ms 25000 \
	--label "e2e plain paced 1000/s, 1000 agents"
run_ac 5000 e2e --mode fast --batch 1 --submitters 8 --agents 8 --tasks 5000 --rate 1000 \
	--label "e2e fast paced 1000/s, 8 agents, single submits"

BS1=$(free_port 11300)
start_beanstalkd "$BS1" "$WORK/bs" -f 0
BS2=$(free_port $((BS1 + 1)))
start_beanstalkd "$BS2" "$WORK/bs2"
timeout -k 5 $((RUN_TIMEOUT + 30)) "$BENCH" beanstalk --addr "127.0.0.1:$BS1" --submitters 8 \
	--workers 8 --tasks 20000 --timeout "$RUN_TIMEOUT" --label "beanstalkd -f 0 8+8" | tee -a "$RESULTS" || true
timeout -k 5 $((RUN_TIMEOUT + 30)) "$BENCH" beanstalk --addr "127.0.0.1:$BS2" --submitters 8 \
	--workers 8 --tasks 100000 --timeout "$RUN_TIMEOUT" --label "beanstalkd default binlog 8+8" | tee -a "$RESULTS" || true

# --- summary ---
echo
echo "summary ($(( $(date +%s) - T_START )) s; load average now $(cut -d" " -f1-3 /proc/loadavg)):"
awk -F': ' '/^[a-z].*: [0-9.]+ (tasks|round trips)\/s/ {
	split($2, v, " "); unit = ($2 ~ /round trips/) ? "rt/s" : "tasks/s";
	lat = $2; sub(/^[^,]*\), /, "", lat);
	printf "  %-52s %9s %-7s %s\n", $1, v[1], unit, lat }' "$RESULTS"
rate_of() { awk -F': ' -v l="$1" '$1 == l { split($2, v, " "); print v[1]; exit }' "$RESULTS"; }
AC=$(rate_of "e2e plain 8+8"); F0=$(rate_of "beanstalkd -f 0 8+8"); FD=$(rate_of "beanstalkd default binlog 8+8")
AF=$(rate_of "e2e fast 8+8 (batch 100)"); E16=$(rate_of "nng echo 16 clients")
HOP=$(awk -F', ' '/^inproc hop: / { split($2, v, " "); print v[1]; exit }' "$RESULTS")
# Per task, measured with counters in the runtime: plain, 4 client round trips and 7
# messages between actors; fast, 1 round trip and about 3.5 messages.
awk -v e16="$E16" -v hop="$HOP" -v cores="$(nproc)" 'BEGIN {
	if (e16 <= 0 || hop <= 0) exit;
	rt = cores * 1e6 / e16;
	printf "  cost of transport alone, estimated: a round trip %.0f us cpu (nng echo 16 clients), a hop between actors %.1f us cpu\n", rt, hop;
	printf "  ceiling from those costs alone: e2e plain (4 round trips + 7 hops) %.0f tasks/s, e2e fast (1 + 3.5) %.0f tasks/s\n",
	    cores * 1e6 / (4 * rt + 7 * hop), cores * 1e6 / (rt + 3.5 * hop) }'
awk -v a="$AC" -v f0="$F0" -v fd="$FD" -v af="$AF" -v e16="$E16" 'BEGIN {
	if (a != "" && f0 > 0) printf "  ratio e2e plain 8+8 / beanstalkd -f 0 8+8:          %.2f\n", a / f0;
	if (a != "" && fd > 0) printf "  ratio e2e plain 8+8 / beanstalkd default binlog 8+8: %.2f\n", a / fd;
	if (af != "" && fd > 0) printf "  ratio e2e fast 8+8 / beanstalkd default binlog 8+8:  %.2f\n", af / fd }'
grep -E '^(route|probe [0-9]+ endpoints|inproc hop): ' "$RESULTS" | sed 's/^/  /' || true
echo "targets (DESIGN §10): e2e plain 8+8 >= 5000, 32+32 >= 10000, fast >= 26600 tasks/s; paced p50 < 0.5 ms, p99 < 2 ms;"
echo "  probe (issue): registry p99 < 5 ms while probing 200 endpoints every second"
echo "full output: $RESULTS"
