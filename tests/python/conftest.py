"""Shared pytest setup for the Python tests.

Puts <repo>/python and <repo>/plots on sys.path (the tests run from a plain
checkout, nothing installed), and builds a small synthetic result document in
the `lwbench.results` v1 schema (docs/results-schema.md) for the plot tests.
The synthetic numbers are plausible shapes, not measurements.
"""

from __future__ import annotations

import json
import math
import sys
from statistics import NormalDist
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
for sub in ("python", "plots"):
    p = str(REPO / sub)
    if p not in sys.path:
        sys.path.insert(0, p)

# The harness's ladder: q = 0.00 .. 0.99 in steps of 0.01, then the tail.
LADDER_Q = [i / 100 for i in range(100)] + [0.995, 0.998, 0.999, 0.9995, 0.9999, 1.0]


def _ladder(p50: float, sigma: float) -> list[list[float]]:
    """A log-normal-ish ladder around p50 with a heavier upper tail."""
    out = []
    for q in LADDER_Q:
        z = NormalDist().inv_cdf(min(max(q, 0.0005), 0.99995))  # q = 0 / 1: min / max
        tail = 1.0 + (0.6 * (z - 1.5) if z > 1.5 else 0.0)  # fatter right tail
        out.append([q, round(p50 * math.exp(sigma * z * tail), 1)])
    return out


def _counter(per_op, ops, status="ok"):
    if per_op is None:
        return {"per_op": None, "total": None, "status": status}
    return {"per_op": per_op, "total": per_op * ops, "status": "ok"}


def _record(
    scenario,
    p50,
    *,
    stack="lwbench",
    api=None,
    mode=None,
    payload=1458,
    threads=1,
    pinning="none",
    mailbox="mutex_cv",
    lock="std_mutex",
    primitive=None,
    ctx=None,
    ctx_status="ok",
    ops_per_sec=None,
    sigma=0.25,
):
    ops = 20000
    lad = _ladder(p50, sigma)
    q = {round(a, 4): b for a, b in lad}
    if ops_per_sec is None:
        ops_per_sec = 1e9 / p50
    return {
        "stack": stack,
        "scenario": scenario,
        "api": api,
        "primitive": primitive,
        "threading_mode": mode,
        "input_mode": "mailbox" if scenario != "primitive" else None,
        "mailbox_kind": mailbox,
        "lock_kind": lock,
        "payload_bytes": payload,
        "app_threads": threads,
        "pinning": pinning,
        "variant": None,
        "lwip_options": {"LWIP_TCPIP_CORE_LOCKING": 1 if mode == "core_locking" else 0}
        if stack != "lwbench"
        else None,
        "repetitions": 3,
        "ops_per_repetition": ops,
        "ops_per_sample": 1,
        "latency_ns": {
            "min": q[0.0],
            "p50": q[0.5],
            "p90": q[0.9],
            "p99": q[0.99],
            "p999": q[0.999],
            "max": q[1.0],
            "mean": round(p50 * 1.08, 1),
            "count": ops * 3,
            "ladder": lad,
        },
        "repetition_p50_ns": [p50 * 0.98, p50, p50 * 1.03],
        "spread": {"median_ns": p50, "mad_ns": p50 * 0.02, "rel_mad": 0.02, "min_ns": p50 * 0.98, "max_ns": p50 * 1.03},
        "ops_per_sec": ops_per_sec,
        "bytes_per_sec": ops_per_sec * payload,
        "counters": {
            "context_switches": _counter(ctx, ops, ctx_status),
            "cpu_migrations": _counter(0.0 if ctx is not None else None, ops, ctx_status),
            "task_clock_ns": _counter(p50 * 1.9, ops),
            "page_faults": _counter(0.0, ops),
            "cycles": _counter(None, ops, "not available: no hardware counters (virtual machine)"),
            "instructions": _counter(None, ops, "not available: no hardware counters (virtual machine)"),
        },
        "stack_counts": {"payload_copies_per_op": 1.0, "heap_allocs_per_op": 0.0, "pool_allocs_per_op": 2.0,
                         "sent": ops * 3, "received": ops * 3, "dropped": 0, "dropped_by_reason": {}},
        "errors": 0,
    }


def make_synthetic_results() -> dict:
    recs = []
    # send latency: socket / netconn in both modes, raw (no mode), 3 sizes, 2 pinnings
    base = {  # p50 ns at 1458 B, context switches per op
        ("socket", "message_passing"): (9200.0, 2.0),
        ("socket", "core_locking"): (820.0, 0.0),
        ("netconn", "message_passing"): (8700.0, 2.0),
        ("netconn", "core_locking"): (610.0, 0.0),
        ("raw", None): (380.0, 0.0),
    }
    for pinning, pin_factor in (("same_core", 1.35), ("separate_cores", 1.0)):
        for (api, mode), (p50, ctx) in base.items():
            for size in (64, 512, 1458):
                scale = 0.75 + 0.25 * size / 1458
                recs.append(_record("send_latency", round(p50 * scale * pin_factor, 1), api=api, mode=mode,
                                    payload=size, pinning=pinning,
                                    ctx=ctx if not (api == "netconn" and mode == "core_locking") else None,
                                    ctx_status="not available: perf_event_open failed (EACCES)"))
    # real lwIP at 1458, separate cores
    for (api, mode), p50 in {("socket", "message_passing"): 10400.0, ("socket", "core_locking"): 950.0,
                             ("raw", None): 420.0}.items():
        recs.append(_record("send_latency", p50, stack="lwip-2.1.3", api=api, mode=mode, pinning="separate_cores",
                            ctx=2.0 if mode == "message_passing" else 0.0))
    # receive latency (one size)
    for (api, mode), p50 in {("socket", "message_passing"): 8900.0, ("socket", "core_locking"): 700.0}.items():
        recs.append(_record("recv_latency", p50, api=api, mode=mode, pinning="separate_cores",
                            ctx=2.0 if mode == "message_passing" else 0.0))
    # throughput vs threads
    for threads in (1, 2, 4):
        for mailbox, f in (("mutex_cv", 1.0), ("spin_then_block", 1.6)):
            recs.append(_record("throughput", 9000.0, api="socket", mode="message_passing", threads=threads,
                                mailbox=mailbox, lock=None, pinning="separate_cores",
                                ops_per_sec=f * 110000 * min(threads, 2) ** 0.5, ctx=2.0))
        for lock, f in (("std_mutex", 1.0), ("tbb_spin_mutex", 1.3)):
            recs.append(_record("throughput", 800.0, api="socket", mode="core_locking", threads=threads,
                                mailbox=None, lock=lock, pinning="separate_cores",
                                ops_per_sec=f * 1.2e6 / (1 + 0.45 * (threads - 1)), ctx=0.01))
    # primitives floor
    for prim, p50, kw in (
        ("lock_unlock", 18.0, {"lock": "std_mutex", "mailbox": None}),
        ("lock_unlock", 9.0, {"lock": "tbb_spin_mutex", "mailbox": None}),
        ("mailbox_handoff", 3900.0, {"mailbox": "mutex_cv", "lock": None}),
        ("semaphore_wake", 3600.0, {"mailbox": None, "lock": None}),
        ("thread_pingpong", 7600.0, {"mailbox": None, "lock": None}),
        ("memcpy", 45.0, {"mailbox": None, "lock": None}),
        ("checksum", 160.0, {"mailbox": None, "lock": None}),
        ("udp_emit_floor", 240.0, {"mailbox": None, "lock": None}),
    ):
        recs.append(_record("primitive", p50, primitive=prim, pinning="separate_cores", ctx=None,
                            ctx_status="not available: not measured for primitives", **kw))
    return {
        "schema": "lwbench.results",
        "schema_version": 1,
        "label": "run",
        "command": "lwbench run --synthetic (test fixture)",
        "created_utc": "2026-11-24T03:00:00Z",
        "environment": {
            "cpu_model": "AMD EPYC (synthetic)",
            "cpu_count": 2,
            "kernel": "Linux 6.18.44 x86_64",
            "hostname": "testhost",
            "compiler": "GCC 12.2.0",
            "compiler_flags": "-O2 -g",
            "build_type": "release",
            "git_revision": "0123456789abcdef0123456789abcdef01234567",
            "git_dirty": True,
            "library_versions": {"oneTBB": "2021.8.0"},
            "hardware_counters_available": False,
            "perf_event_paranoid": 2,
            "clock": {"source": "steady_clock", "overhead_ns": 18.2, "resolution_ns": 1.0},
        },
        "records": recs,
        "notes": ["synthetic data for tests"],
    }


@pytest.fixture
def synthetic_results_path(tmp_path) -> Path:
    path = tmp_path / "20261124T030000Z_0123456_run.json"
    path.write_text(json.dumps(make_synthetic_results(), indent=1))
    return path


# ---- a real browser (Debian's chromium) for pages lwbench writes ----------------------------

CHROMIUM = Path("/usr/bin/chromium")


def render_in_chromium(page: Path, timeout: float = 120.0) -> tuple[str, list[str]]:
    """Open `page` in headless Chromium; return (the DOM after scripts ran, every console message and
    uncaught exception). lwbench's pages log nothing, so any console line is a failure for the caller.
    Skips the test when chromium is not installed."""
    import subprocess

    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (apt-get install chromium; scripts/install-deps.sh does it)")
    r = subprocess.run([str(CHROMIUM), "--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr",
                        "--v=0", "--virtual-time-budget=3000", "--dump-dom", page.resolve().as_uri()],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    # Chromium logs the page's console output and uncaught exceptions as ':INFO:CONSOLE:<line>] "…"'
    # (the level is not shown); its own dbus / GPU chatter in a container is not the page's.
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return r.stdout, console


def write_result(path: Path, doc: dict) -> Path:
    """Write a result document as JSON (test helper)."""
    path.write_text(json.dumps(doc, indent=1))
    return path
