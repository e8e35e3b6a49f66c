"""`lwbench crossover` (`python3 -m lwbench crossover`): the crossover map.

One `lwbench run` of the throughput scenario sweeps, interleaved in one shuffled order:
  - application (sender) threads: 1, 2, 4, … up to 4× the online CPUs (at most 64), so the
    sweep goes past the core count on any machine (1, 2, 4, 8 on two CPUs);
  - payload sizes (--size) and added core work (--core-work: iterations of the calibrated
    busy loop per packet, run in core context inside the sending call; `lwbench run --help`);
  - pinning: none, same_core and, with two CPUs or more, separate_cores;
  - designs (--design, default: `default`, the default of each threading mode and the
    best-known variants; `lwbench list` names them and says why each is in the set).
It then publishes results/<stamp>_<rev>_crossover/ atomically (the folder appears complete or
not at all, never over an existing one): the run's JSON and CSV, `crossover.md` (the map as a
table) and figures/crossover_map.png + .svg (lwbench_plots.plot_crossover).

Metric: delivered datagrams/s over all sender threads (the record's ops_per_sec); a cell whose
winner lies within the repetitions' spread of the runner-up is a tie.
Usage errors exit 2 (checked by this parser and by `lwbench run`, before anything is measured).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from . import _paths
from .perf_tool import find_binary
from .results import publish_directory

__all__ = ["default_threads", "default_pinnings", "main"]

LABEL = "crossover"
#: Oversubscription the default thread list reaches: threads up to this many per online CPU.
THREADS_PER_CPU = 4
MAX_THREADS = 64  # lwbench run's --threads limit


def online_cpus() -> int:
    """Online CPUs, as the harness counts them (sysconf _SC_NPROCESSORS_ONLN)."""
    return max(1, os.sysconf("SC_NPROCESSORS_ONLN"))


def default_threads(cpus: int) -> list[int]:
    """1, 2, 4, … up to THREADS_PER_CPU × cpus (at most MAX_THREADS): always past the core count."""
    out, t = [], 1
    while t <= min(THREADS_PER_CPU * cpus, MAX_THREADS):
        out.append(t)
        t *= 2
    return out


def default_pinnings(cpus: int) -> list[str]:
    """none and same_core everywhere; separate_cores where there is a second CPU."""
    return ["none", "same_core"] + (["separate_cores"] if cpus >= 2 else [])


def _whole_numbers(text: str, name: str) -> list[int]:
    """Comma-separated whole numbers >= 0; their ranges are `lwbench run`'s to check (one source)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} takes comma-separated whole numbers, got {text!r}") from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"{name} takes whole numbers >= 0, got {text!r}")
    return values


def _whole_number(text: str, name: str) -> int:
    values = _whole_numbers(text, name)
    if len(values) != 1:
        raise argparse.ArgumentTypeError(f"{name} takes one whole number, got {text!r}")
    return values[0]


def build_parser() -> argparse.ArgumentParser:
    cpus = online_cpus()
    ap = argparse.ArgumentParser(prog="lwbench crossover", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=lambda t: _whole_numbers(t, "--threads"),
                    default=default_threads(cpus),
                    help=f"sender threads (default here: {','.join(map(str, default_threads(cpus)))})")
    ap.add_argument("--size", type=lambda t: _whole_numbers(t, "--size"), default=[64, 1458],
                    help="UDP payload bytes (default: 64,1458)")
    ap.add_argument("--core-work", type=lambda t: _whole_numbers(t, "--core-work"),
                    default=[0, 2000], help="busy-loop iterations per packet in core context (default: 0,2000)")
    ap.add_argument("--pinning", default=",".join(default_pinnings(cpus)),
                    help="pinnings (default here: %(default)s)")
    ap.add_argument("--design", default="default", help="designs (lwbench list; default: %(default)s)")
    ap.add_argument("--api", default="socket", help="APIs (default: %(default)s)")
    ap.add_argument("--repetitions", type=lambda t: _whole_number(t, "--repetitions"), default=3,
                    help="timed repetitions per point (default: %(default)s)")
    ap.add_argument("--ops", type=lambda t: _whole_number(t, "--ops"), default=2000,
                    help="sends per thread per repetition (default: %(default)s)")
    ap.add_argument("--warmup", type=lambda t: _whole_number(t, "--warmup"), default=200,
                    help="untimed sends first (default: %(default)s)")
    ap.add_argument("--seed", type=lambda t: _whole_number(t, "--seed"), default=1)
    ap.add_argument("--out-dir", type=Path, default=_paths.results_dir(),
                    help="where the run's folder goes (default: %(default)s)")
    ap.add_argument("--no-plot", action="store_true", help="write the data only (no figure, no crossover.md)")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return ap


def run_command(binary: Path, args, out_dir: Path) -> list[str]:
    """The `lwbench run` command line of the sweep, writing into out_dir."""
    joined = lambda values: ",".join(map(str, values))  # noqa: E731
    cmd = [str(binary), "run", "--scenario", "throughput", "--api", args.api, "--design", args.design,
           "--threads", joined(args.threads), "--size", joined(args.size), "--core-work", joined(args.core_work),
           "--pinning", args.pinning, "--repetitions", str(args.repetitions), "--ops", str(args.ops),
           "--warmup", str(args.warmup), "--seed", str(args.seed), "--out-dir", str(out_dir), "--label", LABEL]
    return cmd + (["--quiet"] if args.quiet else [])


def _binary() -> tuple[Path | None, str | None]:
    """The lwbench binary: $LWBENCH_BIN, else the one that delegated here ($LWBENCH_SELF), else the build tree's."""
    env = dict(os.environ)
    if not env.get("LWBENCH_BIN") and env.get("LWBENCH_SELF"):
        env["LWBENCH_BIN"] = env["LWBENCH_SELF"]
    found, problem = find_binary(env)
    return (found.path if found else None), problem


def _log(args, msg: str) -> None:
    if not args.quiet:
        print(f"lwbench crossover: {msg}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    binary, problem = _binary()
    if binary is None:
        print(f"lwbench crossover: {problem}", file=sys.stderr)
        return 1
    try:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{LABEL}.", suffix=".partial", dir=args.out_dir))
    except OSError as e:
        ap.error(f"--out-dir {args.out_dir}: {e.strerror or e}")
    try:
        cmd = run_command(binary, args, staging)
        _log(args, " ".join(cmd))
        status = subprocess.run(cmd).returncode
        if status != 0:
            _log(args, f"lwbench run exited {status}; nothing was written")
            return status
        (result,) = staging.glob(f"*_{LABEL}.json")
        if not args.no_plot:
            _paths.ensure_plots_importable()
            from lwbench_plots.common import NoData, save_figure
            from lwbench_plots.plot_crossover import crossover_summary, plot_crossover

            try:
                save_figure(plot_crossover(result), staging / "figures", "crossover_map")
                (staging / "crossover.md").write_text(f"# crossover map\n\nFrom `{result.name}`.\n\n"
                                                      + crossover_summary(result), encoding="utf-8")
            except NoData as e:
                _log(args, f"no figure: {e}")
        staging.chmod(0o755)  # mkdtemp made it private; the published folder is like any other
        final = publish_directory(staging, args.out_dir, result.stem)
        _log(args, f"wrote {final}/")
        for path in sorted(final.rglob("*")):
            if path.is_file():
                print(path)
        return 0
    except KeyboardInterrupt:
        _log(args, "interrupted; nothing was written")
        return 130
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
