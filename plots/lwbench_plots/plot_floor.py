"""The primitives floor next to the operations it explains.

`primitive` records measure this machine's physical limits (an uncontended
lock+unlock, a mailbox post+fetch hand-off between threads, a semaphore wake,
a thread ping-pong, memcpy and checksum of the payload, the cheapest UDP
emit).  Drawn on one log time axis next to the `send_latency` medians per
API and mode, plus the derived per-call overhead of message passing
(message passing - core locking), they show which floor each operation sits
on: the core-locking send is a lock plus the UDP path; the message-passing
send adds a hand-off to the tcpip thread and a wake-up back.
"""

from __future__ import annotations

from matplotlib.patches import Patch

from .common import (
    APIS,
    MODES,
    PRIMITIVE_COLOUR,
    NoData,
    api_label,
    choose,
    finish,
    fmt_ns,
    get,
    load_results,
    mode_colour,
    mode_label,
    new_figure,
    number,
    plain_log_ticks,
    run_suffix,
    select,
)

PRIMITIVE_ORDER = (
    "lock_unlock",
    "memcpy",
    "checksum",
    "udp_emit_floor",
    "semaphore_wake",
    "mailbox_handoff",
    "thread_pingpong",
)
PRIMITIVE_LABELS = {
    "lock_unlock": "lock + unlock (uncontended)",
    "mailbox_handoff": "mailbox post → fetch (other thread)",
    "semaphore_wake": "semaphore post → waiter runs",
    "thread_pingpong": "thread ping-pong (round trip)",
    "memcpy": "memcpy of the payload",
    "checksum": "Internet checksum of the payload",
    "udp_emit_floor": "UDP emit floor (headers, no locking)",
}


def _p50(rec: dict) -> float | None:
    return number(get(rec, "latency_ns", "p50"))


def _primitive_rows(records: list[dict]) -> tuple[list[tuple[str, float, dict]], list[str]]:
    rows, notes = [], []
    names = [p for p in PRIMITIVE_ORDER if select(records, primitive=p)]
    names += sorted({str(r.get("primitive")) for r in records} - set(names))
    for name in names:
        recs = [r for r in records if str(r.get("primitive")) == name]
        # Each lock / mailbox kind and pinning is a floor of its own: keep them.
        chosen, cnotes = choose(recs, keep=("lock_kind", "mailbox_kind", "pinning"))
        notes += [f"{name}: {n}" for n in cnotes]
        varying = [k for k in ("lock_kind", "mailbox_kind", "pinning") if len({r.get(k) for r in chosen}) > 1]
        for r in sorted(chosen, key=lambda r: tuple(str(r.get(k)) for k in varying)):
            label = PRIMITIVE_LABELS.get(name, name)
            extra = [str(r.get(k)) for k in varying if r.get(k) is not None]
            if name in ("memcpy", "checksum") and r.get("payload_bytes"):
                extra.append(f"{r['payload_bytes']} B")
            if extra:
                label += f" [{', '.join(extra)}]"
            rows.append((label + run_suffix(r, chosen), _p50(r), r))
    return rows, notes


def _pinning_note(prim_rows) -> str:
    pins = {r.get("pinning") for _, _, r in prim_rows}
    return f", pinning {pins.pop()}" if len(pins) == 1 and None not in pins else ""


def plot_floor(results, *, payload_bytes: int = 1458):
    """Horizontal bars on a log ns axis: primitives (grey) and send_latency p50
    per API and mode (mode colours), plus message passing - core locking.

    Raises NoData when there are no primitive records with a p50.
    """
    rs = load_results(results)
    prims = [r for r in select(rs.records, scenario="primitive") if _p50(r) is not None]
    if not prims:
        raise NoData("no primitive records with a p50 latency")
    prim_rows, notes = _primitive_rows(prims)

    ops = [r for r in select(rs.records, scenario="send_latency", payload_bytes=payload_bytes) if _p50(r) is not None]
    op_rows: list[tuple[str, float, dict | None, str | None]] = []
    derived: list[tuple[str, float]] = []
    used = [r for _, _, r in prim_rows]
    if ops:
        chosen, onotes = choose(ops, keep=("api", "threading_mode"))
        notes += [f"send_latency: {n}" for n in onotes]
        used += chosen
        for api in [a for a in APIS if select(chosen, api=a)]:
            by_mode = {}
            for r in sorted(select(chosen, api=api),
                            key=lambda r: MODES.index(r["threading_mode"]) if r.get("threading_mode") in MODES else 9):
                mode = r.get("threading_mode")
                by_mode[mode] = _p50(r)
                name = f"{api_label(api)} send, {mode_label(mode)}" if mode else f"{api_label(api)} send (core context)"
                name += run_suffix(r, chosen)
                op_rows.append((name, _p50(r), r, mode))
            if "message_passing" in by_mode and "core_locking" in by_mode:
                derived.append((f"{api_label(api)}: message passing − core locking",
                                by_mode["message_passing"] - by_mode["core_locking"]))
    else:
        notes.append(f"no send_latency records at {payload_bytes} B: only the primitives are shown")

    # Top panel: operations and derived overheads; bottom panel: primitives.
    # Both share one log time axis so floors line up under the operations.
    top_rows = [(name, v, mode_colour(mode), None) for name, v, _, mode in op_rows]
    top_rows += [(name, v, mode_colour("message_passing"), "//") for name, v in derived]
    bottom_rows = [(name, v, PRIMITIVE_COLOUR, None) for name, v, _ in prim_rows]
    panels = [(rows, title) for rows, title in (
        (top_rows, f"operations: send_latency median per call, {payload_bytes}-byte payload"),
        (bottom_rows, "primitives: this machine's floor (median)" + _pinning_note(prim_rows)),
    ) if rows]
    positive = [v for rows, _ in panels for _, v, _, _ in rows if v is not None and v > 0]
    lo, hi = min(positive), max(positive)

    fig = new_figure(11.5, 1.9 + 0.34 * sum(len(r) for r, _ in panels) + 0.5 * len(panels))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": [len(r) + 0.6 for r, _ in panels]})[:, 0]
    for ax, (rows, title) in zip(axes, panels):
        ys = list(range(len(rows)))[::-1]
        for y, (name, v, colour, hatch) in zip(ys, rows):
            if v is None or v <= 0:
                # A difference can be <= 0 (core locking slower): say so in words.
                ax.text(lo / 1.8, y, f"{fmt_ns(v)} (not drawn: ≤ 0)" if v is not None else "not available",
                        va="center", ha="left", fontsize=8, color="#555555")
                continue
            ax.barh(y, v, 0.7, color=colour, hatch=hatch, edgecolor="white")
            ax.annotate(fmt_ns(v), (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_yticks(ys)
        ax.set_yticklabels([r[0] for r in rows], fontsize=8.5)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_title(title, fontsize=9.5, loc="left")
        ax.grid(axis="x", which="both", alpha=0.3)
        ax.set_axisbelow(True)
    axes[-1].set_xscale("log")
    plain_log_ticks(axes[-1].xaxis)
    axes[-1].set_xlim(lo / 2, hi * 3)
    axes[-1].set_xlabel("time per operation, median (ns, log scale)")

    handles = [Patch(color=mode_colour(m), label=f"send, {mode_label(m)}") for m in MODES
               if any(r[3] == m for r in op_rows)]
    if any(r[3] is None for r in op_rows):
        handles.append(Patch(color=mode_colour(None), label="raw API send (no mode)"))
    if derived:
        handles.append(Patch(facecolor=mode_colour("message_passing"), hatch="//", edgecolor="white",
                             label="derived: message passing − core locking"))
    handles.append(Patch(color=PRIMITIVE_COLOUR, label="primitive (floor)"))
    fig.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.4 / fig.get_figheight()), ncol=3,
               frameon=False)
    fig.suptitle(f"Primitives floor vs the operations it explains ({payload_bytes}-byte UDP send)", fontsize=11)
    return finish(fig, rs, notes, used, top=1 - 0.55 / fig.get_figheight())
