#!/usr/bin/env bash
# valgrind-hybrid.sh: run a bank hammer through package hybrid on the real RTM
# instructions, under valgrind.
#
# Valgrind executes XBEGIN as an immediate abort with status 0x8 (capacity), on
# any host, so with HYTM_HTM=force every hardware attempt of hybrid.Atomically
# aborts with capacity: every transaction must fall back to software, the
# totals must hold, and the stats must show the hardware attempts and as many
# capacity aborts. See ci/valgrind-htm.sh for the valgrind flags.
#
# Usage: ci/valgrind-hybrid.sh    (from anywhere; takes well under a minute)
set -euo pipefail

cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind-hybrid: valgrind not found; install it (apt-get install valgrind)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/vgbank" ./hybrid/internal/vgbank

set +e
VGBANK_EXPECT_CAPACITY=1 HYTM_HTM=force GODEBUG=asyncpreemptoff=1 GOMAXPROCS=2 \
	timeout 120 valgrind --tool=none --error-exitcode=3 --fair-sched=yes \
	"$tmp/vgbank" >"$tmp/vg.out" 2>&1
rc=$?
set -e

if [[ $rc -ne 0 ]] || ! grep -q '^vgbank: ok: ' "$tmp/vg.out" ||
	grep -qE 'SIGILL|signal 4|unhandled instruction' "$tmp/vg.out"; then
	echo "valgrind-hybrid: FAIL (exit $rc); output:" >&2
	cat "$tmp/vg.out" >&2
	exit 1
fi
grep '^vgbank: ' "$tmp/vg.out"
echo "valgrind-hybrid: ok ($(valgrind --version))"
