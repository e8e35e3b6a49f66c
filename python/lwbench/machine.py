"""The environment as seen from Python: the one environment capture of the Python side.

Result files get their environment block from the C++ harness (the `_lwbench`
extension's `environment()`); this module captures the same facts for what
Python writes on its own (profiles) and compares two environment blocks
(`differences`, used by compare and the report). Every value is a value or the
string "not available" — never a made-up default.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
from pathlib import Path
from typing import Mapping

__all__ = ["NOT_AVAILABLE", "capture", "cpu_model", "git_revision", "perf_event_paranoid", "differences",
           "COMPARED_FIELDS", "describe"]

NOT_AVAILABLE = "not available"
_REPO = Path(__file__).resolve().parents[2]

#: Environment fields whose difference makes two runs' numbers hard to compare (compare warns on each).
COMPARED_FIELDS = (("cpu_model", "CPU"), ("cpu_count", "CPU count"), ("kernel", "kernel"),
                   ("compiler", "compiler"), ("build_type", "build type"), ("git_revision", "revision"))


def cpu_model() -> str:
    """`model name` of /proc/cpuinfo (or platform.processor()), else "not available"."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or NOT_AVAILABLE


def git_revision(repo: Path = _REPO) -> str:
    """Full hash of HEAD of the checkout, or "unknown" outside one (as the harness writes it)."""
    try:
        r = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def perf_event_paranoid() -> int | None:
    """/proc/sys/kernel/perf_event_paranoid, or None when unreadable."""
    try:
        return int(Path("/proc/sys/kernel/perf_event_paranoid").read_text().strip())
    except (OSError, ValueError):
        return None


def _load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return NOT_AVAILABLE


def capture(now: _dt.datetime | None = None) -> dict:
    """The environment block for a file Python writes itself (keys as in docs/results-schema.md where shared)."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    u = platform.uname()
    try:
        affinity = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        affinity = NOT_AVAILABLE
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "kernel": f"{u.system} {u.release} {u.machine}",
        "hostname": u.node,
        "date_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_revision": git_revision(),
        "perf_event_paranoid": perf_event_paranoid(),
        "user_is_root": os.geteuid() == 0,
        "load_average": _load_average(),
        "affinity": affinity,
    }


def differences(base: Mapping, new: Mapping) -> list[str]:
    """Human-readable differences between two environment blocks in the fields of COMPARED_FIELDS.

    A field absent on both sides is not a difference; absent on one side is.
    """
    out = []
    for key, name in COMPARED_FIELDS:
        a, b = base.get(key), new.get(key)
        if a == b or (a is None and b is None):
            continue
        if key == "git_revision":
            a, b = str(a)[:12], str(b)[:12]
        out.append(f"{name} differs: {a if a is not None else NOT_AVAILABLE} vs {b if b is not None else NOT_AVAILABLE}")
    return out


def describe(env: Mapping) -> str:
    """One line: CPU (count) · kernel · compiler build · git rev."""
    rev = str(env.get("git_revision") or "unknown")
    parts = [f"{env.get('cpu_model') or 'unknown CPU'}" + (f" ({env['cpu_count']} CPUs)" if env.get("cpu_count") else ""),
             str(env.get("kernel") or "unknown kernel"),
             " ".join(str(x) for x in (env.get("compiler"), env.get("build_type")) if x),
             f"git {rev[:7] if rev != 'unknown' else rev}" + ("+dirty" if env.get("git_dirty") else "")]
    return " · ".join(p for p in parts if p)
