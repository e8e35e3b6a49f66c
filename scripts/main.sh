#!/usr/bin/env bash
# main.sh — the main job: install what is missing, build (release), then show the
# zero-copy loopback demo and reproduce the 2007 seed comparison (lwbench reproduce),
# writing new result files to results/. Extra arguments go to `lwbench reproduce`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
build/release/harness/lwbench demo --count 20000
build/release/harness/lwbench reproduce "$@"
