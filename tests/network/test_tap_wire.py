"""lwbench's stack on a real wire: the Linux kernel in a network namespace is the peer
(issue 15). ping and a UDP client on the kernel's side, tshark validating every frame
on the kernel's side of the TAP; each in both threading modes and both input modes,
so the driver's receive thread delivers through the mailbox and inline under the core.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import (BAD_FRAMES, CONFIGS, EXPECTED_DROPS, NETNS, OUR_IP, EchoServer, KernelCapture, need_tool,
                      sockperf_ping_pong)

HERE = Path(__file__).resolve().parent
PINGS = 5
DATAGRAMS = 40


def unexpected_drops(report: dict) -> dict:
    return {k: v for k, v in report["drops"].items() if k not in EXPECTED_DROPS}


def ping(topology, count: int = PINGS) -> subprocess.CompletedProcess:
    need_tool("ping")
    # -w: a deadline for the whole run; -W: per reply. Bounded in count and time.
    return topology.exec("ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", "-w", "20", OUR_IP,
                         timeout=40, check=False)


def udp_round_trips(topology, count: int = DATAGRAMS) -> dict:
    done = topology.exec("/usr/bin/python3", str(HERE / "udp_client.py"), OUR_IP, "7", str(count), timeout=count * 7 + 30)
    return json.loads(done.stdout)


def test_netns_script_makes_and_removes_the_topology(topology):
    addrs = topology.exec("ip", "-o", "-4", "addr", "show", timeout=30).stdout
    assert re.search(rf"\b{topology.ifname}\s+inet 192\.0\.2\.1/24\b", addrs), addrs
    # Only TEST-NET-1 and loopback addresses inside the namespace.
    assert set(re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", addrs)) == {"127.0.0.1", "192.0.2.1"}
    again = subprocess.run([str(NETNS), "up", topology.ns, topology.ifname], capture_output=True, text=True, timeout=30)
    assert again.returncode != 0 and "already exists" in again.stderr
    bad = subprocess.run([str(NETNS), "up", "../etc"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "bad name" in bad.stderr


def test_netns_script_down_is_idempotent_and_cleans_up():
    check = subprocess.run([str(NETNS), "check"], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        from conftest import skip_or_fail

        skip_or_fail(f"cannot make the test topology: {check.stdout.strip()}")
    ns = "lwbt-idem"
    subprocess.run([str(NETNS), "down", ns], check=True, timeout=30)
    subprocess.run([str(NETNS), "up", ns, "lwbtap0"], check=True, timeout=30)
    subprocess.run([str(NETNS), "down", ns], check=True, timeout=30)
    subprocess.run([str(NETNS), "down", ns], check=True, timeout=30)  # again: nothing to do, no error
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True, timeout=30).stdout
    assert ns not in listed.split()


@pytest.mark.parametrize("threading,input_mode", CONFIGS)
def test_kernel_pings_our_stack(topology, echo_binary, threading, input_mode):
    with EchoServer(topology, echo_binary, threading, input_mode) as server:
        done = ping(topology)
    report = server.report
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{PINGS} packets transmitted, {PINGS} received" in done.stdout, done.stdout
    assert report["icmp_xmit"] >= PINGS
    assert report["arp_xmit"] >= 2  # the gratuitous announcement and the reply to the kernel's request
    assert unexpected_drops(report) == {}


@pytest.mark.parametrize("threading,input_mode", CONFIGS)
def test_our_stack_echoes_the_kernels_udp(topology, echo_binary, threading, input_mode):
    with EchoServer(topology, echo_binary, threading, input_mode) as server:
        result = udp_round_trips(topology)
    report = server.report
    assert result == {**result, "echoed": DATAGRAMS, "lost": 0, "wrong": 0}, result
    assert report["echoed"] == DATAGRAMS
    assert unexpected_drops(report) == {}


@pytest.mark.parametrize("threading,input_mode", CONFIGS)
def test_sockperf_ping_pong_against_our_stack(topology, echo_binary, threading, input_mode):
    """sockperf, a client no one here wrote, runs a bounded ping-pong (-t) against our
    stack. Behaviour only: it completes and every answer arrives; the latency it prints
    is a benchmark's business, not a test's."""
    need_tool("sockperf")
    with EchoServer(topology, echo_binary, threading, input_mode, reply="sockperf") as server:
        output, sent, received = sockperf_ping_pong(topology)
    report = server.report
    assert received > 0 and sent - received <= 1, output  # the last one may be in flight at the end
    assert "Summary: Latency is" in output
    assert report["echoed"] >= received
    assert unexpected_drops(report) == {}


def test_tshark_finds_every_frame_well_formed(topology, echo_binary, tmp_path):
    tshark = need_tool("tshark")
    server = EchoServer(topology, echo_binary, "core_locking", "inline")
    capture = KernelCapture(topology, tshark, tmp_path / "tap.pcapng")
    try:
        # tshark is not capturing yet when it starts: ping (bounded) until a reply is
        # in the file, then start from a cold neighbour cache so the kernel's ARP
        # request and our reply are captured too.
        assert capture.wait_for("icmp.type == 0", 1, 60, between=lambda: ping(topology, 1)), "tshark captured nothing"
        topology.exec("ip", "neigh", "flush", "dev", topology.ifname, timeout=30)
        assert ping(topology, 3).returncode == 0
        assert udp_round_trips(topology, 10)["echoed"] == 10
        # Stop only once all 20 UDP frames are in the file (bounded): SIGINT earlier
        # would lose what the capture process had not written yet.
        assert capture.wait_for("udp", 20, 30), "the UDP frames never reached the capture file"
    finally:
        report = server.stop()
        capture.stop()
    assert unexpected_drops(report) == {}

    everything = capture.frames("frame")
    assert len(everything) >= 3 * 2 + 10 * 2 + 2, everything  # pings, echoes, and ARP both ways
    assert capture.frames("arp.opcode == 2 && arp.src.proto_ipv4 == 192.0.2.2"), "our ARP reply is missing"
    assert len(capture.frames("icmp.type == 0 && ip.src == 192.0.2.2")) >= 3  # and the probes
    assert len(capture.frames("udp.srcport == 7 && ip.src == 192.0.2.2")) == 10
    bad = capture.frames(BAD_FRAMES)
    assert bad == [], f"malformed frames or bad checksums: {bad}"
