"""Tests of the Cortex-M3 benchmark firmware: it builds, runs under QEMU, and its
records are complete, show message passing's two extra context switches per
call, and are deterministic under -icount.

Needs arm-none-eabi-gcc (+ newlib), qemu-system-arm and cmake (skipped, with the
reason, when one is missing). Environment:
  LWBENCH_EMBEDDED_BUILD_DIR  where the firmware is built (default: a temp dir)
  LWBENCH_LWIP_DIR            an unpacked lwIP tree (default: run_target.py's)
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(os.path.dirname(HERE), "run_target.py")
OPS, REPS, WARMUP = 60, 3, 5

SEND_APIS = ("socket", "netconn", "raw")
CL_PRIMITIVES = ("semaphore_wake", "thread_pingpong", "lock_unlock", "memcpy", "checksum")
MP_PRIMITIVES = ("mailbox_handoff",)
CL_PHASES = ("raw/phase:send_under_core_lock", "raw/phase:unlock_and_deliver")
MP_PHASES = ("socket/phase:caller_until_switch", "socket/phase:tcpip_thread", "socket/phase:caller_after_switch")


def missing_tools():
    return [t for t in ("cmake", "arm-none-eabi-gcc", "qemu-system-arm") if shutil.which(t) is None]


def driver(*args):
    return subprocess.run([sys.executable, DRIVER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return os.environ.get("LWBENCH_EMBEDDED_BUILD_DIR") or str(tmp_path_factory.mktemp("fw"))


def run_args(build_dir, *extra):
    args = ["--build-dir", build_dir, "--ops", str(OPS), "--repetitions", str(REPS), "--warmup", str(WARMUP),
            "--quiet", *extra]
    if os.environ.get("LWBENCH_LWIP_DIR"):
        args += ["--lwip-dir", os.environ["LWBENCH_LWIP_DIR"]]
    return args


@pytest.fixture(scope="module")
def first_run(build_dir):
    missing = missing_tools()
    if missing:
        pytest.skip("missing tools: " + ", ".join(missing) + " (scripts/install-deps.sh installs them)")
    done = driver(*run_args(build_dir))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def second_run(first_run, build_dir):
    done = driver(*run_args(build_dir, "--no-build"))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def runs_by_build(document):
    return {run["build"]: run for run in document["runs"]}


def points(run):
    grouped = {}
    for rep in run["reps"]:
        point = rep["point"]
        key = point["primitive"] or (point["api"] + ("/" + point["variant"] if point["variant"] else ""))
        grouped.setdefault(key, []).append(rep)
    return grouped


def per_call_switches(reps):
    return sum(r["context_switches"] for r in reps) / sum(r["ops"] for r in reps)


def p50(reps):
    ticks = sorted(t for r in reps for t in r["ticks"])
    return ticks[len(ticks) // 2]


def tagged(key, tag):
    """A send point's key in a build whose points carry the variant `tag`."""
    api, _, rest = key.partition("/")
    return f"{api}/{tag}" + (f"/{rest}" if rest else "")


# build -> (threading mode, variant tag of its points or None)
BUILDS = {"locking": ("core_locking", None), "msgpassing": ("message_passing", None),
          "locking_nochecksums": ("core_locking", "no_checksums"),
          "msgpassing_nochecksums": ("message_passing", "no_checksums")}
PAIRS = (("locking", "msgpassing", None), ("locking_nochecksums", "msgpassing_nochecksums", "no_checksums"))


def key(name, tag):
    return tagged(name, tag) if tag else name


def test_all_builds_ran_cleanly(first_run):
    runs = runs_by_build(first_run)
    assert set(runs) == set(BUILDS)
    for build, run in runs.items():
        mode, tag = BUILDS[build]
        options = run["header"]["lwip_options"]
        assert run["header"]["lwip_version"] == "2.1.3" and run["threading_mode"] == mode
        assert options["LWIP_TCPIP_CORE_LOCKING"] == (1 if mode == "core_locking" else 0)
        assert options["CHECKSUM"]["CHECKSUM_GEN_UDP"] == (0 if tag else 1)
        assert run["end"]["errors"] == 0 and run["end"]["zc_dropped"] == 0


def test_records_are_complete(first_run):
    sends = set(SEND_APIS) | {"socket/connect_send_disconnect"}
    expected = {
        "locking": sends | set(CL_PRIMITIVES) | set(CL_PHASES),
        "msgpassing": sends | set(MP_PRIMITIVES) | set(MP_PHASES),
        "locking_nochecksums": {tagged(k, "no_checksums") for k in sends | set(CL_PHASES)},
        "msgpassing_nochecksums": {tagged(k, "no_checksums") for k in sends | set(MP_PHASES)},
    }
    for build, run in runs_by_build(first_run).items():
        grouped = points(run)
        assert set(grouped) == expected[build]
        for name, reps in grouped.items():
            assert [r["rep"] for r in reps] == list(range(REPS)), name
            for rep in reps:
                assert rep["ops"] == OPS and len(rep["ticks"]) == OPS and rep["errors"] == 0, name
                assert all(t > 0 for t in rep["ticks"]), name
                assert rep["point"]["payload_bytes"] == 1458
                if rep["point"]["scenario"] == "send_latency":
                    assert rep["received"] == OPS, name  # every datagram reached the sink
                    assert rep["point"]["threading_mode"] == run["threading_mode"]


def test_message_passing_adds_two_context_switches_per_call(first_run):
    runs = runs_by_build(first_run)
    for locking_build, passing_build, tag in PAIRS:
        locking, passing = points(runs[locking_build]), points(runs[passing_build])
        for api in SEND_APIS:
            cl, mp = per_call_switches(locking[key(api, tag)]), per_call_switches(passing[key(api, tag)])
            assert cl < 0.05, (api, tag, cl)  # only the tick's rare wake-ups of the tcpip thread
            assert 1.95 <= mp - cl <= 2.05, (api, tag, mp, cl)
        # lwIP 1.2's sendto: three API messages, so six switches per call
        legacy = key("socket/connect_send_disconnect", tag)
        assert 5.9 <= per_call_switches(passing[legacy]) - per_call_switches(locking[legacy]) <= 6.1


def test_phases_add_up_to_the_call(first_run):
    """The phases of a call, measured inside it, sum to the whole call, within
    the extra timestamps' cost: two timer reads and two switch-probe calls, about
    40 instructions (32 ticks of 40 ns at 32 ns per instruction)."""
    runs = runs_by_build(first_run)
    for build, whole, phases in (("msgpassing", "socket", MP_PHASES), ("locking", "raw", CL_PHASES),
                                 ("msgpassing_nochecksums", "socket", MP_PHASES),
                                 ("locking_nochecksums", "raw", CL_PHASES)):
        tag = BUILDS[build][1]
        grouped = points(runs[build])
        total = sum(p50(grouped[key(phase, tag)]) for phase in phases)
        whole_p50 = p50(grouped[key(whole, tag)])
        assert abs(total - whole_p50) <= 32, (build, total, whole_p50)


def test_checksums_off_makes_the_call_cheaper(first_run):
    """Without checksums the same call costs well under half (they are most of it)."""
    runs = runs_by_build(first_run)
    for build in ("locking", "msgpassing"):
        for api in SEND_APIS:
            without = p50(points(runs[build + "_nochecksums"])[tagged(api, "no_checksums")])
            assert without < p50(points(runs[build])[api]) / 2, (build, api)


def test_timer_counts_instructions_at_the_modelled_rate(first_run):
    ns_per_instruction = first_run["emulator"]["ns_per_instruction"]
    assert ns_per_instruction == 32
    for run in first_run["runs"]:
        header = run["header"]
        ns = header["calibration_ticks"] * 1e9 / header["timer_hz"]
        assert abs(ns / header["calibration_instructions"] - ns_per_instruction) < 0.02 * ns_per_instruction


def test_two_runs_give_identical_instruction_counts(first_run, second_run):
    again = runs_by_build(second_run)
    for build, run in runs_by_build(first_run).items():
        assert len(run["reps"]) == len(again[build]["reps"])
        for a, b in zip(run["reps"], again[build]["reps"]):
            assert a["point"] == b["point"]
            assert a["ticks"] == b["ticks"], a["point"]
            assert a["context_switches"] == b["context_switches"]


def test_rtos_selftest_passes(first_run, build_dir):
    sys.path.insert(0, os.path.dirname(HERE))
    import run_target  # the same QEMU command line as the benchmark runs
    elf = os.path.join(build_dir, "lwbench_rtos_selftest.elf")
    done = subprocess.run(run_target.qemu_command(elf, 5), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    checks = {line["name"]: line["ok"] for line in lines if line["kind"] == "check"}
    assert {"priority_inheritance_order", "context_switch_counter", "thread_local_storage",
            "semaphore_wait_times_out", "mailbox_fetch_times_out"} <= set(checks), done.stdout
    assert all(checks.values()), [name for name, ok in checks.items() if not ok]
    assert lines[-1] == {"kind": "end", "failed": 0} and done.returncode == 0


def test_driver_rejects_bad_arguments(tmp_path):
    for args in (["--icount-shift", "99"], ["--ops", "0"], ["--timeout", "-1"]):
        done = driver(*args, "--build-dir", str(tmp_path))
        assert done.returncode == 2, args
        assert "error" in done.stderr
    existing = tmp_path / "taken.json"
    existing.write_text("{}")
    done = driver("--out", str(existing), "--build-dir", str(tmp_path))
    assert done.returncode == 2 and "exists" in done.stderr
    assert existing.read_text() == "{}"
