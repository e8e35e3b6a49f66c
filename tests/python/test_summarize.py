"""bench/summarize.py on synthetic Google Benchmark JSON: a difference inside the spread is
"inconclusive" (exit 0), a target missed beyond the spread is "MISSED" (exit 1); readable
names (mode:core_locking) and the older numeric ones (mode:1) are both read."""

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SUMMARIZE = REPO / "bench" / "summarize.py"


def _bench(name, p50s):
    return [{"name": name, "run_name": name, "run_type": "iteration", "repetitions": len(p50s),
             "real_time": p, "cpu_time": p, "time_unit": "ns", "p50_ns": p, "iterations": 1000}
            for p in p50s]


def _doc(dyn, fixed, mode_name="core_locking"):
    benches = []
    for api in ("netconn", "socket"):
        benches += _bench(f"Dispatch_dyn/{api}/mode:{mode_name}/payload:1458/real_time", dyn)
        benches += _bench(f"Dispatch_fixed_cl/{api}/mode:{mode_name}/payload:1458/real_time", fixed)
    return {"context": {"lwbench_git_revision": "abc"}, "benchmarks": benches}


def _run(tmp_path, doc):
    path = tmp_path / "gbench_dispatch.json"
    path.write_text(json.dumps(doc))
    return subprocess.run([sys.executable, str(SUMMARIZE), str(path)], capture_output=True, text=True, timeout=120)


def test_difference_inside_the_spread_is_inconclusive(tmp_path):
    # +21 % on the median, but the fixed side spreads by ±18 % (MAD)
    r = _run(tmp_path, _doc(dyn=[121, 120, 122, 121, 121], fixed=[100, 70, 135, 82, 118]))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "inconclusive" in r.stdout and "MISSED" not in r.stdout


def test_target_missed_beyond_the_spread_exits_1(tmp_path):
    r = _run(tmp_path, _doc(dyn=[125, 125.5, 124.5, 125, 125.2], fixed=[100, 100.3, 99.8, 100.1, 99.9]))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "MISSED" in r.stdout and "runtime dispatch overhead" in r.stdout


def test_met_and_old_numeric_names(tmp_path):
    r = _run(tmp_path, _doc(dyn=[100.2, 100.1, 100.3, 100.2, 100.0], fixed=[100, 100.1, 99.9, 100.0, 100.1],
                            mode_name="1"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "target <= +2%   met" in r.stdout


def test_markdown_is_never_overwritten(tmp_path):
    out = tmp_path / "summary.md"
    out.write_text("keep")
    path = tmp_path / "g.json"
    path.write_text(json.dumps(_doc(dyn=[100] * 5, fixed=[100] * 5)))
    r = subprocess.run([sys.executable, str(SUMMARIZE), str(path), "--markdown", str(out)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "not overwritten" in r.stderr and out.read_text() == "keep"


def test_benchmark_names_use_value_names(tmp_path):
    """bench_micro / bench_macro write mode:core_locking and lock:std_mutex, and filter by them."""
    import os

    import pytest

    build = Path(os.environ.get("LWBENCH_BUILD_DIR", REPO / "build" / "release"))
    macro, micro = build / "bench" / "bench_macro", build / "bench" / "bench_micro"
    if not (macro.exists() and micro.exists()):
        pytest.skip(f"the benchmark binaries are not built in {build}")
    out = tmp_path / "macro.json"
    r = subprocess.run([str(macro), "--benchmark_filter=^Send/raw/mode:core_locking/payload:64",
                        "--benchmark_min_time=0.01", f"--benchmark_out={out}", "--benchmark_out_format=json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    names = [b["name"] for b in json.loads(out.read_text())["benchmarks"]]
    assert names == ["Send/raw/mode:core_locking/payload:64/real_time"]
    assert "Send/raw/mode:core_locking/payload:64/real_time" in r.stdout
    r = subprocess.run([str(micro), "--benchmark_filter=Lock/lock_unlock", "--benchmark_min_time=0.01",
                        "--benchmark_color=false"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for lock in ("std_mutex", "tbb_spin_mutex", "tbb_queuing_mutex"):
        assert f"Lock/lock_unlock/lock:{lock} " in r.stdout
    assert "lock:0" not in r.stdout


def test_benchmark_list_tests_shows_value_names():
    """--benchmark_list_tests (printed by Google Benchmark itself, not by a reporter) reads
    mode:core_locking and lock:tbb_spin_mutex too, never mode:1 or lock:0."""
    import os

    import pytest

    build = Path(os.environ.get("LWBENCH_BUILD_DIR", REPO / "build" / "release"))
    binaries = [build / "bench" / name for name in ("bench_macro", "bench_micro", "bench_dispatch")]
    missing = [str(b) for b in binaries if not b.exists()]
    if missing:
        pytest.skip(f"the benchmark binaries are not built: {', '.join(missing)}")
    listed = {}
    for binary in binaries:
        r = subprocess.run([str(binary), "--benchmark_list_tests"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        listed[binary.name] = r.stdout.splitlines()
    macro, micro, dispatch = listed["bench_macro"], listed["bench_micro"], listed["bench_dispatch"]
    assert "Send/raw/mode:core_locking/payload:64/real_time" in macro
    assert "Send/socket/mode:message_passing/payload:1458/real_time" in macro
    assert {f"Lock/lock_unlock/lock:{lock}" for lock in ("std_mutex", "tbb_spin_mutex", "tbb_queuing_mutex")} \
        <= set(micro)
    assert any(name.startswith("Dispatch_dyn/socket/mode:core_locking/") for name in dispatch)
    for name in macro + micro + dispatch:
        assert not re.search(r"(^|/)(mode|lock):\d", name), name
    # The filter still selects by value name, and the list is the filtered one.
    r = subprocess.run([str(binaries[0]), "--benchmark_list_tests=true",
                        "--benchmark_filter=^Send/raw/mode:core_locking/"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.splitlines() and \
        all(n.startswith("Send/raw/mode:core_locking/") for n in r.stdout.splitlines()), r.stdout
