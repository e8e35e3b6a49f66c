#!/usr/bin/env bash
# make_results.sh — regenerates a complete results folder from real runs:
#   results/<UTC stamp>_<rev>/  reproduce (+ real lwIP), sweeps, Google Benchmark
#   JSON, every figure (PNG + SVG) made from those JSON files only, and the report
#   page (report.html, `python3 -m lwbench report`).
# Usage: scripts/make_results.sh [--quick]   (--quick: fewer ops, no Google Benchmark)
# Exit status: 0 when everything ran and every target was met or inconclusive;
#   1 when a Google Benchmark target was MISSED beyond its spread (named on stderr;
#   every step still ran), or the exit status of the first step that failed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release

reps=5; ops=20000; tops=20000
if [ "${1:-}" = "--quick" ]; then reps=2; ops=2000; tops=2000; fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
rev=$(git rev-parse --short=8 HEAD 2>/dev/null || echo unknown)
out="results/${stamp}_${rev}"
if [ -e "$out" ]; then echo "make_results: $out exists; not overwriting" >&2; exit 1; fi
mkdir -p "$out"
lw=build/release/harness/lwbench
export PYTHONPATH="$PWD/python:$PWD/plots${PYTHONPATH:+:$PYTHONPATH}"
say() { printf '\nmake_results: %s\n' "$*" >&2; }

say "1/6 the seed comparison (lwbench reproduce, with real lwIP when built)"
$lw reproduce --repetitions "$reps" --ops "$ops" --out-dir "$out"

say "2/6 percentiles vs payload size"
$lw run --label sizes --scenario send_latency --api raw,netconn,socket --mode message_passing,core_locking \
  --size 64,256,512,1024,1458 --pinning same_core --repetitions "$reps" --ops "$ops" --out-dir "$out"

say "3/6 receive, delivery and round trip"
$lw run --label paths --scenario recv_latency,delivery_latency,round_trip --api netconn,socket \
  --mode message_passing,core_locking --pinning same_core,separate_cores --repetitions "$reps" --ops "$((ops / 2))" --out-dir "$out"

say "4/6 throughput vs sender threads, mailbox kinds and lock kinds"
$lw run --label throughput --scenario throughput --api socket --mode message_passing,core_locking \
  --mailbox mutex_cv,tbb_queue,spin_then_block,adaptive --threads 1,2,4 --repetitions 3 --ops "$((tops / 4))" --out-dir "$out"
$lw run --label throughput_locks --scenario throughput --api socket --mode core_locking,combining \
  --lock std_mutex,tbb_spin_mutex,tbb_queuing_mutex --threads 1,2,4 --repetitions 3 --ops "$((tops / 4))" --out-dir "$out"

say "5/6 the primitives floor (every lock and mailbox kind, both pinnings)"
$lw run --label floor --scenario primitive --mailbox mutex_cv,tbb_queue,spin_then_block,adaptive \
  --lock std_mutex,tbb_spin_mutex,tbb_queuing_mutex --pinning same_core,separate_cores \
  --repetitions "$reps" --ops "$ops" --out-dir "$out"

say "6/6 figures from the result files"
/usr/bin/python3 -m lwbench plot "$out"/*.json -o "$out/figures" >/dev/null

# bench/run_benchmarks.sh exits 1 when a performance target is really missed (beyond
# its spread). That is a finding, not a failure of this script: the run goes on, the
# miss is named here and in the final exit status, and the benchmark files stay.
status=0
missed=""
if [ -x bench/run_benchmarks.sh ] && [ "${1:-}" != "--quick" ]; then
  say "Google Benchmark suite"
  gbench_status=0
  bench/run_benchmarks.sh "$out" | tee "$out/.gbench_stdout" || gbench_status=$?
  if [ "$gbench_status" -eq 1 ]; then
    missed=$(sed -n 's/^targets MISSED beyond their spread: //p' "$out/.gbench_stdout")
    say "performance target MISSED: ${missed:-see the gbench summary}"
    status=1
  elif [ "$gbench_status" -ne 0 ]; then
    say "bench/run_benchmarks.sh failed (exit $gbench_status)"
    status=$gbench_status
  fi
  rm -f "$out/.gbench_stdout"
fi

say "the report page"
/usr/bin/python3 -m lwbench report "$out"/*.json -o "$out/report.html" >&2

say "done: $out"
ls "$out" >&2
if [ -n "$missed" ]; then
  say "exit 1: target(s) MISSED beyond their spread: $missed"
fi
exit "$status"
