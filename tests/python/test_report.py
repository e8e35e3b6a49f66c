"""`python3 -m lwbench report`: one self-contained page, opened in a real browser (headless Chromium).

Checks that the page renders with no console errors, that its script ran, that it
loads nothing from outside, and that key cells equal the values in the result files.
"""

import copy
import html
import json
import re
import subprocess
import sys

import pytest

from conftest import REPO, make_synthetic_results, render_in_chromium, write_result

PY = sys.executable


def _cells(dom: str, field: str) -> dict:
    """{point label: float(data-value)} of the cells carrying data-field=field."""
    out = {}
    for m in re.finditer(r'<td[^>]*data-value="([^"]*)"[^>]*data-field="' + field + r'"[^>]*data-point="([^"]*)"',
                         dom):
        out.setdefault(html.unescape(m.group(2)), float(m.group(1)))
    return out


def _report(tmp_path, *files):
    out = tmp_path / "report.html"
    r = subprocess.run([PY, "-m", "lwbench", "report", *map(str, files), "-o", str(out)], capture_output=True,
                       text=True, cwd=REPO / "python", timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out)
    return out


def test_report_renders_in_chromium_and_matches_the_file(tmp_path):
    doc = make_synthetic_results()
    for rec in doc["records"]:
        p50 = rec["latency_ns"]["p50"]
        rec["repetition_p50_ns"] = [p50 * x for x in (0.99, 1.0, 1.01)]
    doc["records"][0]["modes"] = [{"median_ns": 5400.0, "share": 0.6}, {"median_ns": 8700.0, "share": 0.4}]
    doc["records"][1]["sample_modes"] = [{"median_ns": 300.0, "share": 0.7}, {"median_ns": 900.0, "share": 0.3}]
    path = write_result(tmp_path / "20261124T030000Z_0123456_run.json", doc)
    gbench = tmp_path / "gbench_macro.json"   # a glob picks it up: skipped with a note, not an error
    gbench.write_text(json.dumps({"context": {}, "benchmarks": []}))
    page = _report(tmp_path, path, gbench)
    text = page.read_text()
    assert "<script src" not in text and "<link" not in text and "http://" not in text.replace("http://www.w3.org", "")
    dom, console = render_in_chromium(page)
    assert console == [], console
    assert 'data-rendered="yes"' in dom   # the page's script ran to the end
    # key cells equal the file's values
    p50 = _cells(dom, "p50_ns")
    p999 = _cells(dom, "p999_ns")
    from lwbench import Record

    recs = [Record(r) for r in doc["records"]]
    assert len(p50) == len({r.label for r in recs})
    for rec in recs:
        assert p50[rec.label] == rec["latency_ns"]["p50"]
        assert p999[rec.label] == rec["latency_ns"]["p999"]
    assert "(n=60,000)" in dom                 # the tail says how many samples it rests on
    assert "bimodal: 5.40 µs (60%) / 8.70 µs (40%)" in dom  # a bimodal cell is said, not hidden
    assert "bimodal samples: 300 ns (70%) / 900 ns (30%)" in dom  # so is one bimodal within its samples
    assert "AMD EPYC (synthetic)" in dom        # environment
    assert "204 µs" in dom and "as reported, not measured" in dom  # the seed row, labelled
    assert "Our stack (new) against real lwIP" in dom
    assert dom.count('<figure id="figure-') >= 5  # figures inlined
    # ... as compressed (palette) PNG: the SVGs made pages of 0.7-1.6 MB
    assert text.count('src="data:image/png;base64,') == text.count('<figure id="figure-')
    assert "data:image/svg" not in text
    print(f"report page: {len(text.encode()):,} bytes")
    assert len(text.encode()) < 750_000
    assert 'id="figure-seed_comparison"' in dom


def test_two_runs_give_compare_verdicts(tmp_path):
    doc = make_synthetic_results()
    for rec in doc["records"]:
        p50 = rec["latency_ns"]["p50"]
        rec["repetition_p50_ns"] = [p50 * x for x in (0.99, 1.0, 1.01, 0.995, 1.005)]
    slow = copy.deepcopy(doc)
    slow["environment"]["cpu_model"] = "Intel Xeon (synthetic)"
    for rec in slow["records"]:
        rec["repetition_p50_ns"] = [2 * x for x in rec["repetition_p50_ns"]]
    a = write_result(tmp_path / "a.json", doc)
    b = write_result(tmp_path / "b.json", slow)
    page = _report(tmp_path, a, b)
    dom, console = render_in_chromium(page)
    assert console == [], console
    verdicts = re.findall(r'data-field="verdict">([a-z ]+)', dom.split('id="run-0"')[0])
    assert verdicts and set(verdicts) == {"slower"}
    assert "warning: CPU differs" in dom


def test_report_never_overwrites(tmp_path):
    path = write_result(tmp_path / "a.json", make_synthetic_results())
    out = tmp_path / "taken.html"
    out.write_text("keep me")
    r = subprocess.run([PY, "-m", "lwbench", "report", str(path), "-o", str(out)], capture_output=True, text=True,
                       cwd=REPO / "python", timeout=300)
    assert r.returncode == 2 and "never overwritten" in r.stderr
    assert out.read_text() == "keep me"


def test_the_browser_check_catches_console_errors(tmp_path):
    """The check above can fail: a page with a console.error and an exception is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><script>console.error("boom"); notDefined();</script></body></html>')
    dom, console = render_in_chromium(page)
    assert any('"boom"' in line for line in console)
    assert any("notDefined" in line for line in console)
