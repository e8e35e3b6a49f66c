# shellcheck shell=bash disable=SC2154  # src, work, raw, cpu, log: set by the sourcing script
# reference_link.sh — sourced (not run) by the real-wire benchmarks
# (bench/sockperf_reference.sh, bench/iperf3_reference.sh): the two links they compare
# and their teardown, in one place.
#
#   reference   namespaces lwbref-s-PID (192.0.2.9, the kernel's own server) and
#               lwbref-c-PID (192.0.2.10, the client), joined by a veth pair: one
#               kernel-made virtual Ethernet hop;
#   ours        namespace lwbref-t-PID made by scripts/netns.sh: the kernel's side of
#               the TAP at 192.0.2.1 (the client), one of lwbench's helper programs at
#               192.0.2.2 on the TAP.
#
# The sourcing script sets, before sourcing: src (the repository), work (a private
# folder, removed at exit), raw (where outputs go), cpu (the CPU every process is
# pinned to), log (a function printing progress). It gets: the names below, in_ns, reference_link_up,
# tap_link_up, wait_listening, start_ours, stop_ours, and an EXIT trap that kills the
# processes it started (by PID) and deletes the namespaces (the veth and the TAP go
# with them), also after a failure or Ctrl-C.

readonly ns_server=lwbref-s-$$ ns_client=lwbref-c-$$ ns_tap=lwbref-t-$$
readonly veth_server=lwbv-s-$$ veth_client=lwbv-c-$$
readonly ref_server_ip=192.0.2.9 ref_client_ip=192.0.2.10 our_ip=192.0.2.2
readonly netns_sh=$src/scripts/netns.sh
started=()  # PIDs of the background processes started through this file

reference_link_cleanup() {
    local status=$?
    set +e
    for pid in "${started[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${started[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "$ns_server" "$ns_client" "$ns_tap"; do
        ip netns list | awk '{print $1}' | grep -qx -- "$ns" && ip netns delete "$ns"
    done
    rm -rf "$work"
    exit "$status"
}
trap reference_link_cleanup EXIT
trap 'exit 130' INT TERM

# in_ns NS CMD...: CMD inside NS, pinned to $cpu.
in_ns() { local ns=$1; shift; ip netns exec "$ns" taskset -c "$cpu" "$@"; }

reference_link_up() {
    log "reference: $ns_server ($ref_server_ip) <-veth-> $ns_client ($ref_client_ip)"
    ip netns add "$ns_server"
    ip netns add "$ns_client"
    ip link add "$veth_server" type veth peer name "$veth_client"
    ip link set "$veth_server" netns "$ns_server"
    ip link set "$veth_client" netns "$ns_client"
    local side ns dev addr
    for side in "$ns_server $veth_server $ref_server_ip" "$ns_client $veth_client $ref_client_ip"; do
        read -r ns dev addr <<<"$side"
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$addr/24" dev "$dev"
        ip -n "$ns" link set "$dev" up
    done
}

tap_link_up() {
    log "ours: $ns_tap (kernel 192.0.2.1) <-TAP-> lwbench ($our_ip)"
    "$netns_sh" up "$ns_tap" lwbtap0
}

# wait_listening NS t|u PORT: waits (bounded, ~10 s) until a TCP (t) or UDP (u) socket
# listens on PORT in NS; fails the script otherwise.
wait_listening() {
    local ns=$1 proto=$2 port=$3
    for _ in $(seq 100); do
        ip netns exec "$ns" ss -Hnl"$proto" "sport = :$port" | grep -q . && return 0
        sleep 0.1  # bounded: 100 rounds
    done
    log "no server listens on port $port in $ns"
    exit 1
}

# start_ours NAME SECONDS BINARY ARGS...: runs BINARY (one of tests/network's helper
# programs) in the TAP namespace at $our_ip for at most SECONDS, until its stdin (a
# FIFO held open by fd 8) closes; its report goes to $raw/NAME.json. Waits (bounded)
# for its "ready".
start_ours() {
    local name=$1 seconds=$2 binary=$3; shift 3
    rm -f "$work/stdin"
    mkfifo "$work/stdin"
    in_ns "$ns_tap" timeout $((seconds + 30)) "$binary" --ifname lwbtap0 --ip "$our_ip" --seconds "$seconds" "$@" \
        <"$work/stdin" >"$raw/$name.json" 2>"$raw/$name.stderr" &
    ours_pid=$!
    started+=("$ours_pid")
    exec 8>"$work/stdin"
    for _ in $(seq 300); do  # bounded: at most ~30 s
        grep -qx ready "$raw/$name.json" 2>/dev/null && return 0
        kill -0 "$ours_pid" 2>/dev/null || break
        sleep 0.1
    done
    log "$(basename "$binary") ($name) did not come up: $(cat "$raw/$name.stderr")"
    exit 1
}

# stop_ours NAME: closes its stdin and waits for its report.
stop_ours() {
    exec 8>&-
    wait "$ours_pid" || { log "our server ($1) exited with an error: $(cat "$raw/$1.stderr")"; exit 1; }
}
