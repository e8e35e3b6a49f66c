"""The interactive flame graph page (d3-flame-graph from web/node_modules), in headless Chromium."""

import pytest

from conftest import REPO, render_in_chromium
from lwbench import perf_fold
from lwbench_plots.flame_html import MissingAssets, flame_page, folded_to_tree

FIXTURE = REPO / "tests" / "python" / "fixtures" / "perf_script_small.txt"
NODE_MODULES = REPO / "web" / "node_modules"


def test_tree_has_one_root_per_thread():
    folded = perf_fold.read_perf_script(FIXTURE, root="thread")
    tree = folded_to_tree(folded)
    assert tree["name"] == "all samples" and tree["value"] == sum(folded.values())
    roots = [c["name"] for c in tree["children"]]
    assert any(r.startswith("tcpip thread [") for r in roots)
    assert any(r.startswith("application thread") for r in roots)
    assert all(c["value"] == sum(g["value"] for g in c["children"]) for c in tree["children"])


def test_missing_assets_are_reported(tmp_path):
    folded = perf_fold.read_perf_script(FIXTURE, root="thread")
    with pytest.raises(MissingAssets, match="scripts/setup-web.sh"):
        flame_page(folded, title="t", node_modules=tmp_path)


def test_page_renders_with_frames(tmp_path):
    if not (NODE_MODULES / "d3-flame-graph").is_dir():
        pytest.skip(f"{NODE_MODULES} is missing: run scripts/setup-web.sh (npm ci in web/)")
    folded = perf_fold.read_perf_script(FIXTURE, root="thread")
    page = tmp_path / "flame.html"
    page.write_text(flame_page(folded, title="fixture profile", subtitle="9 samples"))
    assert "<script src" not in page.read_text()  # self-contained
    dom, console = render_in_chromium(page)
    assert console == [], console
    assert 'data-rendered="yes"' in dom
    assert dom.count('class="frame"') >= 10
    assert 'name="tcpip thread [4213]"' in dom
    # hover text: frame, share and samples (d3-flame-graph's <title>)
    assert "all samples (100.000%, 9 samples)" in dom
