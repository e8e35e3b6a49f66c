#!/usr/bin/env bash
# run_benchmarks.sh — the documented invocation of lwbench's Google Benchmark suite.
#
# Usage: bench/run_benchmarks.sh [OUT_DIR]
#
# Runs bench_micro, bench_macro and bench_dispatch (build them first:
# `cmake --preset release && cmake --build --preset release`) with
#   --benchmark_enable_random_interleaving=true  (modes/variants compared in one window)
#   --benchmark_repetitions=5 --benchmark_min_time=0.2
#   --benchmark_out=<OUT_DIR>/<UTC stamp>_<rev>_gbench_<name>.json --benchmark_out_format=json
# then bench/summarize.py computes the performance-target ratios (median over the
# repetitions, with spread), prints them, and writes <stamp>_<rev>_gbench_summary.md next
# to the JSON.
#
# OUT_DIR defaults to <repo>/results. Nothing is ever overwritten: each file is written
# under a temporary name and then hard-linked into place (link(2) fails if the name
# exists, as harness/src/result_file.cpp does); an existing target aborts the run.
# Progress (Google Benchmark's console output) goes to stderr; the ratios to stdout.
# Exit status: summarize.py's — 1 when a target is missed beyond its spread ("MISSED"),
# 0 when every target is met or inconclusive (the spread covers the difference).
#
# Environment:
#   LWBENCH_BUILD_DIR    build tree (default <repo>/build/release)
#   LWBENCH_PIN          none (default) | same_core | separate_cores — CPU pinning of
#                        the tcpip and application threads (recorded in the JSON context)
#   LWBENCH_BENCH_ARGS   extra flags for every binary (e.g. --benchmark_filter=Send)
#   LWBENCH_REPETITIONS, LWBENCH_MIN_TIME   override 5 and 0.2 (for quick checks only;
#                        the documented figures use the defaults)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
build=${LWBENCH_BUILD_DIR:-$src/build/release}
out=${1:-$src/results}
reps=${LWBENCH_REPETITIONS:-5}
min_time=${LWBENCH_MIN_TIME:-0.2}
python=/usr/bin/python3

log() { printf '[run_benchmarks] %s\n' "$*" >&2; }

for name in micro macro dispatch; do
  if [[ ! -x $build/bench/bench_$name ]]; then
    log "missing $build/bench/bench_$name — build first: cmake --preset release && cmake --build --preset release"
    exit 1
  fi
done
mkdir -p "$out"
rev=$(git -C "$src" rev-parse --short=8 HEAD 2>/dev/null || echo unknown)
stamp=$(date -u +%Y%m%dT%H%M%SZ)

# Refuse up front if any target name is taken (the link below re-checks atomically).
files=()
for name in micro macro dispatch; do
  f="$out/${stamp}_${rev}_gbench_${name}.json"
  if [[ -e $f ]]; then log "refusing to overwrite $f"; exit 1; fi
  files+=("$f")
done
summary="$out/${stamp}_${rev}_gbench_summary.md"
if [[ -e $summary ]]; then log "refusing to overwrite $summary"; exit 1; fi

tmps=()
cleanup() { for t in "${tmps[@]}"; do rm -f "$t"; done; }
trap cleanup EXIT

start=$SECONDS
i=0
for name in micro macro dispatch; do
  final=${files[$i]}
  i=$((i + 1))
  tmp="$out/.${stamp}_${rev}_gbench_${name}.json.tmp.$$"
  tmps+=("$tmp")
  log "($i/3) bench_$name -> $final (${SECONDS}s elapsed)"
  # shellcheck disable=SC2086  # LWBENCH_BENCH_ARGS is a list of flags
  "$build/bench/bench_$name" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_repetitions="$reps" \
    --benchmark_min_time="$min_time" \
    --benchmark_out="$tmp" --benchmark_out_format=json \
    ${LWBENCH_BENCH_ARGS:-} >&2
  if ! ln "$tmp" "$final"; then
    log "refusing to overwrite $final (appeared during the run)"
    exit 1
  fi
  rm -f "$tmp"
done
log "benchmarks done in $((SECONDS - start))s; summarizing"
"$python" "$here/summarize.py" "${files[@]}" --markdown "$summary"
