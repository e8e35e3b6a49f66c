"""Ctrl-C from Python: KeyboardInterrupt within a second, and the interpreter survives.

A child interpreter runs lwbench.run() with a repetition that would take minutes,
for each scenario kind (and the socket API, which has a peer thread); once the run
reports its first visit on stderr, the test sends SIGINT. The child must raise
KeyboardInterrupt within the bound, then run a small measurement to prove it is
still healthy, and exit 0.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

from lwbench import _ext  # finds the extension

pytestmark = pytest.mark.skipif(_ext.problem() is not None, reason=f"extension not built: {_ext.problem()}")

# The child installs Python's own SIGINT handler first: a shell that starts the test
# command as a background job ignores SIGINT, the child inherits that, and Python then
# installs no handler at start-up (Ctrl-C at a terminal is what these tests model).
CHILD = r"""
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
import lwbench
scenario, api = sys.argv[1], sys.argv[2]
kw = dict(primitive="semaphore_wake") if scenario == "primitive" else dict(api=api)
try:
    lwbench.run(scenario=scenario, mode="message_passing", repetitions=1, ops=100_000_000, warmup=10, **kw)
    print("NOT INTERRUPTED", flush=True)
    sys.exit(3)
except KeyboardInterrupt:
    print(f"INTERRUPTED {time.monotonic():.6f}", flush=True)
res = lwbench.run(scenario="send_latency", api="raw", mode="core_locking", repetitions=1, ops=200, warmup=10,
                  progress=False)
print("SURVIVED", len(res.records), flush=True)
"""

CASES = [("send_latency", "socket"), ("recv_latency", "socket"), ("delivery_latency", "socket"),
         ("round_trip", "socket"), ("round_trip", "netconn"), ("throughput", "socket"), ("primitive", "-")]


@pytest.mark.parametrize("scenario,api", CASES)
def test_keyboard_interrupt_within_a_second(scenario, api):
    env = dict(os.environ, PYTHONPATH=f"{REPO / 'python'}:{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, scenario, api], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        seen = b""
        while b"[1/" not in seen:  # the first visit's progress line
            assert proc.poll() is None, f"child exited early: {proc.stderr.read()!r}"
            left = deadline - time.monotonic()
            assert left > 0, "the run never reported its first visit"
            if select.select([proc.stderr], [], [], left)[0]:
                seen += os.read(proc.stderr.fileno(), 4096)
        time.sleep(0.3)  # not synchronisation: lets the signal land inside the timed loop rather than in setup
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.decode()
    assert proc.returncode == 0, (proc.returncode, text, err.decode()[-500:])
    assert "terminate called" not in err.decode()
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line}
    assert "INTERRUPTED" in lines, text
    assert float(lines["INTERRUPTED"][0]) - sent <= 1.0
    assert lines.get("SURVIVED") == ["1"], text
