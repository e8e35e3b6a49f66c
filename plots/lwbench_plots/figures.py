"""`make_all`: every figure the given result files allow, written as PNG (+ SVG).

A figure whose records are absent is skipped with a message on stderr (never
drawn empty or from made-up data).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

from .common import LATENCY_SCENARIOS, NoData, counter_per_op, load_results, save_figure, warn
from .plot_crossover import plot_crossover
from .plot_counters import has_counter_values, has_nonzero_values, plot_counters
from .plot_floor import plot_floor
from .plot_latency import plot_latency_cdf, plot_percentiles_vs_size
from .plot_seed import plot_seed
from .plot_throughput import plot_throughput

# Counters are drawn in ONE figure, a row per counter that says something: a counter
# whose every value is zero (CPU migrations when pinned) or not available becomes a
# note instead. Context switches are drawn even when all null: "not available" is
# then itself the finding.
ALWAYS_DRAWN_COUNTERS = ("context_switches",)
OPTIONAL_COUNTERS = ("cpu_migrations", "task_clock_ns", "cycles", "instructions", "cache_misses", "branch_misses")


def _jobs(results) -> list[tuple[str, Callable]]:
    jobs: list[tuple[str, Callable]] = [("seed_comparison", plot_seed)]
    for scen in LATENCY_SCENARIOS:
        jobs.append((f"latency_cdf_{scen}", lambda r, s=scen: plot_latency_cdf(r, scenario=s)))
        jobs.append((f"latency_vs_size_{scen}", lambda r, s=scen: plot_percentiles_vs_size(r, scenario=s)))
    jobs.append(("throughput_vs_threads", plot_throughput))
    jobs.append(("crossover_map", plot_crossover))
    counters = list(ALWAYS_DRAWN_COUNTERS)
    for counter in OPTIONAL_COUNTERS:
        if has_nonzero_values(results, counter):
            counters.append(counter)
        elif has_counter_values(results, counter):
            warn(f"counters: {counter} not drawn: every measured value is below 0.005 per operation (shows as 0)")
        else:
            reasons = sorted({counter_per_op(r, counter)[1] for r in results.records
                              if r.get("scenario") != "primitive"})
            warn(f"counters: {counter} not drawn: no record has a value ({'; '.join(reasons) or 'no records'})")
    jobs.append(("counters", lambda r, c=tuple(counters): plot_counters(r, counter=c)))
    jobs.append(("primitives_floor", plot_floor))
    return jobs


def make_all(results_paths: Iterable[str | os.PathLike] | str | os.PathLike, out_dir: str | os.PathLike,
             *, dpi: int = 150, svg: bool = True) -> list[Path]:
    """Render every figure the records allow into out_dir.

    results_paths: result JSON files (or documents); records are merged.
    dpi: of the PNGs; svg: also write an SVG per figure.
    Returns the written files (PNG, and SVG unless svg is False, per figure).  Files that are
    other JSON (Google Benchmark output in the same folder) are skipped with a
    note on stderr; raises ValueError for an lwbench file of an unsupported
    version or invalid JSON.
    """
    results = load_results(results_paths, skip_foreign=True)
    if not results.records:
        warn("no records in the given result files: nothing to plot")
        return []
    written: list[Path] = []
    for stem, fn in _jobs(results):
        try:
            fig = fn(results)
        except NoData as e:
            warn(f"skipping {stem}: {e}")
            continue
        written += save_figure(fig, out_dir, stem, dpi=dpi, svg=svg)
    return written
