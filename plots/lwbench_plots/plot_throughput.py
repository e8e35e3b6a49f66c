"""Throughput figure: datagrams/s against the number of application (sender)
threads, one panel per threading mode, one line per mailbox kind (message
passing) or lock kind (core locking) - the component each mode contends on.

Reads `ops_per_sec` (all threads together) of `throughput` records.
"""

from __future__ import annotations

import math

from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter, FuncFormatter, MaxNLocator

from .common import (
    API_LINESTYLES,
    API_MARKERS,
    KIND_COLOURS,
    MODES,
    NoData,
    choose,
    common_values,
    finish,
    fmt_selection,
    load_results,
    mode_colour,
    mode_label,
    new_figure,
    number,
    select,
    series_key_label,
    varying_keys,
)

# The kind that matters in each mode comes first in the legend label.
_KIND_FIRST = {"message_passing": ("mailbox_kind", "lock_kind"), "core_locking": ("lock_kind", "mailbox_kind")}


def plot_throughput(results, *, payload_bytes: int | None = None):
    """Datagrams/s vs application threads, per mode, mailbox kind and lock kind.

    payload_bytes: fix the size (default 1458 if present, else the most common).
    Raises NoData when there are no throughput records with ops_per_sec.
    """
    rs = load_results(results)
    cand = [r for r in select(rs.records, scenario="throughput")
            if number(r.get("ops_per_sec")) is not None and isinstance(r.get("app_threads"), int)]
    if payload_bytes is not None:
        cand = select(cand, payload_bytes=payload_bytes)
    if not cand:
        raise NoData("no throughput records with ops_per_sec and app_threads")
    keep = ("stack", "api", "threading_mode", "mailbox_kind", "lock_kind", "app_threads")
    chosen, notes = choose(cand, keep=keep)
    modes = [m for m in MODES if select(chosen, threading_mode=m)]
    modes += sorted({r.get("threading_mode") for r in chosen} - set(modes), key=str)

    fig = new_figure(6.0 * len(modes) + 1.0, 5.4)
    axes = fig.subplots(1, len(modes), sharey=True, squeeze=False)[0]
    threads_all = sorted({r["app_threads"] for r in chosen})
    for ax, mode in zip(axes, modes):
        recs = select(chosen, threading_mode=mode)
        kind_keys = _KIND_FIRST.get(mode, ("mailbox_kind", "lock_kind"))
        label_keys = varying_keys(recs, ("stack", "api") + kind_keys) or list(kind_keys[:1])
        series: dict[tuple, list[dict]] = {}
        for r in recs:
            series.setdefault(tuple(r.get(k) for k in ("stack", "api") + kind_keys), []).append(r)
        handles = []
        for key in sorted(series, key=lambda k: tuple(str(x) for x in k)):
            pts = sorted(series[key], key=lambda r: r["app_threads"])
            first = pts[0]
            kind = first.get(kind_keys[0])
            colour = KIND_COLOURS.get(kind, mode_colour(mode)) if kind is not None else mode_colour(mode)
            style = {
                "color": colour,
                "linestyle": API_LINESTYLES.get(first.get("api"), "-."),
                "marker": API_MARKERS.get(first.get("api"), "D"),
                "linewidth": 2.0,
                "markersize": 6,
            }
            ax.plot([r["app_threads"] for r in pts], [number(r["ops_per_sec"]) for r in pts], **style)
            label = series_key_label(first, label_keys) or mode_label(mode)
            handles.append(Line2D([], [], **style, label=label))
        ax.set_title(mode_label(mode), fontsize=10, color=mode_colour(mode), fontweight="bold")
        ax.set_xlabel("application (sender) threads")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if threads_all:
            ax.set_xticks(threads_all)
            ax.set_xlim(min(threads_all) - 0.3, max(threads_all) + 0.3)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(handles=handles, fontsize=8, loc="best", framealpha=0.9,
                  title=" / ".join(k.replace("_", " ") for k in label_keys), title_fontsize=8)
    # Shared log axis: the modes differ by an order of magnitude, and on a log
    # axis equal slopes mean equal relative scaling with threads.
    ys = [number(r["ops_per_sec"]) for r in chosen]
    axes[0].set_yscale("log")
    axes[0].set_ylim(min(ys) / 1.6, max(ys) * 1.6)
    axes[0].set_ylabel("throughput (datagrams/s, all threads, log scale)")
    axes[0].yaxis.set_major_formatter(EngFormatter(sep=""))
    eng = EngFormatter(sep="")
    # Label only the 2x and 5x minor ticks; all nine crowd the axis.
    axes[0].yaxis.set_minor_formatter(
        FuncFormatter(lambda v, pos: eng(v, pos) if round(v / 10 ** math.floor(math.log10(v))) in (2, 5) else "")
    )
    for ax in axes:
        ax.tick_params(axis="y", which="minor", labelsize=7)

    fixed = ("payload_bytes", "pinning", "input_mode")
    sub = fmt_selection(common_values(chosen, fixed), fixed)
    fig.suptitle("throughput vs application threads (UDP send through the stack)" + (f"\n{sub}" if sub else ""),
                 fontsize=11)
    return finish(fig, rs, notes, chosen)
