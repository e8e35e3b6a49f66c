"""The pybind11 extension and the package's run/load/compare/Stack over it."""

import json
import signal
import threading
import time

import numpy as np
import pytest

import lwbench
from lwbench import _ext

pytestmark = pytest.mark.skipif(_ext.problem() is not None, reason=f"extension not built: {_ext.problem()}")

TINY = dict(repetitions=2, ops=300, warmup=50, progress=False)


@pytest.mark.parametrize("mode", ["message_passing", "core_locking", "combining"])
@pytest.mark.parametrize("mailbox", ["mutex_cv", "tbb_queue", "spin_then_block", "adaptive"])
@pytest.mark.parametrize("lock", ["std_mutex", "tbb_spin_mutex", "tbb_queuing_mutex"])
def test_every_mode_and_kind_runs(mode, mailbox, lock):
    res = lwbench.run(api="socket", mode=mode, mailbox=mailbox, lock=lock, **TINY)
    (rec,) = res.records
    assert rec.threading_mode == mode and rec.mailbox_kind == mailbox and rec.lock_kind == lock
    assert rec.errors == 0
    assert 0 < rec.latency_ns["p50"] <= rec.latency_ns["p99"] <= rec.latency_ns["max"]
    assert rec.stack_counts["payload_copies_per_op"] == pytest.approx(1.0)  # the socket send's one copy


def test_samples_match_the_record_percentiles():
    res = lwbench.run(api=["raw", "netconn"], mode="core_locking", **TINY)
    for rec, samples in zip(res.records, res.samples):
        assert isinstance(samples, np.ndarray) and samples.size == rec.latency_ns["count"]
        s = lwbench.samples_summary(samples)
        for k in ("p50", "p90", "p99", "p999"):
            assert s[k] == pytest.approx(rec.latency_ns[k], rel=1e-9)
        assert s["max"] == rec.latency_ns["max"]


def test_message_passing_switches_context_and_core_locking_does_not():
    res = lwbench.run(api="socket", pinning="same_core", **TINY)
    mp = res.find(threading_mode="message_passing")[0].counter_per_op("context_switches")
    cl = res.find(threading_mode="core_locking")[0].counter_per_op("context_switches")
    if mp is None or cl is None:
        pytest.skip("perf software counters not available here")
    assert mp >= 1.5 and cl <= 0.2


@pytest.mark.parametrize("kwargs, message", [
    (dict(mode="bogus"), "unknown threading mode 'bogus'"),
    (dict(mailbox="pipe"), "unknown mailbox kind"),
    (dict(lock="rwlock"), "unknown lock kind"),
    (dict(size=5000), "does not fit the loopback MTU"),
    (dict(size=0), "at least 1 byte"),
    (dict(pinning="cpu7"), "unknown pinning"),
    (dict(scenario="recv_latency", api="raw"), "no raw variant"),
    (dict(scenario="nonsense"), "unknown scenario"),
    (dict(threads=0), "threads must be at least 1"),
    (dict(repetitions=0), "repetitions must be at least 1"),
])
def test_bad_input_raises_value_error(kwargs, message):
    args = dict(TINY)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        lwbench.run(**args)


def test_every_scenario_kind_runs_in_both_modes():
    res = lwbench.run(scenario=["send_latency", "recv_latency", "delivery_latency", "round_trip", "throughput"],
                      api=["netconn", "socket"], repetitions=1, ops=200, warmup=20, progress=False)
    assert len(res) == 5 * 2 * 2
    for rec in res:
        assert rec.errors == 0, rec.label
        assert rec.latency_ns["p50"] > 0 and rec.ops_per_sec > 0
        # Every latency is a real interval: well under a second on any machine (a
        # timestamp read from the wrong buffer shows up here as ~uptime).
        assert rec.latency_ns["max"] < 1e9, rec.label


def test_save_then_load_then_compare(tmp_path):
    a = lwbench.run(api="socket", mode="core_locking", **TINY)
    path = a.save(tmp_path, label="t")
    assert path.exists() and path.with_suffix(".csv").exists()
    loaded = lwbench.load(path)
    assert loaded.records[0].key == a.records[0].key
    assert loaded.records[0].p50_ns == a.records[0].p50_ns
    # a second save never overwrites the first
    path2 = a.save(tmp_path, label="t")
    assert path2 != path and path.exists()
    (c,) = lwbench.compare(path, path2)
    assert c.ratio == pytest.approx(1.0)
    b = lwbench.run(api="socket", mode="message_passing", **TINY)
    assert lwbench.compare(a, b) == []                       # different points do not match
    assert len(lwbench.compare(a, b, ignore=("threading_mode", "input_mode"))) == 1


def test_load_rejects_foreign_files(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"schema": "other"}))
    with pytest.raises(ValueError, match="not an lwbench result file"):
        lwbench.load(p)
    p.write_text("{ not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        lwbench.load(p)


def test_live_mode_switch_keeps_traffic():
    s = lwbench.Stack(mode="message_passing", mailbox="spin_then_block")
    a = s.exchange(300, 512)
    assert a["received"] == 300 and a["api_calls_locked"] == 0 and a["tcpip_api_messages"] >= 300
    s.set_mode("core_locking")
    assert s.mode == "core_locking"
    b = s.exchange(300, 512)
    assert b["received"] == 300 and b["errors"] == 0
    assert b["api_calls_locked"] >= 300
    assert b["tcpip_api_messages"] == a["tcpip_api_messages"]  # the tcpip thread got no API message
    with pytest.raises(ValueError):
        s.set_mode("sideways")
    with pytest.raises(ValueError):
        s.exchange(1, 4000)


def test_combining_mode_runs_and_switches_live():
    s = lwbench.Stack(mode="combining")
    assert s.mode == "combining" and s.input_mode == "combining"  # "auto" pairs combining input with it
    a = s.exchange(300, 512)
    assert a["received"] == 300 and a["errors"] == 0
    assert a["api_calls_locked"] == 0 and a["tcpip_api_messages"] == 0
    # One thread calls: it finds the core free every time and runs its calls itself.
    assert a["api_calls_combined_self"] >= 300
    s.set_mode("core_locking")
    b = s.exchange(300, 512)
    assert b["received"] == 300 and b["api_calls_locked"] >= 300
    assert b["api_calls_combined_self"] == a["api_calls_combined_self"]  # no combining after the switch


def test_ctrl_c_interrupts_a_long_run_and_the_package_stays_usable():
    # Deliver SIGINT to ourselves shortly after the run starts: the run must stop
    # with KeyboardInterrupt (not finish, not crash), and the next run must work.
    # Python's own handler is installed for the test: started as a background job
    # (SIGINT ignored), the interpreter would have none, and the signal would be lost.
    # SIGINT repeats every 0.5 s until the call returns (at most 20 times), and the run
    # is pinned to one core (~20 s uninterrupted), so a lost signal fails in seconds.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    stop = threading.Event()

    def interrupt():
        for _ in range(20):
            if stop.wait(0.5):
                return
            signal.raise_signal(signal.SIGINT)

    sender = threading.Thread(target=interrupt)
    started = time.monotonic()
    sender.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            lwbench.run(api="socket", mode="message_passing", pinning="same_core", repetitions=50, ops=200000,
                        warmup=0, progress=False)
    finally:
        stop.set()
        sender.join()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 11.0, "the run outlived 20 SIGINTs"
    res = lwbench.run(api="raw", mode="core_locking", **TINY)
    assert res.records[0].errors == 0


def test_reproduce_seed_table_small():
    res = lwbench.reproduce(repetitions=1, ops=300, warmup=50, with_lwip=False, progress=False)
    assert "seed, 2007 embedded target (as reported)" in res.report
    assert "204 µs" in res.report and "67 µs" in res.report and "74 µs" in res.report
    cells = res.find(scenario="send_latency", stack="lwbench")
    assert {(r.api, r.threading_mode, r.pinning) for r in cells} >= {
        ("socket", "message_passing", "same_core"), ("socket", "core_locking", "same_core"),
        ("raw", "core_locking", "separate_cores")}
    assert any("target core-locked socket sendto" in n for n in res.notes)
    # The TCP table after the seed table; without real lwIP its target is not evaluated (never "met").
    assert res.report.index("## TCP: our stack and real lwIP") > res.report.index("1458-byte UDP send")
    assert {(r.scenario, r.threading_mode) for r in res.records if r.scenario.endswith("_tcp")} == {
        (k, m) for k in ("bulk_tcp", "request_response_tcp", "connection_rate_tcp")
        for m in ("message_passing", "core_locking")}
    tcp_targets = [n for n in res.notes if n.startswith("target TCP bulk throughput")]
    assert len(tcp_targets) == 2 and all("not evaluated" in n for n in tcp_targets)


def _ranges(cpus) -> str:
    """"0-1", "0,2-3": the affinity format of docs/results-schema.md, written out independently."""
    cpus, parts = sorted(cpus), []
    for cpu in cpus:
        if parts and parts[-1][1] == cpu - 1:
            parts[-1][1] = cpu
        else:
            parts.append([cpu, cpu])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)


def test_python_side_environment_is_the_result_files_environment(tmp_path):
    """One source for each fact: a profile's environment (machine.capture) and a result file's
    environment format the affinity mask and the load average the same way."""
    import os
    from lwbench import machine

    env = machine.capture()
    saved = json.loads(lwbench.run(api="raw", mode="core_locking", save=tmp_path, **TINY).path.read_text())
    file_env = saved["environment"]
    assert env["affinity"] == file_env["affinity"] == _ranges(os.sched_getaffinity(0))
    for load in (env["load_average"], file_env["load_average_start"], file_env["load_average_end"]):
        assert load == "not available" or (isinstance(load, list) and len(load) == 3
                                           and all(isinstance(x, (int, float)) and x >= 0 for x in load)), load
    assert type(env["load_average"]) is type(file_env["load_average_start"])
    for key in ("cpu_model", "cpu_count", "kernel", "hostname", "git_revision", "compiler", "smt", "nice"):
        assert env[key] == file_env[key], key
    assert env["environment_source"].startswith("the lwbench harness")
    assert env["user_is_root"] == (os.geteuid() == 0)
