"""Flame graph rendered with matplotlib from folded stacks.

Input: folded stacks, ``{"root;caller;...;leaf": weight}`` (as produced by
`lwbench.perf_fold`), usually with one root per thread (root="thread":
"tcpip thread [tid]", "application thread [tid]"). The interactive version of the
same graph is flame_html.py (d3-flame-graph).
Output: a flame graph - the root at the bottom, each frame drawn above its
caller, width proportional to the share of samples that had the frame on the
stack; siblings are ordered widest first (an aggregated profile, not a time
line).  Frames narrower than `min_fraction` are not drawn (their weight still
counts in their parents).  Below the graph, the hottest frames by *self* time
(samples where the frame was the leaf) are listed with their shares, and the
hottest one is outlined in the graph.
"""

from __future__ import annotations

import colorsys
import re
import zlib
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from matplotlib.patches import Rectangle

from .common import NoData, finish, new_figure

ROOT_NAME = "all samples"


@dataclass
class _Node:
    name: str
    weight: float = 0.0
    self_weight: float = 0.0
    children: dict = field(default_factory=dict)


def _build_tree(folded: Mapping[str, float]) -> _Node:
    root = _Node(ROOT_NAME)
    for stack, w in folded.items():
        if w <= 0:
            continue
        root.weight += w
        node = root
        for name in stack.split(";"):
            node = node.children.setdefault(name, _Node(name))
            node.weight += w
        node.self_weight += w
    return root


def short_name(symbol: str) -> str:
    """A readable label for a frame: C++ parameter lists and template
    arguments collapsed ("ns::f<T>(int) const" -> "ns::f<…>()")."""
    s = symbol.strip()
    if s.startswith("["):
        return s  # [dso] / [unknown] pseudo-frames are already short
    s = re.sub(r"\s+const$", "", s).replace("(anonymous namespace)", "{anon}")
    # Collapse every non-empty parameter list, innermost first; "operator()()"
    # and "{lambda()#1}" keep their empty pairs.
    prev = None
    while prev != s:
        prev = s
        s = re.sub(r"\(([^()]+)\)", "()", s)
    # Collapse template arguments, innermost first (a placeholder keeps the
    # collapsed part from matching again); operator< / operator<< are left alone.
    if "operator<" not in s and "operator>" not in s:
        prev = None
        while prev != s:
            prev = s
            s = re.sub(r"<[^<>]*>", "\x00", s)
        s = s.replace("\x00", "<…>")
    return s


def frame_colour(name: str) -> tuple[float, float, float]:
    """Stable warm colour per frame name; kernel-looking and unknown frames
    get cooler / greyer tones so they stand apart."""
    h = zlib.crc32(name.encode("utf-8"))
    if name.startswith("[") or name == ROOT_NAME:
        return colorsys.hsv_to_rgb(0.0, 0.0, 0.72 + (h % 16) / 100)
    hue = 0.0 + (h % 1000) / 1000 * 0.13  # red .. orange-yellow
    sat = 0.55 + ((h >> 10) % 100) / 100 * 0.3
    val = 0.88 + ((h >> 20) % 100) / 100 * 0.12
    return colorsys.hsv_to_rgb(hue, sat, val)


def hottest_self(folded: Mapping[str, float], n: int = 8) -> list[tuple[str, float]]:
    """[(frame, percent of all samples)] by self weight, hottest first."""
    total = sum(w for w in folded.values() if w > 0)
    agg: dict[str, float] = {}
    for stack, w in folded.items():
        if w > 0:
            leaf = stack.rsplit(";", 1)[-1]
            agg[leaf] = agg.get(leaf, 0.0) + w
    ranked = sorted(agg.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [(name, 100.0 * w / total) for name, w in ranked] if total else []


def plot_flame(
    folded: Mapping[str, float],
    *,
    title: str = "CPU profile (flame graph)",
    subtitle: str | None = None,
    min_fraction: float = 0.002,
    max_depth: int = 64,
    top_n: int = 8,
    footer_lines: Sequence[str] = (),
    notes: Sequence[str] = (),
    weight_unit: str = "samples",
):
    """Flame graph Figure from folded stacks.

    min_fraction: frames narrower than this share of all samples are elided.
    max_depth:    frames deeper than this are elided (noted on the figure).
    top_n:        how many hottest frames (by self weight) to list.
    footer_lines: environment lines for the footer (flame graphs are not made
                  from result files, so the caller supplies them).
    Raises NoData for empty input.
    """
    root = _build_tree(folded)
    if root.weight <= 0:
        raise NoData("no samples in the folded stacks")
    total = root.weight

    xs, widths, depths, colours, names = [], [], [], [], []
    deepest = 0
    elided_depth = False
    todo = [(root, 0.0, 0)]
    while todo:
        node, x, depth = todo.pop()
        frac = node.weight / total
        if frac < min_fraction:
            continue
        if depth > max_depth:
            elided_depth = True
            continue
        xs.append(100.0 * x)
        widths.append(100.0 * frac)
        depths.append(depth)
        colours.append(frame_colour(node.name))
        names.append(node.name)
        deepest = max(deepest, depth)
        cx = x
        for child in sorted(node.children.values(), key=lambda c: (-c.weight, c.name)):
            todo.append((child, cx, depth + 1))
            cx += child.weight / total

    hot = hottest_self(folded, top_n)
    fig_w = 14.0
    graph_h = max(2.5, 0.24 * (deepest + 1))
    list_h = 0.22 * (len(hot) + 1.5)
    fig = new_figure(fig_w, min(30.0, graph_h + list_h + 1.6 + 0.15 * len(notes)))
    ax, ax_list = fig.subplots(2, 1, gridspec_kw={"height_ratios": [graph_h, list_h]})

    ax.barh(depths, widths, left=xs, height=0.94, color=colours, edgecolor="white", linewidth=0.4, align="edge")
    # Labels where they fit: ~0.6 em per character at 7 pt on this width.
    pt_per_percent = fig_w * 0.94 * 72 / 100
    for x, w, d, name in zip(xs, widths, depths, names):
        chars = int(w * pt_per_percent / (7 * 0.6)) - 1
        if chars < 4:
            continue
        label = short_name(name)
        if len(label) > chars:
            label = label[: chars - 1] + "…"
        ax.text(x + 0.15, d + 0.47, label, fontsize=7, va="center", ha="left", clip_on=True)
    # Outline the hottest self frame wherever it is a leaf-heavy box.
    if hot:
        hottest = hot[0][0]
        for x, w, d, name in zip(xs, widths, depths, names):
            if name == hottest:
                ax.barh(d, w, left=x, height=0.94, color="none", edgecolor="black", linewidth=1.6, align="edge")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, deepest + 1)
    ax.set_xlabel(f"share of all {weight_unit} with the frame on the stack (%)")
    ax.set_ylabel("stack depth (frames above the root)")
    step = max(1, (deepest + 1) // 12)
    ax.set_yticks([d + 0.47 for d in range(0, deepest + 1, step)])  # centred on the boxes
    ax.set_yticklabels([str(d) for d in range(0, deepest + 1, step)])
    ax.spines[["top", "right"]].set_visible(False)

    ax_list.axis("off")
    ax_list.set_xlim(0, 1)
    ax_list.set_ylim(0, len(hot) + 1.2)
    ax_list.text(0.0, len(hot) + 0.6, f"hottest frames by self {weight_unit} (leaf of the stack); "
                 "the hottest is outlined in black above", fontsize=8.5, fontweight="bold", va="center")
    for i, (name, pct) in enumerate(hot):
        y = len(hot) - i - 0.2
        ax_list.add_patch(Rectangle((0.0, y - 0.3), 0.012, 0.6, color=frame_colour(name)))
        ax_list.text(0.018, y, f"{pct:5.1f}%", fontsize=8, va="center", family="monospace")
        label = name if len(name) <= 150 else name[:149] + "…"
        ax_list.text(0.07, y, label, fontsize=8, va="center")

    extra = []
    if elided_depth:
        extra.append(f"frames deeper than {max_depth} are not drawn")
    extra.append(f"frames under {100 * min_fraction:g}% of {weight_unit} are not drawn; total {total:,.0f} {weight_unit}")
    fig.suptitle(title + (f"\n{subtitle}" if subtitle else ""), fontsize=11)
    return finish(fig, None, list(notes) + extra, footer_lines=list(footer_lines))
