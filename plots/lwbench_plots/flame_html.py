"""Interactive flame graph: one self-contained HTML page from folded stacks.

Drawn by d3-flame-graph (npm, a maintained library; installed into
web/node_modules by scripts/setup-web.sh and inlined into the page, so the page
needs no network and no server). Hover shows a frame's name, its share of all
samples and its sample count; click zooms into a frame (click the root to zoom
out); the search box highlights matching frames and reports their share.

Input: folded stacks ``{"root;caller;...;leaf": weight}`` (lwbench.perf_fold),
normally folded with ``root="thread"`` so that each thread (the tcpip thread,
the application threads) is its own root under "all samples".
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Mapping, Sequence

from .common import NoData

ROOT_NAME = "all samples"
#: Files of the npm package d3-flame-graph that the page inlines (relative to node_modules).
ASSETS = ("d3-selection/dist/d3-selection.min.js", "d3-flame-graph/dist/d3-flamegraph.min.js",
          "d3-flame-graph/dist/d3-flamegraph.css")


class MissingAssets(RuntimeError):
    """web/node_modules is not installed (run scripts/setup-web.sh)."""


def web_assets(node_modules: Path | None = None) -> tuple[str, str]:
    """(javascript, css) of d3-selection + d3-flame-graph, read from node_modules (default: the checkout's web/node_modules)."""
    if node_modules is None:
        from lwbench import _paths

        node_modules = _paths.web_modules()
    paths = [Path(node_modules or "web/node_modules") / a for a in ASSETS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise MissingAssets(f"d3-flame-graph is not installed ({', '.join(missing)} missing): run scripts/setup-web.sh")
    js = "\n".join(p.read_text(encoding="utf-8") for p in paths if p.suffix == ".js")
    return js, paths[-1].read_text(encoding="utf-8")


def folded_to_tree(folded: Mapping[str, float]) -> dict:
    """d3-flame-graph's input: nested {name, value (inclusive weight), children}, widest child first."""
    root: dict = {"name": ROOT_NAME, "value": 0, "children": {}}
    for stack, weight in folded.items():
        if weight <= 0:
            continue
        root["value"] += weight
        node = root
        for frame in stack.split(";"):
            node = node["children"].setdefault(frame, {"name": frame, "value": 0, "children": {}})
            node["value"] += weight

    def finish(node: dict) -> dict:
        kids = sorted(node["children"].values(), key=lambda n: (-n["value"], n["name"]))
        return {"name": node["name"], "value": node["value"], "children": [finish(k) for k in kids]}

    return finish(root)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{css}
body {{ font-family: sans-serif; margin: 1em 2em; }}
#details {{ min-height: 1.4em; font-family: monospace; }}
.notes li {{ color: #7a4a00; }}
</style></head>
<body>
<h1 style="font-size:1.2em">{title}</h1>
<p>{subtitle}</p>
<ul class="notes">{notes}</ul>
<form id="search-form" onsubmit="return false"><label>search frames: <input id="term" type="search" size="40"></label>
<button id="search">search</button> <button id="reset">reset zoom</button> <span id="match"></span></form>
<p>hover: frame, share of all samples, samples · click: zoom in (click the root to zoom out) · roots: one per thread</p>
<div id="details"></div>
<div id="chart"></div>
<p style="color:#555;font-size:0.8em">{footer}</p>
<script>{js}</script>
<script>
(function () {{
  const data = {data};
  const make = (typeof flamegraph === "function") ? flamegraph : flamegraph.flamegraph;
  const chart = make().width(Math.max(960, document.body.clientWidth - 40)).cellHeight(18)
      .minFrameSize(1).sort(true).title("").selfValue(false)
      .setDetailsElement(document.getElementById("details"));
  d3.select("#chart").datum(data).call(chart);
  const match = document.getElementById("match");
  document.getElementById("search").addEventListener("click", function () {{
    const term = document.getElementById("term").value;
    chart.search(term);
    match.textContent = term ? "highlighted: frames containing \u201c" + term + "\u201d" : "";
  }});
  document.getElementById("reset").addEventListener("click", function () {{ chart.resetZoom(); chart.clear(); match.textContent = ""; }});
  document.body.dataset.rendered = "yes";
}})();
</script>
</body></html>
"""


def flame_page(folded: Mapping[str, float], *, title: str, subtitle: str = "", notes: Sequence[str] = (),
               footer: str = "", node_modules: Path | None = None) -> str:
    """The HTML text of an interactive flame graph. Raises NoData for empty input, MissingAssets without
    web/node_modules."""
    tree = folded_to_tree(folded)
    if tree["value"] <= 0:
        raise NoData("no samples in the folded stacks")
    js, css = web_assets(node_modules)
    return _PAGE.format(title=html.escape(title), subtitle=html.escape(subtitle), css=css,
                        notes="".join(f"<li>{html.escape(n)}</li>" for n in notes), footer=html.escape(footer),
                        js=js.replace("</script", "<\\/script"),
                        data=json.dumps(tree).replace("</", "<\\/"))
