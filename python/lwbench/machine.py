"""The environment as seen from Python: the one environment capture of the Python side.

Result files get their environment block from the C++ harness (the `_lwbench`
extension's `environment()`). What Python writes on its own (profiles) takes
the very same block from the extension, so a fact — the affinity mask ("0-1"),
the load average ([1, 5, 15 minute] numbers), the CPU, the revision — has one
source and one format in every file lwbench writes. This module adds only what
is Python's own (the time of the capture, root or not) and compares two
environment blocks (`differences`, used by compare and the report). Every value
is a value or the string "not available" — never a made-up default.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Mapping

__all__ = ["NOT_AVAILABLE", "capture", "perf_event_paranoid", "differences", "COMPARED_FIELDS", "describe"]

NOT_AVAILABLE = "not available"

#: Environment fields whose difference makes two runs' numbers hard to compare (compare warns on each).
COMPARED_FIELDS = (("cpu_model", "CPU"), ("cpu_count", "CPU count"), ("kernel", "kernel"),
                   ("compiler", "compiler"), ("build_type", "build type"), ("git_revision", "revision"))


def perf_event_paranoid() -> int | None:
    """/proc/sys/kernel/perf_event_paranoid, or None when unreadable (perf_tool's check, before any build exists)."""
    try:
        return int(Path("/proc/sys/kernel/perf_event_paranoid").read_text().strip())
    except (OSError, ValueError):
        return None


def capture(now: _dt.datetime | None = None) -> dict:
    """The environment block for a file Python writes itself: the harness's own block (as in a
    result file, docs/results-schema.md), `load_average` now, `date_utc` and `user_is_root`.

    Without the built extension the harness's facts cannot be read: they are then absent
    and `environment_source` says why (describe() shows "unknown" for them).
    """
    from . import _ext

    now = now or _dt.datetime.now(_dt.timezone.utc)
    try:
        ext = _ext.load()
        env = dict(ext.environment())
        env["load_average"] = ext.load_average()
        env["environment_source"] = "the lwbench harness (_lwbench extension)"
    except ImportError as e:
        env = {"load_average": NOT_AVAILABLE, "affinity": NOT_AVAILABLE,
               "environment_source": f"{NOT_AVAILABLE}: {e}"}
    env["date_utc"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    env["user_is_root"] = os.geteuid() == 0
    return env


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
