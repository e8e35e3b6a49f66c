"""`python3 -m lwbench <command> ...`: the lwbench command-line front.

Each command is a function taking its own argument list (everything after the
command name) and returning an exit status; it parses its own options, so
`python3 -m lwbench <command> -h` documents it. Usage errors exit 2. Heavy
imports happen inside the commands, so a failing check answers fast. The C++
`lwbench compare`, `lwbench report` and `lwbench crossover` delegate here with the same flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from . import _paths


def _cmd_profile(argv: Sequence[str]) -> int:
    from .profile import main

    return main(argv)


def _cmd_compare(argv: Sequence[str]) -> int:
    from .compare import main

    return main(argv)


def _cmd_report(argv: Sequence[str]) -> int:
    from .report import main

    return main(argv)


def _cmd_crossover(argv: Sequence[str]) -> int:
    from .crossover import main

    return main(argv)


def _cmd_plot(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="python3 -m lwbench plot",
        description="Render every figure the given lwbench result files allow (several runs are overlaid and "
                    "labelled by run and machine). Files that are not lwbench results (e.g. Google Benchmark "
                    "JSON picked up by a glob) and figures whose records are absent are skipped with a note "
                    "on stderr.",
    )
    ap.add_argument("results", nargs="+", type=Path, metavar="RESULTS.json", help="lwbench result files")
    ap.add_argument("-o", "--out-dir", type=Path, default=None,
                    help="output folder (default: plots/ next to the first results file)")
    args = ap.parse_args(list(argv))
    missing = [str(p) for p in args.results if not p.is_file()]
    if missing:
        ap.error(f"no such file: {', '.join(missing)}")
    out_dir = args.out_dir or args.results[0].resolve().parent / "plots"

    _paths.ensure_plots_importable()
    from lwbench_plots import make_all

    try:
        written = make_all(args.results, out_dir)
    except ValueError as e:  # an lwbench file of an unsupported version, or invalid JSON
        print(f"python3 -m lwbench plot: {e}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    if not written:
        print("python3 -m lwbench plot: no figure could be made from these files", file=sys.stderr)
        return 1
    return 0


def _cmd_reproduce(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m lwbench reproduce",
                                 description="The 2007 seed comparison (204/67/74 µs) on this machine.",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--no-lwip", action="store_true", help="skip the real-lwIP rows")
    ap.add_argument("--out-dir", type=Path, default=_paths.results_dir())
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(list(argv))
    from . import reproduce

    try:
        res = reproduce(repetitions=args.repetitions, ops=args.ops, warmup=args.warmup, with_lwip=not args.no_lwip,
                        save=None if args.no_save else args.out_dir)
    except (ValueError, TypeError) as e:
        ap.error(str(e))
    except ImportError as e:
        print(f"python3 -m lwbench reproduce: {e}", file=sys.stderr)
        return 1
    print(res.report)
    if res.path:
        print(f"wrote {res.path}", file=sys.stderr)
    return 0


def _cmd_run(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m lwbench run",
                                 description="Measure scenario points (comma-separated lists make a sweep).",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for flag, default in (("--scenario", "send_latency"), ("--api", "socket"),
                          ("--mode", "message_passing,core_locking"), ("--input-mode", "auto"),
                          ("--mailbox", "mutex_cv"), ("--lock", "std_mutex"), ("--pinning", "none"),
                          ("--primitive", None)):
        ap.add_argument(flag, default=default)
    ap.add_argument("--size", default="1458")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out-dir", type=Path, default=None, help="write a result file there")
    args = ap.parse_args(list(argv))
    from . import run

    def ints(text, name):
        try:
            return [int(x) for x in text.split(",") if x]
        except ValueError:
            ap.error(f"{name} takes whole numbers, got {text!r}")

    try:
        res = run(scenario=args.scenario, api=args.api, mode=args.mode, input_mode=args.input_mode,
                  mailbox=args.mailbox, lock=args.lock, pinning=args.pinning, primitive=args.primitive,
                  size=ints(args.size, "--size"), threads=ints(args.threads, "--threads"),
                  repetitions=args.repetitions, ops=args.ops, warmup=args.warmup, seed=args.seed, save=args.out_dir)
    except (ValueError, TypeError) as e:
        ap.error(str(e))
    except ImportError as e:
        print(f"python3 -m lwbench run: {e}", file=sys.stderr)
        return 1
    print(res.table())
    if res.path:
        print(f"wrote {res.path}", file=sys.stderr)
    return 0


# name -> (function, one-line help).  Order is the order shown in --help.
COMMANDS: dict[str, tuple[Callable[[Sequence[str]], int], str]] = {
    "run": (_cmd_run, "measure scenario points or a sweep (optionally write a result file)"),
    "reproduce": (_cmd_reproduce, "the 2007 seed comparison on this machine (writes results/)"),
    "compare": (_cmd_compare, "compare two result files (or two stacks in one): ratio, interval, verdict; "
                              "exit 1 when slower"),
    "report": (_cmd_report, "one self-contained HTML page from result files (tables, figures, verdicts)"),
    "profile": (_cmd_profile, "profile one scenario with perf: reports, perf stat, folded stacks, flame graphs"),
    "plot": (_cmd_plot, "render every figure the given result files allow (PNG + SVG)"),
    "crossover": (_cmd_crossover, "the crossover map: which design wins where (threads, payload, core work, "
                                  "pinning), into results/<stamp>_<rev>_crossover/"),
}


def _usage() -> str:
    from ._version import __version__

    width = max(len(n) for n in COMMANDS)
    lines = [f"usage: python3 -m lwbench <command> [options]   (lwbench {__version__})", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "python3 -m lwbench <command> -h shows a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a command; returns the exit status (2 for usage errors)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--version":
        from ._version import __version__

        print(f"lwbench {__version__}")
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        print(f"python3 -m lwbench: unknown command {name!r}{hint}\n\n{_usage()}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[name][0](rest)
    except SystemExit as e:  # argparse: 2 on usage errors, 0 for -h
        return e.code if isinstance(e.code, int) else 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
