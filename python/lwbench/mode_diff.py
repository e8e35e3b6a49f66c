"""Where the CPU time moves between message passing and core locking (profile mode_diff.md).

Two guards keep the diff honest:

* harness frames stay out: a sample whose stack holds start-up / exit code, the
  testbed's set-up, the counters' set-up, or the percentile sort and
  aggregation after a repetition (HARNESS_FRAME_PATTERNS) is not work of the
  scenario; such samples are counted and reported, but not compared;
* too few samples make shares meaningless: with fewer than MIN_SAMPLES measured
  samples in either profile the page carries a warning, and the command says so
  on stderr (a 35-sample profile cannot rank symbols).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from . import perf_fold

__all__ = ["HARNESS_FRAME_PATTERNS", "MIN_SAMPLES", "split_harness", "sample_warning", "ModeProfile",
           "mode_diff_markdown"]

#: Frames that mark a sample as the harness's own work, not the scenario's.
HARNESS_FRAME_PATTERNS = tuple(re.compile(p) for p in (
    r"^std::(__)?(sort|introsort|insertion_sort|adjust_heap|nth_element|introselect|partial_sort|__final_insertion_sort)",
    r"(^|::)(accumulator::finish|summarize|percentiles?|ladder)\b",
    r"(^|::)(calibrate_clock|capture_environment|source_git_state)\b",
    r"(^|::)perf_counters::(perf_counters|~perf_counters)",
    r"perf_event_open|perf_event_release",
    r"(^|::)testbed::(testbed|~testbed)",
    r"(^|::)parse_\w+",
    r"^_dl_|^__run_exit_handlers$|^_dl_start|^__libc_csu_init$|^_start$",
))
#: Below this many measured samples per profile, the mode diff carries a warning.
MIN_SAMPLES = 500


def _is_harness(stack: str) -> bool:
    return any(p.search(frame) for frame in stack.split(";") for p in HARNESS_FRAME_PATTERNS)


def split_harness(folded: Mapping[str, float]) -> tuple[dict, dict]:
    """(measured, harness): the folded stacks without and with harness frames."""
    measured, harness = {}, {}
    for stack, w in folded.items():
        (harness if _is_harness(stack) else measured)[stack] = w
    return measured, harness


def sample_warning(name: str, measured: float, total: float) -> str | None:
    """A warning when `measured` samples are too few to support the diff, else None."""
    if measured >= MIN_SAMPLES:
        return None
    return (f"{name}: only {measured:,.0f} measured samples ({total:,.0f} in all, the rest harness frames); "
            f"shares from fewer than {MIN_SAMPLES} samples are noise - profile a longer run "
            "(more --ops or --repetitions) or sample faster (--frequency)")


@dataclass
class ModeProfile:
    """One mode's folded stacks and its perf stat events."""

    name: str
    folded: dict
    stat: dict


def mode_diff_markdown(mp: ModeProfile, cl: ModeProfile, flags: Sequence[str], event: str, frequency: int,
                       top: int = 12) -> tuple[str, list[str]]:
    """Markdown: which symbols gain share (self time) in message passing vs core locking, harness frames
    excluded. Returns (markdown, warnings)."""
    mp_measured, mp_harness = split_harness(mp.folded)
    cl_measured, cl_harness = split_harness(cl.folded)
    n_mp, n_cl = perf_fold.total_weight(mp_measured), perf_fold.total_weight(cl_measured)
    warnings = [w for w in (sample_warning("message passing", n_mp, perf_fold.total_weight(mp.folded)),
                            sample_warning("core locking", n_cl, perf_fold.total_weight(cl.folded))) if w]
    rows = perf_fold.diff(mp_measured, cl_measured, by="self", drop_root=True, min_share=0.2)

    def esc(s: str) -> str:
        s = s if len(s) <= 100 else s[:99] + "…"
        return s.replace("|", "\\|").replace("`", "'")

    def table(items) -> list[str]:
        out = ["| symbol | message passing | core locking | Δ (points) |", "| --- | ---: | ---: | ---: |"]
        out += [f"| `{esc(d.symbol)}` | {d.share_a:.1f}% | {d.share_b:.1f}% | {d.delta:+.1f} |" for d in items]
        return out

    def ctx(r: ModeProfile) -> str:
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
        *([f"> **Warning:** {w}" for w in warnings] + [""] if warnings else []),
        "Shares are self time (the sample's leaf frame) as % of each run's own *measured* samples "
        f"(message passing: {n_mp:,.0f}, core locking: {n_cl:,.0f}); samples in harness frames "
        f"(start-up, set-up, the percentile sort; message passing {perf_fold.total_weight(mp_harness):,.0f}, "
        f"core locking {perf_fold.total_weight(cl_harness):,.0f}) are left out. Δ is message passing minus "
        f"core locking, in percentage points. Context switches (perf stat, whole run): message passing "
        f"{ctx(mp)}, core locking {ctx(cl)}.",
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
    return "\n".join(lines), warnings
