#!/usr/bin/env bash
# setup-web.sh — installs the JavaScript libraries that lwbench inlines into its
# self-contained HTML pages (the interactive flame graph: d3-flame-graph, d3-selection)
# into web/node_modules, exactly as pinned by web/package-lock.json (`npm ci`).
# Idempotent: does nothing when node_modules matches the lock file already.
# Needs node and npm (Debian: nodejs, npm) and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/../web"
stamp=node_modules/.package-lock.json
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ -d node_modules/d3-flame-graph ]; then
  echo "setup-web: web/node_modules is up to date" >&2
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "setup-web: npm is missing (apt-get install npm); interactive flame graphs will be skipped" >&2
  exit 1
fi
echo "setup-web: npm ci in $PWD" >&2
npm ci --no-audit --no-fund >&2
