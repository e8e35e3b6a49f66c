"""`python3 -m lwbench profile`: profile one lwbench scenario with perf.

    python3 -m lwbench profile [--out-dir DIR] [--both-modes] [--frequency HZ]
                               [--event EVENT] -- <lwbench run flags>

Runs ``<lwbench> run --no-save <flags>`` under ``perf record`` (call graphs by
frame pointers, a *software* sampling event so it works on VMs without
hardware counters) and under ``perf stat``, and writes a NEW folder

    <out-dir>/profile_<UTC yyyymmddTHHMMSSZ>_<tag>/
        profile.json            what was run: flags, binary, perf, environment
        <mode>/perf.data        perf record -g --call-graph fp
        <mode>/report.txt       perf report: top symbols by self and by inclusive time
        <mode>/stat.txt, stat.json   perf stat: software events (+ hardware
                                     ones marked "not available" when unsupported)
        <mode>/folded.txt       folded stacks (thread name as root frame)
        <mode>/flame.svg, flame.png
        <mode>/lwbench_output.txt    the benchmark's own console output
        mode_diff.md            with --both-modes: symbols gaining share in
                                message passing vs core locking

<mode> is the `--mode` given in the flags (or "as_given"); with --both-modes
the `--mode` flag is set to message_passing, then core_locking.

Never overwrites: the folder is built as `.<name>.partial` next to its final
name and renamed into place (refusing to replace anything) only when
complete; on any failure the partial folder is removed.  Before anything is
created, perf and the binary are checked; every problem is reported with its
fix, and the exit status is non-zero.  Progress goes to stderr; the final
folder path is printed on stdout.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as _dt
import errno
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from . import perf_fold

REPO = Path(__file__).resolve().parents[2]
MODES = ("message_passing", "core_locking")
DEFAULT_EVENT = "cpu-clock"  # software event: works without hardware PMU
DEFAULT_FREQUENCY = 999  # Hz; odd, so sampling does not lock step with timer ticks
STAT_EVENTS = ("context-switches", "cpu-migrations", "task-clock", "page-faults", "cycles", "instructions")
BINARY_CANDIDATES = (
    ("profile build", Path("build/profile/harness/lwbench")),
    ("release build", Path("build/release/harness/lwbench")),
)
PROG = "python3 -m lwbench profile"


class ProfileError(Exception):
    """A failure to report to the user as is (the message says what to do)."""


def log(msg: str) -> None:
    print(f"[lwbench profile] {msg}", file=sys.stderr, flush=True)


def ensure_plots_importable() -> None:
    """Make <repo>/plots importable (lwbench_plots) from a plain checkout."""
    if importlib.util.find_spec("lwbench_plots") is None:
        sys.path.append(str(REPO / "plots"))


# ---- finding the binary ---------------------------------------------------


@dataclass
class Binary:
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
        p = REPO / rel
        if p.is_file() and os.access(p, os.X_OK):
            fp, bdir, why = _build_info(p)
            if source == "profile build" and fp is None:
                fp, why = True, "built by the profile preset (frame pointers on)"
            return Binary(p, source, fp, bdir, why), None
    tried = ", ".join(str(REPO / rel) for _, rel in BINARY_CANDIDATES)
    return None, (
        f"no lwbench binary found (LWBENCH_BIN unset; tried {tried}).\n"
        "  fix: cmake --preset profile && cmake --build --preset profile   "
        "(frame pointers: full call stacks), or set LWBENCH_BIN"
    )


# ---- checking perf ----------------------------------------------------------


@dataclass
class PerfInfo:
    path: str
    version: str
    paranoid: int | None
    root: bool
    warnings: list[str] = field(default_factory=list)


def _paranoid() -> int | None:
    try:
        return int(Path("/proc/sys/kernel/perf_event_paranoid").read_text().strip())
    except (OSError, ValueError):
        return None


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
    info = PerfInfo(perf, v.stdout.strip(), _paranoid(), root)
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


# ---- flags, names, environment --------------------------------------------


def flag_value(flags: Sequence[str], name: str) -> str | None:
    """Value of `--name X` or `--name=X` in flags (last one wins)."""
    value = None
    for i, f in enumerate(flags):
        if f == name and i + 1 < len(flags):
            value = flags[i + 1]
        elif f.startswith(name + "="):
            value = f.split("=", 1)[1]
    return value


def with_mode(flags: Sequence[str], mode: str) -> list[str]:
    """flags with every --mode removed and `--mode <mode>` appended."""
    out: list[str] = []
    skip = False
    for i, f in enumerate(flags):
        if skip:
            skip = False
            continue
        if f == "--mode":
            skip = i + 1 < len(flags)
            continue
        if f.startswith("--mode="):
            continue
        out.append(f)
    return out + ["--mode", mode]


def scenario_tag(flags: Sequence[str], both_modes: bool) -> str:
    parts = [flag_value(flags, k) for k in ("--scenario", "--api")]
    size = flag_value(flags, "--size")
    parts.append(f"{size}B" if size else None)
    parts.append("both_modes" if both_modes else flag_value(flags, "--mode"))
    tag = "_".join(p for p in parts if p) or "run"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", tag)[:80]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_revision() -> str:
    try:
        r = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def environment(now: _dt.datetime) -> dict:
    u = platform.uname()
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "kernel": f"{u.system} {u.release} {u.machine}",
        "hostname": u.node,
        "date_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_revision": _git_revision(),
        "perf_event_paranoid": _paranoid(),
        "user_is_root": os.geteuid() == 0,
    }


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


# ---- running ------------------------------------------------------------------


def _run(cmd: Sequence[str], *, stdout=None, stderr=None, cwd=None, what: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(list(cmd), stdout=stdout, stderr=stderr, cwd=cwd, text=True)
    except OSError as e:
        raise ProfileError(f"{what}: cannot run {cmd[0]}: {e}") from e


def _tail(path: Path, n: int = 15) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + ln for ln in lines[-n:])


@dataclass
class ModeResult:
    name: str
    folded: dict
    stat: dict
    samples: int
    entry: dict


def profile_one(
    perf: str,
    binary: Binary,
    flags: list[str],
    mode_name: str,
    mode_dir: Path,
    *,
    event: str,
    frequency: int,
    env: dict,
) -> ModeResult:
    """Record, report, stat, fold and draw one mode into mode_dir."""
    mode_dir.mkdir()
    # Every command runs inside mode_dir with relative file names, so the
    # commands recorded in profile.json / stat.json stay true after the
    # folder is renamed into place.  (Relative paths in the lwbench flags,
    # e.g. a pcap file, therefore land in mode_dir too.)
    bench = [str(binary.path), "run", "--no-save", *flags]
    out_txt = mode_dir / "lwbench_output.txt"
    perf_data = mode_dir / "perf.data"

    # 1. perf record
    record = [perf, "record", "-e", event, "-F", str(frequency), "-g", "--call-graph", "fp",
              "-o", perf_data.name, "--", *bench]
    log(f"{mode_name}: perf record: {' '.join(bench)}")
    with open(out_txt, "w") as out, open(mode_dir / "perf_record.log", "w") as err:
        out.write("### lwbench output under perf record\n")
        out.flush()
        r = _run(record, stdout=out, stderr=err, cwd=mode_dir, what="perf record")
    if r.returncode != 0:
        raise ProfileError(
            f"{mode_name}: perf record / lwbench exited with status {r.returncode}.\n"
            f"  lwbench output (tail):\n{_tail(out_txt)}\n  perf output (tail):\n{_tail(mode_dir / 'perf_record.log')}"
        )

    # 2. perf script -> folded stacks
    log(f"{mode_name}: perf script -> folded stacks")
    # Streamed: a long run's perf script text can be hundreds of MB.
    with open(mode_dir / "perf_script.log", "w") as err:
        proc = subprocess.Popen([perf, "script", "-i", perf_data.name], stdout=subprocess.PIPE, stderr=err,
                                text=True, errors="replace", cwd=mode_dir)
        assert proc.stdout is not None
        folded = perf_fold.fold_perf_script(proc.stdout, weight="samples", include_comm=True)
        proc.stdout.close()
        rc = proc.wait()
    if rc != 0:
        raise ProfileError(f"{mode_name}: perf script failed (exit {rc}):\n{_tail(mode_dir / 'perf_script.log')}")
    samples = int(perf_fold.total_weight(folded))
    if samples == 0:
        raise ProfileError(
            f"{mode_name}: perf recorded no samples - the run is too short for {frequency} Hz sampling; "
            "make it longer (e.g. a larger --ops or --repetitions) or raise --frequency"
        )
    perf_fold.write_folded(folded, mode_dir / "folded.txt")

    # 3. perf report: top symbols by self, then by inclusive (children) time
    log(f"{mode_name}: perf report ({samples} samples)")
    sections = []
    for title, opts in (
        ("top symbols by SELF time (perf report --no-children)", ["--no-children"]),
        ("top symbols by INCLUSIVE time (perf report --children)", ["--children"]),
    ):
        cmd = [perf, "report", "-i", perf_data.name, "--stdio", *opts, "--sort", "dso,symbol", "-g", "none",
               "--percent-limit", "0.5"]
        rep = subprocess.run(cmd, capture_output=True, text=True, cwd=mode_dir)
        body = rep.stdout if rep.returncode == 0 else f"(perf report failed: {rep.stderr.strip()})\n"
        sections.append(f"{'=' * 78}\n{title}\n$ {' '.join(cmd)}\n{'=' * 78}\n{body}")
    (mode_dir / "report.txt").write_text("\n".join(sections))

    # 4. perf stat (separate run: counting and sampling would disturb each other)
    log(f"{mode_name}: perf stat")
    stat_csv = mode_dir / ".stat.csv"
    stat_cmd = [perf, "stat", "-x", ",", "-o", stat_csv.name, "-e", ",".join(STAT_EVENTS), "--", *bench]
    with open(out_txt, "a") as out:
        out.write("\n### lwbench output under perf stat\n")
        out.flush()
        s = _run(stat_cmd, stdout=out, stderr=subprocess.STDOUT, cwd=mode_dir, what="perf stat")
    if s.returncode != 0:
        raise ProfileError(f"{mode_name}: perf stat / lwbench exited with status {s.returncode}.\n"
                           f"  output (tail):\n{_tail(out_txt)}")
    stat_text = stat_csv.read_text(errors="replace")
    stat_csv.unlink()
    events = parse_perf_stat_csv(stat_text)
    for name in STAT_EVENTS:  # an event perf did not print at all is not available either
        events.setdefault(name, {"value": None, "unit": "", "status": "not available: not reported by perf"})
    (mode_dir / "stat.txt").write_text(format_stat(events, stat_cmd) + "\nraw perf stat -x, output:\n" + stat_text)
    stat = {"command": stat_cmd, "events": events}
    (mode_dir / "stat.json").write_text(json.dumps(stat, indent=2) + "\n")

    # 5. flame graph
    log(f"{mode_name}: flame graph")
    ensure_plots_importable()
    from lwbench_plots.common import save_figure
    from lwbench_plots.plot_flame import plot_flame

    what = " ".join(x for x in (flag_value(flags, "--scenario"), flag_value(flags, "--api"),
                                 (flag_value(flags, "--size") or "") + (" B" if flag_value(flags, "--size") else ""))
                    if x) or "lwbench run"
    fig = plot_flame(
        folded,
        title=f"lwbench CPU profile: {what}, {mode_name.replace('_', ' ')}",
        subtitle=f"perf record -e {event} -F {frequency} --call-graph fp · {samples:,} samples · "
                 f"thread name at the root · binary: {binary.source}",
        footer_lines=[f"{env['cpu_model']} ({env['cpu_count']} CPUs) · {env['kernel']} · "
                      f"git {env['git_revision'][:7]} · {env['date_utc']} · lwbench {' '.join(flags)}"],
        notes=[] if binary.frame_pointers else
        ["the binary may lack frame pointers: call stacks through it can be cut short (use the profile build)"],
    )
    save_figure(fig, mode_dir, "flame")

    files = sorted(p.name for p in mode_dir.iterdir())
    entry = {
        "mode": mode_name,
        "dir": mode_dir.name,
        "lwbench_command": bench,
        "perf_record_command": record,
        "samples": samples,
        "files": files,
        "stat": events,
        "top_self": [vars(s) for s in perf_fold.top_self(folded, 15, drop_root=True)],
    }
    return ModeResult(mode_name, folded, events, samples, entry)


def mode_diff_markdown(mp: ModeResult, cl: ModeResult, flags: Sequence[str], event: str, frequency: int,
                       top: int = 12) -> str:
    """Markdown: which symbols gain share (self time) in message passing vs core locking."""
    rows = perf_fold.diff(mp.folded, cl.folded, by="self", drop_root=True, min_share=0.2)

    def esc(s: str) -> str:
        s = s if len(s) <= 100 else s[:99] + "…"
        return s.replace("|", "\\|").replace("`", "'")

    def table(items) -> list[str]:
        out = ["| symbol | message passing | core locking | Δ (points) |", "| --- | ---: | ---: | ---: |"]
        out += [f"| `{esc(d.symbol)}` | {d.share_a:.1f}% | {d.share_b:.1f}% | {d.delta:+.1f} |" for d in items]
        return out

    def ctx(r: ModeResult) -> str:
        e = r.stat.get("context-switches", {})
        return "not available" if e.get("value") is None else f"{e['value']:,}"

    gain_mp = [d for d in rows if d.delta > 0][:top]
    gain_cl = [d for d in reversed(rows) if d.delta < 0][: max(3, top // 2)]
    lines = [
        "# Message passing vs core locking: where the CPU time moves",
        "",
        f"lwbench flags: `{' '.join(flags)}` (with `--mode` set per column); "
        f"sampling: `{event}` at {frequency} Hz, frame-pointer call graphs.",
        "",
        "Shares are self time (the sample's leaf frame) as % of each run's own samples "
        f"(message passing: {mp.samples:,} samples, core locking: {cl.samples:,}), so runs of different "
        "length compare; Δ is message passing minus core locking, in percentage points. "
        f"Context switches (perf stat, whole run): message passing {ctx(mp)}, core locking {ctx(cl)}.",
        "",
        "## Gain share in message passing",
        "",
        *(table(gain_mp) if gain_mp else ["(none)"]),
        "",
        "## Gain share in core locking",
        "",
        *(table(gain_cl) if gain_cl else ["(none)"]),
        "",
    ]
    return "\n".join(lines)


# ---- output folder ----------------------------------------------------------


def _rename_noreplace(src: Path, dst: Path) -> None:
    """rename(2) that fails instead of replacing an existing dst (renameat2
    RENAME_NOREPLACE where available; else check-then-rename)."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        fn = None
    if fn is not None:
        at_fdcwd, rename_noreplace = -100, 1
        if fn(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), rename_noreplace) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(err, os.strerror(err), str(dst))
    if dst.exists():
        raise FileExistsError(errno.EEXIST, "exists", str(dst))
    os.rename(src, dst)


def _publish(partial: Path, out_dir: Path, name: str) -> Path:
    for i in range(1, 100):
        final = out_dir / (name if i == 1 else f"{name}_{i}")
        if final.exists():
            continue
        try:
            _rename_noreplace(partial, final)
            return final
        except FileExistsError:
            continue
        except OSError as e:
            if e.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise
    raise ProfileError(f"could not find a free folder name for {out_dir / name}")


# ---- command line -------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} [--out-dir DIR] [--both-modes] [--frequency HZ] [--event EVENT] -- <lwbench run flags>",
        description="Profile one lwbench scenario with perf (record, report, stat, folded stacks, flame graph).",
        epilog="example: python3 -m lwbench profile --both-modes -- --scenario send_latency --api socket "
               "--size 1458 --ops 20000 --repetitions 3",
    )
    ap.add_argument("--out-dir", type=Path, default=REPO / "results",
                    help="parent folder of the new profile folder (default: <repo>/results)")
    ap.add_argument("--both-modes", action="store_true",
                    help="profile with --mode message_passing, then core_locking, and write mode_diff.md")
    ap.add_argument("--frequency", type=int, default=DEFAULT_FREQUENCY, metavar="HZ",
                    help="sampling frequency (default: %(default)s)")
    ap.add_argument("--event", default=DEFAULT_EVENT,
                    help="perf sampling event; a software event works everywhere (default: %(default)s)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" in argv:
        i = argv.index("--")
        own, flags = argv[:i], argv[i + 1 :]
    else:
        own, flags = argv, []
    args = build_parser().parse_args(own)
    if args.frequency <= 0:
        print(f"{PROG}: --frequency must be positive", file=sys.stderr)
        return 2

    # Check everything before creating anything; report every problem at once.
    perf, problems = check_perf(args.event)
    binary, bin_problem = find_binary()
    if bin_problem:
        problems.append(bin_problem)
    if problems:
        print(f"{PROG}: cannot profile:", file=sys.stderr)
        for p in problems:
            print(f"- {p}", file=sys.stderr)
        return 2
    assert perf is not None and binary is not None
    for w in perf.warnings:
        log(f"warning: {w}")
    log(f"perf: {perf.path} ({perf.version})")
    log(f"lwbench binary: {binary.path} (from {binary.source})")
    if binary.frame_pointers is not True:
        log("warning: this is not the frame-pointer `profile` build "
            f"({binary.evidence}); --call-graph fp stacks through lwbench code may be cut short. "
            "For full stacks: cmake --preset profile && cmake --build --preset profile")

    now = _dt.datetime.now(_dt.timezone.utc)
    env = environment(now)
    name = f"profile_{now.strftime('%Y%m%dT%H%M%SZ')}_{scenario_tag(flags, args.both_modes)}"
    out_dir = args.out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / f".{name}.partial"
    try:
        partial.mkdir()  # fails if a concurrent run uses the same name: nothing is overwritten
    except FileExistsError:
        print(f"{PROG}: {partial} exists (another profile run of the same second?); try again", file=sys.stderr)
        return 1
    log(f"building {partial}")
    try:
        if args.both_modes:
            runs = [(m, with_mode(flags, m)) for m in MODES]
        else:
            runs = [(flag_value(flags, "--mode") or "as_given", list(flags))]
        results = []
        for mode_name, mode_flags in runs:
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", mode_name)
            results.append(profile_one(perf.path, binary, mode_flags, mode_name, partial / safe,
                                       event=args.event, frequency=args.frequency, env=env))
        if args.both_modes:
            (partial / "mode_diff.md").write_text(
                mode_diff_markdown(results[0], results[1], flags, args.event, args.frequency))
        meta = {
            "schema": "lwbench.profile",
            "schema_version": 1,
            "created_utc": env["date_utc"],
            "lwbench_flags": flags,
            "both_modes": args.both_modes,
            "binary": {"path": str(binary.path), "source": binary.source,
                       "frame_pointers": binary.frame_pointers, "evidence": binary.evidence,
                       "build_dir": str(binary.build_dir) if binary.build_dir else None},
            "perf": {"path": perf.path, "version": perf.version, "event": args.event,
                     "frequency_hz": args.frequency, "call_graph": "fp", "stat_events": list(STAT_EVENTS),
                     "warnings": perf.warnings},
            "environment": env,
            "modes": [r.entry for r in results],
        }
        (partial / "profile.json").write_text(json.dumps(meta, indent=2) + "\n")
        final = _publish(partial, out_dir, name)
    except BaseException as e:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(e, ProfileError):
            print(f"{PROG}: {e}", file=sys.stderr)
            log(f"removed the partial folder {partial}")
            return 1
        if isinstance(e, KeyboardInterrupt):
            log(f"interrupted; removed the partial folder {partial}")
            return 130
        raise
    log(f"done: {final}")
    print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
