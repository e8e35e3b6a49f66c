#!/usr/bin/env bash
# install-deps.sh — installs the Debian packages lwbench needs, only those missing.
# Idempotent: a second run checks dpkg and does nothing (no apt-get update either).
set -euo pipefail

packages=(
  build-essential cmake ninja-build git pkg-config
  clang libclang-rt-14-dev            # libFuzzer + sanitizer runtimes for the fuzz target
  libbenchmark-dev                    # Google Benchmark: bench/
  libgtest-dev libgmock-dev           # GoogleTest: tests/
  libtbb-dev                          # oneTBB: concurrent_bounded_queue, spin_mutex, queuing_mutex
  libcli11-dev                        # CLI11: the lwbench command line
  nlohmann-json3-dev                  # result files
  libfmt-dev                          # tables and messages
  pybind11-dev python3-dev            # the Python extension
  python3-numpy python3-matplotlib python3-pytest
  python3-pandas                      # optional: Results.to_dataframe() (tested when present)
  python3-venv python3-setuptools python3-pip python3-wheel   # pip install of python/ into a venv, offline
  chromium                            # the report page and flame graphs are checked in headless Chromium
  nodejs                              # scripts/setup-web.sh: npm ci of web/ (d3-flame-graph, inlined into pages)
  linux-perf                          # perf: counters, lwbench profile
  tshark                              # reads the loopback's pcap in the tests; validates the TAP's frames
  iproute2 iputils-ping               # the TAP test topology (scripts/netns.sh) and ping as a real peer
  sockperf dnsmasq-base iperf3        # real peers on the TAP link (issue 15)
  dpkg-dev xz-utils                   # dpkg-source: unpacks Debian's lwIP source (real_lwip/)
  gcc-arm-none-eabi libnewlib-arm-none-eabi  # the Cortex-M3 firmware (embedded/)
  qemu-system-arm                     # runs it: mps2-an385 board, -icount time
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs comes without npm (package npm); a nodejs that bundles npm (e.g. a
# NodeSource build) conflicts with that package, so npm is asked for only when absent.
if ! command -v npm >/dev/null 2>&1; then
  dpkg-query -W -f='${Status}' npm 2>/dev/null | grep -q "install ok installed" || missing+=(npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo $0)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer no, without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# iperf3 asks whether to run its server as a system daemon: no (the tests start their own).
echo "iperf3 iperf3/start_daemon boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
