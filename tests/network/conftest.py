"""Fixtures for the real-wire tests (issue 15): the namespace topology made by
scripts/netns.sh, and lwbench's stack on the TAP (the lwbench_tap_udp_echo helper).

Everything is bounded: every subprocess has a timeout, the helper stops by itself
after --seconds, and the namespace is deleted in the fixture's finally, whatever
happened. Where the machine cannot make the topology (not root, no /dev/net/tun, no
`ip netns`) or a peer tool is missing, the tests are skipped with that reason —
unless LWBENCH_REQUIRE_NETWORK=1 (CI, scripts/test.sh as root), which turns every
such skip into a failure, so CI can never pass them silently.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NETNS = REPO / "scripts" / "netns.sh"
OUR_IP = "192.0.2.2"  # lwbench's stack; the kernel's side is 192.0.2.1 (scripts/netns.sh)
IFNAME = "lwbtap0"
# How long the helper may take to come up, and to stop and report (sanitizer builds are slow).
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0

_ns_counter = itertools.count()


def skip_or_fail(reason: str) -> None:
    """Skips with the reason; fails instead where the network tests are required (CI)."""
    if os.environ.get("LWBENCH_REQUIRE_NETWORK") == "1":
        pytest.fail(f"network tests are required here but: {reason}")
    pytest.skip(reason)


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        skip_or_fail(f"{name} is not installed (scripts/install-deps.sh installs it)")
    return path


def build_dir() -> Path:
    return Path(os.environ.get("LWBENCH_BUILD_DIR", REPO / "build" / "release"))


def built(relative: str) -> Path:
    """A program of the build tree (LWBENCH_BUILD_DIR, default build/release); skips if not built."""
    binary = build_dir() / relative
    if not binary.exists():
        skip_or_fail(f"{binary} is not built (cmake --build --preset release --target {binary.name})")
    return binary


@pytest.fixture(scope="session")
def echo_binary() -> Path:
    return built("tests/network/lwbench_tap_udp_echo")


@pytest.fixture(scope="session")
def lwbench_binary() -> Path:
    return built("harness/lwbench")


@dataclass
class Topology:
    """One namespace holding the kernel's side of the TAP."""

    ns: str
    ifname: str = IFNAME

    def exec(self, *cmd: str, timeout: float, check: bool = True, **kw) -> subprocess.CompletedProcess:
        """Runs cmd inside the namespace, bounded by timeout (seconds)."""
        return subprocess.run(
            [str(NETNS), "exec", self.ns, "--", *cmd], timeout=timeout, check=check, text=True, capture_output=True, **kw
        )

    def popen(self, *cmd: str, text: bool = True, **kw) -> subprocess.Popen:
        return subprocess.Popen([str(NETNS), "exec", self.ns, "--", *cmd], text=text, **kw)


@pytest.fixture
def topology() -> Topology:
    check = subprocess.run([str(NETNS), "check"], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        skip_or_fail(f"cannot make the test topology: {check.stdout.strip() or check.stderr.strip()}")
    topo = Topology(ns=f"lwbt-{os.getpid() % 100000}-{next(_ns_counter)}")
    subprocess.run([str(NETNS), "up", topo.ns, topo.ifname], check=True, timeout=60)
    try:
        yield topo
    finally:
        subprocess.run([str(NETNS), "down", topo.ns], check=False, timeout=60)


def sockperf_ping_pong(topology: "Topology", seconds: int = 2) -> tuple[str, int, int]:
    """A bounded sockperf ping-pong (-t seconds) from the kernel's side against our stack
    (which must answer as a sockperf server: EchoServer(reply="sockperf")). Asserts it
    completed; returns its output and the messages it sent and received."""
    sockperf = need_tool("sockperf")
    done = topology.exec(sockperf, "ping-pong", "-i", OUR_IP, "-p", "7", "-t", str(seconds), "-m", "64",
                         timeout=60 + seconds, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    counts = re.search(r"SentMessages=(\d+); ReceivedMessages=(\d+)", done.stdout)
    assert counts, done.stdout
    return done.stdout, int(counts[1]), int(counts[2])


class HelperProcess:
    """One of the helper programs of tests/network running in the namespace: it prints
    "ready" once up, stops when its stdin is closed, and prints its final report as the
    last line of stdout (JSON); `final` holds that report once stopped. Every wait is
    bounded."""

    name = "helper"

    def __init__(self, topo: Topology, *argv: str):
        self.final: dict | None = None
        self._proc = topo.popen(*argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.read_line(READY_TIMEOUT_S)
        if line != "ready":
            self._proc.kill()
            _, err = self._proc.communicate(timeout=STOP_TIMEOUT_S)
            pytest.fail(f"{self.name} did not come up (first line {line!r}): {err}")

    def read_line(self, timeout: float) -> str:
        """The next line of stdout, stripped; "" if none came within timeout (or it ended)."""
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        return self._proc.stdout.readline().strip() if ready else ""

    def stop(self) -> dict:
        if self.final is None:
            try:
                out, err = self._proc.communicate(input="", timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.communicate(timeout=STOP_TIMEOUT_S)
                pytest.fail(f"{self.name} did not stop within its bound")
            assert self._proc.returncode == 0, f"{self.name} exited {self._proc.returncode}: {err}"
            self.final = json.loads(out.strip().splitlines()[-1])
        return self.final

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class EchoServer(HelperProcess):
    """lwbench's stack on the TAP at OUR_IP (lwbench_tap_udp_echo); `report` holds its
    final counters once stopped."""

    name = "lwbench_tap_udp_echo"

    def __init__(self, topo: Topology, binary: Path, threading: str, input_mode: str, seconds: float = 120,
                 reply: str = "echo", extra: tuple[str, ...] = ()):
        super().__init__(topo, str(binary), "--ifname", topo.ifname, "--ip", OUR_IP, "--threading", threading,
                         "--input", input_mode, "--seconds", str(seconds), "--reply", reply, *extra)

    @property
    def report(self) -> dict | None:
        return self.final


def tshark_frames(tshark: str, capture: Path, display_filter: str) -> list[str]:
    """The frames of `capture` matching display_filter (number and summary), with IPv4,
    UDP and TCP checksum verification on, so `ip.checksum.status == 0` finds bad ones."""
    done = subprocess.run(
        [tshark, "-n", "-r", str(capture), "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
         "-o", "tcp.check_checksum:TRUE", "-Y", display_filter, "-T", "fields", "-e", "frame.number",
         "-e", "_ws.col.Info"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return [line for line in done.stdout.splitlines() if line.strip()]


# Frames a capture must not hold: malformed ones, errors of a dissector, bad checksums.
BAD_FRAMES = ("_ws.malformed || _ws.expert.severity == error || ip.checksum.status == 0 || "
              "udp.checksum.status == 0 || icmp.checksum.status == 0 || tcp.checksum.status == 0")


class KernelCapture:
    """tshark on the kernel's side of the TAP, writing `path` (pcapng). It stops by
    itself after 120 s at most; normally stop() ends it with SIGINT. Every wait is
    bounded."""

    def __init__(self, topology: "Topology", tshark: str, path: Path):
        self.tshark, self.path = tshark, path
        self._proc = topology.popen(tshark, "-n", "-i", topology.ifname, "-a", "duration:120", "-w", str(path),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def count(self, display_filter: str) -> int:
        """Frames matching display_filter in the capture so far (its last block may be
        half written: tshark then complains, and what it did read still counts)."""
        if not self.path.exists():
            return 0
        done = subprocess.run([self.tshark, "-n", "-r", str(self.path), "-Y", display_filter, "-T", "fields",
                               "-e", "frame.number"], capture_output=True, text=True, timeout=120)
        return sum(1 for line in done.stdout.splitlines() if line.strip())

    def wait_for(self, display_filter: str, count: int, seconds: float, between=lambda: None) -> bool:
        """Bounded polling of the capture file until `count` frames match; calls
        `between` after each poll that found too few (e.g. to send another probe)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.count(display_filter) >= count:
                return True
            between()
            time.sleep(0.2)  # pacing between polls of the file; the condition decides
        return False

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
        self._proc.communicate(timeout=60)

    def frames(self, display_filter: str) -> list[str]:
        return tshark_frames(self.tshark, self.path, display_filter)


# The drops a healthy run may show: the kernel's IPv6 traffic (router and neighbour
# solicitations to 33:33:… multicast MACs, which we neither join nor speak).
EXPECTED_DROPS = {"eth_not_for_us", "eth_unknown_type"}

CONFIGS = [
    ("core_locking", "inline"),
    ("core_locking", "mailbox"),
    ("message_passing", "mailbox"),
    ("message_passing", "inline"),
]
