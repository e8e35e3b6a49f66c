"""perf itself for `python3 -m lwbench profile`: find the lwbench binary, check that perf
can record and count here (every problem with its fix), and read `perf stat -x,` output.

Nothing here profiles anything; profile.py runs the steps.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from . import _paths, machine

DEFAULT_EVENT = "cpu-clock"  # software event: works without hardware PMU
DEFAULT_FREQUENCY = 999  # Hz; odd, so sampling does not lock step with timer ticks
STAT_EVENTS = ("context-switches", "cpu-migrations", "task-clock", "page-faults", "cycles", "instructions")
BINARY_CANDIDATES = (
    ("profile build", Path("build/profile/harness/lwbench")),
    ("release build", Path("build/release/harness/lwbench")),
)


# ---- finding the binary ---------------------------------------------------


@dataclass
class Binary:
    """The lwbench binary to profile and what is known about its frame pointers."""

    path: Path
    source: str  # "LWBENCH_BIN", "profile build", "release build"
    frame_pointers: bool | None  # None: cannot tell
    build_dir: Path | None
    evidence: str


def _build_info(binary: Path) -> tuple[bool | None, Path | None, str]:
    """Whether the binary's CMake build has frame pointers, judged from the
    CMakeCache.txt of the build tree it sits in."""
    for parent in list(binary.resolve().parents)[:4]:
        cache = parent / "CMakeCache.txt"
        if not cache.is_file():
            continue
        text = cache.read_text(errors="replace")
        if re.search(r"^LWBENCH_FRAME_POINTERS:\w+=(ON|1|TRUE|YES)\s*$", text, re.M | re.I):
            return True, parent, f"{cache}: LWBENCH_FRAME_POINTERS=ON"
        if re.search(r"^CMAKE_CXX_FLAGS[^=]*=.*-fno-omit-frame-pointer", text, re.M):
            return True, parent, f"{cache}: -fno-omit-frame-pointer in CMAKE_CXX_FLAGS"
        return False, parent, f"{cache}: no LWBENCH_FRAME_POINTERS=ON / -fno-omit-frame-pointer"
    return None, None, "no CMakeCache.txt found above the binary"


def find_binary(environ: dict | None = None) -> tuple[Binary | None, str | None]:
    """(Binary, None) or (None, problem text).  Order: $LWBENCH_BIN, then the
    profile build, then the release build under the repository."""
    env = os.environ if environ is None else environ
    explicit = env.get("LWBENCH_BIN")
    if explicit:
        p = Path(explicit).resolve()
        if not (p.is_file() and os.access(p, os.X_OK)):
            return None, (
                f"LWBENCH_BIN={explicit} is not an executable file.\n"
                "  fix: point LWBENCH_BIN at a built lwbench binary, or unset it to use the build tree"
            )
        fp, bdir, why = _build_info(p)
        return Binary(p, "LWBENCH_BIN", fp, bdir, why), None
    for source, rel in BINARY_CANDIDATES:
        p = (_paths.checkout() or Path.cwd()) / rel
        if p.is_file() and os.access(p, os.X_OK):
            fp, bdir, why = _build_info(p)
            if source == "profile build" and fp is None:
                fp, why = True, "built by the profile preset (frame pointers on)"
            return Binary(p, source, fp, bdir, why), None
    tried = ", ".join(str((_paths.checkout() or Path.cwd()) / rel) for _, rel in BINARY_CANDIDATES)
    return None, (
        f"no lwbench binary found (LWBENCH_BIN unset; tried {tried}).\n"
        "  fix: cmake --preset profile && cmake --build --preset profile   "
        "(frame pointers: full call stacks), or set LWBENCH_BIN"
    )


# ---- checking perf ----------------------------------------------------------


@dataclass
class PerfInfo:
    """The perf found on PATH: version, perf_event_paranoid, whether we are root, warnings."""

    path: str
    version: str
    paranoid: int | None
    root: bool
    warnings: list[str] = field(default_factory=list)


def _in_container() -> bool:
    if Path("/.dockerenv").exists() or Path("/run/.containerenv").exists():
        return True
    try:
        cg = Path("/proc/1/cgroup").read_text()
    except OSError:
        return False
    return any(k in cg for k in ("docker", "kubepods", "lxc", "containerd", "libpod"))


def check_perf(event: str = DEFAULT_EVENT) -> tuple[PerfInfo | None, list[str]]:
    """Check that perf exists, runs, and can record `event` with frame-pointer
    call graphs and count with perf stat here.  Returns (info, problems); each
    problem says what is wrong and how to fix it."""
    perf = shutil.which("perf")
    if perf is None:
        return None, [
            "perf is not installed or not on PATH "
            f"(PATH={os.environ.get('PATH', '')}).\n"
            "  fix: apt-get install linux-perf   (Debian; provides /usr/bin/perf), "
            "or add the folder holding perf to PATH"
        ]
    try:
        v = subprocess.run([perf, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, [f"{perf} cannot be run: {e}.\n  fix: reinstall it: apt-get install --reinstall linux-perf"]
    if v.returncode != 0:
        return None, [
            f"{perf} --version failed (exit {v.returncode}): {(v.stderr or v.stdout).strip()}\n"
            "  fix: apt-get install linux-perf (a perf matching this kernel), or put a working perf first on PATH"
        ]
    root = os.geteuid() == 0
    info = PerfInfo(perf, v.stdout.strip(), machine.perf_event_paranoid(), root)
    if not root and info.paranoid is not None and info.paranoid >= 2:
        info.warnings.append(
            f"kernel.perf_event_paranoid={info.paranoid}: as a non-root user only user-space frames are "
            "sampled (no kernel frames such as futex waits). For the full picture: "
            "sysctl kernel.perf_event_paranoid=1 (or run as root)"
        )

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lwbench-perf-probe-") as tmp:
        workload = [sys.executable, "-c", "sum(range(200000))"]
        rec = subprocess.run(
            [perf, "record", "-q", "-e", event, "-g", "--call-graph", "fp", "-o", str(Path(tmp) / "probe.data"),
             "--", *workload],
            capture_output=True, text=True,
        )
        stat = subprocess.run([perf, "stat", "-x", ",", "-e", "task-clock", "--", *workload],
                              capture_output=True, text=True)
    for name, res in (("perf record", rec), ("perf stat", stat)):
        if res.returncode == 0:
            continue
        detail = (res.stderr or res.stdout).strip().splitlines()
        detail_txt = " | ".join(detail[-4:]) if detail else f"exit {res.returncode}"
        fixes = []
        if not root and (info.paranoid or 0) > 1:
            fixes.append(f"kernel.perf_event_paranoid is {info.paranoid}: sysctl kernel.perf_event_paranoid=1 "
                         "(or run as root)")
        if _in_container():
            fixes.append("this looks like a container, where perf_event_open is often blocked: run it with "
                         "--cap-add PERFMON (or SYS_ADMIN) and --security-opt seccomp=unconfined, or --privileged")
        if not fixes:
            fixes.append(f"check that the '{event}' event exists (perf list sw) and that perf_event_open is allowed "
                         "(kernel.perf_event_paranoid, seccomp, capabilities)")
        problems.append(f"{name} -e {event if name == 'perf record' else 'task-clock'} does not work here: "
                        f"{detail_txt}\n" + "".join(f"  fix: {f}\n" for f in fixes).rstrip("\n"))
    return info, problems


# ---- perf stat ----------------------------------------------------------------


def parse_perf_stat_csv(text: str) -> dict[str, dict]:
    """Parse `perf stat -x,` output into {event: {value, unit, status}}.

    A counter perf could not count ("<not supported>", "<not counted>") gets
    value None and status "not available: perf says <...>" - never 0.
    """
    out: dict[str, dict] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split(",")
        if len(cols) < 3:
            continue
        raw, unit, name = cols[0].strip(), cols[1].strip(), cols[2].strip()
        name = re.sub(r":[ukhHGp]+$", "", name)
        if raw.startswith("<"):
            out[name] = {"value": None, "unit": unit, "status": f"not available: perf says {raw}"}
            continue
        try:
            value = float(raw)
        except ValueError:
            out[name] = {"value": None, "unit": unit, "status": f"not available: unparsable value {raw!r}"}
            continue
        out[name] = {"value": int(value) if value.is_integer() else value, "unit": unit, "status": "ok"}
    return out


def format_stat(events: dict[str, dict], command: Sequence[str]) -> str:
    """perf stat events as an aligned text table; unavailable events say so (never 0)."""
    lines = [
        "perf stat (a separate run of the same command; counts cover every thread of the process)",
        "command: " + " ".join(command),
        "",
        f"{'event':<20} {'value':>18}  unit",
    ]
    for name, e in events.items():
        value = "not available" if e["value"] is None else f"{e['value']:,}"
        lines.append(f"{name:<20} {value:>18}  {e['unit']}"
                     + (f"   ({e['status']})" if e["value"] is None else ""))
    return "\n".join(lines) + "\n"
