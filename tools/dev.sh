#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One entry point for newcomers and CI: install what agentcom needs from Debian,
# build it, then serve, test, or test under AddressSanitizer + UBSan.
#   tools/dev.sh serve   build and run agentcomd on its embedded defaults
#   tools/dev.sh test    build and run every test suite
#   tools/dev.sh asan    build with ASan+UBSan (build-asan/) and run every suite
#   tools/dev.sh deps    only install the packages
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential meson ninja-build pkg-config cmake libnng-dev libmsgpack-dev
	libsqlite3-dev libcriterion-dev libmbedtls-dev)

deps() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	echo "dev.sh: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() { # build <dir> [meson options...]
	local dir=$1; shift
	[ -f "$dir/build.ninja" ] || meson setup "$dir" "$@"
	ninja -C "$dir"
}

run_tests() { # run_tests <dir>
	# --verbose streams Criterion's own output (every [PASS]/[FAIL] and its Synthesis line)
	meson test -C "$1" --print-errorlogs --verbose --num-processes 2
}

cmd=${1:-}
case "$cmd" in
deps) deps ;;
serve)
	# standard output carries only the server's ready line
	deps >&2
	build build >&2
	exec ./build/src/agentcomd "${@:2}"
	;;
test)
	deps
	build build
	run_tests build
	;;
asan)
	deps
	build build-asan -Db_sanitize=address,undefined -Db_lundef=false
	ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 \
	LSAN_OPTIONS=suppressions=$PWD/tools/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_tests build-asan
	# Criterion runs each test in a child whose leak report does not fail the test:
	# any sanitizer summary in the log fails the run.
	if grep -E "SUMMARY: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error:" \
		build-asan/meson-logs/testlog.txt; then
		echo "dev.sh: sanitizer reports above" >&2
		exit 1
	fi
	;;
*)
	echo "usage: tools/dev.sh serve|test|asan|deps" >&2
	exit 2
	;;
esac
