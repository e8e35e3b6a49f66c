"""Measuring from Python: `run`, `reproduce`, `Stack`, `environment`, `scenarios`.

These need the compiled extension `_lwbench` (see `lwbench._ext`). Every
parameter is type-checked here first (`lwbench.params`: TypeError naming the
parameter); the extension checks values (ValueError with the reason).
"""

from __future__ import annotations

import itertools
import json

from . import _ext, params
from .results import Record, Results

__all__ = ["run", "reproduce", "Stack", "environment", "scenarios"]

_NAME_PARAMS = ("scenario", "api", "primitive", "mode", "input_mode", "mailbox", "lock", "pinning", "netif")
_POINT_KEYS = ("scenario", "api", "primitive", "mode", "input_mode", "mailbox", "lock", "size", "threads", "pinning",
               "netif")


def _points(lists: dict) -> list:
    """Every combination of the given lists (a sweep); primitives cross only with what they depend on."""
    out, seen = [], set()
    for combo in itertools.product(*(lists[k] for k in _POINT_KEYS)):
        p = {k: v for k, v in zip(_POINT_KEYS, combo) if v is not None}
        if p.get("scenario") == "primitive":
            p.pop("api", None)
            if p.get("primitive") is None:
                raise ValueError("scenario='primitive' needs primitive=... (see lwbench.scenarios())")
        else:
            p.pop("primitive", None)
        key = tuple(sorted((k, str(v)) for k, v in p.items()))
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _call_text(name: str, arguments: dict) -> str:
    return f"lwbench.{name}(" + ", ".join(f"{k}={v!r}" for k, v in arguments.items()) + ")"


def run(scenario="send_latency", api="socket", mode=("message_passing", "core_locking"), input_mode="auto",
        mailbox="mutex_cv", lock="std_mutex", size=1458, threads=1, pinning="none", primitive=None,
        repetitions=5, ops=20000, warmup=2000, seed=1, hardware_counters=True, progress=True,
        save=None, netif="loopback", netns="lwbench-tap", tap_device="lwbtap0", sched="other") -> Results:
    """Measure a scenario point or a sweep (any name or size argument may be a list), interleaved.

    Returns Results with one Record per point and ``samples`` (numpy arrays, ns/op).
    ``netif``: "loopback" (the zero-copy loopback in the process) or "tap" (the Linux
    kernel as the peer over a TAP device in the namespace ``netns`` that
    ``scripts/netns.sh up`` made, device ``tap_device``; round_trip, throughput and
    delivery_latency; needs root), or both as a list: the same as ``lwbench run
    --netif/--netns/--tap-device``. ``sched``: "other" or "fifo" (``--sched``: SCHED_FIFO,
    the tcpip thread above the application threads; ValueError where not permitted).
    ``save``: a folder to write a new result file into (or None); the file's command
    records every parameter of this call, warm-up and seed included. Wrong types raise
    TypeError naming the parameter; bad names or values raise ValueError; Ctrl-C raises
    KeyboardInterrupt and leaves nothing behind.
    """
    lists = {"scenario": params.names("scenario", scenario), "api": params.names("api", api),
             "primitive": params.names("primitive", primitive, allow_none=True),
             "mode": params.names("mode", mode), "input_mode": params.names("input_mode", input_mode),
             "mailbox": params.names("mailbox", mailbox), "lock": params.names("lock", lock),
             "pinning": params.names("pinning", pinning), "netif": params.names("netif", netif),
             "size": params.ints("size", size), "threads": params.ints("threads", threads)}
    knobs = {"repetitions": params.integer("repetitions", repetitions, 1), "ops": params.integer("ops", ops, 1),
             "warmup": params.integer("warmup", warmup, 0), "seed": params.integer("seed", seed, 0),
             "hardware_counters": params.flag("hardware_counters", hardware_counters)}
    link = {"sched": params.name("sched", sched), "netns": params.name("netns", netns),
            "tap_device": params.name("tap_device", tap_device)}
    params.flag("progress", progress)
    params.directory("save", save)
    pts = [{**p, "sched": link["sched"]} for p in _points(lists)]
    ext = _ext.load()
    context = ext.begin_run(knobs["warmup"], knobs["seed"])
    out = ext.run_points(pts, progress=progress, keep_samples=True, netns=link["netns"],
                         tap_device=link["tap_device"], **knobs)
    res = Results(records=[Record(r) for r, _ in out], environment=ext.environment(), notes=[],
                  samples=[s for _, s in out], run_context=context)
    if save is not None:
        arguments = {**{k: v for k, v in lists.items()}, **link, **knobs}
        res.notes.append("python parameters: " + json.dumps(arguments, sort_keys=True))
        res.save(save, label="python", command=_call_text("run", arguments))
    return res


def reproduce(repetitions=5, ops=20000, warmup=2000, with_lwip=True, progress=True, seed=1,
              save=None) -> Results:
    """The 2007 seed comparison on this machine; ``.report`` holds the markdown table.

    ``seed`` orders the interleaved visits of every round. ``save``: a folder to write a
    new result file into; its command and environment record every parameter.
    """
    knobs = {"repetitions": params.integer("repetitions", repetitions, 1), "ops": params.integer("ops", ops, 1),
             "warmup": params.integer("warmup", warmup, 0), "with_lwip": params.flag("with_lwip", with_lwip),
             "seed": params.integer("seed", seed, 0)}
    params.flag("progress", progress)
    params.directory("save", save)
    ext = _ext.load()
    context = ext.begin_run(knobs["warmup"], knobs["seed"])
    d = ext.reproduce(progress=progress, **knobs)
    res = Results(records=[Record(r) for r in d["records"]], environment=ext.environment(), notes=list(d["notes"]),
                  report=d["report"], run_context=context)
    if save is not None:
        res.notes.append("python parameters: " + json.dumps(knobs, sort_keys=True))
        res.save(save, label="reproduce", command=_call_text("reproduce", knobs))
    return res


class Stack:
    """A live stack (zero-copy loopback, two UDP sockets) you can switch between modes while it runs.

    >>> s = Stack(mode="message_passing"); s.exchange(1000); s.set_mode("core_locking")

    mode: "message_passing", "core_locking" or "combining"; input_mode: "auto" (paired
    with the mode, as lwIP's builds pair them), "mailbox", "inline" or "combining";
    mailbox / lock: the kinds (see
    ``lwbench.scenarios()``).
    """

    def __init__(self, mode: str = "core_locking", input_mode: str = "auto", mailbox: str = "mutex_cv",
                 lock: str = "std_mutex"):
        for name, value in (("mode", mode), ("input_mode", input_mode), ("mailbox", mailbox), ("lock", lock)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a name (str), got {value!r} ({type(value).__name__})")
        self._stack = _ext.load().Stack(mode, input_mode, mailbox, lock)

    @property
    def mode(self) -> str:
        """The current threading mode."""
        return self._stack.mode

    @property
    def input_mode(self) -> str:
        """The current input mode."""
        return self._stack.input_mode

    def set_mode(self, mode: str) -> None:
        """Switch the threading mode live (the stack quiesces, then flips; nothing is lost)."""
        if not isinstance(mode, str):
            raise TypeError(f"mode must be a name (str), got {mode!r} ({type(mode).__name__})")
        self._stack.set_mode(mode)

    def set_input_mode(self, input_mode: str) -> None:
        """Switch the input mode live ("mailbox" or "inline")."""
        if not isinstance(input_mode, str):
            raise TypeError(f"input_mode must be a name (str), got {input_mode!r} ({type(input_mode).__name__})")
        self._stack.set_input_mode(input_mode)

    def exchange(self, count: int, size: int = 1458) -> dict:
        """Send and receive `count` datagrams of `size` bytes through the socket API; returns the counters."""
        return self._stack.exchange(params.integer("count", count, 0), params.integer("size", size, 0))

    def __repr__(self) -> str:
        return f"lwbench.Stack(mode={self.mode!r}, input_mode={self.input_mode!r})"


def environment() -> dict:
    """The environment block a result file would get on this machine (CPU, kernel, compiler, …)."""
    return _ext.load().environment()


def scenarios() -> list:
    """The scenario catalogue: name, description and parameters of each scenario kind."""
    return _ext.load().catalog()
