"""The measurement side of the real wire (issue 15): `lwbench run --netif tap` against the
kernel in a namespace, the sockperf reference script (veth pair + TAP), and a live
threading-mode switch under sockperf. Behaviour and counts only: no timing assertion.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import NETNS, REPO, EchoServer, build_dir, need_tool, skip_or_fail, sockperf_ping_pong
from test_tap_wire import unexpected_drops

SCRIPT = REPO / "bench" / "sockperf_reference.sh"
TAP_SCENARIOS = ("round_trip", "throughput", "delivery_latency")
MODES = {("message_passing", "mailbox"), ("message_passing", "inline"), ("core_locking", "mailbox"),
         ("core_locking", "inline")}


def lwbench_namespaces() -> set[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True, timeout=30).stdout
    return {line.split()[0] for line in listed.splitlines() if line.strip()}


def need_topology_tools() -> None:
    check = subprocess.run([str(NETNS), "check"], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        skip_or_fail(f"cannot make the test topology: {check.stdout.strip()}")


def test_lwbench_run_tap_gives_a_record_per_mode(topology, lwbench_binary, tmp_path):
    """Every threading mode x input mode, each TAP scenario: one record with netif = tap,
    every datagram of the paced scenarios answered, the counters there or marked not
    available (never a bare 0)."""
    done = subprocess.run(
        [str(lwbench_binary), "run", "--netif", "tap", "--netns", topology.ns, "--scenario", ",".join(TAP_SCENARIOS),
         "--api", "socket", "--mode", "message_passing,core_locking", "--input-mode", "mailbox,inline",
         "--size", "64", "--repetitions", "1", "--ops", "200", "--warmup", "20", "--pinning", "none",
         "--format", "json", "--out-dir", str(tmp_path), "--quiet"],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    records = doc["records"]
    assert {(r["scenario"], r["threading_mode"], r["input_mode"]) for r in records} == {
        (s, m, i) for s in TAP_SCENARIOS for m, i in MODES}
    for r in records:
        assert r["netif"] == "tap", r
        assert r["errors"] == 0, r
        assert r["latency_ns"]["count"] > 0, r
        counts = r["stack_counts"]
        if r["scenario"] != "throughput":  # paced: one datagram in flight, none may go missing
            visits = r["repetitions"] + r["counted_repetitions"]  # each sends warm-up + ops datagrams
            assert counts["received"] == counts["sent"] == 220 * visits, r
        assert counts["received"] > 0
        switches = r["counters"]["context_switches"]
        assert switches["per_op"] is not None or switches["status"].startswith("not available"), switches
    written = list(tmp_path.glob("*.json"))
    assert len(written) == 1 and json.loads(written[0].read_text())["records"][0]["netif"] == "tap"


def test_lwbench_run_tap_under_sched_fifo(topology, lwbench_binary, tmp_path):
    """--sched fifo applies to the TAP points as to the loopback ones: our application
    threads and the driver thread (it inherits the opener's policy) run under SCHED_FIFO,
    the record says so, and every datagram is answered."""
    done = subprocess.run(
        [str(lwbench_binary), "run", "--netif", "tap", "--netns", topology.ns, "--scenario", "round_trip,throughput",
         "--api", "socket", "--mode", "message_passing,core_locking", "--sched", "fifo", "--size", "64",
         "--repetitions", "1", "--ops", "200", "--warmup", "20", "--pinning", "same_core",
         "--format", "json", "--out-dir", str(tmp_path), "--quiet"],
        capture_output=True, text=True, timeout=600)
    if done.returncode == 2 and "SCHED_FIFO" in done.stderr:
        skip_or_fail(f"this process may not use SCHED_FIFO: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)["records"]
    assert {(r["scenario"], r["threading_mode"]) for r in records} == {
        (s, m) for s in ("round_trip", "throughput") for m in ("message_passing", "core_locking")}
    for r in records:
        assert r["sched_policy"] == "fifo" and r["netif"] == "tap" and r["errors"] == 0, r
        if r["scenario"] == "round_trip":
            visits = r["repetitions"] + r["counted_repetitions"]
            assert r["stack_counts"]["received"] == 220 * visits, r


def test_lwbench_run_tap_without_the_namespace_is_a_usage_error(lwbench_binary):
    done = subprocess.run(
        [str(lwbench_binary), "run", "--netif", "tap", "--netns", "lwbt-missing", "--scenario", "round_trip",
         "--no-save", "--quiet"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "--netif tap:" in done.stderr
    if os.geteuid() == 0:
        assert "scripts/netns.sh up" in done.stderr, done.stderr


def test_lwbench_run_tap_refuses_loopback_only_scenarios(lwbench_binary):
    done = subprocess.run([str(lwbench_binary), "run", "--netif", "tap", "--scenario", "send_latency", "--no-save"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "runs on the loopback only" in done.stderr


@pytest.mark.parametrize("threading,input_mode", [("core_locking", "inline"), ("message_passing", "mailbox")])
def test_live_mode_switch_under_sockperf(topology, echo_binary, threading, input_mode):
    """sockperf ping-pong while the stack switches its threading mode (and its paired input
    mode) every 50 ms: the switches happen, and nothing is lost beyond what is counted."""
    need_tool("sockperf")
    with EchoServer(topology, echo_binary, threading, input_mode, reply="sockperf",
                    extra=("--switch-every", "50")) as server:
        output, sent, received = sockperf_ping_pong(topology)
    report = server.report
    assert report["mode_switches"] >= 2, report
    assert received > 0
    counted = sum(unexpected_drops(report).values())
    assert sent - received <= 1 + counted, (output, report)  # the last one may be in flight at the end
    assert counted == 0, report
    assert report["echoed"] >= received


def run_reference_script(out: Path, build: Path, seconds: str = "1") -> subprocess.CompletedProcess:
    env = {**os.environ, "LWBENCH_BUILD_DIR": str(build), "LWBENCH_SOCKPERF_SECONDS": seconds,
           "LWBENCH_SOCKPERF_ROUNDS": "1"}
    return subprocess.run(["bash", str(SCRIPT), str(out)], capture_output=True, text=True, timeout=600, env=env)


def test_sockperf_reference_script_measures_both_links_and_cleans_up(echo_binary, tmp_path):
    need_topology_tools()
    need_tool("sockperf")
    before = lwbench_namespaces()
    done = run_reference_script(tmp_path, build_dir())
    assert done.returncode == 0, done.stderr[-3000:]
    assert lwbench_namespaces() == before, "the script left namespaces behind"
    (folder,) = [p for p in tmp_path.iterdir() if p.name.endswith("_sockperf")]
    doc = json.loads((folder / "sockperf.json").read_text())
    assert set(doc["points"]) == {"reference", "core_locking_inline", "core_locking_mailbox",
                                  "message_passing_mailbox", "message_passing_inline"}
    for name, point in doc["points"].items():
        assert point["received"] > 0, name
        assert point["p50_us"]["median"] is not None, name
    assert doc["ratio"]["p50_us"] is not None and doc["ratio"]["target"] == 1.5
    assert set(doc["throughput"]) == {"reference", "core_locking_inline"}
    assert doc["throughput"]["core_locking_inline"]["our_udp_received"] > 0
    live = doc["live_switch"]
    assert live["mode_switches"] >= 1
    assert live["lost"] <= 1 + sum(live["our_drops"].values()), live
    assert (folder / "sockperf.md").read_text().startswith("# sockperf")


def test_sockperf_reference_script_tears_down_after_a_failure(tmp_path):
    """Our echo server fails to start (a stand-in that exits 1) after the namespaces and
    the veth pair exist: the script fails, and nothing of its topology is left."""
    need_topology_tools()
    need_tool("sockperf")
    fake = tmp_path / "build" / "tests" / "network" / "lwbench_tap_udp_echo"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\necho 'stand-in: failing on purpose' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    before = lwbench_namespaces()
    done = run_reference_script(tmp_path / "out", tmp_path / "build")
    assert done.returncode == 1, done.stderr[-3000:]
    assert "did not come up" in done.stderr
    assert lwbench_namespaces() == before, "the script left namespaces behind after a failure"
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True, timeout=30).stdout
    assert "lwbv-" not in links, links
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
