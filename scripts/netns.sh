#!/usr/bin/env bash
# netns.sh — the test topology for the TAP netif (issue 15): one network namespace
# that holds the kernel's side of a persistent TAP device. Every packet stays inside
# that namespace: lwbench opens the TAP from inside it (`netns.sh exec`), and the
# kernel peers (ping, tshark, a UDP client) run there too. Addresses come only from
# 192.0.2.0/24 (TEST-NET-1, RFC 5737).
#
#   netns.sh up   [NS] [IFNAME]   create NS, the TAP IFNAME in it, kernel side 192.0.2.1/24
#   netns.sh down [NS]            delete NS (and the TAP with it); no error if absent
#   netns.sh exec [NS] -- CMD...  run CMD inside NS
#   netns.sh check                exit 0 if this machine can make the topology, else
#                                 print the reason on stdout and exit 77
#
# Defaults: NS=lwbench-tap, IFNAME=lwbtap0. `up` tears down what it made if a step
# fails (trap), so a failed `up` leaves nothing behind.
set -euo pipefail

readonly k_kernel_addr=192.0.2.1/24  # the kernel's side; lwbench's stack uses 192.0.2.2

usage() {
    echo "usage: netns.sh up [NS] [IFNAME] | down [NS] | exec [NS] -- CMD... | check" >&2
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

down() {
    local ns=$1
    if ip netns list | awk '{print $1}' | grep -qx -- "$ns"; then
        ip netns delete "$ns"  # deletes the TAP inside it too
    fi
}

ipv6_off() {  # our stack speaks IPv4 only: no router/neighbour solicitations to count as drops
    local ns=$1
    if [[ -d /proc/sys/net/ipv6 ]]; then
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    fi
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
    *) usage ;;
esac
