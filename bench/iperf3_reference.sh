#!/usr/bin/env bash
# iperf3_reference.sh — the real-wire TCP benchmark (issue 15): the iperf3 client, a
# program no one here wrote, against lwbench's TCP (lwbench_tap_iperf3_server: our
# socket API over our TCP, on a TAP link) in each threading mode with its paired input
# mode, and the same client against the Linux kernel's own iperf3 server over a veth
# pair (the same kind of link: one kernel-made virtual Ethernet hop), in one run,
# interleaved round by round.
#
# Usage: bench/iperf3_reference.sh [OUT_DIR]     (as root; build lwbench_tap_iperf3_server first)
#
# What runs (every command bounded by `timeout`, every iperf3 client by -t):
#   links       bench/reference_link.sh: the kernel's `iperf3 -s` at 192.0.2.9 in one
#               namespace, the client at 192.0.2.10 in another (veth); ours at
#               192.0.2.2 on a TAP, the client on the kernel's side (192.0.2.1);
#   rounds      LWBENCH_IPERF3_ROUNDS (2) rounds, each visiting the reference and our
#               three modes (message_passing + mailbox, core_locking + inline,
#               combining + combining) in a fresh random order; each visit is one
#               forward run (the client sends) and one reverse run (-R: the server
#               sends) of LWBENCH_IPERF3_SECONDS (2) s, default block size, one stream.
# Every process (servers, clients, our stack) is pinned to CPU LWBENCH_CPU (0): one core
# for both sides of both links, as in bench/sockperf_reference.sh.
#
# iperf3's JSON outputs and our server's reports go into a new folder
# OUT_DIR/<UTC stamp>_<rev>_iperf3/ (default OUT_DIR: <repo>/results), with iperf3.json
# and iperf3.md made by bench/iperf3_summary.py: per point and direction the median over
# rounds of the rate the client measured, and ours / kernel.
#
# Teardown (bench/reference_link.sh): an EXIT trap kills the processes this script
# started (by their PID) and deletes the namespaces, also after a failure or Ctrl-C.
# Exit status: 0 done, 1 a step failed, 2 usage, 77 this machine cannot run it (not
# root, no /dev/net/tun, no iperf3, binary not built: the reason is printed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
build=${LWBENCH_BUILD_DIR:-$src/build/release}
out=${1:-$src/results}
seconds=${LWBENCH_IPERF3_SECONDS:-2}
rounds=${LWBENCH_IPERF3_ROUNDS:-2}
cpu=${LWBENCH_CPU:-0}
python=/usr/bin/python3
server_bin=$build/tests/network/lwbench_tap_iperf3_server
port=5201

log() { printf '[iperf3_reference] %s\n' "$*" >&2; }
cannot() { log "cannot run here: $*"; exit 77; }

[[ $# -le 1 ]] || { echo "usage: bench/iperf3_reference.sh [OUT_DIR]" >&2; exit 2; }
[[ $seconds =~ ^[1-9][0-9]?$ ]] || { log "LWBENCH_IPERF3_SECONDS must be 1..99"; exit 2; }
[[ $rounds =~ ^[1-9][0-9]?$ ]] || { log "LWBENCH_IPERF3_ROUNDS must be 1..99"; exit 2; }
[[ $cpu =~ ^[0-9]+$ ]] || { log "LWBENCH_CPU must be a CPU number"; exit 2; }
reason=$("$src/scripts/netns.sh" check) || cannot "$reason"
command -v iperf3 >/dev/null || cannot "iperf3 is not installed (scripts/install-deps.sh installs it)"
[[ -x $server_bin ]] || cannot "$server_bin is not built (cmake --build --preset release --target lwbench_tap_iperf3_server)"

work=$(mktemp -d /tmp/lwbench_iperf3.XXXXXX)
raw=$work/raw
mkdir -p "$raw"
# shellcheck source=bench/reference_link.sh
source "$here/reference_link.sh"

reference_link_up
in_ns "$ns_server" timeout $((rounds * (2 * seconds + 20) * 4 + 300)) \
    iperf3 -s -B "$ref_server_ip" -p "$port" >"$raw/reference_server.log" 2>&1 &
started+=($!)
wait_listening "$ns_server" t "$port"
tap_link_up

# run_iperf3 FILE NAMESPACE SERVER_IP [EXTRA...]: one bounded iperf3 client run, JSON to FILE.
run_iperf3() {
    local file=$1 ns=$2 ip=$3; shift 3
    in_ns "$ns" timeout $((seconds + 60)) iperf3 -c "$ip" -p "$port" -t "$seconds" -J "$@" >"$file" 2>&1 ||
        { log "iperf3 $* against $ip failed: $(tail -5 "$file")"; exit 1; }
}

configs=("reference" "message_passing mailbox" "core_locking inline" "combining combining")
for round in $(seq "$rounds"); do
    mapfile -t order < <(printf '%s\n' "${configs[@]}" | shuf)
    for config in "${order[@]}"; do
        log "round $round/$rounds: $config"
        if [[ $config == reference ]]; then
            run_iperf3 "$raw/forward_reference_r$round.json" "$ns_client" "$ref_server_ip"
            run_iperf3 "$raw/reverse_reference_r$round.json" "$ns_client" "$ref_server_ip" -R
        else
            read -r mode input <<<"$config"
            point=${mode}_${input}
            start_ours "ours_${point}_r$round" $((2 * seconds + 60)) "$server_bin" --mode "$mode" --input-mode "$input"
            run_iperf3 "$raw/forward_${point}_r$round.json" "$ns_tap" "$our_ip"
            run_iperf3 "$raw/reverse_${point}_r$round.json" "$ns_tap" "$our_ip" -R
            stop_ours "ours_${point}_r$round"
        fi
    done
done

log "summarising"
"$python" "$here/iperf3_summary.py" "$raw" "$out" --seconds "$seconds" --rounds "$rounds" --cpu "$cpu"
