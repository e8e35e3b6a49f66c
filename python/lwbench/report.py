"""`python3 -m lwbench report RESULT… [-o FILE]`: one self-contained HTML page.

The page holds, for the given result files: every record (p50, p99, p99.9 with
the number of samples it rests on, spread, rates, context switches, loss),
the seed comparison ratios (message passing / core locking, core locking / raw)
per stack, API and pinning, the targets (the files' notes and, where a file
holds both stacks, our stack against real lwIP with a verdict), every figure
lwbench_plots can draw from the records (inlined as compressed PNG data: no
external file, no network), each file's environment, and — when two or more files are
given — the compare verdicts of the last file against the first
(lwbench.compare). Each value cell carries the exact number from the file in
``data-value``, so a test (or a reader) can check the page against the file.
The page is written as a new file (never overwriting).
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import html
import math
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from . import _paths, machine
from .compare import Comparisons, compare, compare_stacks, render
from .formatting import fmt_count, fmt_ns, fmt_rate, fmt_ratio
from .results import NotAResultFile, Results, load, write_new_file
from .seed import SEED_2007_US, SEED_PAYLOAD_BYTES

__all__ = ["build_page", "main"]


_CSS = """
body { font-family: sans-serif; margin: 1.5em 2.5em; color: #222; max-width: 1500px; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; font-size: 0.86em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }
th { background: #f0f0f0; cursor: pointer; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict-slower { color: #b00; font-weight: bold; } .verdict-faster { color: #070; font-weight: bold; }
.verdict-inconclusive { color: #777; } .warning { color: #a05a00; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
code { font-size: 0.95em; }
"""

# Click a header to sort its table; marks the page as rendered (tests check that the script ran).
_JS = """
document.querySelectorAll("table.sortable th").forEach(function (th, index) {
  th.addEventListener("click", function () {
    const table = th.closest("table"), body = table.tBodies[0];
    const rows = Array.from(body.rows), up = th.dataset.order !== "up";
    const key = function (row) { const c = row.cells[th.cellIndex]; const v = c.dataset.value;
      return v !== undefined && v !== "" && !isNaN(Number(v)) ? Number(v) : c.textContent; };
    rows.sort(function (a, b) { const x = key(a), y = key(b); return (x > y ? 1 : x < y ? -1 : 0) * (up ? 1 : -1); });
    rows.forEach(function (r) { body.appendChild(r); });
    th.dataset.order = up ? "up" : "down";
  });
});
document.body.dataset.rendered = "yes";
"""


def _esc(x) -> str:
    return html.escape(str(x))


def _cell(text: str, value=None, field: str | None = None, point: str | None = None) -> str:
    attrs = ""
    if value is not None:
        attrs += f' data-value="{_esc(repr(float(value)) if isinstance(value, (int, float)) else value)}"'
    if field:
        attrs += f' data-field="{_esc(field)}"'
    if point:
        attrs += f' data-point="{_esc(point)}"'
    cls = ' class="num"' if value is not None else ""
    return f"<td{cls}{attrs}>{_esc(text)}</td>"


def _table(header: Sequence[str], rows: Sequence[str], table_id: str) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    return (f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(f"<tr>{r}</tr>" for r in rows) + "</tbody></table>")


def _records_table(res: Results, index: int) -> str:
    rows = []
    for r in res.records:
        lat = r.get("latency_ns") or {}
        spread = r.get("spread") or {}
        ops_per_sample = r.get("ops_per_sample") or 1
        count = lat.get("count")
        tail = f"{fmt_ns(lat.get('p999'))} (n={count:,})" if count else fmt_ns(lat.get("p999"))
        if ops_per_sample > 1:
            tail += f", batch means of {ops_per_sample} ops"
        ctx = r.counter_per_op("context_switches")
        loss = r.loss
        label = r.label
        remarks = []
        if len(r.modes) > 1:
            remarks.append("bimodal: " + " / ".join(f"{fmt_ns(m)} ({share:.0%})" for m, share in r.modes))
        if len(r.sample_modes) > 1:
            remarks.append("bimodal samples: " + " / ".join(f"{fmt_ns(m)} ({share:.0%})" for m, share in r.sample_modes))
        if r.get("offered_per_sec") is not None and r.get("delivered_per_sec") is not None:
            remarks.append(f"offered {fmt_rate(r['offered_per_sec'], '/s')}, delivered "
                           f"{fmt_rate(r['delivered_per_sec'], '/s')}")
        rows.append("".join([
            f"<td>{_esc(label)}</td>",
            _cell(fmt_ns(lat.get("p50")), lat.get("p50"), "p50_ns", label),
            _cell(fmt_ns(lat.get("p99")), lat.get("p99"), "p99_ns", label),
            _cell(tail, lat.get("p999"), "p999_ns", label),
            _cell("n/a" if spread.get("rel_mad") is None else f"±{100 * spread['rel_mad']:.1f}%",
                  spread.get("rel_mad"), "rel_mad", label),
            _cell(str(len(r.repetition_medians) or r.get("repetitions") or "n/a"), r.get("repetitions"),
                  "repetitions", label),
            _cell(fmt_rate(r.get("ops_per_sec"), "ops/s"), r.get("ops_per_sec"), "ops_per_sec", label),
            _cell(fmt_count(ctx), ctx, "context_switches_per_op", label),
            _cell("n/a" if loss is None else f"{100 * loss:.2f}%", loss, "loss", label),
            f"<td>{_esc('; '.join(remarks))}</td>",
        ]))
    return _table(["scenario point", "p50", "p99", "p99.9 (samples)", "spread (MAD)", "repetitions", "rate",
                   "ctx switches/op", "loss", "remarks"], rows, f"records-{index}")


def _seed_ratios(res: Results, index: int) -> str:
    """MP / CL and CL / raw of send_latency at 1458 B, per stack, API and pinning."""
    by = {}
    for r in res.records:
        if r.get("scenario") == "send_latency" and r.get("payload_bytes") == SEED_PAYLOAD_BYTES and r.get("latency_ns"):
            by.setdefault((r.get("stack"), r.get("pinning")), []).append(r)
    rows = ["<td>seed, 2007 embedded target (as reported, not measured)</td><td>socket</td><td>–</td>"
            + _cell(f"{SEED_2007_US['message_passing']:g} µs", SEED_2007_US["message_passing"] * 1e3)
            + _cell(f"{SEED_2007_US['core_locking']:g} µs", SEED_2007_US["core_locking"] * 1e3)
            + _cell(f"{SEED_2007_US['raw']:g} µs", SEED_2007_US["raw"] * 1e3)
            + _cell(fmt_ratio(SEED_2007_US["message_passing"] / SEED_2007_US["core_locking"]),
                    SEED_2007_US["message_passing"] / SEED_2007_US["core_locking"])
            + _cell(fmt_ratio(SEED_2007_US["core_locking"] / SEED_2007_US["raw"]),
                    SEED_2007_US["core_locking"] / SEED_2007_US["raw"])]
    for (stack, pinning), recs in sorted(by.items(), key=lambda kv: tuple(map(str, kv[0]))):
        # The raw column is udp_sendto in core context (the seed's raw figure): a record without a mode,
        # else the core-locking one.
        raws = sorted((r for r in recs if r.get("api") == "raw"),
                      key=lambda r: {None: 0, "core_locking": 1}.get(r.get("threading_mode"), 2))
        raw = raws[0] if raws else None
        raw_ns = raw.p50_ns if raw else None
        for api in ("socket", "netconn"):
            mp = next((r for r in recs if r.get("api") == api and r.get("threading_mode") == "message_passing"), None)
            cl = next((r for r in recs if r.get("api") == api and r.get("threading_mode") == "core_locking"), None)
            if mp is None and cl is None:
                continue
            mp_ns, cl_ns = (mp.p50_ns if mp else None), (cl.p50_ns if cl else None)
            mp_cl = mp_ns / cl_ns if mp_ns and cl_ns else None
            cl_raw = cl_ns / raw_ns if cl_ns and raw_ns else None
            rows.append(f"<td>{_esc(stack)}</td><td>{_esc(api)}</td><td>{_esc(pinning)}</td>"
                        + _cell(fmt_ns(mp_ns), mp_ns) + _cell(fmt_ns(cl_ns), cl_ns) + _cell(fmt_ns(raw_ns), raw_ns)
                        + _cell(fmt_ratio(mp_cl), mp_cl) + _cell(fmt_ratio(cl_raw), cl_raw))
    if len(rows) == 1:
        return "<p>No 1458-byte send_latency records: no seed comparison.</p>"
    return _table(["stack", "API", "pinning", "message passing p50", "core locking p50", "raw p50",
                   "MP / CL", "CL / raw"], rows, f"seed-{index}")


def _comparison_table(comps: Comparisons, table_id: str) -> str:
    rows = []
    for c in comps:
        d = c.as_dict()
        rows.append(f"<td>{_esc(d['point'])}</td>" + _cell(fmt_ns(d["base_p50_ns"]), d["base_p50_ns"])
                    + _cell(fmt_ns(d["new_p50_ns"]), d["new_p50_ns"]) + _cell(fmt_ratio(c.ratio), d["ratio"])
                    + (_cell(f"{fmt_ratio(c.low)} – {fmt_ratio(c.high)}", d["ci_low"]) if d["ci_low"] else
                       "<td>n/a</td>")
                    + f'<td class="verdict-{str(c.verdict).replace(" ", "-")}" data-field="verdict">'
                      f"{_esc(c.verdict)}{(' — ' + _esc(c.reason)) if c.reason else ''}</td>")
    warn = "".join(f'<p class="warning">warning: {_esc(w)}</p>' for w in comps.warnings)
    intro = (f"<p>base: <code>{_esc(comps.base_name)}</code>, new: <code>{_esc(comps.new_name)}</code>, "
             f"threshold {comps.threshold * 100:g}%. Method: {_esc(comps.method)}.</p>")
    if not comps:
        return intro + warn + "<p>No scenario point is present in both.</p>"
    return intro + warn + _table(["point", "base p50", "new p50", "ratio", "95% interval", "verdict"], rows,
                                 table_id)


def _environment(res: Results, index: int) -> str:
    rows = []
    for key, value in sorted(res.environment.items()):
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        rows.append(f"<td>{_esc(key)}</td><td>{_esc('not available' if value is None else value)}</td>")
    return _table(["field", "value"], rows, f"environment-{index}")


#: Resolution of the report's figures: readable on screen at the page's width, and a
#: palette PNG at this size is several times smaller than the figure's SVG (whose
#: every grid line, marker and ladder step is a path), which made pages of over 1 MB.
REPORT_FIGURE_DPI = 100


def _figures(results: Sequence[Results]) -> tuple[str, list[str]]:
    """Every figure lwbench_plots can draw from the files, as <img> with inline PNG data
    (lwbench_plots.common.png_bytes); (html, notes)."""
    _paths.ensure_plots_importable()
    try:
        from lwbench_plots import make_all
    except ImportError as e:
        return "", [f"figures skipped: lwbench_plots cannot be imported ({e})"]
    paths = [str(r.path) for r in results if r.path is not None]
    if not paths:
        return "", ["figures skipped: no result files on disk"]
    with tempfile.TemporaryDirectory(prefix="lwbench-report-") as tmp:
        written = make_all(paths, tmp, dpi=REPORT_FIGURE_DPI, svg=False)
        parts = []
        for png in written:
            data = base64.b64encode(png.read_bytes()).decode("ascii")
            parts.append(f'<figure id="figure-{_esc(png.stem)}"><img alt="{_esc(png.stem)}" '
                         f'src="data:image/png;base64,{data}"><figcaption>{_esc(png.stem)}</figcaption></figure>')
    return "\n".join(parts), []


def build_page(results: Sequence[Results], threshold: float = 0.05) -> str:
    """The report page's HTML text for one or more loaded result files."""
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"<h1>lwbench report</h1><p>Made {now} from {len(results)} result file(s): "
            + ", ".join(f"<code>{_esc(r.path.name if r.path else 'in memory')}</code>" for r in results) + "</p>"]
    if len(results) >= 2:
        comps = compare(results[0], results[-1], threshold)
        body.append("<h2 id=\"compare\">Compare: last file against the first</h2>" + _comparison_table(comps, "compare")
                    + f"<pre style=\"display:none\" id=\"compare-text\">{_esc(render(comps))}</pre>")
    for i, res in enumerate(results):
        name = res.path.name if res.path else f"results {i + 1}"
        body.append(f'<section id="run-{i}"><h2>{_esc(name)}</h2>'
                    f"<p>{_esc(machine.describe(res.environment))} · created {_esc(res.created_utc or 'unknown')}"
                    f" · command <code>{_esc(res.command or 'unknown')}</code></p>")
        body.append("<h3>Seed comparison ratios (1458-byte send, p50)</h3>" + _seed_ratios(res, i))
        body.append("<h3>Targets</h3>")
        notes = "".join(f"<li>{_esc(n)}</li>" for n in res.notes)
        body.append(f"<ul>{notes}</ul>" if notes else "<p>The file carries no notes on targets.</p>")
        stacks = {r.get("stack") for r in res.records}
        if {"lwbench", "lwip-2.1.3"} <= stacks:
            body.append("<p>Our stack (new) against real lwIP 2.1.3 (base) at the same points "
                        "(target: ours ≤ real lwIP):</p>"
                        + _comparison_table(compare_stacks(res, threshold=threshold), f"stacks-{i}"))
        body.append("<h3>Records</h3>" + _records_table(res, i))
        body.append("<h3>Environment</h3>" + _environment(res, i) + "</section>")
    figures, notes = _figures(results)
    body.append("<h2>Figures</h2>" + "".join(f'<p class="warning">{_esc(n)}</p>' for n in notes)
                + (figures or "<p>No figure could be drawn from these records.</p>"))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lwbench report</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + f"\n<script>{_JS}</script></body></html>\n")


def main(argv: Sequence[str] | None = None) -> int:
    """`python3 -m lwbench report`: write the page; prints its path. Exit 2 on usage errors."""
    ap = argparse.ArgumentParser(prog="python3 -m lwbench report",
                                 description="Write one self-contained HTML page (tables, figures, environment, "
                                             "targets, ratios; compare verdicts of the last file against the "
                                             "first when several are given). Never overwrites.",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("results", nargs="+", type=Path, metavar="RESULT", help="lwbench result files")
    ap.add_argument("-o", "--output", type=Path, default=None,
                    help="the page to write (default: report_<UTC stamp>.html next to the first file)")
    ap.add_argument("--threshold", type=float, default=5.0, metavar="P", help="compare threshold in percent")
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not math.isfinite(args.threshold) or not 0 <= args.threshold < 1000:
        ap.error(f"--threshold must be between 0 and 1000 (percent), got {args.threshold}")
    loaded = []
    for p in args.results:
        if not p.is_file():
            ap.error(f"no such file: {p}")
        try:
            loaded.append(load(p))
        except NotAResultFile as e:
            print(f"python3 -m lwbench report: skipping {e}", file=sys.stderr)
        except ValueError as e:
            ap.error(str(e))
    if not loaded:
        ap.error("none of the files is an lwbench result file")
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.output or loaded[0].path.parent / f"report_{stamp}.html"
    if out.exists():
        ap.error(f"{out} exists (a report is never overwritten)")
    print("python3 -m lwbench report: drawing figures…", file=sys.stderr)
    page = build_page(loaded, threshold=args.threshold / 100.0)
    try:
        write_new_file(out, page)
    except FileExistsError:
        ap.error(f"{out} exists (a report is never overwritten)")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
