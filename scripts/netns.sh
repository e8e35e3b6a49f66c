#!/usr/bin/env bash
# netns.sh — the test topology for the TAP netif (issue 15): one network namespace
# that holds the kernel's side of a persistent TAP device. Every packet stays inside
# that namespace: lwbench opens the TAP from inside it (`netns.sh exec`), and the
# kernel peers (ping, tshark, a UDP client) run there too. Addresses come only from
# 192.0.2.0/24 (TEST-NET-1, RFC 5737).
#
#   netns.sh up   [NS] [IFNAME]   create NS, the TAP IFNAME in it, kernel side 192.0.2.1/24
#   netns.sh down [NS]            stop every process left in NS (dnsmasq, peers), then
#                                 delete NS (and the TAP with it); no error if absent
#   netns.sh exec [NS] -- CMD...  run CMD inside NS
#   netns.sh dhcp-start NS DIR [IFNAME]
#                                 start dnsmasq in NS as the DHCP server on IFNAME: pool
#                                 192.0.2.100–192.0.2.150, 2-minute leases (dnsmasq's
#                                 minimum), authoritative, no DNS; its lease file, pid
#                                 file and log in DIR (DIR/leases, DIR/dnsmasq.pid,
#                                 DIR/dnsmasq.log). The lease file survives a restart.
#   netns.sh dhcp-stop NS DIR     stop that dnsmasq (by its pid file); no error if not running
#   netns.sh check                exit 0 if this machine can make the topology, else
#                                 print the reason on stdout and exit 77
#
# Defaults: NS=lwbench-tap, IFNAME=lwbtap0. `up` tears down what it made if a step
# fails (trap), so a failed `up` leaves nothing behind.
set -euo pipefail

readonly k_kernel_addr=192.0.2.1/24  # the kernel's side; lwbench's stack uses 192.0.2.2
readonly k_dhcp_range=192.0.2.100,192.0.2.150,255.255.255.0,2m  # dnsmasq refuses leases under 2 minutes

usage() {
    echo "usage: netns.sh up [NS] [IFNAME] | down [NS] | exec [NS] -- CMD... | check |" \
         "dhcp-start NS DIR [IFNAME] | dhcp-stop NS DIR" >&2
    exit 2
}

check() {
    if [[ $(id -u) -ne 0 ]]; then echo "needs root (network namespaces and TAP devices)"; return 77; fi
    if [[ ! -c /dev/net/tun ]]; then echo "/dev/net/tun is missing"; return 77; fi
    if ! command -v ip >/dev/null; then echo "the ip command (iproute2) is missing"; return 77; fi
    if ! ip netns list >/dev/null 2>&1; then echo "ip netns does not work here"; return 77; fi
    return 0
}

valid_name() {  # a namespace or interface name: short, no path characters
    [[ $1 =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || { echo "netns.sh: bad name '$1'" >&2; exit 2; }
}

ns_exists() { ip netns list | awk '{print $1}' | grep -qx -- "$1"; }

# Stops the processes running in ns (TERM, then KILL after 5 s): a namespace's
# processes outlive its deletion, and a daemon such as dnsmasq would keep running.
stop_processes() {
    local ns=$1 pids i
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -n $pids ]] || return 0
    kill $pids 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [[ -n $pids ]] || return 0
        sleep 0.1  # bounded: 50 rounds, then KILL
    done
    kill -KILL $pids 2>/dev/null || true
}

down() {
    local ns=$1
    if ns_exists "$ns"; then
        stop_processes "$ns"
        ip netns delete "$ns"  # deletes the TAP inside it too
    fi
}

ipv6_off() {  # our stack speaks IPv4 only: no router/neighbour solicitations to count as drops
    local ns=$1
    if [[ -d /proc/sys/net/ipv6 ]]; then
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    fi
}

alive() {  # alive PID: running (a zombie is not: it only waits to be reaped)
    [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

dhcp_stop() {
    local dir=$1 pid i
    [[ -f $dir/dnsmasq.pid ]] || return 0
    pid=$(<"$dir/dnsmasq.pid")
    rm -f "$dir/dnsmasq.pid"
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        alive "$pid" || return 0
        sleep 0.1  # bounded: 50 rounds, then KILL
    done
    kill -KILL "$pid" 2>/dev/null || true
}

dhcp_start() {
    local ns=$1 dir=$2 ifname=$3
    command -v dnsmasq >/dev/null || { echo "netns.sh: dnsmasq is not installed (dnsmasq-base)" >&2; exit 77; }
    ns_exists "$ns" || { echo "netns.sh: no namespace $ns (netns.sh up $ns first)" >&2; exit 1; }
    [[ -d $dir ]] || { echo "netns.sh: $dir is not a directory" >&2; exit 1; }
    [[ ! -f $dir/dnsmasq.pid ]] || { echo "netns.sh: a dnsmasq already runs for $dir" >&2; exit 1; }
    touch "$dir/leases"
    # Runs as root (--user): the lease file and log live in the caller's private DIR.
    # It daemonises once its sockets are bound, so the server answers when this returns.
    ip netns exec "$ns" dnsmasq --conf-file=/dev/null --port=0 --user=root --group=root \
        --interface="$ifname" --bind-interfaces --except-interface=lo \
        --dhcp-range="$k_dhcp_range" --dhcp-authoritative --no-ping \
        --dhcp-leasefile="$dir/leases" --pid-file="$dir/dnsmasq.pid" \
        --log-dhcp --log-facility="$dir/dnsmasq.log"
}

up() {
    local ns=$1 ifname=$2
    check >&2 || exit 77
    if ip netns list | awk '{print $1}' | grep -qx -- "$ns"; then
        echo "netns.sh: namespace $ns already exists (netns.sh down $ns first)" >&2
        exit 1
    fi
    trap 'down "$ns"' ERR
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ipv6_off "$ns"
    ip -n "$ns" tuntap add dev "$ifname" mode tap
    ip -n "$ns" addr add "$k_kernel_addr" dev "$ifname"
    ip -n "$ns" link set "$ifname" up
    trap - ERR
}

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
case $cmd in
    check) check ;;
    up)
        ns=${1:-lwbench-tap}; ifname=${2:-lwbtap0}
        valid_name "$ns"; valid_name "$ifname"
        up "$ns" "$ifname" ;;
    down)
        ns=${1:-lwbench-tap}; valid_name "$ns"
        down "$ns" ;;
    exec)
        ns=lwbench-tap
        if [[ ${1:-} != -- ]]; then ns=${1:-}; shift || true; fi
        [[ ${1:-} == -- ]] || usage
        shift
        [[ $# -gt 0 ]] || usage
        valid_name "$ns"
        exec ip netns exec "$ns" "$@" ;;
    dhcp-start)
        [[ $# -ge 2 ]] || usage
        ns=$1; dir=$2; ifname=${3:-lwbtap0}
        valid_name "$ns"; valid_name "$ifname"
        dhcp_start "$ns" "$dir" "$ifname" ;;
    dhcp-stop)
        [[ $# -eq 2 ]] || usage
        valid_name "$1"
        dhcp_stop "$2" ;;
    *) usage ;;
esac
