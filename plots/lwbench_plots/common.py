"""Shared plumbing for every lwbench figure.

Owns: loading result files (schema `lwbench.results` v1, see
docs/results-schema.md) from one or several files, choosing which records a
figure shows, the colour conventions, time-unit formatting, the environment
footer, and saving (PNG + SVG).

Contracts:
* Figures are built only from result records - never from console output.
* A missing measurement is shown as missing ("not available"), never as 0.
* Matplotlib is used through `matplotlib.figure.Figure` directly (no pyplot
  state machine), with the Agg backend, so plotting works headless and in
  threads, and figures are garbage-collected normally.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import matplotlib

if importlib.util.find_spec("lwbench") is None:  # a plain checkout: the lwbench package is in <repo>/python
    sys.path.append(str(Path(__file__).resolve().parents[2] / "python"))
from lwbench.formatting import fmt_count, fmt_ns, sig  # noqa: E402,F401  (the one formatter, re-exported)
from lwbench.results import (  # noqa: E402
    IDENTITY,
    SCHEMA,
    SCHEMA_VERSION,
    THIS_MACHINE,
    NotAResultFile,
    measured_on,
    read_document,
)
from lwbench.seed import SEED_PAYLOAD_BYTES  # noqa: E402,F401

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (backend must be set first)
from matplotlib.ticker import Formatter, FuncFormatter  # noqa: E402

SUPPORTED_SCHEMA_VERSIONS = (SCHEMA_VERSION,)

# Keys that identify a scenario point (docs/results-schema.md, "Identity"; one source: lwbench.results).
IDENTITY_KEYS = IDENTITY
# For these keys null means "not applicable" (a core-locking record has no
# mailbox kind that matters, a primitive has no API): when a figure fixes such
# a key to one value, records with null stay in.  For the others null is a
# value of its own (variant null = the plain configuration). A null netif or
# sched_policy comes from a file written before the field existed, or from a
# real-lwIP runner that did not record it: such records stay in too.
WILDCARD_NULL_KEYS = frozenset(
    {"api", "primitive", "threading_mode", "input_mode", "mailbox_kind", "lock_kind", "netif", "sched_policy"}
)
# When a figure cannot show every value of a key, it shows the first of these
# that is present (else the most common value), and says so on the figure.
DEFAULT_PREFERENCES: dict[str, tuple] = {
    "stack": ("lwbench",),
    "payload_bytes": (SEED_PAYLOAD_BYTES,),
    "app_threads": (1,),
    "pinning": ("same_core", "none", "separate_cores"),
    "input_mode": ("mailbox", "inline"),
    "mailbox_kind": ("mutex_cv", "tbb_queue", "spin_then_block", "adaptive"),
    "lock_kind": ("std_mutex", "tbb_spin_mutex", "tbb_queuing_mutex"),
    "variant": (None,),
    "netif": ("loopback",),
    "core_work_iterations": (0,),  # no added work inside the core (files from before it have none)  # files from before the TAP netif have none: loopback, kept as wildcards
}

LATENCY_SCENARIOS = ("send_latency", "recv_latency", "delivery_latency", "round_trip")
MODES = ("message_passing", "core_locking")
APIS = ("socket", "netconn", "raw")

# ---- colours and styles -------------------------------------------------
# Colour always means threading mode; line style / marker always means API.
# The raw API has no mode of its own (it runs in core context), so a raw
# record without a mode gets its own colour.
MODE_COLOURS = {
    "message_passing": "#d95f02",  # orange: two thread hand-offs per call
    "core_locking": "#1f78b4",  # blue: one mutex per call
    None: "#33a02c",  # green: raw API / no mode
}
API_LINESTYLES = {"socket": "-", "netconn": "--", "raw": ":", None: "-."}
API_MARKERS = {"socket": "o", "netconn": "s", "raw": "^", None: "D"}
# Mailbox / lock kinds (throughput figure); distinct from the mode colours.
KIND_COLOURS = {
    "mutex_cv": "#6a3d9a",
    "tbb_queue": "#b15928",
    "spin_then_block": "#e7298a",
    "adaptive": "#1f78b4",
    "std_mutex": "#1b9e77",
    "tbb_spin_mutex": "#666666",
    "tbb_queuing_mutex": "#a6761d",
    None: "#999999",
}
PRIMITIVE_COLOUR = "#7f7f7f"
NOT_AVAILABLE_COLOUR = "#b0b0b0"
FOOTER_COLOUR = "#555555"

MODE_LABELS = {"message_passing": "message passing", "core_locking": "core locking", None: "no mode"}


def mode_colour(mode: str | None) -> str:
    return MODE_COLOURS.get(mode, "#000000")


def mode_label(mode: str | None) -> str:
    return MODE_LABELS.get(mode, str(mode))


def api_label(api: str | None) -> str:
    return {"socket": "socket API", "netconn": "netconn API", "raw": "raw API"}.get(api, str(api))


class NoData(Exception):
    """The records a figure needs are not in the results (the figure is skipped)."""


# ---- loading --------------------------------------------------------------


@dataclass
class Results:
    """Records merged from one or more result documents.

    Each record is a shallow copy of the file's record with two private keys
    added: `_doc` (index into `documents`) and `_order` (sort key: later
    `created_utc`, then later file, then later record = newer).
    `documents` hold each file's top-level keys (without `records`) plus
    `_path` (None for in-memory documents).
    """

    records: list[dict] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)

    def environment_of(self, rec: Mapping) -> dict:
        return self.documents[rec["_doc"]].get("environment") or {}


def load_results(sources: Any, skip_foreign: bool = False) -> Results:
    """Merge result documents.

    sources: a `Results` (returned as is), a path, an in-memory document
    (dict), or an iterable of paths/documents.  Raises ValueError for a
    document that is not `lwbench.results` of a supported version, except
    that with skip_foreign=True a file that is other JSON (Google Benchmark
    output picked up by a glob) is skipped with a note on stderr.
    Each document gets `_run`: a label naming its run and machine
    (hostname, date, revision), used to overlay several runs.
    """
    if isinstance(sources, Results):
        return sources
    if isinstance(sources, (str, os.PathLike, Mapping)):
        sources = [sources]
    out = Results()
    for src in sources:
        if isinstance(src, Mapping):
            doc, path = dict(src), None
            if doc.get("schema") != SCHEMA:
                raise NotAResultFile(f"<document>: schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
            if doc.get("schema_version") not in SUPPORTED_SCHEMA_VERSIONS:
                raise ValueError(f"<document>: schema_version {doc.get('schema_version')!r} is not supported")
        else:
            try:
                doc, path = read_document(src), str(src)
            except NotAResultFile as e:
                if not skip_foreign:
                    raise
                warn(f"skipping {e}")
                continue
        di = len(out.documents)
        header = {k: v for k, v in doc.items() if k != "records"}
        header["_path"] = path
        header["_run"] = run_label(header)
        out.documents.append(header)
        created = str(doc.get("created_utc") or "")
        for ri, rec in enumerate(doc.get("records") or []):
            r = dict(rec)
            r["core_work_iterations"] = r.get("core_work_iterations") or 0  # absent before it existed: none
            r["_doc"] = di
            r["_order"] = (created, di, ri)
            r["_run"] = header["_run"]
            out.records.append(r)
    return out


def run_label(document: Mapping) -> str:
    """"host · YYYY-MM-DD HH:MM · git abc1234": names a run and its machine in legends."""
    env = document.get("environment") or {}
    created = str(document.get("created_utc") or "")
    when = created[:16].replace("T", " ") if created else "date unknown"
    return f"{env.get('hostname') or 'unknown host'} · {when} · git {_short_rev(env)}"


# ---- reading record fields -----------------------------------------------


def get(rec: Mapping, *keys: str, default: Any = None) -> Any:
    """Nested lookup that tolerates absent keys and nulls: get(r, "latency_ns", "p50")."""
    cur: Any = rec
    for k in keys:
        if not isinstance(cur, Mapping) or cur.get(k) is None:
            return default
        cur = cur[k]
    return cur


def number(x: Any) -> float | None:
    """x as a finite float, or None (null, absent, NaN, non-numeric)."""
    if isinstance(x, bool) or x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def counter_per_op(rec: Mapping, name: str) -> tuple[float | None, str]:
    """(per-operation value or None, status text) for a counter.

    A counter absent from the record is reported as not available with that
    reason - it is never turned into 0.
    """
    c = get(rec, "counters", name)
    if not isinstance(c, Mapping):
        return None, "not available: not recorded"
    value = number(c.get("per_op"))
    status = str(c.get("status") or ("ok" if value is not None else "not available"))
    if value is None and status == "ok":
        status = "not available: null value"
    return value, status


def ladder(rec: Mapping) -> list[tuple[float, float]]:
    """The latency ladder [(q, ns)] sorted by q, invalid rungs dropped."""
    out = []
    for rung in get(rec, "latency_ns", "ladder", default=[]) or []:
        if isinstance(rung, (list, tuple)) and len(rung) == 2:
            q, ns = number(rung[0]), number(rung[1])
            if q is not None and ns is not None and 0.0 <= q <= 1.0:
                out.append((q, ns))
    return sorted(out)


# ---- choosing records -----------------------------------------------------


def select(records: Iterable[dict], **criteria: Any) -> list[dict]:
    """Records whose keys match: a value (equality), a tuple/list/set
    (membership) or a callable (predicate on the value)."""
    out = []
    for r in records:
        ok = True
        for k, want in criteria.items():
            v = r.get(k)
            if callable(want):
                ok = bool(want(v))
            elif isinstance(want, (tuple, list, set, frozenset)):
                ok = v in want
            else:
                ok = v == want
            if not ok:
                break
        if ok:
            out.append(r)
    return out


def _fmt_value(key: str, v: Any) -> str:
    if v is None:
        return "null"
    if key == "payload_bytes":
        return f"{v} B"
    return str(v)


def choose(
    records: Sequence[dict],
    keep: Sequence[str],
    prefer: Mapping[str, Any] | None = None,
) -> tuple[list[dict], list[str]]:
    """Reduce records to one per combination of the `keep` keys.

    Every identity key not in `keep` is fixed to a single value: `prefer[key]`
    if given and present, else the first present of DEFAULT_PREFERENCES, else
    the most common value.  (For WILDCARD_NULL_KEYS, records with null stay.)
    The same point from several runs is kept (figures overlay and label the
    runs, see `run_index`); duplicates within one run keep the newest.

    Returns (records, notes): the notes say, in plain words, what was fixed
    while other values exist, so the figure can state it.
    """
    prefer = dict(prefer or {})
    notes: list[str] = []
    recs = list(records)
    paired_inputs = "threading_mode" in keep and "input_mode" not in keep and "input_mode" not in prefer
    if paired_inputs:
        # Compare modes as lwIP builds them: core locking with inline input
        # (LWIP_TCPIP_CORE_LOCKING_INPUT), message passing with mailbox input. Per mode,
        # keep the paired input mode where the data has it, instead of fixing one input
        # mode for all (which would drop one of the modes being compared).
        paired = {"core_locking": "inline", "message_passing": "mailbox"}
        out = []
        for r in recs:
            mode = r.get("threading_mode")
            want = paired.get(mode)
            has_paired = any(x.get("threading_mode") == mode and x.get("input_mode") == want for x in recs)
            if not has_paired or r.get("input_mode") in (want, None):
                out.append(r)
        if len(out) < len(recs):
            notes.append("input mode paired with the threading mode as in lwIP's builds "
                         "(core locking: inline, message passing: mailbox)")
        recs = out
    for key in IDENTITY_KEYS:
        if key in keep or not recs or (paired_inputs and key == "input_mode"):
            continue
        wildcard = key in WILDCARD_NULL_KEYS
        values = Counter(r.get(key) for r in recs if not (wildcard and r.get(key) is None))
        if len(values) <= 1:
            continue
        chosen = None
        found = False
        wanted = prefer.get(key, DEFAULT_PREFERENCES.get(key, ()))
        if not isinstance(wanted, (tuple, list)):
            wanted = (wanted,)
        for w in wanted:
            if w in values:
                chosen, found = w, True
                break
        if not found:
            chosen = sorted(values.items(), key=lambda kv: (-kv[1], str(kv[0])))[0][0]
        others = sorted((_fmt_value(key, v) for v in values if v != chosen), key=str)
        notes.append(f"{key} = {_fmt_value(key, chosen)} (also in data: {', '.join(others)})")
        recs = [r for r in recs if r.get(key) == chosen or (wildcard and r.get(key) is None)]
    # The same point from several runs (files of different runs or machines) is kept:
    # figures overlay the runs and label them (`_run`). Only a point repeated within
    # one run's files keeps its newest record, and the figure says so.
    newest: dict[tuple, dict] = {}
    dropped = 0
    for r in recs:
        k = tuple(r.get(key) for key in keep) + (r.get("_run"),)
        if k in newest:
            dropped += 1
            if r["_order"] > newest[k]["_order"]:
                newest[k] = r
        else:
            newest[k] = r
    if dropped:
        notes.append(f"{dropped} duplicate record(s) of the same point within one run: the newest is shown")
    runs = sorted({r.get("_run") for r in newest.values()}, key=str)
    if len(runs) > 1:
        notes.append(f"{len(runs)} runs overlaid and labelled (lines: thicker / solid marker = first run; "
                     "bars: hatched = later run): " + "; ".join(map(str, runs)))
    return list(newest.values()), notes


def varying_keys(records: Sequence[dict], candidates: Sequence[str] = IDENTITY_KEYS) -> list[str]:
    """The candidate keys that take more than one value among records."""
    return [k for k in candidates if len({r.get(k) for r in records}) > 1]


# ---- units ---------------------------------------------------------------


def time_unit(values_ns: Iterable[float]) -> tuple[float, str]:
    """(divisor, unit) so that typical values read as about 0.5..500 of the unit."""
    vals = sorted(v for v in values_ns if v is not None and v > 0)
    if not vals:
        return 1.0, "ns"
    typical = vals[len(vals) // 2]
    if typical >= 5e5:
        return 1e6, "ms"
    if typical >= 500:
        return 1e3, "µs"
    return 1.0, "ns"


def _plain(v: float) -> str:
    """A tick value without exponent: 0.2, 5, 1000, 1000000."""
    return f"{v:.0f}" if v >= 1 else f"{v:g}"


def plain_log_ticks(axis) -> None:
    """Label a log axis with plain numbers (0.1, 1, 10, 100) instead of 10^n, and label the
    2x and 5x minor ticks too (0.2, 0.5, 2, 5, …), so that values between the decades can be
    read (0.15–0.3 µs on an axis labelled only at 1 and 10 could not)."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: _plain(v)))

    class _Minor(Formatter):
        def __call__(self, v, pos=None):
            lo, hi = sorted(self.axis.get_view_interval()) if self.axis is not None else (1.0, 10.0)
            decades = math.log10(hi / lo) if lo > 0 and hi > 0 else 0.0
            if v <= 0 or decades > 4.2:  # very wide axes: the majors are enough, minors would collide
                return ""
            lead = round(v / 10 ** math.floor(math.log10(v)), 6)
            return _plain(v) if lead in ((2.0, 5.0) if decades > 1.2 else (2.0, 3.0, 5.0)) else ""

    axis.set_minor_formatter(_Minor())
    axis.set_tick_params(which="minor", labelsize=7)


# ---- styles: colour = mode (or kind), line style = stack, marker = API, width = run ---------

STACK_LINESTYLES = {"lwbench": "-"}
OTHER_STACK_LINESTYLES = ("--", ":", "-.")


def stack_linestyle(stack: str | None) -> str:
    """Our stack solid, real lwIP dashed, any further stack dotted / dash-dot."""
    if stack in STACK_LINESTYLES:
        return STACK_LINESTYLES[stack]
    return OTHER_STACK_LINESTYLES[0] if str(stack).startswith("lwip") else OTHER_STACK_LINESTYLES[1]


#: Bar hatches by run index (first run plain): bars cannot vary their line width.
RUN_HATCHES = (None, "//", "..", "xx")


def run_suffix(rec: Mapping, records: Sequence[dict]) -> str:
    """" [run label]" when the records come from several runs, else ""."""
    return f" [{rec.get('_run')}]" if len(run_index(records)) > 1 else ""


def run_index(records: Sequence[dict]) -> dict:
    """{run label: 0, 1, …} in the order of the runs' creation (first = 0)."""
    runs = sorted({(r["_order"][0], r.get("_run")) for r in records if "_order" in r}, key=lambda x: str(x))
    out: dict = {}
    for _, run in runs:
        out.setdefault(run, len(out))
    return out


_FACET_PINNING_ORDER = ("same_core", "separate_cores", "none")


@dataclass
class Facet:
    """One row of panels: the records of one pinning and one stack (and where they ran)."""

    title: str  # "pinning same_core · stack lwbench", or the target: "emulated Cortex-M3 (QEMU …) · stack …"
    records: list


def facets(records: Sequence[dict]) -> list[Facet]:
    """Rows of panels for a figure: one per pinning and, where more than one stack is present,
    one per stack too (our stack and real lwIP in rows of their own, on the same axes), our
    stack first. A record measured on an emulated target (lwbench.results.measured_on) is
    its own facet, titled with the target: its "none" is not a host pinning."""
    stacks = {r.get("stack") for r in records}

    def place(rec: Mapping) -> tuple:
        where = measured_on(rec)
        pin = rec.get("pinning")
        pin_rank = _FACET_PINNING_ORDER.index(pin) if pin in _FACET_PINNING_ORDER else len(_FACET_PINNING_ORDER)
        return (where != THIS_MACHINE, where, pin_rank, str(pin), rec.get("stack") != "lwbench", str(rec.get("stack")))

    groups: dict[tuple, list] = {}
    for rec in sorted(records, key=place):
        where, stack = measured_on(rec), rec.get("stack")
        key = (where, rec.get("pinning") if where == THIS_MACHINE else None, stack if len(stacks) > 1 else None)
        groups.setdefault(key, []).append(rec)
    out = []
    for (where, pin, stack), recs in groups.items():
        title = f"pinning {pin}" if where == THIS_MACHINE else where
        out.append(Facet(title + (f" · stack {stack}" if stack is not None else ""), recs))
    return out


def line_style(rec: Mapping, runs: Mapping, colour: str) -> dict:
    """Matplotlib style of a record's line: colour given, line style by stack, marker by API,
    width and marker fill by run (first run thick and filled, later runs thinner and hollow)."""
    index = runs.get(rec.get("_run"), 0)
    return {"color": colour, "linestyle": stack_linestyle(rec.get("stack")),
            "marker": API_MARKERS.get(rec.get("api"), "D"), "linewidth": 2.0 if index == 0 else 1.2,
            "markerfacecolor": colour if index == 0 else "white", "markeredgecolor": colour}


def style_legend_handles(records: Sequence[dict], colours: Mapping[str, str]) -> list:
    """Legend entries that explain the encodings themselves: each colour, each stack's line
    style, each API's marker, each run's width (only those present)."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, linewidth=3, label=name) for name, c in colours.items()]
    for stack in sorted({r.get("stack") for r in records}, key=lambda s: (s != "lwbench", str(s))):
        handles.append(Line2D([], [], color="#444444", linestyle=stack_linestyle(stack), label=f"stack {stack}"))
    for api in [a for a in APIS if any(r.get("api") == a for r in records)]:
        handles.append(Line2D([], [], color="#444444", linestyle="none", marker=API_MARKERS[api],
                              label=api_label(api)))
    runs = run_index(records)
    if len(runs) > 1:
        for run, i in runs.items():
            handles.append(Line2D([], [], color="#444444", linewidth=2.0 if i == 0 else 1.2, marker="o",
                                  markerfacecolor="#444444" if i == 0 else "white", label=f"run: {run}"))
    return handles


# ---- footer and finishing --------------------------------------------------


def _short_rev(env: Mapping) -> str:
    rev = str(env.get("git_revision") or "unknown")
    short = rev[:7] if rev != "unknown" else rev
    if env.get("git_dirty"):
        short += "+dirty"
    return short


def environment_lines(results: Results, docs: Iterable[int] | None = None) -> list[str]:
    """One footer line per distinct environment among the given documents:
    CPU model, CPU count, kernel, compiler/build, git revision, run date(s)."""
    idx = sorted(set(docs)) if docs is not None else range(len(results.documents))
    groups: dict[tuple, dict] = {}
    for i in idx:
        d = results.documents[i]
        env = d.get("environment") or {}
        key = (
            env.get("cpu_model") or "unknown CPU",
            env.get("cpu_count"),
            env.get("kernel") or "unknown kernel",
            " ".join(x for x in (env.get("compiler"), env.get("build_type")) if x),
            _short_rev(env),
        )
        g = groups.setdefault(key, {"dates": set(), "files": []})
        created = str(d.get("created_utc") or "")
        if created:
            g["dates"].add(created[:10])
        if d.get("_path"):
            g["files"].append(os.path.basename(d["_path"]))
    lines = []
    for (cpu, ncpu, kernel, build, rev), g in groups.items():
        dates = sorted(g["dates"])
        when = dates[0] if len(dates) == 1 else (f"{dates[0]} … {dates[-1]}" if dates else "date unknown")
        parts = [cpu + (f" ({ncpu} CPUs)" if ncpu else ""), kernel]
        if build:
            parts.append(build)
        parts += [f"git {rev}", f"run {when}"]
        if g["files"]:
            shown = g["files"][:2] + ([f"+{len(g['files']) - 2} more"] if len(g["files"]) > 2 else [])
            parts.append("results: " + ", ".join(shown))
        lines.append(" · ".join(parts))
    return lines or ["environment unknown"]


def finish(
    fig: Figure,
    results: Results | None,
    notes: Iterable[str] = (),
    used: Iterable[dict] | None = None,
    footer_lines: Sequence[str] | None = None,
    top: float = 1.0,
) -> Figure:
    """Add the notes and the environment footer under the axes, then lay out.

    used: the records actually drawn; the footer lists only their files'
    environments (all files when None).  footer_lines overrides the footer
    (figures that are not made from result files, e.g. flame graphs).
    top: upper edge (figure fraction) left to the axes, for figure legends.
    """
    if footer_lines is None:
        docs = {r["_doc"] for r in used} if used is not None else None
        footer_lines = environment_lines(results, docs) if results is not None else []
    width_chars = int(fig.get_figwidth() * 72 / 7 * 1.9)  # ~chars per line at 7 pt
    note_lines: list[str] = []
    for n in dict.fromkeys(notes):  # dedupe, keep order
        note_lines += textwrap.wrap("note: " + n, width_chars, subsequent_indent="      ")
    env_lines: list[str] = []
    for ln in footer_lines:
        env_lines += textwrap.wrap(ln, width_chars, subsequent_indent="    ")
    line_h = 9.5 / 72 / fig.get_figheight()  # figure fraction per 7-pt line
    y = 0.006
    for ln in reversed(env_lines):
        fig.text(0.008, y, ln, fontsize=6.5, color=FOOTER_COLOUR, ha="left", va="bottom")
        y += line_h
    for ln in reversed(note_lines):
        fig.text(0.008, y, ln, fontsize=7, color="#333333", ha="left", va="bottom", style="italic")
        y += line_h
    fig.tight_layout(rect=(0, min(y + 0.01, 0.5), 1, top))
    return fig


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free Figure (inches); call `finish` on it when drawn."""
    return Figure(figsize=(width, height), dpi=100)


#: Colours of a figure's PNG palette: a figure's flat fills, lines and anti-aliased text
#: edges fit in it without visible banding, and the file is about a quarter of RGBA's.
PNG_PALETTE_COLOURS = 64


def png_bytes(fig: Figure, dpi: int) -> bytes:
    """The figure as a compressed PNG: rendered at `dpi`, reduced to a palette of
    PNG_PALETTE_COLOURS colours (no dithering: plot colours are flat) and optimised."""
    from PIL import Image  # Debian's python3-pil, a dependency of python3-matplotlib

    rendered = io.BytesIO()
    fig.savefig(rendered, format="png", dpi=dpi)
    rendered.seek(0)
    with Image.open(rendered) as image:
        palette = image.convert("RGB").quantize(colors=PNG_PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT,
                                                dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="png", optimize=True)
    return out.getvalue()


def save_figure(fig: Figure, out_dir: str | os.PathLike, stem: str, dpi: int = 150,
                svg: bool = True) -> list[Path]:
    """Write <out_dir>/<stem>.png (png_bytes) and, unless svg is False, <stem>.svg (text
    kept as text in the SVG, so it is searchable); returns the paths, PNG first."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.png"]
    paths[0].write_bytes(png_bytes(fig, dpi))
    if svg:
        paths.append(out / f"{stem}.svg")
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            fig.savefig(paths[1])
    return paths


def warn(msg: str) -> None:
    print(f"lwbench_plots: {msg}", file=sys.stderr)


def fmt_selection(rec_or_values: Mapping[str, Any], keys: Sequence[str]) -> str:
    """"key value, key value" for the subtitle of a figure."""
    parts = []
    for k in keys:
        v = rec_or_values.get(k)
        if v is None:
            continue
        label = {
            "payload_bytes": lambda x: f"{x}-byte payload",
            "app_threads": lambda x: f"{x} app thread" + ("s" if x != 1 else ""),
            "pinning": lambda x: f"pinning {x}",
            "stack": lambda x: f"stack {x}",
            "input_mode": lambda x: f"input {x}",
            "mailbox_kind": lambda x: f"mailbox {x}",
            "lock_kind": lambda x: f"lock {x}",
        }.get(k, lambda x: f"{k} {x}")
        parts.append(label(v))
    return ", ".join(parts)


def common_values(records: Sequence[dict], keys: Sequence[str]) -> dict[str, Any]:
    """{key: value} for keys that have exactly one non-null value among records."""
    out = {}
    for k in keys:
        vals = {r.get(k) for r in records if r.get(k) is not None}
        if len(vals) == 1:
            out[k] = vals.pop()
    return out


def series_key_label(rec: Mapping, keys: Sequence[str]) -> str:
    parts = []
    for k in keys:
        v = rec.get(k)
        if k == "threading_mode":
            parts.append(mode_label(v))
        elif k == "api":
            parts.append(api_label(v))
        elif v is not None:
            parts.append(_fmt_value(k, v))
    return ", ".join(parts)

