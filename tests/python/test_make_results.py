"""scripts/make_results.sh's control flow, on a fake tree (no build, no measurement).

The real script takes long and needs a quiet machine, so this runs the very script in
a scratch copy of the repository layout where the installer, cmake, the lwbench binary
and bench/run_benchmarks.sh are stand-ins: lwbench writes one synthetic result file,
run_benchmarks.sh reports a missed target and exits 1, as the real one does. The
figures and the report page are drawn by the real Python package. It checks that a
missed target does not abort the script, is named on stderr and in the exit status,
and that the report page lands in the run's directory."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import make_synthetic_results

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _fake_tree(tmp_path: Path, gbench_exit: int) -> tuple[Path, dict]:
    tree = tmp_path / "tree"
    (tree / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "make_results.sh", tree / "scripts" / "make_results.sh")
    for sub in ("python", "plots"):
        (tree / sub).symlink_to(REPO / sub)
    _executable(tree / "scripts" / "install-deps.sh", "#!/bin/sh\nexit 0\n")
    fake_bin = tmp_path / "bin"
    _executable(fake_bin / "cmake", "#!/bin/sh\nexit 0\n")
    doc = make_synthetic_results()
    # A handful of records keeps the figures (and so the test) quick.
    doc["records"] = [rec for rec in doc["records"] if rec["scenario"] == "send_latency"
                      and rec["payload_bytes"] == 1458 and rec["pinning"] == "same_core"]
    (tmp_path / "result.json").write_text(json.dumps(doc))
    # lwbench: `reproduce` writes one result file into --out-dir; every other call measures nothing.
    _executable(tree / "build" / "release" / "harness" / "lwbench", f"""#!/bin/sh
command=$1
while [ $# -gt 0 ]; do [ "$1" = --out-dir ] && out=$2; shift; done
[ "$command" = reproduce ] && cp {tmp_path / 'result.json'} "$out/20261124T030000Z_0123456_reproduce.json"
exit 0
""")
    _executable(tree / "bench" / "run_benchmarks.sh", f"""#!/bin/sh
echo '{{"benchmarks": []}}' > "$1/20261124T030000Z_0123456_gbench_micro.json"
echo "lwbench performance targets (median over repetitions):"
[ {gbench_exit} -eq 1 ] && echo "targets MISSED beyond their spread: dispatch overhead"
exit {gbench_exit}
""")
    env = dict(os.environ, PATH=f"{fake_bin}:{os.environ['PATH']}", MPLBACKEND="Agg")
    env.pop("PYTHONPATH", None)
    return tree, env


@pytest.mark.parametrize("gbench_exit", [0, 1])
def test_a_missed_target_is_recorded_and_the_report_is_still_written(tmp_path, gbench_exit):
    tree, env = _fake_tree(tmp_path, gbench_exit)
    r = subprocess.run(["bash", str(tree / "scripts" / "make_results.sh")], cwd=tree, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == gbench_exit, r.stderr
    (run_dir,) = (tree / "results").iterdir()
    assert (run_dir / "report.html").is_file()  # the step after the benchmarks ran
    assert "lwbench" in (run_dir / "report.html").read_text()
    assert any((run_dir / "figures").iterdir())
    assert not (run_dir / ".gbench_stdout").exists()
    assert ("performance target MISSED: dispatch overhead" in r.stderr) == (gbench_exit == 1)
    assert ("exit 1: target(s) MISSED beyond their spread: dispatch overhead" in r.stderr) == (gbench_exit == 1)
    assert "done: results/" in r.stderr
