"""`python3 -m lwbench profile`: checks, error paths, and real profiles.

* perf absent -> non-zero exit, a message naming perf and the fix, no folder.
* with a working perf: a stand-in `lwbench` (a shell script burning CPU,
  via LWBENCH_BIN) exercises the whole pipeline and the cleanup on failure.
* with a working perf AND a built lwbench: a short real profile.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from lwbench import profile

REPO = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"


def _run_profile(args, env_extra=None, path=None, timeout=600):
    env = {
        "PATH": path if path is not None else os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO / "python"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "MPLBACKEND": "Agg",
    }
    env.update(env_extra or {})
    return subprocess.run([PYTHON, "-m", "lwbench", "profile", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


_, PERF_PROBLEMS = profile.check_perf()  # [] when perf record and perf stat work here
needs_perf = pytest.mark.skipif(bool(PERF_PROBLEMS), reason=f"perf does not work here: {PERF_PROBLEMS}")


def test_perf_absent_is_reported_with_fix(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(PYTHON)
    out = tmp_path / "out"
    r = _run_profile(["--out-dir", str(out), "--", "--scenario", "send_latency"], path=str(bindir))
    assert r.returncode != 0
    assert "perf is not installed or not on PATH" in r.stderr
    assert "apt-get install linux-perf" in r.stderr
    # nothing was created: no folder, no partial folder
    assert not out.exists() or list(out.iterdir()) == []


def test_bad_lwbench_bin_is_reported(tmp_path):
    r = _run_profile(["--out-dir", str(tmp_path / "out"), "--"], env_extra={"LWBENCH_BIN": str(tmp_path / "nope")})
    assert r.returncode != 0
    assert "LWBENCH_BIN=" in r.stderr and "is not an executable file" in r.stderr
    assert not (tmp_path / "out").exists()


def test_flag_helpers():
    flags = ["--scenario", "send_latency", "--mode", "core_locking", "--api=socket", "--size", "1458"]
    assert profile.flag_value(flags, "--api") == "socket"
    assert profile.flag_value(flags, "--mode") == "core_locking"
    assert profile.with_mode(flags, "message_passing") == [
        "--scenario", "send_latency", "--api=socket", "--size", "1458", "--mode", "message_passing"]
    assert profile.with_mode(["--mode=x"], "core_locking") == ["--mode", "core_locking"]
    assert profile.scenario_tag(flags, both_modes=False) == "send_latency_socket_1458B_core_locking"
    assert profile.scenario_tag(flags, both_modes=True) == "send_latency_socket_1458B_both_modes"
    assert profile.scenario_tag([], both_modes=False) == "run"


def test_parse_perf_stat_csv():
    text = (
        "# started on Tue Nov 24 02:54:09 2026\n\n"
        "119,,context-switches,395453823,100.00,300.920,/sec\n"
        "395.45,msec,task-clock,395453823,100.00,1.805,CPUs utilized\n"
        "<not supported>,,cycles,0,100.00,,\n"
        "<not counted>,,instructions:u,0,0.00,,\n"
    )
    ev = profile.parse_perf_stat_csv(text)
    assert ev["context-switches"] == {"value": 119, "unit": "", "status": "ok"}
    assert ev["task-clock"] == {"value": 395.45, "unit": "msec", "status": "ok"}
    assert ev["cycles"] == {"value": None, "unit": "", "status": "not available: perf says <not supported>"}
    assert ev["instructions"]["value"] is None
    assert "not available" in profile.format_stat(ev, ["perf", "stat"])


FAKE_LWBENCH = """#!/bin/sh
# Stand-in for the lwbench binary: record the arguments, burn some CPU.
echo "$@" >> fake_args.txt
case " $* " in *" --fail "*) echo "simulated failure" >&2; exit 3;; esac
i=0
while [ $i -lt 150000 ]; do i=$((i+1)); done
echo "fake lwbench done"
"""


@pytest.fixture
def fake_lwbench(tmp_path):
    p = tmp_path / "fake_lwbench"
    p.write_text(FAKE_LWBENCH)
    p.chmod(0o755)
    return p


@needs_perf
def test_profile_pipeline_with_stand_in_binary(tmp_path, fake_lwbench):
    out = tmp_path / "results"
    r = _run_profile(["--out-dir", str(out), "--both-modes", "--frequency", "2999", "--",
                      "--scenario", "send_latency", "--api", "socket", "--mode", "ignored", "--size", "1458"],
                     env_extra={"LWBENCH_BIN": str(fake_lwbench)})
    assert r.returncode == 0, r.stderr
    assert f"lwbench binary: {fake_lwbench}" in r.stderr
    assert "not the frame-pointer `profile` build" in r.stderr
    folders = list(out.iterdir())
    assert len(folders) == 1, folders  # no .partial left behind
    folder = folders[0]
    assert folder.name.startswith("profile_") and folder.name.endswith("_send_latency_socket_1458B_both_modes")
    assert r.stdout.strip() == str(folder)
    for mode in ("message_passing", "core_locking"):
        d = folder / mode
        for name in ("perf.data", "report.txt", "stat.txt", "stat.json", "folded.txt", "flame.svg", "flame.png"):
            assert (d / name).is_file() and (d / name).stat().st_size > 0, d / name
        args = (d / "fake_args.txt").read_text().splitlines()
        assert args and all(a.startswith("run --no-save") and a.endswith(f"--mode {mode}") for a in args)
        assert "ignored" not in "".join(args)
        stat = json.loads((d / "stat.json").read_text())["events"]
        assert stat["context-switches"]["status"] == "ok"
        for hw in ("cycles", "instructions"):  # real value or an explicit "not available"
            assert stat[hw]["status"] == "ok" or (stat[hw]["value"] is None
                                                  and stat[hw]["status"].startswith("not available"))
        report = (d / "report.txt").read_text()
        assert "--no-children" in report and "--children" in report
    assert "Gain share in message passing" in (folder / "mode_diff.md").read_text()
    meta = json.loads((folder / "profile.json").read_text())
    assert meta["binary"]["path"] == str(fake_lwbench) and meta["binary"]["source"] == "LWBENCH_BIN"
    assert meta["perf"]["version"].startswith("perf version")
    assert meta["perf"]["event"] == "cpu-clock"
    assert [m["mode"] for m in meta["modes"]] == ["message_passing", "core_locking"]
    assert all(m["samples"] > 0 for m in meta["modes"])
    assert {"cpu_model", "kernel", "date_utc"} <= set(meta["environment"])
    # recorded commands name files inside the final folder, not the partial one
    assert ".partial" not in (folder / "profile.json").read_text()


@needs_perf
def test_failed_run_leaves_nothing(tmp_path, fake_lwbench):
    out = tmp_path / "results"
    r = _run_profile(["--out-dir", str(out), "--", "--scenario", "send_latency", "--fail"],
                     env_extra={"LWBENCH_BIN": str(fake_lwbench)})
    assert r.returncode != 0
    assert "exited with status" in r.stderr and "simulated failure" in r.stderr
    assert list(out.iterdir()) == []


def _built_lwbench():
    for _, rel in profile.BINARY_CANDIDATES:
        p = REPO / rel
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


@needs_perf
def test_real_short_profile(tmp_path):
    binary = _built_lwbench()
    if binary is None:
        pytest.skip("lwbench binary not built: expected build/profile/harness/lwbench or "
                    "build/release/harness/lwbench (cmake --preset profile && cmake --build --preset profile)")
    out = tmp_path / "results"
    r = _run_profile(["--out-dir", str(out), "--both-modes", "--", "--scenario", "send_latency", "--api", "socket",
                      "--size", "1458", "--ops", "20000", "--repetitions", "1"])
    assert r.returncode == 0, r.stderr
    folder = Path(r.stdout.strip())
    meta = json.loads((folder / "profile.json").read_text())
    assert meta["binary"]["path"] == str(binary)
    for mode in ("message_passing", "core_locking"):
        folded = (folder / mode / "folded.txt").read_text()
        assert folded.strip(), f"no samples for {mode}"
    assert (folder / "mode_diff.md").is_file()


def test_perf_that_cannot_record_is_reported(tmp_path):
    """perf present but perf_event_open refused (container, paranoid): say so, with a fix."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(PYTHON)
    fake_perf = bindir / "perf"
    fake_perf.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "perf version 6.1.fake"; exit 0; fi\n'
        'echo "Error: perf_event_open(..., PERF_FLAG_FD_CLOEXEC) failed with unexpected error 1 '
        '(Operation not permitted)" >&2\n'
        "exit 255\n"
    )
    fake_perf.chmod(0o755)
    out = tmp_path / "out"
    r = _run_profile(["--out-dir", str(out), "--"], path=f"{bindir}:/usr/bin:/bin")
    assert r.returncode != 0
    assert "perf record -e cpu-clock does not work here" in r.stderr
    assert "Operation not permitted" in r.stderr
    assert "fix:" in r.stderr
    assert not out.exists() or list(out.iterdir()) == []


@needs_perf
def test_profile_writes_interactive_flame_page_and_thread_roots(tmp_path, fake_lwbench):
    if not (REPO / "web" / "node_modules" / "d3-flame-graph").is_dir():
        pytest.skip("web/node_modules is missing: run scripts/setup-web.sh (npm ci in web/)")
    out = tmp_path / "results"
    r = _run_profile(["--out-dir", str(out), "--both-modes", "--frequency", "2999", "--",
                      "--scenario", "send_latency", "--api", "socket"], env_extra={"LWBENCH_BIN": str(fake_lwbench)})
    assert r.returncode == 0, r.stderr
    folder = Path(r.stdout.strip())
    for mode in ("message_passing", "core_locking"):
        page = (folder / mode / "flame.html").read_text()
        assert "d3-flame-graph" in page and "<script src" not in page
        roots = {line.split(";", 1)[0] for line in (folder / mode / "folded.txt").read_text().splitlines()}
        assert roots and all("thread [" in root for root in roots), roots
    # a short run has too few samples for the mode diff: it says so, on the page and on stderr
    assert "Warning:" in (folder / "mode_diff.md").read_text()
    assert "measured samples" in r.stderr
    meta = json.loads((folder / "profile.json").read_text())
    assert meta["warnings"]
