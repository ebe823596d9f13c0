#!/usr/bin/env bash
# hw-report.sh: one command that proves and measures hytm's RTM path on this
# machine, and writes what it found as a Markdown report.
#
# Usage: ci/hw-report.sh [report.md]     (default: hw-report-<host>.md here)
#
# - Always: the CPU model, microcode, the rtm / hle / rtm_always_abort flags
#   of /proc/cpuinfo, htm.Info() and GOMAXPROCS.
# - When hardware attempts are on (usable RTM, or HYTM_HTM=emulate, which is
#   labelled "emulated" everywhere): the htm and hybrid hardware tests, the
#   behaviour suite through hybrid with hardware on, and one benchmark run:
#   empty XBEGIN/XEND, Incr1 and Read16 through hybrid against stm and
#   sync.Mutex, small-transaction commit rates and abort causes
#   (hybrid.ReadStats, via hybrid/internal/hwprobe), and the bank workload
#   at 1, 2, 4, ... GOMAXPROCS goroutines for hybrid, stm and mutex.
# - Otherwise: why not, in one line, and the valgrind scripts, which run the
#   real XBEGIN path as immediate capacity aborts.
#
# Sized for a few minutes on a 16-core machine. The report names the mode
# of every figure; nothing in it is edited by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-hw-report-$(hostname -s 2>/dev/null || echo host).md}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
: >"$out" || { echo "hw-report: cannot write $out" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

say() { printf '%s\n' "$*" | tee -a "$out"; }
block() { # block TITLE CMD...: run CMD, put its output in the report as a code block
	local title=$1
	shift
	say ""
	say "### $title"
	say ""
	say '```'
	set +e
	"$@" 2>&1 | tee -a "$out"
	local rc=${PIPESTATUS[0]}
	set -e
	say '```'
	if [[ $rc -ne 0 ]]; then
		say ""
		say "**hw-report: FAIL: $title (exit $rc)**"
		echo "hw-report: FAIL: $title; report in $out" >&2
		exit 1
	fi
}
flag() { grep -m1 -ow "$1" /proc/cpuinfo >/dev/null 2>&1 && echo yes || echo no; }

go build -o "$tmp/hwprobe" ./hybrid/internal/hwprobe

start=$(date +%s)
say "# hytm hardware report"
say ""
say "Written by ci/hw-report.sh on $(date -u '+%Y-%m-%d %H:%M UTC') at $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
say ""
say "- CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
say "- microcode: $(grep -m1 microcode /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
say "- /proc/cpuinfo flags: rtm $(flag rtm), hle $(flag hle), rtm_always_abort $(flag rtm_always_abort)"
say "- cores: $(nproc), $(go version)"
"$tmp/hwprobe" | tee -a "$out"

set +e
decision=$("$tmp/hwprobe" -decide)
usable=$?
set -e

if [[ $usable -ne 0 ]]; then
	say ""
	say "## Hardware attempts are off: $decision"
	say ""
	say "So the RTM path is checked under valgrind instead, which executes XBEGIN as an immediate capacity abort."
	block "ci/valgrind-htm.sh" bash ci/valgrind-htm.sh
	block "ci/valgrind-hybrid.sh" bash ci/valgrind-hybrid.sh
	say ""
	say "hw-report: ok (not usable here: valgrind checks passed) in $(($(date +%s) - start)) s"
	echo "hw-report: wrote $out"
	exit 0
fi

label="real RTM"
[[ "${HYTM_HTM:-}" == "emulate" ]] && label="EMULATED (HYTM_HTM=emulate): no CPU transaction ran"
say ""
say "## Hardware attempts are on: $label"

block "htm hardware tests ($label; they skip unless the CPU runs RTM)" \
	go test -count=1 -run 'TestHardware|TestHost|TestEncoding' -v ./htm
block "hybrid with hardware on: behaviour suite, clock avoidance, hammers ($label)" \
	go test -count=1 -short -run 'TestBehaviour$|TestMixedHammer|TestClock|TestHardwareAbortReport' ./hybrid
block "empty XBEGIN+XEND ($label; skipped without real RTM)" \
	go test -count=1 -run X -bench 'BeginEnd' -benchtime 300ms ./htm
block "Incr1 and Read16: hybrid vs stm ($label), then stm vs sync.Mutex, one run" \
	bash -c 'go test -count=1 -run X -bench "^Benchmark(Incr1|Read16)$" -benchtime 300ms -count 3 ./hybrid && go test -count=1 -run X -bench "^Benchmark(Incr1|Read16)$" -benchtime 300ms -count 3 ./stm'
block "small transactions through hybrid: commit rate and abort causes ($label)" \
	"$tmp/hwprobe" -measure -n 100000
block "bank workload, 1 .. GOMAXPROCS goroutines: hybrid, stm, mutex ($label)" \
	go run ./bench/cmd/hytm-bench -workloads bank -variants hybrid,stm,mutex -count 1 -duration 300ms -progress=false -out "$tmp/bench"

say ""
say "hw-report: ok ($label) in $(($(date +%s) - start)) s"
echo "hw-report: wrote $out"
