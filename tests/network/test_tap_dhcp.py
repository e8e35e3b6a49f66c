"""Our stack's DHCP client against dnsmasq on the kernel's side of the TAP (issue 15):
lease, renew, release, a server restart while leased, and a lease that expires while
traffic flows; tshark validates the DHCP frames. Both threading modes (each with its
paired input mode).

Time. dnsmasq refuses leases shorter than 2 minutes, too long for a bounded test. So
the client's own clock runs 20× fast (the helper's --time-divisor, a test hook in
dhcp_config): dnsmasq's T1 (60 s) comes after 3 s, T2 (105 s) after 5.25 s, and the
lease (120 s) expires after 6 s. dnsmasq's clock is real: its lease file still says 2
minutes, which the release and restart tests read. Every wait is a bounded poll of the
client's state or the lease file.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BAD_FRAMES, EXPECTED_DROPS, NETNS, HelperProcess, KernelCapture, Topology, built, need_tool

DIVISOR = 20
OUR_MAC = "02:00:00:00:00:02"  # tap_config's default
MODES = ["core_locking", "message_passing"]
POOL = (ipaddress.ip_address("192.0.2.100"), ipaddress.ip_address("192.0.2.150"))
# Drops a run may show besides the kernel's IPv6 chatter: pings to the address that
# just expired (the kernel still maps it to our MAC) are counted as not for us, and the
# kernel's ICMP port unreachable for a REQUEST sent while dnsmasq is stopped as an ICMP
# type we do not handle.
EXPECTED_DHCP_DROPS = EXPECTED_DROPS | {"ip_not_for_us", "icmp_unsupported"}


@pytest.fixture(scope="session")
def dhcp_binary() -> Path:
    return built("tests/network/lwbench_tap_dhcp_client")


class Dnsmasq:
    """dnsmasq in the namespace (scripts/netns.sh dhcp-start/-stop); its files in `dir`."""

    def __init__(self, topo: Topology, directory: Path):
        self.topo, self.dir = topo, directory

    def start(self) -> None:
        subprocess.run([str(NETNS), "dhcp-start", self.topo.ns, str(self.dir), self.topo.ifname], check=True,
                       timeout=30)

    def stop(self) -> None:
        subprocess.run([str(NETNS), "dhcp-stop", self.topo.ns, str(self.dir)], check=True, timeout=30)

    def leases(self) -> dict[str, tuple[int, str]]:
        """MAC -> (expiry in epoch seconds, address), from dnsmasq's lease file."""
        out = {}
        for line in (self.dir / "leases").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3:
                out[fields[1]] = (int(fields[0]), fields[2])
        return out


@pytest.fixture
def dnsmasq(topology, tmp_path):
    need_tool("dnsmasq")
    server = Dnsmasq(topology, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()  # the topology's teardown would stop it too (netns.sh down)


class DhcpClient(HelperProcess):
    """lwbench's stack on the TAP with its DHCP client (lwbench_tap_dhcp_client): one
    command per line, one JSON answer per line, each read with a bound."""

    name = "lwbench_tap_dhcp_client"

    def __init__(self, topo: Topology, binary: Path, threading: str, seconds: float = 120):
        super().__init__(topo, str(binary), "--ifname", topo.ifname, "--threading", threading,
                         "--time-divisor", str(DIVISOR), "--seconds", str(seconds))

    def command(self, cmd: str, timeout: float = 30) -> dict:
        self._proc.stdin.write(cmd + "\n")
        self._proc.stdin.flush()
        line = self.read_line(timeout)
        assert line, f"no answer to {cmd!r} within {timeout} s"
        return json.loads(line)

    def status(self) -> dict:
        return self.command("status")

    def wait_for(self, predicate, seconds: float, what: str) -> dict:
        """Polls the client's status until predicate(status) holds; fails after `seconds`."""
        deadline = time.monotonic() + seconds
        status = self.status()
        while not predicate(status):
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not within {seconds} s; last status {status}")
            time.sleep(0.1)  # pacing between polls; the predicate decides
            status = self.status()
        return status

    def wait_bound(self, seconds: float = 30) -> dict:
        return self.wait_for(lambda st: st["state"] == "bound", seconds, "a lease")


def in_pool(address: str) -> bool:
    return POOL[0] <= ipaddress.ip_address(address) <= POOL[1]


def ping(topology: Topology, address: str, count: int = 3, deadline_s: int = 20) -> subprocess.CompletedProcess:
    need_tool("ping")
    return topology.exec("ping", "-n", "-c", str(count), "-i", "0.2", "-W", "1", "-w", str(deadline_s), address,
                         timeout=deadline_s + 20, check=False)


def unexpected_drops(report: dict) -> dict:
    return {k: v for k, v in report["drops"].items() if k not in EXPECTED_DHCP_DROPS}


def poll(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)  # pacing between polls of a file; the condition decides
    return True


@pytest.mark.parametrize("threading", MODES)
def test_lease_obtained_and_the_kernel_pings_it(topology, dnsmasq, dhcp_binary, threading, tmp_path):
    tshark = need_tool("tshark")
    capture = KernelCapture(topology, tshark, tmp_path / "dhcp.pcapng")
    try:
        with DhcpClient(topology, dhcp_binary, threading) as client:
            status = client.wait_bound()
            assert in_pool(status["ip"]), status
            assert status["netif_ip"] == status["ip"]
            assert status["server"] == "192.0.2.1" and status["lease_s"] == 120
            done = ping(topology, status["ip"])
            assert done.returncode == 0, done.stdout + done.stderr
            assert dnsmasq.leases()[OUR_MAC][1] == status["ip"]
            # tshark is not capturing yet when it starts (and it may miss the first frames of
            # the link): ping (bounded) until a reply is in the file; a new discovery is then
            # captured from its start.
            assert capture.wait_for("icmp.type == 0", 1, 60,
                                    between=lambda: ping(topology, status["ip"], count=1, deadline_s=2)), \
                "tshark captured nothing"
            assert client.command("start")["result"] == "ok"
            client.wait_bound()
            # Stop only once the whole exchange is in the file (bounded).
            assert capture.wait_for("dhcp.option.dhcp == 5", 1, 30) and capture.wait_for("dhcp.option.dhcp == 1", 1, 30), \
                "the DHCP exchange was not captured"
    finally:
        capture.stop()
    report = client.final
    assert unexpected_drops(report) == {}
    # Counted since the restart: one exchange; renewals at T1 (every 3 s on the client's clock) add ACKs.
    assert report["counters"]["offers"] == 1 and report["counters"]["acks"] >= 1
    assert report["counters"]["naks"] == 0 and report["counters"]["expiries"] == 0
    frames = capture.frames

    for kind, code in (("discover", 1), ("offer", 2), ("request", 3), ("ack", 5)):
        assert frames(f"dhcp.option.dhcp == {code}"), f"no DHCP {kind} captured"
    assert frames(f"dhcp.option.dhcp == 1 && eth.src == {OUR_MAC} && ip.src == 0.0.0.0 && ip.dst == 255.255.255.255")
    bad = frames(BAD_FRAMES)
    assert bad == [], f"malformed frames or bad checksums: {bad}"


@pytest.mark.parametrize("threading", MODES)
def test_lease_is_renewed_at_t1(topology, dnsmasq, dhcp_binary, threading):
    with DhcpClient(topology, dhcp_binary, threading) as client:
        first = client.wait_bound()
        expiry_before = dnsmasq.leases()[OUR_MAC][0]
        # T1 is 3 s away on the client's clock: the unicast REQUEST is ACKed by dnsmasq.
        renewed = client.wait_for(lambda st: st["counters"]["leases"] >= 2 and st["state"] == "bound", 20,
                                  "a renewed lease")
        assert renewed["counters"]["renewals"] >= 1
        assert renewed["counters"]["expiries"] == 0 and renewed["counters"]["naks"] == 0
        assert renewed["ip"] == first["ip"]
        # dnsmasq extended the lease it holds (its clock is real: by a few seconds).
        assert poll(lambda: dnsmasq.leases()[OUR_MAC][0] > expiry_before, 10), dnsmasq.leases()
        assert ping(topology, renewed["ip"]).returncode == 0
    assert unexpected_drops(client.final) == {}


@pytest.mark.parametrize("threading", MODES)
def test_release_frees_the_lease_at_the_server(topology, dnsmasq, dhcp_binary, threading):
    with DhcpClient(topology, dhcp_binary, threading) as client:
        bound = client.wait_bound()
        assert OUR_MAC in dnsmasq.leases()
        released = client.command("release")
        assert released["result"] == "ok"
        # The client is gone (its counters with it); the stack counted the RELEASE sent.
        assert released["state"] == "off" and released["netif_ip"] == "0.0.0.0"
        assert released["dhcp_xmit"] > bound["dhcp_xmit"]
        # The RELEASE may wait for ARP to resolve the server; dnsmasq then drops the lease.
        assert poll(lambda: OUR_MAC not in dnsmasq.leases(), 15), f"lease still held: {dnsmasq.leases()}"
        again = client.command("start")  # and a new discovery works after it
        assert again["result"] == "ok"
        client.wait_bound()
    assert unexpected_drops(client.final) == {}


@pytest.mark.parametrize("threading", MODES)
def test_server_restart_while_leased_keeps_the_lease(topology, dnsmasq, dhcp_binary, threading):
    with DhcpClient(topology, dhcp_binary, threading) as client:
        first = client.wait_bound()
        dnsmasq.stop()
        dnsmasq.start()  # the same lease file: the new server knows the lease
        renewed = client.wait_for(lambda st: st["counters"]["leases"] >= 2 and st["state"] == "bound", 20,
                                  "a lease renewed by the restarted server")
        assert renewed["ip"] == first["ip"]
        assert renewed["counters"]["expiries"] == 0 and renewed["counters"]["naks"] == 0
        assert ping(topology, renewed["ip"]).returncode == 0
    assert unexpected_drops(client.final) == {}


@pytest.mark.parametrize("threading", MODES)
def test_lease_expiring_under_traffic_stops_it_and_rediscovery_works(topology, dnsmasq, dhcp_binary, threading):
    with DhcpClient(topology, dhcp_binary, threading) as client:
        first = client.wait_bound()
        assert ping(topology, first["ip"]).returncode == 0
        dnsmasq.stop()  # nobody renews: the lease runs out on the client's clock (6 s)
        # Traffic flows while it expires: a bounded ping from the kernel, 5 per second.
        flood = topology.popen("ping", "-n", "-i", "0.2", "-W", "1", "-w", "25", first["ip"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            expired = client.wait_for(lambda st: st["counters"]["expiries"] >= 1, 20, "the lease expiring")
            assert expired["netif_ip"] == "0.0.0.0"
            assert expired["state"] in ("selecting", "requesting")
            assert expired["counters"]["renewals"] >= 1 and expired["counters"]["rebinds"] >= 1
            # The address is gone: the kernel's pings get no answer any more.
            icmp_before = client.status()["icmp_xmit"]
            assert ping(topology, first["ip"], count=3, deadline_s=3).returncode != 0
            assert client.status()["icmp_xmit"] == icmp_before
        finally:
            flood.send_signal(signal.SIGINT)
            flood_out, _ = flood.communicate(timeout=60)
        assert "packets transmitted" in flood_out
        dnsmasq.start()
        again = client.wait_bound(30)  # rediscovery (backoff on the fast clock: under 4 s between DISCOVERs)
        assert in_pool(again["ip"])
        done = ping(topology, again["ip"])
        assert done.returncode == 0, done.stdout + done.stderr
    assert unexpected_drops(client.final) == {}
