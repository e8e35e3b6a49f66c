"""What the real-wire bench summaries (bench/sockperf_summary.py, bench/iperf3_summary.py)
share: our helper program's report, the median with its spread over rounds, number
formatting, the lines that say where, when and under what load a run was measured, and
the command line that summarises a raw folder into a published result folder."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
from pathlib import Path
from typing import Callable, Sequence

from lwbench import machine
from lwbench.results import publish_run_folder


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


def load_note(doc: dict) -> str:
    """The machine's load when the summary was written (the document's environment, the
    result files' own capture), so a reader can tell a quiet run from a shared one."""
    load = doc["environment"].get("load_average", "not available")
    if isinstance(load, list):
        load = " / ".join(f"{x:.2f}" for x in load) + " (1 / 5 / 15 min)"
    return f"Ratios are within one run; load average when this summary was written: {load}."


def summary_main(kind: str, description: str, summarise: Callable[[argparse.Namespace], dict],
                 markdown: Callable[[dict], str], setup: Callable[[argparse.Namespace], dict],
                 extra_int_args: Sequence[str] = ()) -> int:
    """`<kind>_summary.py RAW OUT --seconds S --rounds R --cpu C [extra]`: summarise the raw
    folder, add the environment and the setup, and publish `<kind>.json` and `<kind>.md` as
    OUT/<stamp>_<rev>_<kind>/ (atomically, never over an earlier folder). Exit 1 on bad input."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("raw", type=Path)
    ap.add_argument("out", type=Path)
    for flag in ("--seconds", "--rounds", "--cpu", *extra_int_args):
        ap.add_argument(flag, type=int, required=True)
    args = ap.parse_args()
    try:
        result = summarise(args)
    except (ValueError, OSError, KeyError) as e:
        print(f"{kind}_summary: {e}", file=sys.stderr)
        return 1
    now = dt.datetime.now(dt.timezone.utc)
    env = machine.capture(now)
    doc = {"schema": f"lwbench.{kind}", "schema_version": 1, "created_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "environment": env,
           "setup": {"seconds": args.seconds, "rounds": args.rounds, "cpu": args.cpu, **setup(args)},
           **result}
    md = markdown(doc)
    final = publish_run_folder(args.raw, args.out, kind, str(env.get("git_revision", "unknown")), now,
                               {f"{kind}.json": json.dumps(doc, indent=2) + "\n", f"{kind}.md": md})
    print(md)
    print(f"wrote {final}", file=sys.stderr)
    return 0
