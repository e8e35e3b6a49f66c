#!/usr/bin/env bash
# sockperf_reference.sh — the real-wire benchmark (issue 15): sockperf, a client no
# one here wrote, against lwbench's UDP echo server over a TAP link, and the same
# sockperf against the Linux kernel's own UDP server (sockperf server) over a veth
# pair — the same kind of link: one kernel-made virtual Ethernet hop between two
# network namespaces — in one run, interleaved round by round.
#
# Usage: bench/sockperf_reference.sh [OUT_DIR]     (as root; build lwbench_tap_udp_echo first)
#
# What runs (every command bounded by `timeout`, every sockperf by -t):
#   reference   namespaces lwbref-s-PID (192.0.2.9, sockperf server) and lwbref-c-PID
#               (192.0.2.10, sockperf ping-pong client), joined by a veth pair;
#   ours        namespace lwbref-t-PID made by scripts/netns.sh (the kernel's side of
#               the TAP at 192.0.2.1, sockperf client), lwbench_tap_udp_echo --reply
#               sockperf at 192.0.2.2, in each threading mode x input mode;
#   rounds      LWBENCH_SOCKPERF_ROUNDS (3) rounds, each visiting the reference and the
#               four configurations of ours in a fresh random order, each a ping-pong of
#               LWBENCH_SOCKPERF_SECONDS (3) s with 64-byte messages, full round trips;
#   throughput  sockperf throughput (one-way) into the kernel's server and into ours
#               (core locking, inline input), once each; for ours, what our stack
#               received, its drops by reason, and what the TAP's queue dropped;
#   live switch sockperf ping-pong against ours while it switches the threading mode
#               (and its paired input mode) every 100 ms: sent, received, and the
#               stack's drops by reason.
# Every process (servers, clients, our stack) is pinned to CPU LWBENCH_CPU (0): "one
# core" for both sides of both links.
#
# The raw sockperf outputs and our stack's reports go into a new folder
# OUT_DIR/<UTC stamp>_<rev>_sockperf/ (default OUT_DIR: <repo>/results), with
# sockperf.json and sockperf.md made by bench/sockperf_summary.py: per point the
# median over rounds of sockperf's avg / p50 / p99 round trip, and the ratio of ours
# (core locking, inline input, one core) to the kernel's (target: <= 1.5x).
#
# Teardown (bench/reference_link.sh, which also makes both links): an EXIT trap kills
# the processes this script started (by their PID) and
# deletes the three namespaces (the veth and the TAP go with them), also after a
# failure or Ctrl-C. Exit status: 0 done, 1 a step failed, 2 usage, 77 this machine
# cannot run it (not root, no /dev/net/tun, no sockperf, binary not built: the reason
# is printed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
build=${LWBENCH_BUILD_DIR:-$src/build/release}
out=${1:-$src/results}
seconds=${LWBENCH_SOCKPERF_SECONDS:-3}
rounds=${LWBENCH_SOCKPERF_ROUNDS:-3}
cpu=${LWBENCH_CPU:-0}
msg_size=64
python=/usr/bin/python3
echo_bin=$build/tests/network/lwbench_tap_udp_echo

log() { printf '[sockperf_reference] %s\n' "$*" >&2; }
cannot() { log "cannot run here: $*"; exit 77; }

[[ $# -le 1 ]] || { echo "usage: bench/sockperf_reference.sh [OUT_DIR]" >&2; exit 2; }
[[ $seconds =~ ^[1-9][0-9]?$ ]] || { log "LWBENCH_SOCKPERF_SECONDS must be 1..99"; exit 2; }
[[ $rounds =~ ^[1-9][0-9]?$ ]] || { log "LWBENCH_SOCKPERF_ROUNDS must be 1..99"; exit 2; }
[[ $cpu =~ ^[0-9]+$ ]] || { log "LWBENCH_CPU must be a CPU number"; exit 2; }
reason=$("$src/scripts/netns.sh" check) || cannot "$reason"
command -v sockperf >/dev/null || cannot "sockperf is not installed (scripts/install-deps.sh installs it)"
[[ -x $echo_bin ]] || cannot "$echo_bin is not built (cmake --build --preset release --target lwbench_tap_udp_echo)"

ref_port=11111
work=$(mktemp -d /tmp/lwbench_sockperf.XXXXXX)
raw=$work/raw
mkdir -p "$raw"
# shellcheck source=bench/reference_link.sh
source "$here/reference_link.sh"

reference_link_up
in_ns "$ns_server" timeout $((rounds * seconds * 10 + 300)) \
    sockperf server -i "$ref_server_ip" -p "$ref_port" >"$raw/reference_server.log" 2>&1 &
started+=($!)
wait_listening "$ns_server" u "$ref_port"
tap_link_up

# start_echo NAME THREADING INPUT [EXTRA...]: our echo server, answering as sockperf's server does.
start_echo() {
    local name=$1 threading=$2 input=$3; shift 3
    start_ours "$name" $((seconds + 90)) "$echo_bin" --threading "$threading" --input "$input" --reply sockperf "$@"
}

# sockperf MODE LOGFILE NAMESPACE SERVER_IP PORT: one bounded sockperf client run.
run_sockperf() {
    local mode=$1 logfile=$2 ns=$3 ip=$4 port=$5 extra=()
    [[ $mode == ping-pong ]] && extra=(--full-rtt)
    in_ns "$ns" timeout $((seconds + 60)) sockperf "$mode" -i "$ip" -p "$port" -t "$seconds" -m "$msg_size" \
        "${extra[@]}" >"$logfile" 2>&1 || { log "sockperf $mode failed: $(tail -3 "$logfile")"; exit 1; }
}

configs=("reference" "core_locking inline" "core_locking mailbox" "message_passing mailbox" "message_passing inline")
for round in $(seq "$rounds"); do
    mapfile -t order < <(printf '%s\n' "${configs[@]}" | shuf)
    for config in "${order[@]}"; do
        log "round $round/$rounds: ping-pong, $config"
        if [[ $config == reference ]]; then
            run_sockperf ping-pong "$raw/pingpong_reference_r$round.log" "$ns_client" "$ref_server_ip" "$ref_port"
        else
            read -r threading input <<<"$config"
            name=ours_${threading}_${input}_r$round
            start_echo "$name" "$threading" "$input"
            run_sockperf ping-pong "$raw/pingpong_${threading}_${input}_r$round.log" "$ns_tap" "$our_ip" 7
            stop_ours "$name"
        fi
    done
done

log "throughput: reference"
run_sockperf throughput "$raw/throughput_reference.log" "$ns_client" "$ref_server_ip" "$ref_port"
log "throughput: ours, core_locking inline"
start_echo ours_throughput core_locking inline
# The TAP's queue towards our driver thread drops what it cannot hold: its counters
# before and after say how many (the kernel's tx "dropped").
ip -n "$ns_tap" -s -j link show lwbtap0 >"$raw/tap_link_before_throughput.json"
run_sockperf throughput "$raw/throughput_core_locking_inline.log" "$ns_tap" "$our_ip" 7
ip -n "$ns_tap" -s -j link show lwbtap0 >"$raw/tap_link_after_throughput.json"
stop_ours ours_throughput

log "live switch: ping-pong while our stack switches its threading mode every 100 ms"
start_echo ours_live_switch core_locking inline --switch-every 100
run_sockperf ping-pong "$raw/pingpong_live_switch.log" "$ns_tap" "$our_ip" 7
stop_ours ours_live_switch

log "summarising"
"$python" "$here/sockperf_summary.py" "$raw" "$out" --seconds "$seconds" --rounds "$rounds" --cpu "$cpu" \
    --message-size "$msg_size"
