"""Latency figures: the per-call latency distribution (CDF and tail) per mode
and API, and percentiles (p50 / p99 / p99.9) against payload size.

Both read `latency_ns` of records: the `ladder` ([[q, ns], ...]) for the
distribution, and `p50` / `p99` / `p999` for the percentiles.  All values are
per operation.
"""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from .common import (
    API_LINESTYLES,
    API_MARKERS,
    APIS,
    MODES,
    NoData,
    choose,
    common_values,
    finish,
    fmt_selection,
    get,
    ladder,
    load_results,
    mode_colour,
    new_figure,
    number,
    select,
    series_key_label,
    fmt_ns,
    plain_log_ticks,
    time_unit,
    varying_keys,
)

_PERCENTILES = (("p50", "p50 (median)"), ("p99", "p99"), ("p999", "p99.9"))
_FIXED_KEYS = ("payload_bytes", "app_threads", "pinning", "input_mode", "mailbox_kind", "lock_kind")


def _series_order(rec: dict) -> tuple:
    """lwbench before other stacks, then API (socket, netconn, raw), then mode."""
    mode = rec.get("threading_mode")
    return (
        rec.get("stack") != "lwbench",
        str(rec.get("stack")),
        APIS.index(rec["api"]) if rec.get("api") in APIS else 9,
        MODES.index(mode) if mode in MODES else 9,
    )


def _style(rec: dict, stacks_vary: bool) -> dict:
    other_stack = stacks_vary and rec.get("stack") != "lwbench"
    return {
        "color": mode_colour(rec.get("threading_mode")),
        "linestyle": API_LINESTYLES.get(rec.get("api"), "-."),
        "linewidth": 1.4 if other_stack else 2.0,
        "alpha": 0.75 if other_stack else 1.0,
    }


def _label_keys(records: list[dict]) -> list[str]:
    keys = [k for k in ("stack",) if k in varying_keys(records, ("stack",))]
    return keys + ["api", "threading_mode"]


def _subtitle(records: list[dict]) -> str:
    return fmt_selection(common_values(records, _FIXED_KEYS), _FIXED_KEYS)


def plot_latency_cdf(results, *, scenario: str = "send_latency", payload_bytes: int | None = None):
    """Distribution of per-operation latency for one scenario, one line per
    (stack, API, threading mode).  Left: CDF; right: tail (1 - CDF, log) so
    that p99 and p99.9 are readable.  x is log-scaled time.

    payload_bytes: fix the size (default: 1458 if present, else the most
    common).  Raises NoData when no record of `scenario` has a ladder.
    """
    rs = load_results(results)
    cand = [r for r in select(rs.records, scenario=scenario) if len(ladder(r)) >= 2]
    if payload_bytes is not None:
        cand = select(cand, payload_bytes=payload_bytes)
    if not cand:
        raise NoData(f"no {scenario} records with a latency ladder")
    chosen, notes = choose(cand, keep=("stack", "api", "threading_mode"))
    chosen.sort(key=_series_order)

    all_ns = [ns for r in chosen for _, ns in ladder(r)]
    div, unit = time_unit(all_ns)
    stacks_vary = bool(varying_keys(chosen, ("stack",)))
    label_keys = _label_keys(chosen)

    fig = new_figure(15.0, 5.6)
    ax_cdf, ax_tail = fig.subplots(1, 2)
    handles = []
    for rec in chosen:
        pts = ladder(rec)
        xs = [max(ns, 1e-3) / div for _, ns in pts]
        qs = [q for q, _ in pts]
        style = _style(rec, stacks_vary)
        ax_cdf.plot(xs, qs, drawstyle="steps-post", **style)
        tail = [(x, 1.0 - q) for x, q in zip(xs, qs) if q < 1.0]
        if tail:
            # Markers only on p50 / p90 / p99 / p99.9 / p99.99: the ladder is dense.
            marks = [i for i, (_, t) in enumerate(tail)
                     if any(abs(t - m) < 1e-9 for m in (0.5, 0.1, 0.01, 0.001, 0.0001))]
            ax_tail.plot([t[0] for t in tail], [t[1] for t in tail], marker=API_MARKERS.get(rec.get("api"), "D"),
                         markersize=4, markevery=marks, **style)
        p50 = number(get(rec, "latency_ns", "p50"))
        label = series_key_label(rec, label_keys)
        if p50 is not None:
            label += f"  (p50 {fmt_ns(p50)})"
        handles.append(Line2D([], [], **style, label=label))

    for ax in (ax_cdf, ax_tail):
        ax.set_xscale("log")
        plain_log_ticks(ax.xaxis)
        ax.set_xlabel(f"latency per operation ({unit}, log scale)")
        ax.grid(True, which="both", alpha=0.3)
    ax_cdf.set_ylim(0, 1.01)
    ax_cdf.set_ylabel("fraction of operations ≤ latency")
    for q, name in ((0.5, "p50"), (0.99, "p99")):
        ax_cdf.axhline(q, color="#888888", lw=0.7, ls=":")
        ax_cdf.text(0.995, q, name, transform=ax_cdf.get_yaxis_transform(), ha="right", va="bottom",
                    fontsize=7, color="#555555")
    ax_cdf.set_title("cumulative distribution", fontsize=10)

    ax_tail.set_yscale("log")
    ax_tail.set_ylabel("fraction of operations > latency (log)")
    ax_tail.set_title("tail (1 − CDF): p99 at 10⁻², p99.9 at 10⁻³", fontsize=10)
    for q, name in ((1e-2, "p99"), (1e-3, "p99.9")):
        ax_tail.axhline(q, color="#888888", lw=0.7, ls=":")
        ax_tail.text(0.995, q, name, transform=ax_tail.get_yaxis_transform(), ha="right", va="bottom",
                     fontsize=7, color="#555555")
    # Outside the axes: inside, it would hide the tails it is there to explain.
    ax_tail.legend(handles=handles, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), framealpha=0.9,
                   title="colour = mode, line = API", title_fontsize=7.5)

    sub = _subtitle(chosen)
    fig.suptitle(f"{scenario}: latency distribution per call" + (f"\n{sub}" if sub else ""), fontsize=11)
    count = {int(c) for c in (number(get(r, "latency_ns", "count")) for r in chosen) if c}
    if count:
        notes.append(
            "each line: all timed samples of all repetitions of one record "
            f"({min(count):,}–{max(count):,} samples); the tail beyond the last ladder rung is not drawn"
            if len(count) > 1
            else f"each line: all {count.pop():,} timed samples of one record (all repetitions)"
        )
    return finish(fig, rs, notes, chosen)


def plot_percentiles_vs_size(results, *, scenario: str = "send_latency"):
    """p50 / p99 / p99.9 per-operation latency against UDP payload size, one
    line per (stack, API, threading mode); shared log time axis.

    Raises NoData unless some series has at least two payload sizes.
    """
    rs = load_results(results)
    cand = [r for r in select(rs.records, scenario=scenario)
            if number(get(r, "latency_ns", "p50")) is not None and isinstance(r.get("payload_bytes"), int)]
    if not cand:
        raise NoData(f"no {scenario} records with latency percentiles and a payload size")
    chosen, notes = choose(cand, keep=("stack", "api", "threading_mode", "payload_bytes"))
    sizes = sorted({r["payload_bytes"] for r in chosen})
    if len(sizes) < 2:
        raise NoData(f"{scenario}: only one payload size ({sizes}); nothing to draw against size")

    series: dict[tuple, list[dict]] = {}
    for r in sorted(chosen, key=_series_order):
        series.setdefault((r.get("stack"), r.get("api"), r.get("threading_mode")), []).append(r)
    stacks_vary = bool(varying_keys(chosen, ("stack",)))
    label_keys = _label_keys(chosen)
    all_ns = [number(get(r, "latency_ns", k)) for r in chosen for k, _ in _PERCENTILES]
    div, unit = time_unit([v for v in all_ns if v is not None])

    fig = new_figure(15.5, 5.4)
    axes = fig.subplots(1, 3, sharey=True)
    handles = []
    for recs in series.values():
        recs.sort(key=lambda r: r["payload_bytes"])
        style = _style(recs[0], stacks_vary)
        marker = API_MARKERS.get(recs[0].get("api"), "D")
        for ax, (key, _) in zip(axes, _PERCENTILES):
            pts = [(r["payload_bytes"], number(get(r, "latency_ns", key))) for r in recs]
            pts = [(x, y / div) for x, y in pts if y is not None]  # absent percentile: gap, not 0
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, markersize=5, **style)
        handles.append(Line2D([], [], marker=marker, **style, label=series_key_label(recs[0], label_keys)))

    for ax, (_, title) in zip(axes, _PERCENTILES):
        ax.set_title(title, fontsize=10)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(sizes))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.tick_params(axis="x", labelrotation=45 if len(sizes) > 6 else 0, labelsize=8)
        ax.set_xlabel("UDP payload (bytes, log scale)")
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(f"latency per operation ({unit}, log scale)")
    axes[-1].legend(handles=handles, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), framealpha=0.9,
                    title="colour = mode, line = API", title_fontsize=7.5)
    keys = ("app_threads", "pinning", "input_mode", "mailbox_kind", "lock_kind")
    sub = fmt_selection(common_values(chosen, keys), keys)
    fig.suptitle(f"{scenario}: latency percentiles vs payload size" + (f"\n{sub}" if sub else ""), fontsize=11)
    return finish(fig, rs, notes, chosen)
