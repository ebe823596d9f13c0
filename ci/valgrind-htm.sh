#!/usr/bin/env bash
# valgrind-htm.sh: check the RTM instructions of package htm under valgrind.
#
# Builds htm/internal/vgcheck and runs it under valgrind with HYTM_HTM=force.
# Valgrind's CPU emulation executes XBEGIN as an immediate abort with status
# 0x8 (capacity), on any host, so this exercises the real instruction path of
# htm.Begin even where the CPU has no RTM (where it would raise SIGILL). The
# program checks that Begin returns a status that decodes as capacity; this
# script checks that it said so and that nothing died of SIGILL.
#
# Valgrind runs with --tool=none: memcheck reports hundreds of false errors on
# any Go binary (goroutine stacks live below the OS thread's stack pointer, and
# the runtime switches stacks), so its error count says nothing here.
# GODEBUG=asyncpreemptoff=1 and a small GOMAXPROCS keep the runtime's signals
# and threads out of valgrind's way.
#
# Usage: ci/valgrind-htm.sh    (from anywhere; takes a few seconds)
set -euo pipefail

cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind-htm: valgrind not found; install it (apt-get install valgrind)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/vgcheck" ./htm/internal/vgcheck

# On a CPU without RTM, the same binary run natively must die of SIGILL: that
# proves it executes the real XBEGIN rather than a pure-Go stand-in.
if ! grep -qw rtm /proc/cpuinfo 2>/dev/null; then
	set +e
	HYTM_HTM=force timeout 30 "$tmp/vgcheck" >"$tmp/native.out" 2>&1
	rc=$?
	set -e
	if [[ $rc -eq 0 ]] || ! grep -q 'SIGILL: illegal instruction' "$tmp/native.out"; then
		echo "valgrind-htm: FAIL: natively on a CPU without RTM, vgcheck should die of SIGILL (exit $rc):" >&2
		cat "$tmp/native.out" >&2
		exit 1
	fi
	echo "valgrind-htm: natively (no rtm in /proc/cpuinfo): SIGILL, as expected"
fi

set +e
HYTM_HTM=force GODEBUG=asyncpreemptoff=1 GOMAXPROCS=2 \
	timeout 120 valgrind --tool=none --error-exitcode=3 --fair-sched=yes \
	"$tmp/vgcheck" >"$tmp/vg.out" 2>&1
rc=$?
set -e

if [[ $rc -ne 0 ]] || ! grep -q '^vgcheck: ok: ' "$tmp/vg.out" ||
	grep -qE 'SIGILL|signal 4|unhandled instruction' "$tmp/vg.out"; then
	echo "valgrind-htm: FAIL (exit $rc); output:" >&2
	cat "$tmp/vg.out" >&2
	exit 1
fi
grep '^vgcheck: ' "$tmp/vg.out"
echo "valgrind-htm: ok ($(valgrind --version))"
