"""Latency figures: the per-call latency distribution (CDF and tail) per mode,
API and stack, and percentiles (p50 / p99 / p99.9) against payload size.

Both read `latency_ns` of records: the `ladder` ([[q, ns], ...]) for the
distribution, and `p50` / `p99` / `p999` for the percentiles. All values are
per operation. Encodings (the legend spells them out): colour = threading
mode, line style = stack, marker = API, line width / marker fill = run. One
row of panels per pinning (same_core and separate_cores are different
machines as far as message passing is concerned) and, where both are in the
data, per stack (our stack and real lwIP in rows of their own, on shared axes:
common.facets). The tail panels say how many samples the p99.9 rests on, and
whether a sample is a batch mean.
"""

from __future__ import annotations

from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from .common import (
    APIS,
    MODES,
    NoData,
    choose,
    common_values,
    facets,
    finish,
    fmt_ns,
    fmt_selection,
    get,
    ladder,
    line_style,
    load_results,
    mode_colour,
    mode_label,
    new_figure,
    number,
    plain_log_ticks,
    run_index,
    select,
    series_key_label,
    style_legend_handles,
    time_unit,
    varying_keys,
)

_PERCENTILES = (("p50", "p50 (median)"), ("p99", "p99"), ("p999", "p99.9"))
_FIXED_KEYS = ("payload_bytes", "app_threads", "input_mode", "mailbox_kind", "lock_kind")


def _series_order(rec: dict) -> tuple:
    """lwbench before other stacks, then API (socket, netconn, raw), then mode, then run."""
    mode = rec.get("threading_mode")
    return (
        rec.get("stack") != "lwbench",
        str(rec.get("stack")),
        APIS.index(rec["api"]) if rec.get("api") in APIS else 9,
        MODES.index(mode) if mode in MODES else 9,
        str(rec.get("_run")),
    )


def _mode_colours(records: list[dict]) -> dict:
    out = {mode_label(m): mode_colour(m) for m in MODES if select(records, threading_mode=m)}
    if select(records, threading_mode=None):
        out["no mode (raw API)"] = mode_colour(None)
    return out


def _samples_text(rec: dict) -> str:
    count = number(get(rec, "latency_ns", "count"))
    batch = number(rec.get("ops_per_sample")) or 1
    text = f"n={int(count):,}" if count else "n=?"
    if batch > 1:
        text += f" batch means of {int(batch)} ops"
    return text


def plot_latency_cdf(results, *, scenario: str = "send_latency", payload_bytes: int | None = None):
    """Distribution of per-operation latency for one scenario, one line per
    (stack, API, threading mode, run); one row of panels per pinning. Left: CDF;
    right: tail (1 - CDF, log) so that p99 and p99.9 are readable, with the
    number of samples behind each line. x is log-scaled time.

    payload_bytes: fix the size (default: 1458 if present, else the most
    common). Raises NoData when no record of `scenario` has a ladder.
    """
    rs = load_results(results)
    cand = [r for r in select(rs.records, scenario=scenario) if len(ladder(r)) >= 2]
    if payload_bytes is not None:
        cand = select(cand, payload_bytes=payload_bytes)
    if not cand:
        raise NoData(f"no {scenario} records with a latency ladder")
    chosen, notes = choose(cand, keep=("stack", "api", "threading_mode", "pinning", "netif"))
    chosen.sort(key=_series_order)
    rows = facets(chosen)
    runs = run_index(chosen)
    div, unit = time_unit([ns for r in chosen for _, ns in ladder(r)])
    label_keys = [k for k in ("stack",) if varying_keys(chosen, ("stack",))] + ["api", "threading_mode"]
    label_keys += varying_keys(chosen, ("netif",))  # a TAP link's lines beside the loopback's

    fig = new_figure(15.5, 0.8 + (4.6 if len(rows) <= 2 else 3.7) * len(rows))
    axes = fig.subplots(len(rows), 2, squeeze=False, sharex=True)
    for row, facet in enumerate(rows):
        ax_cdf, ax_tail = axes[row]
        series_handles = []
        for rec in facet.records:
            pts = ladder(rec)
            xs = [max(ns, 1e-3) / div for _, ns in pts]
            qs = [q for q, _ in pts]
            style = line_style(rec, runs, mode_colour(rec.get("threading_mode")))
            marker = style.pop("marker")
            ax_cdf.plot(xs, qs, drawstyle="steps-post", **style)
            tail = [(x, 1.0 - q) for x, q in zip(xs, qs) if q < 1.0]
            if tail:
                # Markers only on p50 / p90 / p99 / p99.9 / p99.99: the ladder is dense.
                marks = [i for i, (_, t) in enumerate(tail)
                         if any(abs(t - m) < 1e-9 for m in (0.5, 0.1, 0.01, 0.001, 0.0001))]
                line, = ax_tail.plot([t[0] for t in tail], [t[1] for t in tail], marker=marker, markersize=5,
                                     markevery=marks, **style)
                label = series_key_label(rec, label_keys)
                if len(runs) > 1:
                    label += f" [{rec.get('_run')}]"
                series_handles.append((line, f"{label}: p99.9 {fmt_ns(number(get(rec, 'latency_ns', 'p999')))} "
                                             f"({_samples_text(rec)})"))
        for ax in (ax_cdf, ax_tail):
            ax.set_xscale("log")
            plain_log_ticks(ax.xaxis)
            ax.grid(True, which="both", alpha=0.3)
        ax_cdf.set_ylim(0, 1.01)
        ax_cdf.set_ylabel(f"{facet.title.replace(' · ', chr(10))}\nfraction of operations ≤ latency")
        for q, name in ((0.5, "p50"), (0.99, "p99")):
            ax_cdf.axhline(q, color="#888888", lw=0.7, ls=":")
            ax_cdf.text(0.995, q, name, transform=ax_cdf.get_yaxis_transform(), ha="right", va="bottom",
                        fontsize=7, color="#555555")
        ax_tail.set_yscale("log")
        ax_tail.set_ylabel("fraction of operations > latency (log)")
        for q, name in ((1e-2, "p99"), (1e-3, "p99.9")):
            ax_tail.axhline(q, color="#888888", lw=0.7, ls=":")
            ax_tail.text(0.995, q, name, transform=ax_tail.get_yaxis_transform(), ha="right", va="bottom",
                         fontsize=7, color="#555555")
        # Outside the axes: inside, it would hide the tails it is there to explain.
        ax_tail.legend([h for h, _ in series_handles], [t for _, t in series_handles], fontsize=6.8,
                       loc="upper left", bbox_to_anchor=(1.02, 1.0), framealpha=0.9,
                       title=f"{facet.title}: line, p99.9 (samples behind it)", title_fontsize=7)
        if row == 0:
            ax_cdf.set_title("cumulative distribution", fontsize=10)
            ax_tail.set_title("tail (1 − CDF): p99 at 10⁻², p99.9 at 10⁻³", fontsize=10)
    for ax in axes[-1]:
        ax.set_xlabel(f"latency per operation ({unit}, log scale)")
    axes[0][0].legend(handles=style_legend_handles(chosen, _mode_colours(chosen)), fontsize=7, loc="lower right",
                      title="colour = mode, line = stack, marker = API", title_fontsize=7, framealpha=0.9)
    sub = fmt_selection(common_values(chosen, _FIXED_KEYS), _FIXED_KEYS)
    fig.suptitle(f"{scenario}: latency distribution per call" + (f"\n{sub}" if sub else ""), fontsize=11)
    if any((number(r.get("ops_per_sample")) or 1) > 1 for r in chosen):
        notes.append("where a sample is a batch of several operations, its percentiles are percentiles of batch "
                     "means (the legend says how many operations a batch holds)")
    return finish(fig, rs, notes, chosen)


def plot_percentiles_vs_size(results, *, scenario: str = "send_latency"):
    """p50 / p99 / p99.9 per-operation latency against UDP payload size, one
    line per (stack, API, threading mode, run); one row per pinning; shared log
    time axis with readable minor labels. The p99.9 panel says how many samples
    each point rests on.

    Raises NoData unless some series has at least two payload sizes.
    """
    rs = load_results(results)
    cand = [r for r in select(rs.records, scenario=scenario)
            if number(get(r, "latency_ns", "p50")) is not None and isinstance(r.get("payload_bytes"), int)]
    if not cand:
        raise NoData(f"no {scenario} records with latency percentiles and a payload size")
    chosen, notes = choose(cand, keep=("stack", "api", "threading_mode", "payload_bytes", "pinning"))
    sizes = sorted({r["payload_bytes"] for r in chosen})
    if len(sizes) < 2:
        raise NoData(f"{scenario}: only one payload size ({sizes}); nothing to draw against size")
    rows = facets(chosen)
    runs = run_index(chosen)
    all_ns = [number(get(r, "latency_ns", k)) for r in chosen for k, _ in _PERCENTILES]
    div, unit = time_unit([v for v in all_ns if v is not None])

    fig = new_figure(15.5, 0.9 + (4.4 if len(rows) <= 2 else 3.6) * len(rows))
    axes = fig.subplots(len(rows), 3, sharey=True, sharex=True, squeeze=False)
    for row, facet in enumerate(rows):
        series: dict[tuple, list[dict]] = {}
        for r in sorted(facet.records, key=_series_order):
            series.setdefault((r.get("stack"), r.get("api"), r.get("threading_mode"), r.get("_run")), []).append(r)
        for recs in series.values():
            recs.sort(key=lambda r: r["payload_bytes"])
            style = line_style(recs[0], runs, mode_colour(recs[0].get("threading_mode")))
            for ax, (key, _) in zip(axes[row], _PERCENTILES):
                pts = [(r["payload_bytes"], number(get(r, "latency_ns", key))) for r in recs]
                pts = [(x, y / div) for x, y in pts if y is not None]  # absent percentile: gap, not 0
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], markersize=5, **style)
        counts = sorted({int(c) for c in (number(get(r, "latency_ns", "count")) for r in facet.records) if c})
        for ax, (key, title) in zip(axes[row], _PERCENTILES):
            if key == "p999" and counts:
                title += f" (from {counts[0]:,}" + (f"–{counts[-1]:,}" if len(counts) > 1 else "") + " samples)"
            ax.set_title(f"{title}\n{facet.title}", fontsize=9.5)
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_locator(FixedLocator(sizes))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.tick_params(axis="x", labelrotation=45 if len(sizes) > 6 else 0, labelsize=8)
            ax.set_yscale("log")
            plain_log_ticks(ax.yaxis)
            ax.grid(True, which="both", alpha=0.3)
        axes[row][0].set_ylabel(f"latency per operation ({unit}, log scale)")
    for ax in axes[-1]:
        ax.set_xlabel("UDP payload (bytes, log scale)")
    axes[0][-1].legend(handles=style_legend_handles(chosen, _mode_colours(chosen)), fontsize=7.5, loc="upper left",
                       bbox_to_anchor=(1.02, 1.0), framealpha=0.9,
                       title="colour = mode, line = stack, marker = API", title_fontsize=7.5)
    keys = ("app_threads", "input_mode", "mailbox_kind", "lock_kind")
    sub = fmt_selection(common_values(chosen, keys), keys)
    fig.suptitle(f"{scenario}: latency percentiles vs payload size" + (f"\n{sub}" if sub else ""), fontsize=11)
    return finish(fig, rs, notes, chosen)
