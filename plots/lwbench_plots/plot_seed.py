"""The seed comparison figure: 2007's numbers next to this machine's (and an emulated target's).

In 2007 lwIP's developers reported, for a 1458-byte UDP send on an embedded
target: lwip_sendto() 204 µs with message passing, 67 µs with core locking, and
the raw udp_sendto() 74 µs.  Those three numbers are the only hard-coded data
in the plotting package; they are labelled "as reported, 2007" wherever drawn.

Twenty years of hardware make absolute times incomparable, so each row (the
seed, and each stack/API measured here) is divided by its own raw udp_sendto
time (or by its own core-locking time when a row has no raw figure); the
absolute times are printed on the bars.  This machine's figure per bar is the
median (p50) per-call latency of a `send_latency` record at 1458 bytes.
Records measured on an emulated target (lwbench reproduce --target) get a panel
of their own, titled and labelled with the target (lwbench.results.measured_on),
never "this machine" or a host pinning.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from .common import (
    MODE_COLOURS,
    NoData,
    SEED_PAYLOAD_BYTES,
    choose,
    counter_per_op,
    finish,
    fmt_count,
    fmt_ns,
    fmt_selection,
    common_values,
    get,
    load_results,
    mode_label,
    new_figure,
    number,
    select,
)

# As reported by the lwIP developers in 2007 (embedded target, 1458-byte UDP
# send).  Not measured by lwbench.  One source: lwbench.seed.
from lwbench.seed import SEED_2007_US, SEED_LABEL  # noqa: E402,F401  (re-exported by lwbench_plots)
from lwbench.results import THIS_MACHINE, measured_on  # noqa: E402

_SLOTS = ("message_passing", "core_locking", "raw")
_SLOT_LABELS = {
    "message_passing": "send call, message passing",
    "core_locking": "send call, core locking",
    "raw": "raw udp_sendto (core context)",
}
_PINNING_ORDER = ("none", "same_core", "separate_cores")


@dataclass
class _Row:
    label: str
    ns: dict  # slot -> ns per call (None = not measured)
    seed: bool = False
    ctx: dict | None = None  # slot -> context switches per call (None = n/a)
    spread: dict | None = None  # slot -> (lowest, highest repetition median) in ns, or None


def _p50(rec: dict | None) -> float | None:
    return number(get(rec, "latency_ns", "p50")) if rec else None


def _spread(rec: dict | None) -> tuple[float, float] | None:
    """(lowest, highest) median of the record's repetitions: the error bar."""
    if not rec:
        return None
    lo, hi = number(get(rec, "spread", "min_ns")), number(get(rec, "spread", "max_ns"))
    if lo is None or hi is None:
        reps = [number(x) for x in rec.get("repetition_p50_ns") or []]
        reps = [x for x in reps if x is not None]
        if len(reps) < 2:
            return None
        lo, hi = min(reps), max(reps)
    return lo, hi


# lwIP's two builds pair the input path with the threading mode:
# LWIP_TCPIP_CORE_LOCKING_INPUT=1 (inline) with core locking, tcpip_input (mailbox) otherwise.
_PAIRED_INPUT = {"core_locking": "inline", "message_passing": "mailbox"}


def _paired(records: list[dict], mode: str) -> dict | None:
    """The record of `mode` with its paired input mode if present, else any."""
    if not records:
        return None
    return sorted(records, key=lambda r: r.get("input_mode") != _PAIRED_INPUT[mode])[0]


def _machine_rows(records: list[dict], where: str) -> tuple[list[_Row], list[str]]:
    notes: list[str] = []
    rows: list[_Row] = []
    stacks = sorted({r.get("stack") for r in records}, key=lambda s: (s != "lwbench", str(s)))
    for stack in stacks:
        srecs = select(records, stack=stack)
        raws = select(srecs, api="raw")
        # The raw column is udp_sendto from core context under the core lock (the seed's
        # raw figure); prefer a record without a mode, then the core-locking one with
        # its paired inline input.
        raws.sort(key=lambda r: ({None: 0, "core_locking": 1}.get(r.get("threading_mode"), 2),
                                 r.get("input_mode") not in (None, "inline")))
        raw = raws[0] if raws else None
        for api in ("socket", "netconn"):
            by_mode = {m: _paired(select(srecs, api=api, threading_mode=m), m)
                       for m in ("message_passing", "core_locking")}
            if not any(by_mode.values()):
                continue
            recs = {**by_mode, "raw": raw}
            ctx = {}
            for slot, rec in recs.items():
                ctx[slot] = counter_per_op(rec, "context_switches")[0] if rec else None
            run = next((r.get("_run") for r in recs.values() if r), None)
            runs = {r.get("_run") for r in records}
            rows.append(
                _Row(
                    label=f"{where.replace(' (', chr(10) + '(')}\n{stack} · {api} API"
                    + (f"\n{run}" if len(runs) > 1 else ""),
                    ns={slot: _p50(rec) for slot, rec in recs.items()},
                    ctx=ctx,
                    spread={slot: _spread(rec) for slot, rec in recs.items()},
                )
            )
    return rows, notes


def _draw_panel(ax, rows: list[_Row], title: str | None, n_groups: int) -> tuple[list[str], list[float]]:
    """Draw one panel; returns notes and the ratios drawn (the caller scales the shared y axis)."""
    notes: list[str] = []
    machine = [r for r in rows if not r.seed]
    # One normaliser for the whole panel so that every row means the same thing.
    if all(r.ns.get("raw") for r in machine):
        norm_slot = "raw"
    elif all(r.ns.get("core_locking") for r in machine):
        norm_slot = "core_locking"
        notes.append("no raw udp_sendto record for every row: rows are normalised by their core-locking time")
    else:
        kept = [r for r in machine if r.ns.get("raw")]
        notes.append("rows without a raw udp_sendto figure are left out (nothing to normalise by)")
        machine, norm_slot = kept, "raw"
    rows = [r for r in rows if r.seed] + machine

    # The normalising slot is 1.00x by construction: no bar for it (its absolute time is
    # written under the group instead).
    slots = [s for s in _SLOTS if s != norm_slot]
    width = 0.36
    ratios = []
    for gi, row in enumerate(rows):
        base = row.ns[norm_slot]
        for si, slot in enumerate(slots):
            x = gi + (si - 0.5) * width
            ns = row.ns.get(slot)
            if ns is None:
                ax.text(x, 1.0, "not\nmeasured", ha="center", va="bottom", fontsize=7, color="#777777")
                continue
            ratio = ns / base
            ratios.append(ratio)
            colour = MODE_COLOURS["message_passing" if slot == "message_passing" else "core_locking" if slot == "core_locking" else None]
            err = (row.spread or {}).get(slot)
            yerr = [[max(ratio - err[0] / base, 0.0)], [max(err[1] / base - ratio, 0.0)]] if err else None
            ax.bar(
                x,
                ratio,
                width * 0.92,
                yerr=yerr,
                error_kw={"ecolor": "#222222", "capsize": 3, "elinewidth": 1.0},
                color=colour,
                alpha=0.45 if row.seed else 0.95,
                hatch="///" if row.seed else None,
                edgecolor=colour if row.seed else "white",
                linewidth=0.8,
            )
            ax.annotate(
                f"{fmt_ns(ns)}\n{ratio:.2f}×" if ratio < 10 else f"{fmt_ns(ns)}\n{ratio:.0f}×",
                (x, ratio),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7.5,
                fontweight="bold" if row.seed else "normal",
            )
    labels = []
    norm_short = "raw udp_sendto" if norm_slot == "raw" else "core locking"
    for row in rows:
        base_txt = f"\n= 1: {norm_short} {fmt_ns(row.ns[norm_slot])}"
        if row.seed:
            labels.append("seed, 2007, as reported\n(lwIP developers,\nembedded target)" + base_txt)
        else:
            ctx = row.ctx or {}
            ctx_txt = " · ".join(
                f"{short} {fmt_count(ctx.get(slot))}"
                for slot, short in (("message_passing", "MP"), ("core_locking", "CL"))
                if row.ns.get(slot) is not None
            )
            labels.append(row.label + base_txt + (f"\nctx switches/call: {ctx_txt}" if ctx_txt else ""))
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.axhline(1.0, color="#444444", lw=0.8, ls="--", zorder=0)
    norm_name = "raw udp_sendto" if norm_slot == "raw" else "core-locking send"
    ax.set_ylabel(f"time per call ÷ the row's own\n{norm_name} time (×, dashed line = 1)")
    ax.set_xlim(-0.6, n_groups - 0.4)  # same bar width in every panel
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.set_axisbelow(True)
    if title is not None:
        ax.set_title(title, fontsize=10, loc="left")
    return notes, ratios


def _scale_shared_y(ax, ratios: list[float]) -> None:
    """One y scale for every panel (they share the axis): log when the ratios span more than 12x."""
    lo, hi = min(ratios), max(ratios)
    if hi / lo > 12:
        ax.set_yscale("log")
        ax.set_ylim(lo / 2.5, hi * 3.5)
    else:
        ax.set_ylim(0, hi * 1.35)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))


def _panel_title(where: str, pin: str) -> str:
    if where == THIS_MACHINE:
        return f"this machine, pinning: {pin}"
    return f"{where}: one core, its own RTOS threads (host pinning does not apply)"


def plot_seed(results, *, payload_bytes: int = SEED_PAYLOAD_BYTES):
    """Seed comparison figure from `send_latency` records at `payload_bytes`.

    results: anything `load_results` accepts (paths, documents, Results).
    One panel per pinning present.  Raises NoData when there is no
    send_latency record at that size for the socket/netconn/raw APIs.
    Returns the matplotlib Figure.
    """
    rs = load_results(results)
    cand = select(
        rs.records,
        scenario="send_latency",
        payload_bytes=payload_bytes,
        api=("socket", "netconn", "raw"),
    )
    cand = [r for r in cand if _p50(r) is not None]
    if not cand:
        raise NoData(f"no send_latency records at {payload_bytes} bytes with a p50 latency")
    # One panel per place and pinning: this machine's pinnings first, then each emulated target.
    places = sorted({(measured_on(r), r.get("pinning")) for r in cand},
                    key=lambda wp: (wp[0] != THIS_MACHINE, wp[0], (_PINNING_ORDER + (wp[1],)).index(wp[1])))

    panels = []
    notes: list[str] = []
    used: list[dict] = []
    for where, pin in places:
        here = [r for r in select(cand, pinning=pin) if measured_on(r) == where]
        tag = f"pinning {pin}" if where == THIS_MACHINE else where
        chosen, pnotes = choose(here, keep=("stack", "api", "threading_mode", "input_mode"))
        rows, rnotes = _machine_rows(chosen, where)
        if not rows:
            notes.append(f"{tag}: no socket/netconn send records")
            continue
        panels.append((where, pin, tag, rows, chosen))
        notes += [f"{tag}: {n}" for n in pnotes + rnotes]
        used += chosen
    if not panels:
        raise NoData("no socket/netconn send_latency rows to compare with the seed")

    n_groups = max(len(rows) + 1 for *_, rows, _ in panels)
    fig = new_figure(max(9.0, 2.3 * n_groups + 2.0), 1.5 + 4.4 * len(panels))
    axes = fig.subplots(len(panels), 1, sharey=True, squeeze=False)[:, 0]
    seed = _Row(label=SEED_LABEL, ns={k: v * 1e3 for k, v in SEED_2007_US.items()}, seed=True)
    all_ratios: list[float] = []
    for ax, (where, pin, tag, rows, chosen) in zip(axes, panels):
        panel_notes, ratios = _draw_panel(ax, [seed] + rows, _panel_title(where, pin), n_groups)
        notes += [f"{tag}: {n}" for n in panel_notes]
        all_ratios += ratios
        for rec in chosen:
            value, status = counter_per_op(rec, "context_switches")
            if value is None and rec.get("api") != "raw":
                notes.append(
                    f"{tag}: ctx switches n/a for {rec.get('stack')} {rec.get('api')} "
                    f"{mode_label(rec.get('threading_mode'))}: {status}"
                )

    _scale_shared_y(axes[0], all_ratios)
    # Legend: colours (what was called) and the hatch (as reported, not measured).
    handles = [
        Patch(color=MODE_COLOURS["message_passing"], label=_SLOT_LABELS["message_passing"]),
        Patch(color=MODE_COLOURS["core_locking"], label=_SLOT_LABELS["core_locking"]),
        Patch(facecolor="#dddddd", edgecolor="#777777", hatch="///", label="seed, 2007, as reported (not measured here)"),
    ]
    axes[0].legend(handles=handles, fontsize=8, loc="upper right", framealpha=0.9)
    ctx_all = common_values(used, ("app_threads", "input_mode", "mailbox_kind", "lock_kind"))
    sel = fmt_selection(ctx_all, ("app_threads", "input_mode", "mailbox_kind", "lock_kind"))
    fig.suptitle(
        f"Seed comparison: {payload_bytes}-byte UDP send, {mode_label('message_passing')} vs "
        f"{mode_label('core_locking')} vs raw API\n"
        "bars: time per call ÷ the row's raw udp_sendto time (= 1, written under each group)\n"
        "labels: absolute time (median, p50) and the ratio; error bars: lowest..highest repetition median" + (f"\n{sel}" if sel else ""),
        fontsize=11,
    )
    notes.append(
        "seed figures (204 / 67 / 74 µs) are as reported by lwIP's developers in 2007 for an embedded target; "
        "20 years of hardware separate the rows, so compare shapes (ratios), not absolute times"
    )
    return finish(fig, rs, notes, used)
