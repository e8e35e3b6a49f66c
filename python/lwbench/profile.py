"""`python3 -m lwbench profile`: profile one lwbench scenario with perf.

    python3 -m lwbench profile [--out-dir DIR] [--both-modes] [--frequency HZ]
                               [--event EVENT] -- <lwbench run flags>

Runs ``<lwbench> run --no-save <flags>`` under ``perf record`` (call graphs by
frame pointers, a *software* sampling event so it works on VMs without
hardware counters) and under ``perf stat``, and writes a NEW folder

    <out-dir>/profile_<UTC yyyymmddTHHMMSSZ>_<tag>/
        profile.json            what was run: flags, binary, perf, environment, warnings
        <mode>/perf.data        perf record -g --call-graph fp
        <mode>/report.txt       perf report: top symbols by self and by inclusive time
        <mode>/stat.txt, stat.json   perf stat: software events (+ hardware
                                     ones marked "not available" when unsupported)
        <mode>/folded.txt       folded stacks, one root per thread ("tcpip thread [tid]", …)
        <mode>/flame.html       interactive flame graph (d3-flame-graph: hover, click to zoom,
                                search); skipped with a note when web/node_modules is missing
        <mode>/flame.svg, flame.png   static flame graph
        <mode>/lwbench_output.txt    the benchmark's own console output
        mode_diff.md            with --both-modes: symbols gaining share in message passing vs
                                core locking, harness frames left out, a warning when the
                                sample count is too small (lwbench.mode_diff)

<mode> is the `--mode` given in the flags (or "as_given"); with --both-modes
the `--mode` flag is set to message_passing, then core_locking.

Files: perf itself (finding the binary, checking perf, perf stat) is
lwbench.perf_tool; folding is lwbench.perf_fold; the diff lwbench.mode_diff;
drawing lwbench_plots.plot_flame / flame_html. This module runs the steps.

Never overwrites: the folder is built as `.<name>.partial` next to its final
name and renamed into place (lwbench.results.publish_directory) only when
complete; on any failure the partial folder is removed. Before anything is
created, perf and the binary are checked; every problem is reported with its
fix, and the exit status is non-zero. Progress goes to stderr; the final
folder path is printed on stdout.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from . import _paths, machine, mode_diff, perf_fold
from .perf_tool import (BINARY_CANDIDATES, DEFAULT_EVENT, DEFAULT_FREQUENCY, STAT_EVENTS, Binary, check_perf,
                        find_binary, format_stat, parse_perf_stat_csv)
from .results import publish_directory

__all__ = ["main", "flag_value", "with_mode", "scenario_tag", "check_perf", "find_binary", "parse_perf_stat_csv",
           "format_stat", "BINARY_CANDIDATES", "MODES", "ProfileError"]

MODES = ("message_passing", "core_locking")
PROG = "python3 -m lwbench profile"


class ProfileError(Exception):
    """A failure to report to the user as is (the message says what to do)."""


def log(msg: str) -> None:
    """Progress and warnings on stderr."""
    print(f"[lwbench profile] {msg}", file=sys.stderr, flush=True)


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
    """A file-name-safe tag naming the profiled scenario (scenario_api_sizeB_mode)."""
    parts = [flag_value(flags, k) for k in ("--scenario", "--api")]
    size = flag_value(flags, "--size")
    parts.append(f"{size}B" if size else None)
    parts.append("both_modes" if both_modes else flag_value(flags, "--mode"))
    tag = "_".join(p for p in parts if p) or "run"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", tag)[:80]


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
    """One profiled mode: its profile (folded stacks, perf stat), sample count and profile.json entry."""

    profile: mode_diff.ModeProfile
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
        folded = perf_fold.fold_perf_script(proc.stdout, weight="samples", root="thread")
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
    _paths.ensure_plots_importable()
    from lwbench_plots.common import save_figure
    from lwbench_plots.flame_html import MissingAssets, flame_page
    from lwbench_plots.plot_flame import plot_flame

    what = " ".join(x for x in (flag_value(flags, "--scenario"), flag_value(flags, "--api"),
                                 (flag_value(flags, "--size") or "") + (" B" if flag_value(flags, "--size") else ""))
                    if x) or "lwbench run"
    fig = plot_flame(
        folded,
        title=f"lwbench CPU profile: {what}, {mode_name.replace('_', ' ')}",
        subtitle=f"perf record -e {event} -F {frequency} --call-graph fp · {samples:,} samples · "
                 f"one root per thread · binary: {binary.source}",
        footer_lines=[f"{machine.describe(env)} · {env['date_utc']} · lwbench {' '.join(flags)}"],
        notes=[] if binary.frame_pointers else
        ["the binary may lack frame pointers: call stacks through it can be cut short (use the profile build)"],
    )
    save_figure(fig, mode_dir, "flame")
    page_notes = [] if binary.frame_pointers else ["the binary may lack frame pointers: call stacks can be cut short"]
    try:
        (mode_dir / "flame.html").write_text(flame_page(
            folded, title=f"lwbench CPU profile: {what}, {mode_name.replace('_', ' ')}",
            subtitle=f"perf record -e {event} -F {frequency} --call-graph fp · {samples:,} samples · one root per thread",
            notes=page_notes, footer=f"{machine.describe(env)} · {env['date_utc']} · lwbench {' '.join(flags)}"))
    except MissingAssets as e:
        log(f"{mode_name}: no interactive flame.html: {e}")

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
    return ModeResult(mode_diff.ModeProfile(mode_name, folded, events), samples, entry)


# ---- command line -------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python3 -m lwbench profile` (its own options, before `--`)."""
    ap = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} [--out-dir DIR] [--both-modes] [--frequency HZ] [--event EVENT] -- <lwbench run flags>",
        description="Profile one lwbench scenario with perf (record, report, stat, folded stacks, flame graph).",
        epilog="example: python3 -m lwbench profile --both-modes -- --scenario send_latency --api socket "
               "--size 1458 --ops 20000 --repetitions 3",
    )
    ap.add_argument("--out-dir", type=Path, default=_paths.results_dir(),
                    help="parent folder of the new profile folder (default: <repo>/results)")
    ap.add_argument("--both-modes", action="store_true",
                    help="profile with --mode message_passing, then core_locking, and write mode_diff.md")
    ap.add_argument("--frequency", type=int, default=DEFAULT_FREQUENCY, metavar="HZ",
                    help="sampling frequency (default: %(default)s)")
    ap.add_argument("--event", default=DEFAULT_EVENT,
                    help="perf sampling event; a software event works everywhere (default: %(default)s)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the profile command; returns the exit status (2: usage or perf problems, 1: a failed run)."""
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
    env = machine.capture(now)
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
        warnings: list[str] = []
        if args.both_modes:
            text, warnings = mode_diff.mode_diff_markdown(results[0].profile, results[1].profile, flags,
                                                          args.event, args.frequency)
            (partial / "mode_diff.md").write_text(text)
            for w in warnings:
                log(f"warning: {w}")
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
            "warnings": warnings,
        }
        (partial / "profile.json").write_text(json.dumps(meta, indent=2) + "\n")
        final = publish_directory(partial, out_dir, name)
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
