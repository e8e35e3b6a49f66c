"""Compare two sets of results point by point, with a verdict CI can act on.

Method (stated in every output): for each scenario point present in both sets,
the ratio is median(new repetition medians) / median(base repetition medians),
where a repetition median is the p50 of one timed repetition
(`repetition_p50_ns` in the file). Its 95 % confidence interval comes from a
percentile bootstrap: both sides' repetition medians are resampled with
replacement (10 000 resamples, fixed seed, so the verdict is reproducible) and
the ratio of the resampled medians is taken each time.

Verdict, with threshold t (default 5 %):

* ``inconclusive`` — either side has fewer than 3 repetitions, or either side is a
  bimodal cell (its `modes` field lists two clusters), or the interval is too wide
  to decide (it overlaps both "no change" and "changed");
* ``slower`` — the interval lies above 1 (the new side is slower with 95 %
  confidence) and the ratio exceeds 1 + t;
* ``faster`` — the interval lies below 1 and the ratio is under 1 / (1 + t);
* ``no change`` — the whole interval lies within [1 / (1 + t), 1 + t].

`python3 -m lwbench compare BASE NEW` exits 1 when any point is ``slower``,
0 otherwise, and 2 on usage errors. With one file (or --stacks), it compares
two stacks inside it, e.g. our stack (new) against real lwIP 2.1.3 (base).
It warns (stderr, and in the json output) when the environments differ.
"""

from __future__ import annotations

import argparse
import csv
import enum
import io
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from . import machine
from .formatting import fmt_ns, fmt_ratio
from .results import IDENTITY, NotAResultFile, Record, Results, load

__all__ = ["Verdict", "Comparison", "Comparisons", "compare", "compare_stacks", "METHOD", "MIN_REPETITIONS",
           "DEFAULT_THRESHOLD", "render", "main"]

MIN_REPETITIONS = 3
DEFAULT_THRESHOLD = 0.05
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 12345
CONFIDENCE = 0.95
METHOD = (f"ratio = median(new repetition medians) / median(base repetition medians); "
          f"{CONFIDENCE:.0%} percentile-bootstrap interval ({BOOTSTRAP_RESAMPLES} resamples of each side's "
          f"repetition medians, seed {BOOTSTRAP_SEED}); fewer than {MIN_REPETITIONS} repetitions -> inconclusive")


class Verdict(enum.Enum):
    """What a comparison concludes about the new side relative to the base."""

    FASTER = "faster"
    SLOWER = "slower"
    NO_CHANGE = "no change"
    INCONCLUSIVE = "inconclusive"

    def __str__(self) -> str:
        return self.value


def bootstrap_ratio_interval(base: Sequence[float], new: Sequence[float],
                             resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                             confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile-bootstrap interval of median(new)/median(base) from the two samples."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(base, dtype=float), np.asarray(new, dtype=float)
    ma = np.median(rng.choice(a, size=(resamples, a.size), replace=True), axis=1)
    mb = np.median(rng.choice(b, size=(resamples, b.size), replace=True), axis=1)
    ratios = mb / ma
    tail = (1.0 - confidence) / 2
    return float(np.quantile(ratios, tail)), float(np.quantile(ratios, 1.0 - tail))


@dataclass
class Comparison:
    """One scenario point present in both result sets: new relative to base."""

    record_a: Record  # base
    record_b: Record  # new
    threshold: float = DEFAULT_THRESHOLD
    ratio: float = math.nan
    low: float = math.nan
    high: float = math.nan
    verdict: Verdict = Verdict.INCONCLUSIVE
    reason: str = ""

    @property
    def base(self) -> Record:
        """The base record (the reference)."""
        return self.record_a

    @property
    def new(self) -> Record:
        """The new record (what is judged)."""
        return self.record_b

    @property
    def significant(self) -> bool:
        """True for a verdict of faster or slower."""
        return self.verdict in (Verdict.FASTER, Verdict.SLOWER)

    def as_dict(self) -> dict:
        """The comparison as plain data (json / csv output)."""
        point = {f"point_{k}": self.record_b.get(k) for k in IDENTITY}
        return {"point": self.record_b.label, **point,
                "base_stack": self.record_a.get("stack"), "new_stack": self.record_b.get("stack"),
                "base_p50_ns": _median(self.record_a), "new_p50_ns": _median(self.record_b),
                "base_repetitions": len(self.record_a.repetition_medians),
                "new_repetitions": len(self.record_b.repetition_medians),
                "ratio": _finite(self.ratio), "ci_low": _finite(self.low), "ci_high": _finite(self.high),
                "verdict": str(self.verdict), "reason": self.reason}

    def __str__(self) -> str:
        return (f"{self.record_b.label}: {fmt_ns(_median(self.record_a))} -> {fmt_ns(_median(self.record_b))} "
                f"{fmt_ratio(self.ratio)} [{fmt_ratio(self.low)}, {fmt_ratio(self.high)}] {self.verdict}"
                + (f" ({self.reason})" if self.reason else ""))


def _finite(x: float):
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None


def _median(rec: Record) -> float | None:
    reps = rec.repetition_medians
    if reps:
        return float(np.median(reps))
    lat = rec.get("latency_ns") or {}
    return float(lat["p50"]) if lat.get("p50") is not None else None


def judge(base: Record, new: Record, threshold: float = DEFAULT_THRESHOLD) -> Comparison:
    """Ratio, interval and verdict of one point (see the module docstring for the rules)."""
    c = Comparison(base, new, threshold)
    a, b = base.repetition_medians, new.repetition_medians
    ma, mb = _median(base), _median(new)
    if ma and mb is not None:
        c.ratio = mb / ma
    if len(a) < MIN_REPETITIONS or len(b) < MIN_REPETITIONS:
        c.reason = f"fewer than {MIN_REPETITIONS} repetitions (base {len(a)}, new {len(b)})"
        return c
    if min(a) <= 0:
        c.reason = "base has a non-positive repetition median"
        return c
    bimodal = [side for side, rec in (("base", base), ("new", new)) if len(rec.modes) > 1]
    if bimodal:
        c.low, c.high = bootstrap_ratio_interval(a, b)
        c.reason = f"bimodal cell ({' and '.join(bimodal)}): its median describes neither mode"
        return c
    c.low, c.high = bootstrap_ratio_interval(a, b)
    up, down = 1.0 + threshold, 1.0 / (1.0 + threshold)
    if c.low > 1.0 and c.ratio > up:
        c.verdict = Verdict.SLOWER
    elif c.high < 1.0 and c.ratio < down:
        c.verdict = Verdict.FASTER
    elif c.low >= down and c.high <= up:
        c.verdict = Verdict.NO_CHANGE
    else:
        c.reason = "interval overlaps both no change and a change beyond the threshold"
    return c


class Comparisons(list):
    """A list of Comparison with the environment warnings and the method used."""

    def __init__(self, items=(), warnings: Sequence[str] = (), method: str = METHOD,
                 base_name: str = "base", new_name: str = "new", threshold: float = DEFAULT_THRESHOLD):
        super().__init__(items)
        self.warnings = list(warnings)
        self.method = method
        self.base_name = base_name
        self.new_name = new_name
        self.threshold = threshold

    @property
    def exit_status(self) -> int:
        """1 when any point is slower beyond the threshold, else 0 (what the command exits with)."""
        return 1 if any(c.verdict is Verdict.SLOWER for c in self) else 0

    def counts(self) -> dict:
        """How many points got each verdict."""
        return {str(v): sum(1 for c in self if c.verdict is v) for v in Verdict}


def _as_results(x) -> Results:
    if isinstance(x, Results):
        return x
    if isinstance(x, (str, Path)):
        return load(x)
    return Results(records=[r if isinstance(r, Record) else Record(r) for r in x], environment={}, notes=[])


def compare(base, new, threshold: float = DEFAULT_THRESHOLD, ignore: Sequence[str] = ()) -> Comparisons:
    """Compare two result sets (Results, paths or record lists) point by point.

    Records are matched by their identity (IDENTITY minus `ignore`, e.g. ignore=('stack',)
    to put our stack next to real lwIP). threshold: the relative change (0.05 = 5 %) that
    counts as slower / faster. Returns Comparisons (a list of Comparison, with
    `.warnings` for environment differences and `.exit_status`).
    """
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 <= threshold < 10:
        raise TypeError(f"threshold must be a number between 0 and 10 (a fraction: 0.05 = 5 %), got {threshold!r}")
    a, b = _as_results(base), _as_results(new)
    keys = [k for k in IDENTITY if k not in ignore]
    index: dict = {}
    for r in a.records:
        index.setdefault(tuple(r.get(k) for k in keys), r)
    out = [judge(index[k], r, threshold) for r in b.records
           if (k := tuple(r.get(k) for k in keys)) in index and index[k] is not r]
    warnings = machine.differences(a.environment, b.environment) if a.environment and b.environment else []
    for name, res in (("base", a), ("new", b)):
        if res.environment.get("git_revision_mismatch"):
            warnings.append(f"{name}: the binary was built from another revision than the one recorded "
                            "(git_revision_mismatch)")
    return Comparisons(out, warnings, threshold=threshold,
                       base_name=str(a.path.name if a.path else "base"), new_name=str(b.path.name if b.path else "new"))


def compare_stacks(results, base_stack: str = "lwip-2.1.3", new_stack: str = "lwbench",
                   threshold: float = DEFAULT_THRESHOLD) -> Comparisons:
    """Within one result set: `new_stack`'s records against `base_stack`'s at the same scenario point."""
    res = _as_results(results)
    a = Results([r for r in res.records if r.get("stack") == base_stack], {}, [])
    b = Results([r for r in res.records if r.get("stack") == new_stack], {}, [])
    if not a.records or not b.records:
        present = sorted({str(r.get("stack")) for r in res.records})
        raise ValueError(f"need records of both stacks {base_stack!r} and {new_stack!r}; present: {present}")
    out = compare(a, b, threshold, ignore=("stack", "variant"))
    out.base_name, out.new_name = base_stack, new_stack
    return out


# ---- output -----------------------------------------------------------------------------------

FORMATS = ("table", "json", "csv", "markdown")


def render(comps: Comparisons, fmt: str = "table") -> str:
    """The comparisons as a table, json, csv or markdown text (method and warnings included)."""
    rows = [c.as_dict() for c in comps]
    if fmt == "json":
        return json.dumps({"base": comps.base_name, "new": comps.new_name, "threshold": comps.threshold,
                           "method": comps.method, "warnings": comps.warnings, "counts": comps.counts(),
                           "exit_status": comps.exit_status, "comparisons": rows}, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        fields = list(rows[0]) if rows else ["point", "ratio", "ci_low", "ci_high", "verdict"]
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) else v) for k, v in r.items()})
        return buf.getvalue()
    header = ["point", "base p50", "new p50", "ratio", "95% interval", "verdict"]
    body = [[c.record_b.label, fmt_ns(_median(c.record_a)), fmt_ns(_median(c.record_b)), fmt_ratio(c.ratio),
             f"{fmt_ratio(c.low)} – {fmt_ratio(c.high)}" if math.isfinite(c.low) else "n/a",
             str(c.verdict) + (f" ({c.reason})" if c.reason and c.verdict is Verdict.INCONCLUSIVE else "")]
            for c in comps]
    intro = [f"base: {comps.base_name}   new: {comps.new_name}   threshold: {comps.threshold * 100:g}%",
             f"method: {comps.method}"] + [f"warning: {w}" for w in comps.warnings]
    counts = ", ".join(f"{n} {v}" for v, n in comps.counts().items() if n)
    if fmt == "markdown":
        lines = [f"- {x}" for x in intro] + ["", "| " + " | ".join(header) + " |",
                                              "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
        return "\n".join(lines + ["", f"{len(comps)} points: {counts or 'none'}"]) + "\n"
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    fmt_row = lambda r: "  ".join(cell.ljust(widths[i]) if i in (0, 5) else cell.rjust(widths[i])  # noqa: E731
                                  for i, cell in enumerate(r)).rstrip()
    lines = intro + ["", fmt_row(header)] + [fmt_row(r) for r in body]
    return "\n".join(lines + ["", f"{len(comps)} points: {counts or 'none'}"]) + "\n"


def _threshold(text: str) -> float:
    t = text.strip().rstrip("%")
    try:
        value = float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--threshold takes a percentage such as 5 or 5%, got {text!r}") from None
    if not 0 <= value < 1000:
        raise argparse.ArgumentTypeError(f"--threshold must be between 0 and 1000 (percent), got {text!r}")
    return value / 100.0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python3 -m lwbench compare`."""
    ap = argparse.ArgumentParser(
        prog="python3 -m lwbench compare",
        description="Compare two lwbench result files point by point (new against base), or two stacks "
                    "inside one file. Exit status: 1 when a point is slower beyond the threshold, 0 otherwise, "
                    "2 on usage errors.",
        epilog="method: " + METHOD,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("base", type=Path, metavar="BASE", help="the reference result file")
    ap.add_argument("new", type=Path, metavar="NEW", nargs="?",
                    help="the result file judged against BASE (omit it to compare two stacks inside BASE)")
    ap.add_argument("--threshold", type=_threshold, default=f"{DEFAULT_THRESHOLD * 100:g}", metavar="P",
                    help="relative change in percent that counts as slower / faster")
    ap.add_argument("--format", choices=FORMATS, default="table", help="output format on stdout")
    ap.add_argument("--stacks", metavar="BASE_STACK,NEW_STACK", default=None,
                    help="compare two stacks inside one file (default with one file: lwip-2.1.3,lwbench)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """`python3 -m lwbench compare`: print the comparison; return the exit status."""
    ap = build_parser()
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    threshold = args.threshold
    for p in (args.base, args.new):
        if p is not None and not p.is_file():
            ap.error(f"no such file: {p}")
    try:
        if args.new is None or args.stacks:
            base_stack, _, new_stack = (args.stacks or "lwip-2.1.3,lwbench").partition(",")
            if not new_stack:
                ap.error(f"--stacks takes BASE_STACK,NEW_STACK, got {args.stacks!r}")
            if args.new is not None:
                ap.error("--stacks compares inside one file: give one file")
            comps = compare_stacks(args.base, base_stack, new_stack, threshold)
        else:
            comps = compare(args.base, args.new, threshold)
    except NotAResultFile as e:
        ap.error(str(e))
    except ValueError as e:
        ap.error(str(e))
    for w in comps.warnings:
        print(f"python3 -m lwbench compare: warning: {w}", file=sys.stderr)
    if not comps:
        print("python3 -m lwbench compare: warning: no scenario point is present in both", file=sys.stderr)
    sys.stdout.write(render(comps, args.format))
    return comps.exit_status
