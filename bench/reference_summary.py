"""What the real-wire bench summaries (bench/sockperf_summary.py, bench/iperf3_summary.py)
share: our helper program's report, the median with its spread over rounds, number
formatting and the line that says where and when a run was measured."""

from __future__ import annotations

import json
import statistics
from pathlib import Path


def our_report(path: Path) -> dict:
    """The last JSON line of one of tests/network's helper programs' stdout: its report."""
    lines = [line for line in path.read_text().splitlines() if line.strip().startswith("{")]
    if not lines:
        raise ValueError(f"{path.name}: no report")
    return json.loads(lines[-1])


def median_spread(values: list[float | None]) -> dict:
    """Median, min, max and count of the values that are not None."""
    vals = [v for v in values if v is not None]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def fmt(v, digits=1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def measured_on(doc: dict) -> str:
    """"git `rev`, created, CPU model": where and when the run in `doc` was measured."""
    env = doc["environment"]
    return f"git `{str(env.get('git_revision', '?'))[:8]}`, {doc['created_utc']}, {env.get('cpu_model', '?')}"


def load_note() -> str:
    """The machine's load when the summary was written (lwbench.machine, the result files'
    own environment capture), so a reader can tell a quiet run from a shared one."""
    from lwbench import machine

    load = machine.capture().get("load_average", "not available")
    if isinstance(load, list):
        load = " / ".join(f"{x:.2f}" for x in load) + " (1 / 5 / 15 min)"
    return f"Ratios are within one run; load average when this summary was written: {load}."
