"""How lwbench's Python side writes numbers for people: the one formatter.

Every table, figure label, report page and summary (python/lwbench, plots/,
bench/summarize.py) formats durations, counts, ratios and percentages through
these functions, so the same value reads the same everywhere.
"""

from __future__ import annotations

import math

__all__ = ["sig", "fmt_ns", "fmt_count", "fmt_ratio", "fmt_percent", "fmt_rate"]


def sig(x: float, digits: int = 3) -> str:
    """x with `digits` significant digits, no exponent for everyday sizes."""
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "n/a"
    mag = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - mag)
    return f"{x:.{decimals}f}"


def fmt_ns(ns: float | None, digits: int = 3) -> str:
    """A duration given in ns, in its natural unit with `digits` significant digits ("1.46 µs"); None -> "n/a"."""
    if ns is None or (isinstance(ns, float) and not math.isfinite(ns)):
        return "n/a"
    for div, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns")):
        if abs(ns) >= div or unit == "ns":
            return f"{sig(ns / div, digits)} {unit}"
    return f"{ns} ns"  # unreachable


def fmt_count(x: float | None) -> str:
    """A per-operation count (context switches, copies): two decimals when small, thousands separators when large."""
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) < 0.005:
        return "0.00"  # measured, and below what two decimals show (never "4e-05")
    return f"{x:.2f}" if abs(x) < 10 else f"{x:.1f}"


def fmt_ratio(x: float | None, digits: int = 3) -> str:
    """A ratio as "1.23×"; None / NaN -> "n/a"."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{sig(x, digits)}×"


def fmt_percent(x: float | None, signed: bool = True, decimals: int = 2) -> str:
    """A percentage given in percent ("+1.25%"); None / NaN -> "n/a"."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:+.{decimals}f}%" if signed else f"{x:.{decimals}f}%"


def fmt_rate(x: float | None, unit: str = "/s") -> str:
    """An events-per-second rate with an SI prefix ("1.21 M/s")."""
    if x is None or not math.isfinite(x):
        return "n/a"
    for div, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")):
        if abs(x) >= div or div == 1.0:
            return f"{sig(x / div, 3)} {prefix}{unit}"
    return f"{x}{unit}"  # unreachable
