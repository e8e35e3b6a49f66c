"""`--sched fifo` (SCHED_FIFO, tcpip thread above the application) and the kernel's own
UDP loopback as the round trip's reference point, through the `lwbench` command."""

import json
import os
import resource
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LWBENCH_BUILD_DIR", REPO / "build" / "release")) / "harness" / "lwbench"

pytestmark = pytest.mark.skipif(not BIN.exists(), reason=f"lwbench not built at {BIN}")

SHORT = ["--repetitions", "1", "--ops", "300", "--warmup", "30"]


def lwbench(*args, prefix=(), preexec_fn=None, timeout=300):
    return subprocess.run([*prefix, str(BIN), *args], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec_fn)


def records_of(out_dir: Path):
    (path,) = out_dir.glob("*.json")
    return json.loads(path.read_text())["records"]


def test_sched_fifo_runs_every_thread_under_fifo_and_records_it(tmp_path):
    r = lwbench("run", "--sched", "fifo", "--scenario", "send_latency,round_trip", "--api", "socket",
                "--mode", "message_passing,core_locking", "--mailbox", "adaptive", "--pinning", "same_core",
                "--size", "64", *SHORT, "--out-dir", str(tmp_path))
    if r.returncode == 2 and "not permitted" in r.stderr:
        pytest.skip("this process may not use SCHED_FIFO: " + r.stderr.strip())
    assert r.returncode == 0, r.stderr
    recs = records_of(tmp_path)
    assert len(recs) == 5  # 2 scenarios x 2 modes, and the kernel's round trip
    assert {rec["sched_policy"] for rec in recs} == {"fifo"}
    assert sum(rec["stack"] == "kernel" for rec in recs) == 1


def _no_rt_rlimit():
    resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))


def test_sched_fifo_without_permission_says_so_and_exits_2_before_measuring(tmp_path):
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            pytest.skip("root keeps CAP_SYS_NICE without setpriv (util-linux) to drop it")
        prefix = (setpriv, "--inh-caps=-all", "--bounding-set=-sys_nice", "--")
    else:
        prefix = ()  # no CAP_SYS_NICE; RLIMIT_RTPRIO 0 below
    for command in (["run", "--scenario", "send_latency", *SHORT], ["reproduce", "--no-lwip", *SHORT]):
        r = lwbench(*command, "--sched", "fifo", "--out-dir", str(tmp_path), prefix=prefix, preexec_fn=_no_rt_rlimit)
        assert r.returncode == 2, (command, r.returncode, r.stderr)
        assert "SCHED_FIFO at priority" in r.stderr and "not permitted" in r.stderr, r.stderr
        assert "CAP_SYS_NICE" in r.stderr
        assert list(tmp_path.iterdir()) == []  # nothing measured, nothing written


def test_spin_then_block_under_fifo_on_one_cpu_is_refused(tmp_path):
    r = lwbench("run", "--sched", "fifo", "--mailbox", "spin_then_block", "--pinning", "same_core", *SHORT,
                "--out-dir", str(tmp_path))
    assert r.returncode == 2
    assert "spin_then_block mailbox on one CPU" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_kernel_round_trip_is_a_reference_point_with_two_switches_per_round_trip(tmp_path):
    r = lwbench("run", "--scenario", "round_trip", "--api", "socket", "--mode", "core_locking", "--size", "64",
                "--pinning", "same_core", "--repetitions", "1", "--ops", "2000", "--warmup", "200",
                "--out-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    (kernel,) = [rec for rec in records_of(tmp_path) if rec["stack"] == "kernel"]
    assert kernel["scenario"] == "round_trip" and kernel["api"] == "socket" and kernel["payload_bytes"] == 64
    assert kernel["errors"] == 0 and kernel["stack_counts"]["received"] == kernel["stack_counts"]["sent"] > 0
    cs = kernel["counters"].get("context_switches", {})
    if cs.get("per_op") is None:
        pytest.skip("context switches not countable here: " + str(cs.get("status")))
    # one switch to the echo thread and one back, per round trip, on one CPU
    assert cs["per_op"] == pytest.approx(2.0, abs=0.1)
