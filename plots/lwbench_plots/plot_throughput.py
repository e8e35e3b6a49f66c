"""Throughput figure: datagrams/s against the number of application (sender)
threads, one column per threading mode, one line per mailbox kind (message
passing) or lock kind (core locking) - the component each mode contends on -
and, below, the loss: the share of sent datagrams the stack dropped.

Reads `ops_per_sec` (all threads together) of `throughput` records and the
stack's counts (`stack_counts.sent` / `dropped` / `dropped_by_reason`). When a
record carries an offered rate (`offered_per_sec`), it is drawn faint
next to the delivered one. Encodings: colour = the mailbox / lock kind, line
style = stack, marker = API, width / fill = run.
"""

from __future__ import annotations

import math

from matplotlib.ticker import EngFormatter, FuncFormatter, MaxNLocator

from .common import (
    KIND_COLOURS,
    MODES,
    NoData,
    choose,
    common_values,
    finish,
    fmt_selection,
    line_style,
    load_results,
    mode_colour,
    mode_label,
    new_figure,
    number,
    run_index,
    select,
    series_key_label,
    style_legend_handles,
    varying_keys,
)

#: Colours for combinations of lock and mailbox kind (a qualitative palette, colour-blind safe).
COMBO_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
# The kind that matters in each mode comes first in the legend label.
_KIND_FIRST = {"message_passing": ("mailbox_kind", "lock_kind"), "core_locking": ("lock_kind", "mailbox_kind")}


def loss_of(rec: dict) -> tuple[float | None, str]:
    """(dropped / sent in percent or None, the reasons) from a record's stack counts."""
    counts = rec.get("stack_counts") or {}
    sent, dropped = number(counts.get("sent")), number(counts.get("dropped"))
    if not sent or dropped is None:
        return None, ""
    reasons = ", ".join(f"{k} {int(v):,}" for k, v in (counts.get("dropped_by_reason") or {}).items() if v)
    return 100.0 * dropped / sent, reasons


def plot_throughput(results, *, payload_bytes: int | None = None):
    """Datagrams/s vs application threads per mode, mailbox kind and lock kind, with the loss below.

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
    runs = run_index(chosen)

    fig = new_figure(6.4 * len(modes) + 2.6, 8.0)
    axes = fig.subplots(2, len(modes), sharex="col", squeeze=False, gridspec_kw={"height_ratios": [3, 1.3]})
    threads_all = sorted({r["app_threads"] for r in chosen})
    kinds_seen: dict[str, str] = {}
    loss_reasons: dict[str, int] = {}
    for col, mode in enumerate(modes):
        ax, ax_loss = axes[0][col], axes[1][col]
        recs = select(chosen, threading_mode=mode)
        kind_keys = _KIND_FIRST.get(mode, ("mailbox_kind", "lock_kind"))
        label_keys = varying_keys(recs, ("stack", "api") + kind_keys) or list(kind_keys[:1])
        series: dict[tuple, list[dict]] = {}
        for r in recs:
            series.setdefault(tuple(r.get(k) for k in ("stack", "api") + kind_keys) + (r.get("_run"),), []).append(r)
        handles = []
        # Colour = the kind this mode contends on; when the other kind varies too, every
        # combination gets its own colour (three std_mutex lines must not share one).
        both_vary = len({r.get(kind_keys[1]) for r in recs}) > 1
        combos = sorted({(r.get(kind_keys[0]), r.get(kind_keys[1])) for r in recs}, key=lambda c: tuple(map(str, c)))
        for key in sorted(series, key=lambda k: tuple(str(x) for x in k)):
            pts = sorted(series[key], key=lambda r: r["app_threads"])
            first = pts[0]
            kind = first.get(kind_keys[0])
            if both_vary:
                combo = (kind, first.get(kind_keys[1]))
                colour = COMBO_COLOURS[combos.index(combo) % len(COMBO_COLOURS)]
                kinds_seen[f"{kind} + {combo[1]}"] = colour
            else:
                colour = KIND_COLOURS.get(kind, mode_colour(mode)) if kind is not None else mode_colour(mode)
                kinds_seen[f"{kind_keys[0].replace('_kind', '')} {kind}"] = colour
            style = line_style(first, runs, colour)
            xs = [r["app_threads"] for r in pts]
            line, = ax.plot(xs, [number(r["ops_per_sec"]) for r in pts], markersize=6, **style)
            offered = [(x, number(r.get("offered_per_sec"))) for x, r in zip(xs, pts)]
            offered = [(x, y) for x, y in offered if y is not None]
            if offered:
                ax.plot([x for x, _ in offered], [y for _, y in offered], color=colour, alpha=0.35,
                        linestyle=style["linestyle"], linewidth=1.0)
            losses = [(x, loss_of(r)) for x, r in zip(xs, pts)]
            ax_loss.plot([x for x, (v, _) in losses if v is not None],
                         [v for _, (v, _) in losses if v is not None], markersize=5, **style)
            for r in pts:
                for reason, n in ((r.get("stack_counts") or {}).get("dropped_by_reason") or {}).items():
                    loss_reasons[reason] = loss_reasons.get(reason, 0) + int(n or 0)
            label = series_key_label(first, label_keys) or mode_label(mode)
            if len(runs) > 1:
                label += f" [{first.get('_run')}]"
            handles.append((line, label))
        ax.set_title(mode_label(mode), fontsize=10, color=mode_colour(mode), fontweight="bold")
        ax.legend([h for h, _ in handles], [t for _, t in handles], fontsize=7.5, loc="best", framealpha=0.9,
                  title=" / ".join(k.replace("_", " ") for k in label_keys), title_fontsize=7.5)
        ax.grid(True, which="both", alpha=0.3)
        ax_loss.set_xlabel("application (sender) threads")
        ax_loss.xaxis.set_major_locator(MaxNLocator(integer=True))
        if threads_all:
            ax_loss.set_xticks(threads_all)
            ax_loss.set_xlim(min(threads_all) - 0.3, max(threads_all) + 0.3)
        ax_loss.set_ylim(bottom=0)
        ax_loss.grid(True, alpha=0.3)
        ax_loss.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
    # Shared log axis: the modes differ by an order of magnitude, and on a log
    # axis equal slopes mean equal relative scaling with threads.
    ys = [number(r["ops_per_sec"]) for r in chosen]
    eng = EngFormatter(sep="")
    for ax in axes[0]:
        ax.set_yscale("log")
        ax.set_ylim(min(ys) / 1.6, max(ys) * 1.6)
        ax.yaxis.set_major_formatter(eng)
        # Label only the 2x and 5x minor ticks; all nine crowd the axis.
        ax.yaxis.set_minor_formatter(
            FuncFormatter(lambda v, pos: eng(v, pos) if round(v / 10 ** math.floor(math.log10(v))) in (2, 5) else ""))
        ax.tick_params(axis="y", which="minor", labelsize=7)
    axes[0][0].set_ylabel("delivered datagrams/s (all threads, log scale)")
    axes[1][0].set_ylabel("loss (% of sent\ndropped by the stack)")
    if not any(loss_of(r)[0] is not None for r in chosen):
        notes.append("loss not shown: the records carry no sent / dropped counts")
    if any(loss_reasons.values()):
        notes.append("datagrams dropped, by reason (all points together): "
                     + ", ".join(f"{k} {v:,}" for k, v in sorted(loss_reasons.items()) if v))
    if any(number(r.get("offered_per_sec")) is not None for r in chosen):
        notes.append("faint lines: the offered rate (what the senders tried to send)")
    # The per-panel legends name the series; this one explains the encodings (an axes legend
    # would replace the last panel's series legend, so it is a figure legend).
    fig.legend(handles=style_legend_handles(chosen, kinds_seen), fontsize=7, loc="upper center",
               bbox_to_anchor=(0.5, 1 - 0.62 / fig.get_figheight()), ncol=6, frameon=False,
               title="colour = kind, line = stack, marker = API", title_fontsize=7)
    fixed = ("payload_bytes", "pinning", "input_mode")
    sub = fmt_selection(common_values(chosen, fixed), fixed)
    fig.suptitle("throughput vs application threads (UDP send through the stack)" + (f"\n{sub}" if sub else ""),
                 fontsize=11)
    return finish(fig, rs, notes, chosen, top=1 - 1.15 / fig.get_figheight())
