"""Crossover map: in each cell of a sweep, which thread-safety design delivers the most, and by how much.

Reads `throughput` records (`lwbench crossover` writes them; any throughput run with two or
more designs will do). A *design* is a record's threading mode with its input mode, mailbox
kind and lock kind; a *cell* is (pinning, added core work, payload size, application threads).

Metric: `ops_per_sec` of a throughput record, the datagrams *delivered* per second by all
sender threads together (what the receiver got; offered load that the stack dropped does not
count). Spread: the record's per-repetition rates (`repetition_ops_per_sec`). A cell is a
**tie** when the winner's slowest repetition is not faster than the runner-up's fastest (the
ranges overlap): the difference is within the run's own spread.

Layout: one panel per pinning (rows) and payload size (columns); inside a panel x = sender
threads and y = core work (iterations of the busy loop per packet, in core context; the
environment's calibrated ns per iteration is in the label). Cell colour = the winning design;
text = its rate, "×R" = winner / runner-up (hatched and "tie" when within the spread) and the
runner-up's name. Ties are hatched rather than faded: the PNG keeps a small palette (png_bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.patches import Patch, Rectangle

from .common import (
    MODES,
    NoData,
    choose,
    common_values,
    finish,
    fmt_selection,
    load_results,
    new_figure,
    number,
    select,
)

from lwbench.formatting import fmt_ns, fmt_rate, fmt_ratio  # noqa: E402  (the one formatter)

#: The record keys that make a design, and those that make a cell (docs/results-schema.md).
DESIGN_KEYS = ("threading_mode", "input_mode", "mailbox_kind", "lock_kind")
CELL_KEYS = ("pinning", "core_work_iterations", "payload_bytes", "app_threads")
PINNING_ORDER = ("none", "same_core", "separate_cores")
MODE_ORDER = MODES + ("combining",)
MODE_SHORT = {"message_passing": "MP", "core_locking": "CL", "combining": "combining"}
#: Design colours: far apart in hue (the default five first), so that the PNG's small palette keeps them
#: apart; every design of the catalogue (10) gets its own.
DESIGN_COLOURS = ("#1f78b4", "#ff7f00", "#33a02c", "#e31a1c", "#6a3d9a", "#a6cee3", "#fdbf6f", "#b2df8a",
                  "#fb9a99", "#cab2d6")


@dataclass
class Contender:
    """One design's result in a cell."""

    design: tuple
    rate: float  # delivered datagrams/s, all threads
    low: float  # slowest repetition's rate (the rate itself when repetitions are unknown)
    high: float  # fastest repetition's rate


@dataclass
class Cell:
    """A cell of the map: its key (CELL_KEYS order) and its designs, fastest first."""

    key: tuple
    ranking: list[Contender] = field(default_factory=list)

    @property
    def winner(self) -> Contender:
        return self.ranking[0]

    @property
    def runner_up(self) -> Contender | None:
        return self.ranking[1] if len(self.ranking) > 1 else None

    @property
    def ratio(self) -> float | None:
        """Winner's rate / runner-up's rate (None with a single design or a zero runner-up)."""
        second = self.runner_up
        return self.winner.rate / second.rate if second and second.rate > 0 else None

    @property
    def tie(self) -> bool:
        """The winner's slowest repetition is no faster than the runner-up's fastest."""
        second = self.runner_up
        return second is not None and self.winner.low <= second.high


def design_of(rec: dict) -> tuple:
    return tuple(rec.get(k) for k in DESIGN_KEYS)


def _design_sort_key(design: tuple) -> tuple:
    mode = design[0]
    return (MODE_ORDER.index(mode) if mode in MODE_ORDER else len(MODE_ORDER), tuple(map(str, design)))


def design_labels(designs) -> dict[tuple, str]:
    """Short names: the mode's abbreviation plus whichever of its input / mailbox / lock kinds
    differ among the designs of that mode in the data ("MP adaptive", "CL tbb_spin_mutex")."""
    designs = sorted(set(designs), key=_design_sort_key)
    out = {}
    for d in designs:
        same_mode = [e for e in designs if e[0] == d[0]]
        parts = [MODE_SHORT.get(d[0], str(d[0]))]
        for i in range(1, len(DESIGN_KEYS)):
            if len({e[i] for e in same_mode}) > 1:
                parts.append(str(d[i]))
        out[d] = " ".join(parts)
    return out


def crossover_cells(results) -> tuple[list[Cell], list[str], list[dict]]:
    """The map's cells from the throughput records (one per CELL_KEYS combination that has at
    least one design), with the notes on what was fixed and the records used.

    Other identity keys (stack, API, scheduling policy, netif, variant) are fixed to one value
    each, as every figure does (`choose`). Raises NoData without throughput records of two or
    more designs.
    """
    rs = load_results(results)
    cand = [r for r in select(rs.records, scenario="throughput", stack="lwbench")
            if number(r.get("ops_per_sec")) is not None]
    if len({design_of(r) for r in cand}) < 2:
        raise NoData("no throughput records of two or more designs (lwbench crossover writes them)")
    chosen, notes = choose(cand, keep=DESIGN_KEYS + CELL_KEYS)
    runs = {r["_run"] for r in chosen}
    if len(runs) > 1:  # one map per run: a cell compares designs measured in the same interleaved run
        newest = max(chosen, key=lambda r: r["_order"])["_run"]
        chosen = [r for r in chosen if r["_run"] == newest]
        notes.append(f"{len(runs)} runs in the data: the map shows the newest ({newest})")
    by_cell: dict[tuple, list[Contender]] = {}
    for r in chosen:
        rate = number(r["ops_per_sec"])
        reps = [x for x in (number(v) for v in r.get("repetition_ops_per_sec") or []) if x is not None]
        low, high = (min(reps), max(reps)) if reps else (rate, rate)
        key = tuple(r.get(k) if k != "core_work_iterations" else int(r.get(k) or 0) for k in CELL_KEYS)
        by_cell.setdefault(key, []).append(Contender(design_of(r), rate, low, high))
    cells = [Cell(key, sorted(contenders, key=lambda c: -c.rate)) for key, contenders in by_cell.items()]
    if any(not r.get("repetition_ops_per_sec") for r in chosen):
        notes.append("some records carry no per-repetition rates: their spread is taken as zero (no ties)")
    return cells, notes, chosen


def _pinning_rank(pin) -> tuple:
    return (PINNING_ORDER.index(pin) if pin in PINNING_ORDER else len(PINNING_ORDER), str(pin))


def _ns_per_iteration(rs, used) -> float | None:
    values = {number(rs.environment_of(r).get("core_work_ns_per_iteration")) for r in used}
    values.discard(None)
    return sorted(values)[len(values) // 2] if values else None


def plot_crossover(results):
    """The crossover map (see the module docstring). Raises NoData when the records do not allow it."""
    rs = load_results(results)
    cells, notes, used = crossover_cells(rs)
    labels = design_labels([c.design for cell in cells for c in cell.ranking])
    colours = {d: DESIGN_COLOURS[i % len(DESIGN_COLOURS)] for i, d in enumerate(labels)}
    pinnings = sorted({c.key[0] for c in cells}, key=_pinning_rank)
    payloads = sorted({c.key[2] for c in cells})
    works = sorted({c.key[1] for c in cells})
    threads = sorted({c.key[3] for c in cells})
    ns_per_iteration = _ns_per_iteration(rs, used)

    def work_label(w: int) -> str:
        if w == 0:
            return "none"
        return f"{w:,}" + (f"\n≈{fmt_ns(w * ns_per_iteration, 2)}" if ns_per_iteration else "")

    panel_w, panel_h = 1.15 * len(threads) + 0.9, 0.85 * len(works) + 0.9
    fig = new_figure(max(7.5, panel_w * len(payloads) + 0.6), panel_h * len(pinnings) + 2.6)
    axes = fig.subplots(len(pinnings), len(payloads), squeeze=False)
    lookup = {c.key: c for c in cells}
    ties = wins = 0
    for row, pin in enumerate(pinnings):
        for col, size in enumerate(payloads):
            ax = axes[row][col]
            for yi, work in enumerate(works):
                for xi, t in enumerate(threads):
                    cell = lookup.get((pin, work, size, t))
                    if cell is None:
                        ax.add_patch(Rectangle((xi, yi), 1, 1, facecolor="white", edgecolor="#999999", hatch="//"))
                        ax.text(xi + 0.5, yi + 0.5, "not\nmeasured", ha="center", va="center", fontsize=6,
                                color="#777777")
                        continue
                    win = cell.winner
                    tie = cell.tie
                    ties += tie
                    wins += not tie
                    # Solid colours only (no alpha): the PNG is reduced to a small palette (png_bytes),
                    # where blended shades would crowd out the legend's colours.
                    ax.add_patch(Rectangle((xi, yi), 1, 1, facecolor=colours[win.design], edgecolor="white",
                                           linewidth=1.5, hatch="//" if tie else None))
                    ratio = cell.ratio
                    lines = [fmt_rate(win.rate)]
                    if cell.runner_up is None:
                        lines.append("only design")
                    else:
                        lines.append(("tie " if tie else "") + (fmt_ratio(ratio) if ratio else "n/a"))
                        lines.append("vs " + labels[cell.runner_up.design])
                    ax.text(xi + 0.5, yi + 0.5, "\n".join(lines), ha="center", va="center", fontsize=6.3,
                            color="black", fontweight="normal" if tie else "bold",
                            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none"})
            ax.set_xlim(0, len(threads))
            ax.set_ylim(0, len(works))
            ax.set_xticks([i + 0.5 for i in range(len(threads))], [str(t) for t in threads], fontsize=8)
            ax.set_yticks([i + 0.5 for i in range(len(works))], [work_label(w) for w in works], fontsize=7)
            ax.tick_params(length=0)
            for side in ax.spines.values():
                side.set_visible(False)
            ax.set_title(f"pinning {pin} · {size} B payload", fontsize=9)
            if row == len(pinnings) - 1:
                ax.set_xlabel("application (sender) threads")
            if col == 0:
                ax.set_ylabel("core work per packet\n(busy-loop iterations)", fontsize=8)
    cpus = {rs.environment_of(r).get("cpu_count") for r in used}
    if len(cpus) == 1 and isinstance(next(iter(cpus)), int):
        notes.append(f"the machine has {next(iter(cpus))} online CPUs; threads above that oversubscribe it")
    notes.append(f"{wins} cells won beyond the spread, {ties} ties (winner within the repetitions' range of the "
                 "runner-up: hatched, plain text; the others' text is bold)")
    # The legend names the designs that won a cell; the others are a note (a colour that is
    # drawn nowhere but in the legend would not survive the PNG's small palette).
    winners = {lookup_cell.winner.design for lookup_cell in cells}
    handles = [Patch(facecolor=colours[d], label=labels[d]) for d in labels if d in winners]
    never = [labels[d] for d in labels if d not in winners]
    if never:
        notes.append("never the winner in any cell: " + ", ".join(never))
    fig.legend(handles=handles, loc="upper center", ncol=min(len(handles), 5), fontsize=8, frameon=False,
               handlelength=2.5, handleheight=1.6,
               bbox_to_anchor=(0.5, 1 - 0.55 / fig.get_figheight()), title="cell colour = the design that delivers "
               "the most datagrams/s (all threads)", title_fontsize=8)
    fixed = ("stack", "api", "sched_policy", "netif")
    sub = fmt_selection(common_values(used, fixed), fixed)
    fig.suptitle("crossover map: which thread-safety design wins, and by how much (×: winner / runner-up)"
                 + (f"\n{sub}" if sub else ""), fontsize=10.5)
    return finish(fig, rs, notes, used, top=1 - 1.25 / fig.get_figheight())


def crossover_summary(results) -> str:
    """The map as markdown: one row per cell with the winner, its rate, the runner-up and the ratio."""
    cells, notes, _ = crossover_cells(results)
    labels = design_labels([c.design for cell in cells for c in cell.ranking])
    lines = ["| pinning | core work | payload B | threads | winner | delivered/s | runner-up | winner / runner-up |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for cell in sorted(cells, key=lambda c: (_pinning_rank(c.key[0]),) + c.key[1:]):
        pin, work, size, t = cell.key
        second = cell.runner_up
        ratio = fmt_ratio(cell.ratio) if cell.ratio else "–"
        lines.append(f"| {pin} | {work} | {size} | {t} | {labels[cell.winner.design]} | {fmt_rate(cell.winner.rate)} | "
                     f"{labels[second.design] if second else '–'} | {ratio}{' (tie)' if cell.tie else ''} |")
    return "\n".join(lines + [""] + [f"note: {n}" for n in notes]) + "\n"
