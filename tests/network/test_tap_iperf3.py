"""iperf3, a client no one here wrote, against lwbench's TCP over the TAP (issue 15).

The kernel's iperf3 client in the namespace runs bounded tests (-t 1) against
lwbench_tap_iperf3_server (our socket API over our TCP) in each threading mode with
its paired input mode: the client sends (forward) and, with -R, our stack sends
(reverse); also while the threading mode switches live, and with options we refuse.
tshark on the kernel's side of the TAP validates every frame of a paced run. Behaviour
and counts only: the bit rates iperf3 prints are bench/iperf3_reference.sh's business.

Byte counts. Forward, our server reads until it holds every byte the client says it
sent (the client's results arrive first), so iperf3's sender and receiver counts are
equal. Reverse, they cannot be: the client stops reading when its clock ends the test,
while our last blocks are still in flight; iperf3 reports our count as sent and its own
as received, and the test checks received <= sent.

Drops. Besides the kernel's IPv6 chatter, our stack may refuse segments outside its
window: the kernel's retransmissions (tail loss probes when our delayed ACK is late)
and its zero-window probes. Each such drop must be matched by one the kernel's own
counters of the namespace report (kernel_duplicates_sent); any other drop fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import BAD_FRAMES, OUR_IP, HelperProcess, KernelCapture, Topology, built, need_tool
from test_tap_wire import ping, unexpected_drops

SECONDS = 1  # per iperf3 run (its -t)
CAPTURE_RATE = "10M"  # bits/s while tshark captures: about 1.3 MB (900 data frames) per direction
MODES = [("message_passing", "mailbox"), ("core_locking", "inline"), ("combining", "combining")]


@pytest.fixture(scope="session")
def iperf3_server_binary() -> Path:
    return built("tests/network/lwbench_tap_iperf3_server")


class Iperf3Server(HelperProcess):
    """lwbench's stack on the TAP at OUR_IP as an iperf3 server (port 5201); `final`
    holds its report once stopped: one record per test, counters, drops."""

    name = "lwbench_tap_iperf3_server"

    def __init__(self, topo: Topology, binary: Path, threading: str, input_mode: str, extra: tuple[str, ...] = ()):
        super().__init__(topo, str(binary), "--ifname", topo.ifname, "--ip", OUR_IP, "--mode", threading,
                         "--input-mode", input_mode, "--seconds", "120", *extra)


def iperf3(topology: Topology, *extra: str, expect_ok: bool = True) -> dict:
    """One bounded iperf3 client run (-t SECONDS, JSON output) against our stack."""
    client = need_tool("iperf3")
    done = topology.exec(client, "-c", OUR_IP, "-t", str(SECONDS), "-J", *extra, timeout=60 + SECONDS, check=False)
    result = json.loads(done.stdout)
    if expect_ok:
        assert done.returncode == 0 and "error" not in result, done.stdout[-3000:] + done.stderr
    return result


def kernel_duplicates_sent(topology: Topology) -> int:
    """TCP segments the kernel's side of the namespace sent so far that our stack may
    rightly refuse as outside its window: retransmissions (RetransSegs, tail loss probes
    included) and zero-window probes (TCPWinProbe: Linux probes with a byte we already
    acknowledged). Counters of the namespace, /proc/net/snmp and /proc/net/netstat."""
    def counter(path: str, prefix: str, name: str) -> int:
        lines = [line.split() for line in topology.exec("cat", path, timeout=30).stdout.splitlines()
                 if line.startswith(prefix)]
        header, values = lines[0], lines[1]
        return int(values[header.index(name)])

    return counter("/proc/net/snmp", "Tcp:", "RetransSegs") + counter("/proc/net/netstat", "TcpExt:", "TCPWinProbe")


def unexplained_drops(report: dict, duplicates: int) -> dict:
    """Our drops beyond the kernel's IPv6 chatter (unexpected_drops) and beyond the
    segments it sent that we rightly refused as outside our window (tcp_unacceptable:
    acknowledged again and dropped), at most `duplicates` (kernel_duplicates_sent)."""
    drops = unexpected_drops(report)
    if drops.get("tcp_unacceptable", 0) <= duplicates:
        drops.pop("tcp_unacceptable", None)
    return drops


def check_forward(result: dict, record: dict) -> None:
    """The client sent; every byte it counted, our server received, and iperf3 says so."""
    end = result["end"]
    assert result["start"]["test_start"]["reverse"] == 0
    assert end["sum_sent"]["bytes"] > 0
    assert end["sum_received"]["bytes"] == end["sum_sent"]["bytes"], end
    assert record["outcome"] == "completed" and not record["reverse"], record
    assert record["bytes"] == record["client_bytes"] == [end["sum_sent"]["bytes"]], record
    assert record["iperf_done"], record


def check_reverse(result: dict, record: dict) -> None:
    """Our stack sent; the client received part of it (what was in flight when its clock
    stopped it is not counted on its side) and iperf3 reports our count as sent."""
    end = result["end"]
    assert result["start"]["test_start"]["reverse"] == 1
    assert 0 < end["sum_received"]["bytes"] <= end["sum_sent"]["bytes"], end
    assert record["outcome"] == "completed" and record["reverse"], record
    assert record["bytes"] == [end["sum_sent"]["bytes"]], record
    assert record["client_bytes"] == [end["sum_received"]["bytes"]], record
    assert record["iperf_done"], record


@pytest.mark.parametrize("threading,input_mode", MODES)
def test_iperf3_both_directions_over_our_tcp(topology, iperf3_server_binary, threading, input_mode):
    """Full speed, each direction: iperf3 completes, and the byte counts agree."""
    with Iperf3Server(topology, iperf3_server_binary, threading, input_mode) as server:
        forward = iperf3(topology)
        reverse = iperf3(topology, "-R")
    report = server.final
    assert [t["outcome"] for t in report["tests"]] == ["completed", "completed"], report["tests"]
    check_forward(forward, report["tests"][0])
    check_reverse(reverse, report["tests"][1])
    assert unexplained_drops(report, kernel_duplicates_sent(topology)) == {}, report["drops"]


def test_tshark_finds_every_iperf3_frame_well_formed(topology, iperf3_server_binary, tmp_path):
    """Both directions captured on the kernel's side of the TAP, every frame checked
    (TCP checksums included). Paced to CAPTURE_RATE (-b: the client paces what it sends,
    our server what it sends with -R), so the capture stays small enough to read back
    within the test's time; full speed is the other tests' business."""
    tshark = need_tool("tshark")
    server = Iperf3Server(topology, iperf3_server_binary, "core_locking", "inline")
    capture = KernelCapture(topology, tshark, tmp_path / "iperf3.pcapng")
    try:
        # tshark is not capturing yet when it starts: ping (bounded) until a reply is in the file.
        assert capture.wait_for("icmp.type == 0", 1, 60, between=lambda: ping(topology, 1)), "tshark captured nothing"
        forward = iperf3(topology, "-b", CAPTURE_RATE)
        reverse = iperf3(topology, "-b", CAPTURE_RATE, "-R")
        # A marker after the tests: once its replies are in the file, so is every frame before them.
        replies = capture.count("icmp.type == 0")
        assert capture.wait_for("icmp.type == 0", replies + 2, 30, between=lambda: ping(topology, 1)), \
            "the capture file stopped growing"
    finally:
        report = server.stop()
        capture.stop()
    check_forward(forward, report["tests"][0])
    check_reverse(reverse, report["tests"][1])
    assert unexplained_drops(report, kernel_duplicates_sent(topology)) == {}, report["drops"]
    ours = capture.frames(f"tcp.srcport == 5201 && ip.src == {OUR_IP} && tcp.len > 0")
    theirs = capture.frames(f"tcp.dstport == 5201 && ip.dst == {OUR_IP} && tcp.len > 0")
    assert len(ours) > 100 and len(theirs) > 100, (len(ours), len(theirs))  # both directions' data
    bad = capture.frames(BAD_FRAMES)
    assert bad == [], f"malformed frames or bad checksums: {bad[:20]}"


def test_iperf3_while_the_threading_mode_switches_live(topology, iperf3_server_binary):
    """Both directions while our stack switches its threading mode (and the paired input
    mode) every 50 ms: the switches happen and no byte goes missing."""
    with Iperf3Server(topology, iperf3_server_binary, "core_locking", "inline", extra=("--switch-every", "50")) as server:
        forward = iperf3(topology)
        reverse = iperf3(topology, "-R")
    report = server.final
    assert report["mode_switches"] >= 2 * SECONDS, report
    check_forward(forward, report["tests"][0])
    check_reverse(reverse, report["tests"][1])
    assert unexplained_drops(report, kernel_duplicates_sent(topology)) == {}, report["drops"]


def test_iperf3_options_we_do_not_implement_are_refused_clearly(topology, iperf3_server_binary):
    """UDP and --bidir get iperf3's "not implemented" error (the client says so and
    exits 1); the server records why and serves the next test as usual."""
    with Iperf3Server(topology, iperf3_server_binary, "message_passing", "mailbox") as server:
        udp = iperf3(topology, "-u", expect_ok=False)
        bidir = iperf3(topology, "--bidir", expect_ok=False)
        forward = iperf3(topology)
    report = server.final
    for refused in (udp, bidir):
        assert "not implemented" in refused.get("error", ""), refused.get("error")
    assert [t["outcome"] for t in report["tests"]] == ["refused", "refused", "completed"], report["tests"]
    assert "udp" in report["tests"][0]["reason"] and "bidirectional" in report["tests"][1]["reason"]
    check_forward(forward, report["tests"][2])
    assert unexplained_drops(report, kernel_duplicates_sent(topology)) == {}, report["drops"]
