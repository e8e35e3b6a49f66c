"""lwbench.compare and `python3 -m lwbench compare` on synthetic result files with known differences.

The synthetic repetition medians are chosen, not measured: identical runs, a point
made 2x slower with 5 repetitions, a 1-repetition run, a different CPU.
"""

import copy
import json
import subprocess
import sys

import pytest

from conftest import REPO, make_synthetic_results, write_result
import lwbench
from lwbench.compare import Verdict

PY = sys.executable


def _with_reps(doc: dict, reps_of) -> dict:
    """A copy of doc whose records get repetition medians reps_of(record) (and p50 = their median)."""
    out = copy.deepcopy(doc)
    for r in out["records"]:
        reps = reps_of(r)
        r["repetition_p50_ns"] = reps
        r["repetitions"] = len(reps)
        r["latency_ns"]["p50"] = sorted(reps)[len(reps) // 2]
    return out


def _five(r, factor=1.0):
    p50 = r["latency_ns"]["p50"]
    return [factor * p50 * x for x in (0.99, 1.0, 1.01, 0.995, 1.005)]


@pytest.fixture
def base_doc():
    return _with_reps(make_synthetic_results(), _five)


def cli(*args):
    return subprocess.run([PY, "-m", "lwbench", "compare", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO / "python", timeout=120)


def test_identical_runs_are_no_change(tmp_path, base_doc):
    a = write_result(tmp_path / "a.json", base_doc)
    b = write_result(tmp_path / "b.json", base_doc)
    comps = lwbench.compare(a, b)
    assert len(comps) == len(base_doc["records"])
    assert {c.verdict for c in comps} == {Verdict.NO_CHANGE}
    assert all(abs(c.ratio - 1.0) < 1e-12 for c in comps)
    assert comps.warnings == [] and comps.exit_status == 0
    r = cli(a, b)
    assert r.returncode == 0, r.stderr
    assert "no change" in r.stdout and "slower" not in r.stdout.replace("slower beyond", "")
    assert "bootstrap" in r.stdout  # the method is stated


def test_two_times_slower_with_five_repetitions_is_slower_and_exits_1(tmp_path, base_doc):
    slow = copy.deepcopy(base_doc)
    target = next(r for r in slow["records"] if r["scenario"] == "send_latency" and r["api"] == "socket"
                  and r["threading_mode"] == "core_locking" and r["payload_bytes"] == 1458
                  and r["pinning"] == "same_core")
    target["repetition_p50_ns"] = [2 * x for x in target["repetition_p50_ns"]]
    a = write_result(tmp_path / "a.json", base_doc)
    b = write_result(tmp_path / "b.json", slow)
    comps = lwbench.compare(a, b)
    slower = [c for c in comps if c.verdict is Verdict.SLOWER]
    assert len(slower) == 1 and slower[0].record_b["api"] == "socket"
    assert 1.9 < slower[0].low <= slower[0].ratio <= slower[0].high < 2.1
    assert comps.exit_status == 1
    r = cli(a, b, "--format", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["counts"]["slower"] == 1 and doc["exit_status"] == 1
    assert "bootstrap" in doc["method"]
    # ... and the other way round it is faster, exit 0
    back = lwbench.compare(b, a)
    assert [c.verdict for c in back].count(Verdict.FASTER) == 1 and back.exit_status == 0
    # a threshold above the change turns it into no verdict of slower
    assert lwbench.compare(a, b, threshold=1.5).exit_status == 0


def test_one_repetition_is_inconclusive(tmp_path, base_doc):
    one = _with_reps(make_synthetic_results(), lambda r: [r["latency_ns"]["p50"] * 2])
    comps = lwbench.compare(write_result(tmp_path / "a.json", base_doc), write_result(tmp_path / "b.json", one))
    assert comps and {c.verdict for c in comps} == {Verdict.INCONCLUSIVE}
    assert all("fewer than 3 repetitions" in c.reason for c in comps)
    assert comps.exit_status == 0  # inconclusive never fails CI


def test_wide_overlapping_intervals_are_inconclusive(tmp_path, base_doc):
    noisy = _with_reps(make_synthetic_results(), lambda r: [r["latency_ns"]["p50"] * x
                                                            for x in (0.6, 1.0, 1.5, 0.8, 1.3)])
    comps = lwbench.compare(write_result(tmp_path / "a.json", base_doc), write_result(tmp_path / "b.json", noisy))
    assert {c.verdict for c in comps} == {Verdict.INCONCLUSIVE}


def test_different_cpu_warns(tmp_path, base_doc):
    other = copy.deepcopy(base_doc)
    other["environment"]["cpu_model"] = "Intel Xeon (synthetic)"
    a = write_result(tmp_path / "a.json", base_doc)
    b = write_result(tmp_path / "b.json", other)
    comps = lwbench.compare(a, b)
    assert any("CPU differs" in w and "Intel Xeon" in w for w in comps.warnings)
    r = cli(a, b)
    assert r.returncode == 0
    assert "warning: CPU differs" in r.stderr


def test_our_stack_against_real_lwip_in_one_file(tmp_path, base_doc):
    path = write_result(tmp_path / "a.json", base_doc)
    comps = lwbench.compare_stacks(path)
    # the synthetic file has lwip-2.1.3 send records at 1458 B, separate cores: socket MP, socket CL, raw
    assert len(comps) == 3
    assert all(c.record_a["stack"] == "lwip-2.1.3" and c.record_b["stack"] == "lwbench" for c in comps)
    assert all(c.verdict is Verdict.FASTER for c in comps)  # ours is ~0.9x there
    r = cli(path, "--format", "csv")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("point,") and len(lines) == 4
    assert "faster" in lines[1]


@pytest.mark.parametrize("fmt, probe", [("markdown", "| point |"), ("table", "95% interval")])
def test_text_formats(tmp_path, base_doc, fmt, probe):
    a = write_result(tmp_path / "a.json", base_doc)
    r = cli(a, a, "--format", fmt)
    assert r.returncode == 0 and probe in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--threshold", "lots"], "--threshold takes a percentage"),
    (["--format", "xml"], "invalid choice"),
    (["--stacks", "lwbench"], "BASE_STACK,NEW_STACK"),
])
def test_usage_errors_exit_2(tmp_path, base_doc, args, message):
    a = write_result(tmp_path / "a.json", base_doc)
    r = cli(a, a, *args) if args[0] != "--stacks" else cli(a, *args)
    assert r.returncode == 2 and message in r.stderr


def test_missing_or_foreign_file_exit_2(tmp_path, base_doc):
    a = write_result(tmp_path / "a.json", base_doc)
    gbench = tmp_path / "gbench.json"
    gbench.write_text(json.dumps({"context": {}, "benchmarks": []}))
    assert cli(a, tmp_path / "nope.json").returncode == 2
    r = cli(a, gbench)
    assert r.returncode == 2 and "Google Benchmark" in r.stderr


def test_threshold_type_error():
    with pytest.raises(TypeError, match="threshold"):
        lwbench.compare([], [], threshold="5%")


def test_bimodal_cell_is_inconclusive(tmp_path, base_doc):
    other = copy.deepcopy(base_doc)
    for r in other["records"]:
        p50 = r["latency_ns"]["p50"]
        r["modes"] = [{"median_ns": p50, "share": 0.6}, {"median_ns": 1.6 * p50, "share": 0.4}]
    comps = lwbench.compare(write_result(tmp_path / "a.json", base_doc), write_result(tmp_path / "b.json", other))
    assert {c.verdict for c in comps} == {Verdict.INCONCLUSIVE}
    assert all("bimodal" in c.reason for c in comps)
