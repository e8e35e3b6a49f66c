"""Counter figure: a perf counter per operation (context switches by default)
by threading mode and API, one panel per scenario.

Context switches are where message passing's cost comes from (two thread
hand-offs per call), so this figure explains the seed comparison.  Counters
come from `counters.<name>.per_op`; counts cover every thread of the process.
A counter that is null is drawn as the words "not available" with its reason
in the notes - never as a zero-height bar.
"""

from __future__ import annotations

from matplotlib.patches import Patch

from .common import (
    APIS,
    LATENCY_SCENARIOS,
    MODES,
    NOT_AVAILABLE_COLOUR,
    NoData,
    api_label,
    choose,
    common_values,
    counter_per_op,
    finish,
    fmt_count,
    fmt_selection,
    get,
    load_results,
    mode_colour,
    mode_label,
    new_figure,
    RUN_HATCHES,
    run_index,
    select,
)

COUNTER_LABELS = {
    "context_switches": ("context switches", "switches/op"),
    "cpu_migrations": ("CPU migrations", "migrations/op"),
    "task_clock_ns": ("task clock (CPU time, all threads)", "ns/op"),
    "page_faults": ("page faults", "faults/op"),
    "cycles": ("CPU cycles", "cycles/op"),
    "instructions": ("instructions", "instructions/op"),
    "cache_misses": ("cache misses", "misses/op"),
    "branch_misses": ("branch misses", "misses/op"),
}
_SCENARIO_ORDER = LATENCY_SCENARIOS + ("throughput",)


def has_counter_values(results, counter: str) -> bool:
    """True when at least one non-primitive record has a non-null value."""
    rs = load_results(results)
    return any(
        counter_per_op(r, counter)[0] is not None for r in rs.records if r.get("scenario") != "primitive"
    )


#: Per-operation values below this print as "0.00": a counter that never reaches it draws only zeros.
NEGLIGIBLE_PER_OP = 0.005


def has_nonzero_values(results, counter: str) -> bool:
    """True when some non-primitive record has a value that shows (>= NEGLIGIBLE_PER_OP per operation);
    an all-zero counter says nothing a sentence cannot, so it is skipped with a note instead of drawn."""
    rs = load_results(results)
    return any((counter_per_op(r, counter)[0] or 0.0) >= NEGLIGIBLE_PER_OP
               for r in rs.records if r.get("scenario") != "primitive")


def plot_counters(results, *, counter="context_switches", payload_bytes: int | None = None):
    """Per-operation counters by mode (bar colour) and API (bar group): one row of panels per
    counter (`counter`: a name or a list of names), one panel per scenario present (primitives
    excluded); other dimensions are fixed (stated on the figure).

    Raises NoData when no record carries any of the counters (null values are drawn as
    "not available").
    """
    counters = [counter] if isinstance(counter, str) else list(counter)
    rs = load_results(results)
    base = [r for r in rs.records if r.get("scenario") not in (None, "primitive")]
    if payload_bytes is not None:
        base = select(base, payload_bytes=payload_bytes)
    rows = [(c, [r for r in base if isinstance(get(r, "counters", c), dict)]) for c in counters]
    rows = [(c, cand) for c, cand in rows if cand]
    if not rows:
        raise NoData(f"no records carry the {' / '.join(counters)} counter(s)")
    scenarios = [s for s in _SCENARIO_ORDER if any(select(cand, scenario=s) for _, cand in rows)]
    scenarios += sorted({r["scenario"] for _, cand in rows for r in cand} - set(scenarios))

    fig = new_figure(max(8.0, 4.3 * len(scenarios) + 1.0), 1.3 + 4.1 * len(rows))
    grid = fig.subplots(len(rows), len(scenarios), sharey="row", squeeze=False)
    notes: list[str] = []
    used: list[dict] = []
    any_na = False
    for (counter_name, cand), axes in zip(rows, grid):
        row_used, row_notes, row_na = _draw_row(axes, cand, counter_name, scenarios)
        used += row_used
        notes += row_notes
        any_na = any_na or row_na
    modes_present = [m for m in MODES if select(used, threading_mode=m)]
    handles = [Patch(color=mode_colour(m), label=mode_label(m)) for m in modes_present]
    if select(used, threading_mode=None):
        handles.append(Patch(color=mode_colour(None), label="no mode (raw API, core context)"))
    runs = run_index(used)
    if len(runs) > 1:
        handles += [Patch(facecolor="#bbbbbb", hatch=RUN_HATCHES[i % len(RUN_HATCHES)], edgecolor="white",
                          label=f"run: {run}") for run, i in runs.items()]
    if any_na:
        handles.append(Patch(facecolor="none", edgecolor=NOT_AVAILABLE_COLOUR, hatch="..", linestyle="--",
                             label="counter not available"))
    grid[0][-1].legend(handles=handles, fontsize=8, loc="upper right", framealpha=0.9)
    fixed = ("payload_bytes", "app_threads", "pinning", "stack")
    sub = fmt_selection(common_values(used, fixed), fixed)
    names = " · ".join(COUNTER_LABELS.get(c, (c.replace("_", " "),))[0] for c, _ in rows)
    fig.suptitle(f"{names} per operation by threading mode and API" + (f"\n{sub}" if sub else ""), fontsize=11)
    notes.append("counts cover every thread of the process (the tcpip thread included), divided by operations")
    return finish(fig, rs, notes, used)


def _draw_row(axes, cand: list[dict], counter: str, scenarios: list[str]) -> tuple[list[dict], list[str], bool]:
    """One counter across the scenario panels of a row; returns (records used, notes, any not available)."""
    name, unit = COUNTER_LABELS.get(counter, (counter.replace("_", " "), "count/op"))
    notes: list[str] = []
    used: list[dict] = []
    reasons: dict[str, list[str]] = {}
    ymax = 0.0
    na_slots = []  # (ax, x, width) drawn once the y range is known
    runs = run_index(cand)
    for ax, scen in zip(axes, scenarios):
        chosen, cnotes = choose(select(cand, scenario=scen), keep=("api", "threading_mode"))
        notes += [f"{scen}: {n}" for n in cnotes]
        used += chosen
        apis = [a for a in APIS if select(chosen, api=a)] + sorted(
            {str(r.get("api")) for r in chosen if r.get("api") not in APIS}
        )
        ticks = []
        for gi, api in enumerate(apis):
            recs = select(chosen, api=api if api in APIS else (lambda v, a=api: str(v) == a))
            recs.sort(key=lambda r: (MODES.index(r.get("threading_mode")) if r.get("threading_mode") in MODES else 9,
                                     runs.get(r.get("_run"), 0)))
            width = 0.8 / max(2, len(recs))
            for bi, rec in enumerate(recs):
                x = gi + (bi - (len(recs) - 1) / 2) * width
                value, status = counter_per_op(rec, counter)
                colour = mode_colour(rec.get("threading_mode"))
                if value is None:
                    # Drawn below as a dashed empty box with words: not a zero.
                    na_slots.append((ax, x, width * 0.9))
                    reasons.setdefault(status, []).append(
                        f"{scen} {api} {mode_label(rec.get('threading_mode'))}"
                    )
                    continue
                ax.bar(x, value, width * 0.9, color=colour, edgecolor="white",
                       hatch=RUN_HATCHES[runs.get(rec.get("_run"), 0) % len(RUN_HATCHES)])
                ax.annotate(fmt_count(value), (x, value), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=8)
                ymax = max(ymax, value)
            ticks.append((gi, api_label(api)))
        ax.set_xticks([t[0] for t in ticks])
        ax.set_xticklabels([t[1] for t in ticks])
        ax.set_xlim(-0.6, max(len(apis), 2) - 0.4)
        ax.set_title(scen, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    top = ymax * 1.25 if ymax > 0 else 1.0
    axes[0].set_ylim(0, top)
    for ax, x, w in na_slots:
        # Full height: a placeholder, so it reads as neither 0 nor a value.
        ax.bar(x, top * 0.97, w, bottom=0, color="none", edgecolor=NOT_AVAILABLE_COLOUR,
               linestyle="--", linewidth=1.0, hatch="..")
        ax.text(x, top * 0.02, "not available", rotation=90, ha="center", va="bottom", fontsize=8,
                color="#555555", bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
    axes[0].set_ylabel(f"{name} per operation ({unit})")
    for status, where in reasons.items():
        notes.append(f"{name} \"not available\" ({', '.join(where)}): {status} - no value was measured; "
                     "it is not zero")
    return used, notes, bool(na_slots)
