#!/usr/bin/env bash
# test.sh — every test: install what is missing, then build and test the release,
# asan (ASan+UBSan), tsan and fuzz presets, and the Python suite against Debian's
# /usr/bin/python3. Stops at the first failure (non-zero exit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

step() { printf '\n==== %s ====\n' "$*" >&2; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"

step "release: build"
cmake --preset release >/dev/null
cmake --build --preset release
step "release: ctest"
ctest --preset release -j2

step "python: pytest (bindings, package, plots, profile) with /usr/bin/python3"
LWBENCH_BUILD_DIR="$PWD/build/release" /usr/bin/python3 -m pytest tests/python -q -rs

for preset in asan tsan; do
  step "$preset: build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  step "$preset: ctest"
  ctest --preset "$preset" -j2
done

step "fuzz: build and run the IPv4 input fuzzer (bounded time)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
ctest --test-dir build/fuzz --output-on-failure

step "all tests passed"
