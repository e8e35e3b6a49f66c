"""`lwbench.run(netif=..., netns=..., tap_device=..., sched=...)`: the same choices as
`lwbench run --netif/--netns/--tap-device/--sched`, parsed and checked by the same C++
code (the extension's make_point, validate, tap_link_problem, sched_unavailable).

The TAP runs need root and the namespace `scripts/netns.sh up` makes: without them the
run must refuse with the reason (ValueError), which is tested everywhere; the run
itself only where they exist (skipped with the reason otherwise)."""

import os
import subprocess
from pathlib import Path

import pytest

import lwbench
from lwbench import _ext

pytestmark = pytest.mark.skipif(_ext.problem() is not None, reason=f"extension not built: {_ext.problem()}")

REPO = Path(__file__).resolve().parents[2]
NETNS = REPO / "scripts" / "netns.sh"
TINY = dict(repetitions=1, ops=200, warmup=20, progress=False)


def test_loopback_and_sched_other_are_the_defaults_and_are_recorded():
    (rec,) = lwbench.run(scenario="round_trip", api="raw", mode="core_locking", **TINY).records
    assert rec.netif == "loopback" and rec.sched_policy == "other"
    (same,) = lwbench.run(scenario="round_trip", api="raw", mode="core_locking", netif="loopback", sched="other",
                          **TINY).records
    assert same.netif == "loopback" and same.sched_policy == "other"


@pytest.mark.parametrize("args,message", [
    ({"netif": "ethernet"}, "unknown netif 'ethernet' (choose from: loopback, tap)"),
    ({"sched": "rr"}, "unknown sched 'rr' (choose from: other, fifo)"),
    ({"netif": "tap", "scenario": "send_latency"}, "--netif tap runs round_trip, throughput and delivery_latency"),
])
def test_bad_netif_or_sched_is_a_value_error_naming_the_choices(args, message):
    with pytest.raises(ValueError) as raised:
        lwbench.run(**{"scenario": "round_trip", "api": "raw", **args, **TINY})
    assert message in str(raised.value)


@pytest.mark.parametrize("args", [{"netif": 3}, {"sched": None}, {"netns": ""}, {"tap_device": ["a", "b"]}])
def test_wrong_types_are_type_errors_naming_the_parameter(args):
    (name,) = args
    with pytest.raises(TypeError, match=name):
        lwbench.run(**{"scenario": "round_trip", **args, **TINY})


def test_tap_without_its_namespace_refuses_before_measuring():
    with pytest.raises(ValueError) as raised:
        lwbench.run(scenario="round_trip", api="socket", netif="tap", netns="lwbt-missing", **TINY)
    assert str(raised.value).startswith("netif='tap': "), raised.value
    if os.geteuid() == 0:
        assert "scripts/netns.sh up" in str(raised.value)


def test_sched_fifo_runs_under_fifo_or_says_why_not():
    try:
        (rec,) = lwbench.run(scenario="round_trip", api="raw", mode="core_locking", sched="fifo", **TINY).records
    except ValueError as e:
        assert "not permitted" in str(e), e
        pytest.skip(f"this process may not use SCHED_FIFO: {e}")
    assert rec.sched_policy == "fifo"


def test_tap_round_trip_against_the_kernel_in_a_namespace():
    check = subprocess.run([str(NETNS), "check"], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        pytest.skip(f"cannot make the TAP namespace here: {check.stdout.strip()}")
    ns = f"lwbt-py-{os.getpid() % 100000}"
    subprocess.run([str(NETNS), "up", ns, "lwbtap0"], check=True, timeout=60)
    try:
        res = lwbench.run(scenario="round_trip", api="socket", mode=["message_passing", "core_locking"],
                          netif="tap", netns=ns, tap_device="lwbtap0", **TINY)
    finally:
        subprocess.run([str(NETNS), "down", ns], check=False, timeout=60)
    assert {(r.netif, r.threading_mode) for r in res.records} == {("tap", "message_passing"), ("tap", "core_locking")}
    for rec in res.records:
        assert rec.errors == 0 and rec.stack_counts["received"] == rec.stack_counts["sent"] > 0, rec.stack_counts
