"""The crossover map: `lwbench crossover` (and `lwbench run --design/--core-work`) reject bad
values with exit 2 and write nothing; a tiny real sweep publishes one complete folder whose
records carry the core work and whose environment carries the topology, and whose figure is
drawn from it; the map's winner / tie logic on records with known spreads."""

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LWBENCH_BUILD_DIR", REPO / "build" / "release")) / "harness" / "lwbench"

needs_binary = pytest.mark.skipif(not BIN.exists(), reason=f"lwbench not built at {BIN}")


def lwbench(*args, timeout=300):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=timeout)


@needs_binary
@pytest.mark.parametrize("args, message", [
    (["run", "--core-work=-1"], "--core-work"),
    (["run", "--core-work", "lots"], "--core-work must be a whole number"),
    (["run", "--core-work", "10000001"], "--core-work"),
    (["run", "--design", "message_passing/rw"], "unknown design 'message_passing/rw'"),
    (["run", "--design", "default", "--mode", "core_locking"], "leave out --mode"),
    (["run", "--scenario", "primitive", "--core-work", "5"], "not for primitives"),
    (["crossover", "--threads", "0"], "--threads must be between 1 and 64"),
    (["crossover", "--repetitions", "2,3"], "--repetitions takes one whole number"),
    (["crossover", "--core-work", "x"], "--core-work takes comma-separated whole numbers"),
    (["crossover", "--design", "bogus"], "unknown design 'bogus'"),
    (["crossover", "--pinning", "cpu7"], "unknown pinning 'cpu7'"),
])
def test_bad_values_exit_2_and_write_nothing(tmp_path, args, message):
    r = lwbench(*args, "--out-dir", str(tmp_path))
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert list(tmp_path.iterdir()) == []  # no file, no staging folder left behind


@needs_binary
def test_tiny_crossover_publishes_a_complete_folder_with_topology_core_work_and_figure(tmp_path):
    r = lwbench("crossover", "--threads", "1,2", "--size", "64", "--core-work", "0,500", "--pinning", "same_core",
                "--design", "core_locking/std_mutex,message_passing/mutex_cv", "--repetitions", "2", "--ops", "200",
                "--warmup", "20", "--out-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "[1/" in r.stderr  # progress on stderr
    (folder,) = tmp_path.iterdir()  # one folder, no staging remains
    assert folder.name.endswith("_crossover") and not folder.name.startswith(".")
    (result,) = folder.glob("*_crossover.json")
    assert result.stem == folder.name
    assert result.with_suffix(".csv").is_file()
    for figure in ("figures/crossover_map.png", "figures/crossover_map.svg", "crossover.md"):
        assert (folder / figure).stat().st_size > 0, figure
    doc = json.loads(result.read_text())
    topology = doc["environment"]["topology"]
    assert topology["cpus"] == os.sysconf("SC_NPROCESSORS_ONLN")
    for key in ("online", "packages", "cores", "threads_per_core", "smt_siblings", "numa_nodes"):
        assert key in topology
    assert doc["environment"]["core_work_ns_per_iteration"] > 0
    recs = doc["records"]
    assert len(recs) == 2 * 2 * 2  # designs x threads x core work
    assert {r["core_work_iterations"] for r in recs} == {0, 500}
    assert {(r["threading_mode"], r["input_mode"]) for r in recs} == {("core_locking", "inline"),
                                                                      ("message_passing", "mailbox")}
    for rec in recs:
        assert rec["scenario"] == "throughput" and rec["ops_per_sec"] > 0
        assert len(rec["repetition_ops_per_sec"]) == 2
    rows = list(csv.DictReader(result.with_suffix(".csv").open()))
    assert sorted(row["core_work_iterations"] for row in rows) == ["0"] * 4 + ["500"] * 4
    assert all(("/work=500" in row["point"]) == (row["core_work_iterations"] == "500") for row in rows)
    table = (folder / "crossover.md").read_text()
    assert table.count("| same_core |") == 4  # one row per cell: 2 thread counts x 2 core works


def _doc(records):
    return {"schema": "lwbench.results", "schema_version": 1, "created_utc": "2026-11-30T03:00:00Z",
            "environment": {"hostname": "h", "git_revision": "0" * 40, "cpu_count": 2,
                            "core_work_ns_per_iteration": 1.0}, "records": records}


def _throughput(mode, lock, threads, rates, work=0):
    return {"stack": "lwbench", "scenario": "throughput", "api": "socket", "threading_mode": mode,
            "input_mode": "inline" if mode == "core_locking" else "mailbox", "mailbox_kind": "mutex_cv",
            "lock_kind": lock, "sched_policy": "other", "payload_bytes": 64, "app_threads": threads,
            "pinning": "same_core", "variant": None, "netif": "loopback", "core_work_iterations": work,
            "ops_per_sec": sorted(rates)[len(rates) // 2], "repetition_ops_per_sec": rates}


def test_winner_ratio_and_tie_follow_the_repetition_spread():
    from lwbench_plots.plot_crossover import crossover_cells, crossover_summary, design_labels

    doc = _doc([
        _throughput("core_locking", "std_mutex", 1, [100.0, 110.0, 120.0]),
        _throughput("message_passing", "std_mutex", 1, [40.0, 50.0, 60.0]),        # clear loss: CL wins 2.2x
        _throughput("core_locking", "std_mutex", 4, [90.0, 100.0, 130.0]),
        _throughput("message_passing", "std_mutex", 4, [80.0, 95.0, 105.0]),       # ranges overlap: tie
    ])
    cells, _, _ = crossover_cells(doc)
    by_threads = {c.key[3]: c for c in cells}
    one, four = by_threads[1], by_threads[4]
    assert one.winner.design[0] == "core_locking" and not one.tie
    assert one.ratio == pytest.approx(110.0 / 50.0)
    assert four.winner.design[0] == "core_locking" and four.tie
    labels = design_labels([c.design for c in one.ranking])
    assert set(labels.values()) == {"CL", "MP"}
    summary = crossover_summary(doc)
    assert "2.20×" in summary and "(tie)" in summary


def test_the_map_needs_two_designs():
    from lwbench_plots.common import NoData
    from lwbench_plots.plot_crossover import plot_crossover

    with pytest.raises(NoData):
        plot_crossover(_doc([_throughput("core_locking", "std_mutex", 1, [1.0, 2.0])]))
